"""The review UI and its API, mounted by ``luodi serve``.

``/ui`` and ``/ui/assets/*`` are the page: static files with no data in them, public (a browser
cannot send an API key when it navigates). Everything with data is under ``/ui/api`` and needs the
service's API key (``X-API-Key`` / ``Authorization: Bearer``), which the page asks for once and keeps
in the tab's ``sessionStorage``; no cookie is set, so no other site can make a browser act for a
reviewer (no CSRF). The page's Content-Security-Policy allows only luodi's own script and style.

Saves name the version they were based on (``If-Match: "v3"`` or ``"version": 3``); a stale one is
answered 409 with what happened, never applied.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import logging
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.params import Depends
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from luodi.errors import InputError, LuodiError, ReviewItemNotFoundError
from luodi.review._tables import KINDS
from luodi.review.exports import FORMATS, export
from luodi.review.images import image_ext, media_type
from luodi.review.ingest import document_item, encode_png, page_images
from luodi.review.settings import ReviewSettings
from luodi.review.store import NewItem, QueueQuery, ReviewStore

log = logging.getLogger("luodi.review")

UI_DIR = Path(__file__).parent / "ui"
# the only files served under /ui/assets; content types fixed here, not guessed from the host
_ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_ID = re.compile(r"^[0-9a-f]{32}$")
_ETAG = re.compile(r'^(?:W/)?"v(\d+)"$')


class ReviewService:
    """One per process: the store (opened on first use), the waiting gauge, and what the routes and
    the pipeline hook call. Opening lazily keeps a service that never reviews from touching a database."""

    def __init__(
        self, settings: ReviewSettings, *, home: Path, registry: Any = None, store: ReviewStore | None = None
    ) -> None:
        self.settings = settings
        self.home = home
        self._store = store
        self._lock = threading.Lock()
        self.gauge = None
        if registry is not None:
            from prometheus_client import Gauge

            self.gauge = Gauge(
                "luodi_review_waiting",
                "Review items waiting for a person, by kind (sampled at scrape and after each change)",
                ("kind",),
                registry=registry,
                multiprocess_mode="livemostrecent",  # every worker counts the same store
            )

    @property
    def keep(self) -> bool:
        return self.settings.keep

    @property
    def store(self) -> ReviewStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    s = self.settings
                    self._store = ReviewStore.open(s.db_url, s.images, home=self.home, lease_s=s.lease_s)
        return self._store

    def refresh_gauge(self) -> dict[str, int]:
        counts = self.store.counts()
        if self.gauge is not None:
            for kind, n in counts.items():
                self.gauge.labels(kind).set(n)
        return counts

    def keep_extraction(
        self,
        extraction: Any,
        pages: Sequence[bytes],
        *,
        origin: str,
        doc: Any = None,
        reasons: Sequence[str] = (),
        force: bool = False,
    ) -> str | None:
        """Keep an extraction that needs review (or any, with ``force``), with its page images and
        input-level ``reasons``; the item id (None when not kept)."""
        if not self.keep or not (force or extraction.needs_review):
            return None
        new = document_item(extraction, pages, origin=origin, doc=doc)
        if reasons:
            new = dataclasses.replace(new, flags=(*new.flags, *(("document", r) for r in reasons)))
        item_id = self.store.add(new)
        self.refresh_gauge()
        return item_id

    def keep_outcome(self, task: str, item: Any, outcome: Any, *, origin: str) -> str | None:
        """The pipeline hook: keep an extraction that needs review. It never fails the request: a
        store that cannot be written is logged, and the caller still gets its result."""
        from luodi.kie.result import Extraction

        result = getattr(outcome, "result", None)
        if task != "extract" or not self.keep or result is None or not result.needs_review:
            return None
        if isinstance(result, Extraction):
            extractions, reasons = [result], ()
        else:
            # luodi.locate.extract.Extractions: one extraction per document found on the input (a
            # photo may hold several, or none); each is kept, with why the input as a whole is flagged
            found = [d.extraction for d in getattr(result, "documents", ())]
            extractions, reasons = found or [result.first], tuple(getattr(result, "reasons", ()))
        try:
            pages = _pages_for(item.source, outcome.pages)
            kept = [self.keep_extraction(e, pages, origin=origin, reasons=reasons, force=True) for e in extractions]
            return kept[0] if kept else None
        except Exception:
            log.exception("could not keep an extraction for review", extra={"source": getattr(result, "source", None)})
            return None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _pages_for(source: Any, decoded: Sequence[Any]) -> list[bytes]:
    """What to show a reviewer: the uploaded image file as it came (smaller than a PNG of a photo),
    or, for a PDF or anything else, the decoded pages as PNG."""
    data: bytes | None = None
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    elif isinstance(source, str | Path) and Path(source).is_file():
        data = Path(source).read_bytes()
    if data is not None and len(decoded) <= 1:
        try:
            image_ext(data)
            return [data]
        except LuodiError:
            pass
    if data is not None and not decoded:  # the service streams pages and keeps none: render them again
        from luodi.config import get_settings

        return page_images(data, get_settings().limits)
    return [encode_png(page) for page in decoded]


# --- request bodies -------------------------------------------------------------------------------
class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern="^(accept|reject|save|reopen)$")
    labels: dict[str, Any] | None = None
    version: int | None = Field(None, ge=1)


class NewItemBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern="^(document|line|text|image)$")
    image: str | None = Field(None, description="base64 image (document, line, image)")
    text: str | None = Field(None, max_length=100_000)
    schema_name: str | None = Field(None, alias="schema", max_length=128)
    dataset: str | None = Field(None, max_length=128)
    source: str | None = Field(None, max_length=1024)
    suggestion: dict[str, Any] = Field(default_factory=dict)
    flags: list[tuple[str, str]] = Field(default_factory=list, max_length=1000)


def _reviewer(request: Request) -> str:
    name = request.headers.get("x-reviewer", "").strip()
    if not name:
        raise InputError("send the reviewer's name in the X-Reviewer header")
    try:
        return bytes(name, "latin-1").decode("utf-8")  # headers arrive as latin-1; the page sends UTF-8
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def _check_id(item_id: str) -> str:
    if not _ID.match(item_id):
        raise ReviewItemNotFoundError(f"no review item {item_id!r}")
    return item_id


def _when(value: str | None, what: str) -> float | None:
    """An epoch number or an ISO date/time (local time when no zone is given)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    from datetime import datetime

    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise InputError(f"{what} must be a date (2026-05-21), a date-time or epoch seconds") from None


