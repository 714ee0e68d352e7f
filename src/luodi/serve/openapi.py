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

_FILE = {"type": "string", "format": "binary"}
_FILES = {"type": "array", "items": _FILE}
_FORM = "multipart/form-data"


def _object(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return {"schema": schema}


def _body(content: dict[str, Any]) -> dict[str, Any]:
    """An ``openapi_extra`` request body: media type → ``_object(...)``."""
    return {"requestBody": {"required": True, "content": content}}


_JSON_IMAGE = {
    "image": {"type": "string", "format": "byte", "description": "base64 image or PDF"},
    "name": {"type": "string", "description": "reported back as `source`"},
}
SINGLE_BODY = _body({_FORM: _object({"file": _FILE}, "file"), "application/json": _object(_JSON_IMAGE, "image")})
BATCH_BODY = _body({_FORM: _object({"files": _FILES}, "files")})
JOB_TASKS = ("ocr", "extract", "text", "inspect")
_JOB_FIELDS = {
    "file": _FILE,
    "files": _FILES,
    "task": {"type": "string", "enum": list(JOB_TASKS), "default": "ocr"},
    "schema": {"type": "string", "description": "schema name, for task=extract"},
    "model": {"type": "string", "description": "text or inspection model name, for task=text or task=inspect"},
    "webhook": {
        "type": "string",
        "description": "POSTed the job on completion (signed: Standard Webhooks headers "
        "webhook-id, webhook-timestamp, webhook-signature); allow-listed host:port only",
    },
}
JOB_BODY = _body({_FORM: _object(_JOB_FIELDS)})
