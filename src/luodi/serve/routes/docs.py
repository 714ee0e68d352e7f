"""``/docs`` and ``/redoc`` from local files, public like ``/openapi.json``: deployments have no internet.

The assets come from one route over a fixed list of file names rather than a StaticFiles mount:
a name outside the list is a 404, so no path can reach another file, and FastAPI's router sets
``scope["route"]`` for a route (not for a mount), so the metrics count every asset under the one
label ``/docs/assets/{name}`` instead of "unmatched".
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

DOCS_ASSETS = "/docs/assets"
# the only files served under DOCS_ASSETS; content types fixed here, not guessed from the host's mime table
_DOCS_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}


def docs_assets_dir() -> Path | None:
    """Swagger UI 5 and ReDoc 2 files shipped in the pinned ``fastapi-offline`` wheel (its code is not used)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def docs_router(folder: Path) -> APIRouter:
    """The pages and their assets, served from ``folder``."""
    router = APIRouter(include_in_schema=False)

    @router.get(DOCS_ASSETS + "/{name}")
    async def docs_asset(name: str) -> FileResponse:
        media_type = _DOCS_FILES.get(name)
        if media_type is None:
            raise StarletteHTTPException(404, f"no docs asset {name!r}")
        # an hour: the pages load ~2.8 MB of script, and FileResponse answers no If-None-Match with 304
        return FileResponse(folder / name, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/docs")
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + (request.app.openapi_url or "/openapi.json"),
            title=f"{request.app.title} - Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # the online validator badge would send the spec's address to validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_redoc_html(
            openapi_url=root + (request.app.openapi_url or "/openapi.json"),
            title=f"{request.app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    return router