def _item_response(body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers={"ETag": f'"v{body["version"]}"'})


def ui_router() -> APIRouter:
    """The page and its assets (public: no data in them)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/ui")
    async def page() -> Response:
        return FileResponse(UI_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    @router.get("/ui/assets/{name}")
    async def asset(name: str) -> Response:
        kind = _ASSETS.get(name)
        if kind is None:
            raise StarletteHTTPException(404, f"no UI asset {name!r}")
        return FileResponse(UI_DIR / name, media_type=kind, headers=_PAGE_HEADERS)

    return router


def api_router(get_service: Any, dependencies: Sequence[Depends] = ()) -> APIRouter:  # noqa: PLR0915 - the /ui/api routes, one after another
    """``/ui/api/*``: ``get_service()`` returns the process's :class:`ReviewService`."""
    api = APIRouter(prefix="/ui/api", tags=["review"], dependencies=list(dependencies))

    def svc() -> ReviewService:
        service: ReviewService = get_service()
        return service

    @api.get("/queue", summary="Review items matching the filters, oldest first, and the waiting counts")
    async def queue(  # noqa: PLR0913, PLR0917 - one parameter per filter
        status: str = "waiting",
        kind: str | None = None,
        schema: str | None = None,
        field: str | None = None,
        reason: str | None = None,
        dataset: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        newest_first: bool = False,
    ) -> dict[str, Any]:
        if kind is not None and kind not in KINDS and kind != "":
            raise InputError(f"kind must be one of {', '.join(KINDS)}")
        q = QueueQuery(
            status=status,
            kind=kind or None,
            schema=schema or None,
            field=field or None,
            reason=reason or None,
            dataset=dataset or None,
            since=_when(since, "since"),
            until=_when(until, "until"),
            limit=limit,
            offset=offset,
            newest_first=newest_first,
        )
        service = svc()

        def run() -> dict[str, Any]:
            page = service.store.queue(q)
            return {"total": page.total, "items": list(page.items), "waiting": service.refresh_gauge()}

        return await asyncio.to_thread(run)

    @api.get("/facets", summary="Values the queue filters can take")
    async def facets() -> dict[str, Any]:
        return await asyncio.to_thread(svc().store.facets)

    @api.get("/items/{item_id}", summary="One item: images, suggestion, labels, flags; ETag is its version")
    async def get_item(item_id: str) -> JSONResponse:
        item = await asyncio.to_thread(svc().store.get, _check_id(item_id))
        return _item_response(item.to_dict())

    @api.get("/items/{item_id}/image", summary="A page image of the item")
    async def get_image(item_id: str, page: int = Query(0, ge=0, le=10_000)) -> Response:
        data, key = await asyncio.to_thread(svc().store.image, _check_id(item_id), page)
        # content-addressed: the bytes under a key never change
        return Response(data, media_type=media_type(key), headers={"Cache-Control": "private, max-age=86400"})

    @api.post("/items/{item_id}/claim", summary="Take or renew the item's lease (one reviewer at a time)")
    async def claim(item_id: str, request: Request) -> JSONResponse:
        who = _reviewer(request)
        item = await asyncio.to_thread(svc().store.claim, _check_id(item_id), who)
        return _item_response(item.to_dict())

    @api.delete("/items/{item_id}/claim", status_code=204, summary="Give the lease back")
    async def release(item_id: str, request: Request) -> Response:
        await asyncio.to_thread(svc().store.release, _check_id(item_id), _reviewer(request))
        return Response(status_code=204)

    @api.post("/next", summary="Claim the first waiting item matching the filters; 204 when none")
    async def next_item(request: Request) -> Response:
        who = _reviewer(request)
        p = request.query_params
        q = QueueQuery(
            kind=p.get("kind") or None,
            schema=p.get("schema") or None,
            field=p.get("field") or None,
            reason=p.get("reason") or None,
            dataset=p.get("dataset") or None,
            since=_when(p.get("since"), "since"),
            until=_when(p.get("until"), "until"),
        )
        item = await asyncio.to_thread(svc().store.next_item, q, who)
        if item is None:
            return Response(status_code=204)
        return _item_response(item.to_dict())

    @api.put("/items/{item_id}", summary="Save, accept, reject or reopen; 409 when the item changed since")
    async def decide(item_id: str, body: Decision, request: Request) -> JSONResponse:
        who = _reviewer(request)
        version = body.version
        match = _ETAG.match(request.headers.get("if-match", "").strip())
        if match:
            version = int(match.group(1))
        if version is None:
            raise InputError('name the version you edited: If-Match: "v<version>" or "version" in the body')
        service = svc()

        def run() -> dict[str, Any]:
            item = service.store.decide(
                _check_id(item_id), version=version, who=who, action=body.action, labels=body.labels
            )
            service.refresh_gauge()
            return item.to_dict()

        return _item_response(await asyncio.to_thread(run))

    @api.post("/items", status_code=201, summary="Add an item to label (document, line, text or image)")
    async def add_item(body: NewItemBody) -> JSONResponse:
        images: tuple[bytes, ...] = ()
        if body.image is not None:
            try:
                images = (base64.b64decode(body.image, validate=True),)
            except (binascii.Error, ValueError):
                raise InputError("'image' is not valid base64") from None
        service = svc()

        def run() -> dict[str, Any]:
            pages = images
            if images and body.kind == "document":
                from luodi.config import get_settings

                pages = tuple(page_images(images[0], get_settings().limits))
            item_id = service.store.add(
                NewItem(
                    kind=body.kind,
                    suggestion=body.suggestion,
                    images=pages,
                    text=body.text,
                    schema=body.schema_name,
                    dataset=body.dataset,
                    origin="api",
                    source=body.source,
                    flags=tuple(body.flags),
                )
            )
            service.refresh_gauge()
            return service.store.get(item_id).to_dict()

        return _item_response(await asyncio.to_thread(run), status_code=201)

    @api.get("/export", summary="Accepted items in a trainer's format, as a zip (report.json inside)")
    async def export_zip(format: str, dataset: str | None = None) -> Response:
        if format not in FORMATS:
            raise InputError(f"format must be one of {', '.join(FORMATS)}")
        path, report = await asyncio.to_thread(_export_zip, svc().store, format, dataset or None)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return FileResponse(
            path,
            media_type="application/zip",
            filename=f"luodi-review-{format}-{stamp}.zip",
            headers={"X-Luodi-Written": str(report["written"]), "X-Luodi-Skipped": str(len(report["skipped"]))},
            background=BackgroundTask(lambda: path.unlink(missing_ok=True)),
        )

    return api


def _export_zip(store: ReviewStore, fmt: str, dataset: str | None) -> tuple[Path, dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="luodi-review-export-"))
    try:
        report = export(store, fmt, folder / "export", dataset=dataset).to_dict()
        report["out"] = "."
        fd, name = tempfile.mkstemp(prefix="luodi-review-", suffix=".zip")
        with open(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel in report["files"]:
                zf.write(folder / "export" / rel, rel)
            zf.writestr("report.json", json.dumps(report, ensure_ascii=False, indent=2))
        return Path(name), report
    finally:
        shutil.rmtree(folder, ignore_errors=True)
