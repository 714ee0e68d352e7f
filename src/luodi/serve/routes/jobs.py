"""``POST /v1/jobs`` (queue OCR, extraction, text or inspection of one or many files) and ``GET /v1/jobs/{id}``.

A job belongs to the API key that made it: another key gets 404 for it. Each key has quotas (jobs
queued or running, bytes queued: 429 past them); ``Idempotency-Key`` makes a retried submission
return the first job (202, ``Idempotent-Replayed: true``) instead of a second one; while the queue
(Redis) is down a submission gets 503 + Retry-After and nothing is created.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse

from luodi.errors import InputError
from luodi.pipeline import Pipeline
from luodi.serve.deps import Owner, Ready, State, checked_schema, v1_router
from luodi.serve.inputs import Spool, Uploads, check_upload, many_inputs
from luodi.serve.jobs import SPOOL_DIR, JobRequest
from luodi.serve.openapi import JOB_BODY, JOB_TASKS, JobAccepted
from luodi.serve.tenancy import checked_idempotency_key

router = v1_router("jobs")


@router.post(
    "/jobs",
    summary="Queue an OCR, extraction, text or inspection job",
    status_code=202,
    response_model=JobAccepted,
    openapi_extra=JOB_BODY,
)
async def submit_job(
    request: Request,
    state: State,
    pipeline: Ready,
    owner: Owner,
    idempotency_key: Annotated[
        str | None,
        Header(description="Send the same key again (with the same request) to get the first job back, not a new one."),
    ] = None,
) -> JSONResponse:
    jobs = state.require_jobs()
    key = checked_idempotency_key(idempotency_key)
    declared = request.headers.get("content-length", "")
    # at a quota already (or this body would pass it): 429 before a byte is read
    await asyncio.to_thread(jobs.precheck, owner, int(declared) if declared.isdigit() else 0)
    spool = Spool(jobs.store.root / SPOOL_DIR)  # in the jobs folder itself: queuing a file is a rename
    try:
        uploads = await many_inputs(request, state.settings.core.limits, field_names=("file", "files"), spool=spool)
        task, schema = await _task_and_option(uploads, pipeline)
        if uploads.single and task != "text":  # a text file is not an image: the text task decodes it as UTF-8
            check_upload(uploads.items.uploads[0].head())
        if task != "text":  # refused now (422), not after a worker spent time on it
            await asyncio.to_thread(state.check_budget, uploads.items, strict=False)
        webhook = uploads.field("webhook")
        fingerprint = await asyncio.to_thread(_fingerprint, uploads, task, schema, webhook) if key else ""
        asked = JobRequest(task, uploads.items, schema=schema, single=uploads.single, webhook=webhook, owner=owner)
        done = await asyncio.to_thread(jobs.submit, asked, idempotency_key=key, fingerprint=fingerprint)
    finally:
        spool.close()
    meta = done.meta
    headers = {"Location": f"/v1/jobs/{meta.id}"}
    if done.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse({"id": meta.id, "status": meta.status}, status_code=202, headers=headers)


def _fingerprint(uploads: Uploads, task: str, option: str | None, webhook: str | None) -> str:
    """What makes two submissions the same request: fields, file names and every byte of the files."""
    digest = hashlib.sha256()
    head = {"task": task, "option": option, "webhook": webhook, "single": uploads.single}
    digest.update(json.dumps(head, sort_keys=True).encode())
    for upload in uploads.items.uploads:
        digest.update(json.dumps([upload.name, upload.size]).encode())
        if upload.data is not None:
            digest.update(upload.data)
        else:
            assert upload.path is not None
            with open(upload.path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


async def _task_and_option(uploads: Uploads, pipeline: Pipeline) -> tuple[str, str | None]:
    """The job's task and its option (the schema, or the text model), checked before it is queued."""
    task = uploads.field("task") or "ocr"
    schema = uploads.field("schema")
    if task not in JOB_TASKS:
        raise InputError(f"task must be 'ocr', 'extract', 'text' or 'inspect', not {task!r}")
    if task in ("text", "inspect"):  # the model rides in the job's option slot, as a schema does for extract
        if schema is not None or not uploads.field("model"):
            raise InputError(f"task={task} needs a 'model' field (a {task} model's name) and no 'schema'")
        schema = uploads.field("model")
        await asyncio.to_thread(pipeline.check, task, schema)
    elif task == "extract":
        if schema is None:
            raise InputError("task=extract needs a 'schema' field")
        await checked_schema(schema, pipeline)
    elif schema is not None:
        raise InputError("'schema' only goes with task=extract")
    return task, schema


@router.get("/jobs/{job_id}", summary="Job status, and its result once done (jobs of the caller's key only)")
async def get_job(job_id: str, state: State, owner: Owner) -> dict[str, Any]:
    view: dict[str, Any] = await asyncio.to_thread(state.require_jobs().store.public_view, job_id, owner)
    return view
