"""OpenAPI pieces of the service: error and job models, the request bodies routes declare by hand
(they read multipart or JSON themselves, so FastAPI cannot infer them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class JobAccepted(BaseModel):
    id: str
    status: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what}
    for code, what in {
        400: "bad input",
        401: "missing or invalid API key",
        404: "unknown schema or job",
        413: "too many bytes or files",
        415: "unsupported file type (sniffed by content)",
        422: "corrupt input, or too many pixels or pages",
        503: "queue full or models not loaded; see Retry-After",
        504: "deadline exceeded",
    }.items()
}

SINGLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "byte", "description": "base64 image or PDF"},
                        "name": {"type": "string", "description": "reported back as `source`"},
                    },
                    "required": ["image"],
                }
            },
        },
    }
}

BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "required": ["files"],
                }
            }
        },
    }
}

JOB_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "task": {"type": "string", "enum": ["ocr", "extract"], "default": "ocr"},
                        "schema": {"type": "string", "description": "schema name, for task=extract"},
                        "webhook": {
                            "type": "string",
                            "description": "POSTed the job on completion (signed: Standard Webhooks headers "
                            "webhook-id, webhook-timestamp, webhook-signature); allow-listed host:port only",
                        },
                    },
                }
            }
        },
    }
}
