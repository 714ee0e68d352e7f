"""``POST /v1/ocr`` and ``POST /v1/batch/ocr``: the body is ``luodi ocr``'s JSON."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from luodi.serve.deps import Deadline, State, v1_router
from luodi.serve.inputs import many_inputs, single_input
from luodi.serve.openapi import BATCH_BODY, SINGLE_BODY

router = v1_router("ocr")


@router.post("/ocr", summary="OCR one image or PDF", openapi_extra=SINGLE_BODY)
async def ocr(request: Request, state: State, deadline: Deadline) -> dict[str, Any]:
    async with state.admit() as admitted:  # 503 before the body is read when the queue is full
        item = await single_input(request, state.settings.core.limits)
        outcome = await admitted.run(lambda: state.process("ocr", item, deadline=deadline), deadline=deadline)
    return outcome.to_dict()


@router.post("/batch/ocr", summary="OCR many files; results in order", openapi_extra=BATCH_BODY)
async def batch_ocr(request: Request, state: State, deadline: Deadline) -> dict[str, Any]:
    async with state.admit() as admitted:
        items = (await many_inputs(request, state.settings.core.limits, spool=admitted.spool)).items
        results = await admitted.run(lambda: state.process_many("ocr", items, None, deadline), deadline=deadline)
    return {"results": [r.to_dict() for r in results]}
