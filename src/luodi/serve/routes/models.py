"""``GET /v1/models``: the loaded model and the bundles this install knows."""

from __future__ import annotations

from typing import Any

from luodi.errors import LuodiError
from luodi.serve.deps import Ready, State, v1_router

router = v1_router("models")


@router.get("/models", summary="The loaded model and the bundles known to this install")
async def models(state: State, pipeline: Ready) -> dict[str, Any]:
    from luodi.zoo import list_bundles

    try:
        rows = list_bundles(state.settings.core.home)
        available = [{"name": r.name, "task": r.task, "kind": r.kind, "pulled": r.pulled} for r in rows]
    except LuodiError:
        available = []
    return {"loaded": pipeline.describe(), "available": available}
