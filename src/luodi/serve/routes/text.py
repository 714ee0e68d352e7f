"""``POST /v1/text/{model}``: classify a batch of texts, or find their intents and slots (``luodi text``'s JSON).

Large inputs go through a job instead: ``POST /v1/jobs`` with ``task=text``, ``model=NAME`` and text
files (one text per line).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from luodi.serve.deps import Deadline, Ready, State, checked_model_name, v1_router

router = v1_router("text")


class TextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(min_length=1, max_length=1000, description="The texts, one result each, in order.")
    top_k: int = Field(default=3, ge=1, le=100)


@router.post("/text/{model}", summary="Classify texts, or find their intent and slots")
async def text(
    body: TextRequest,
    state: State,
    pipeline: Ready,
    deadline: Deadline,
    model: Annotated[str, PathParam(description="A text model registered by `luodi train text --name`.")],
) -> dict[str, Any]:
    processor: Any = await asyncio.to_thread(pipeline.processor, "text", checked_model_name(model))  # then cached

    def run() -> Any:
        started = time.perf_counter()
        batch = processor.batch(body.texts, top_k=body.top_k)
        state.metrics.observe_stages({"text": time.perf_counter() - started})
        return batch

    result = await state.gate.run(run, deadline=deadline)
    out: dict[str, Any] = result.to_dict()
    return out
