"""``POST /v1/extract/{schema}`` and ``POST /v1/batch/extract/{schema}``: ``luodi extract``'s JSON."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from luodi.serve.deps import Deadline, SchemaName, State, v1_router
from luodi.serve.inputs import many_inputs, single_input
from luodi.serve.openapi import BATCH_BODY, SINGLE_BODY

router = v1_router("extract")


@router.post("/extract/{schema}", summary="Extract fields with a schema", openapi_extra=SINGLE_BODY)
async def extract(request: Request, state: State, deadline: Deadline, schema: SchemaName) -> dict[str, Any]:
    async with state.admit() as admitted:  # 503 before the body is read when the queue is full
        item = await single_input(request, state.settings.core.limits)
        outcome = await admitted.run(lambda: state.process("extract", item, schema, deadline), deadline=deadline)
    return outcome.to_dict()


@router.post("/batch/extract/{schema}", summary="Extract from many files", openapi_extra=BATCH_BODY)
async def batch_extract(request: Request, state: State, deadline: Deadline, schema: SchemaName) -> dict[str, Any]:
    async with state.admit() as admitted:
        items = (await many_inputs(request, state.settings.core.limits, spool=admitted.spool)).items
        results = await admitted.run(lambda: state.process_many("extract", items, schema, deadline), deadline=deadline)
    return {"results": [r.to_dict() for r in results]}
