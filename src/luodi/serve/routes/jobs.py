"""``POST /v1/jobs`` (queue OCR or extraction of one or many files) and ``GET /v1/jobs/{id}``."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from luodi.errors import InputError
from luodi.pipeline import Pipeline
from luodi.serve.deps import Ready, State, check_schema, v1_router
from luodi.serve.inputs import Spool, Uploads, check_upload, many_inputs
from luodi.serve.openapi import JOB_BODY, JobAccepted

router = v1_router("jobs")

JOB_TASKS = ("ocr", "extract", "text", "inspect")
SPOOL_DIR = ".spool"  # under the jobs folder; not a job id, so the job store never lists it


@router.post(
    "/jobs",
    summary="Queue an OCR or extraction job",
    status_code=202,
    response_model=JobAccepted,
    openapi_extra=JOB_BODY,
)
async def submit_job(request: Request, state: State, pipeline: Ready) -> JSONResponse:
    jobs = state.require_jobs()
    # uploads go to disk in the jobs folder itself, so that queuing them is a rename
    spool = Spool(jobs.store.root / SPOOL_DIR)
    try:
        uploads = await many_inputs(request, state.settings.core.limits, field_names=("file", "files"), spool=spool)
        task, schema = await _task_and_option(uploads, pipeline)
        if uploads.single and task != "text":  # a text file is not an image: the text task decodes it as UTF-8
            check_upload(uploads.items.uploads[0].head())
        if task != "text":  # refused now (422), not after a worker spent time on it
            await asyncio.to_thread(state.check_budget, uploads.items, strict=False)
        meta = await asyncio.to_thread(
            jobs.submit,
            task=task,
            schema=schema,
            inputs=uploads.items,
            single=uploads.single,
            webhook=uploads.field("webhook"),
        )
    finally:
        spool.close()
    return JSONResponse(
        {"id": meta.id, "status": meta.status}, status_code=202, headers={"Location": f"/v1/jobs/{meta.id}"}
    )


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
        await check_schema(pipeline, schema)
    elif schema is not None:
        raise InputError("'schema' only goes with task=extract")
    return task, schema


@router.get("/jobs/{job_id}", summary="Job status, and its result once done")
async def get_job(job_id: str, state: State) -> dict[str, Any]:
    view: dict[str, Any] = await asyncio.to_thread(state.require_jobs().store.public_view, job_id)
    return view
