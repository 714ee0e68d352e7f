"""``POST /v1/inspect/{model}`` and ``POST /v1/batch/inspect/{model}``: ``luodi inspect``'s JSON per page.

Large inputs go through a job instead: ``POST /v1/jobs`` with ``task=inspect`` and ``model=NAME``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request

from luodi.errors import UnknownModelError
from luodi.serve.deps import Deadline, State, v1_router
from luodi.serve.inputs import many_inputs, single_input
from luodi.serve.openapi import BATCH_BODY, SINGLE_BODY

router = v1_router("inspect")

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MODEL = Annotated[str, PathParam(description="A vision model registered by `luodi train vision|anomaly --name`.")]


def _checked(model: str) -> str:
    if not _MODEL_NAME.match(model) or ".." in model:
        raise UnknownModelError(f"unknown model {model!r}")
    return model


@router.post("/inspect/{model}", summary="Inspect one part image", openapi_extra=SINGLE_BODY)
async def inspect(request: Request, state: State, deadline: Deadline, model: _MODEL) -> dict[str, Any]:
    name = _checked(model)
    async with state.admit() as admitted:  # 503 before the body is read when the queue is full
        item = await single_input(request, state.settings.core.limits)
        outcome = await admitted.run(lambda: state.process("inspect", item, name, deadline), deadline=deadline)
    return outcome.to_dict()


@router.post("/batch/inspect/{model}", summary="Inspect many images; results in order", openapi_extra=BATCH_BODY)
async def batch_inspect(request: Request, state: State, deadline: Deadline, model: _MODEL) -> dict[str, Any]:
    name = _checked(model)
    async with state.admit() as admitted:
        items = (await many_inputs(request, state.settings.core.limits, spool=admitted.spool)).items
        results = await admitted.run(lambda: state.process_many("inspect", items, name, deadline), deadline=deadline)
    return {"results": [r.to_dict() for r in results]}
