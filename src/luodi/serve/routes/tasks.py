"""The file-task routes, one pair per task: ``POST /v1/{task}[/{option}]`` (one file) and
``POST /v1/batch/{task}[/{option}]`` (many files, results in order); the body is the CLI's JSON.

ocr takes no option, extract a built-in schema name, inspect a vision model's name. Large inputs go
through a job instead (``POST /v1/jobs``).
"""

# no ``from __future__ import annotations``: FastAPI reads the handlers' annotations, and ``Option``
# is local to task_router
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam

from luodi.serve.deps import Deadline, State, checked_model_name, checked_schema, v1_router
from luodi.serve.inputs import many_inputs, single_input
from luodi.serve.openapi import BATCH_BODY, SINGLE_BODY


async def _no_option() -> None:
    return None


async def _vision_model(
    model: Annotated[str, PathParam(description="A vision model registered by `luodi train vision|anomaly --name`.")],
) -> str:
    return checked_model_name(model)


def task_router(task: str, option: Any, path: str, summary: str, batch_summary: str) -> APIRouter:
    """The two routes of ``task``; ``option`` is the dependency that checks the path's option."""
    router = v1_router(task)
    Option = Annotated[str | None, Depends(option)]

    async def one(request: Request, state: State, deadline: Deadline, option: Option) -> dict[str, Any]:
        async with state.admit() as admitted:  # 503 before the body is read when the queue is full
            item = await single_input(request, state.settings.core.limits)
            outcome = await admitted.run(lambda: state.process(task, item, option, deadline), deadline=deadline)
        return outcome.to_dict()

    async def many(request: Request, state: State, deadline: Deadline, option: Option) -> dict[str, Any]:
        async with state.admit() as admitted:
            items = (await many_inputs(request, state.settings.core.limits, spool=admitted.spool)).items
            results = await admitted.run(lambda: state.process_many(task, items, option, deadline), deadline=deadline)
        return {"results": [r.to_dict() for r in results]}

    # the names make the operation ids (ocr_v1_ocr_post, batch_ocr_v1_batch_ocr_post, ...)
    router.add_api_route(f"/{task}{path}", one, methods=["POST"], name=task, summary=summary, openapi_extra=SINGLE_BODY)
    router.add_api_route(
        f"/batch/{task}{path}",
        many,
        methods=["POST"],
        name=f"batch_{task}",
        summary=batch_summary,
        openapi_extra=BATCH_BODY,
    )
    return router


ocr = task_router("ocr", _no_option, "", "OCR one image or PDF", "OCR many files; results in order")
extract = task_router("extract", checked_schema, "/{schema}", "Extract fields with a schema", "Extract from many files")
inspect = task_router(
    "inspect", _vision_model, "/{model}", "Inspect one part image", "Inspect many images; results in order"
)
