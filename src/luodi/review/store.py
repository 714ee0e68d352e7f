"""The review store: items waiting for a person, their images, and every decision made on them.

SQLite (default, one file in the model home) or PostgreSQL (``postgresql+psycopg://…``), both
through SQLAlchemy Core and migrated by Alembic on open. Durability: SQLite runs in WAL mode with
``synchronous=FULL`` and every write is one transaction, so a process killed mid-save leaves the
item either before or after that save, never between; images are durable before the row naming
them commits.

Concurrency: each save names the version it was based on. The update only matches that version
(and a lease that is free, expired or the saver's own), so of two reviewers saving the same item
the second is told — :class:`~luodi.errors.EditConflictError` — instead of overwriting the first.
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from luodi.errors import (
    ConfigError,
    EditConflictError,
    InputError,
    LeaseHeldError,
    ReviewError,
    ReviewItemNotFoundError,
)
from luodi.review._tables import KINDS, STATUSES, VERSION_TABLE, events, flags, items
from luodi.review.images import ImageStore, check_key, open_image_store

ACTIONS = ("accept", "reject", "save", "reopen")
_MAX_NAME = 128


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item to add. ``images`` are bytes the store keeps; ``image_keys`` are keys already stored."""

    kind: str
    suggestion: Mapping[str, Any]
    images: tuple[bytes, ...] = ()
    image_keys: tuple[str, ...] = ()
    text: str | None = None
    schema: str | None = None
    dataset: str | None = None
    origin: str = "api"
    source: str | None = None
    parent_image: str | None = None
    flags: tuple[tuple[str, str], ...] = ()  # (field, reason)
    labels: Mapping[str, Any] | None = None
    status: str = "waiting"


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    kind: str
    status: str
    schema: str | None
    dataset: str | None
    origin: str
    source: str | None
    images: tuple[str, ...]
    text: str | None
    parent_image: str | None
    suggestion: dict[str, Any]
    labels: dict[str, Any] | None
    created_at: float
    updated_at: float
    version: int
    lease_owner: str | None
    lease_until: float | None
    reviewer: str | None
    reviewed_at: float | None
    flags: tuple[tuple[str, str], ...] = ()

    def final(self) -> dict[str, Any]:
        """The reviewer's labels, or the machine's suggestion shaped as labels when none were saved."""
        return self.labels if self.labels is not None else default_labels(self.kind, self.suggestion)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "schema": self.schema,
            "dataset": self.dataset,
            "origin": self.origin,
            "source": self.source,
            "pages": len(self.images),
            "text": self.text,
            "suggestion": self.suggestion,
            "labels": self.labels,
            "final": self.final(),
            "flags": [{"field": f, "reason": r} for f, r in self.flags],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
            "lease": None if self.lease_owner is None else {"owner": self.lease_owner, "until": self.lease_until},
            "reviewer": self.reviewer,
            "reviewed_at": self.reviewed_at,
        }


@dataclass(frozen=True, slots=True)
class QueueQuery:
    status: str = "waiting"
    kind: str | None = None
    schema: str | None = None
    field: str | None = None
    reason: str | None = None
    dataset: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    offset: int = 0
    newest_first: bool = False


@dataclass(frozen=True, slots=True)
class QueuePage:
    total: int
    items: tuple[dict[str, Any], ...]
    query: QueueQuery = field(default_factory=QueueQuery)


def default_labels(kind: str, suggestion: Mapping[str, Any]) -> dict[str, Any]:
    """What accepting the machine's suggestion unchanged means, per kind."""
    if kind == "document":
        out: dict[str, Any] = {}
        for name, f in (suggestion.get("fields") or {}).items():
            out[name] = {"value": f.get("value"), "box": f.get("box")}
            if f.get("page") and f.get("box") is not None:
                out[name]["page"] = int(f["page"])
        return {"fields": out}
    if kind == "line":
        return {"text": str(suggestion.get("text") or "")}
    return {"label": suggestion.get("label")}


# --- labels validation --------------------------------------------------------------------------
def _check_quad(value: Any, where: str) -> None:
    if value is None:
        return
    ok = isinstance(value, list) and len(value) == 4
    ok = ok and all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in p)
        for p in value
    )
    if not ok:
        raise InputError(f"{where}: a box is four [x, y] points")


def check_labels(kind: str, labels: Any) -> dict[str, Any]:  # noqa: PLR0912 - one check per label field, in order
    """Labels of the shape ``kind`` takes; raises :class:`InputError` naming what is wrong."""
    if not isinstance(labels, dict):
        raise InputError("labels must be an object")
    if kind == "document":
        fields = labels.get("fields")
        if not isinstance(fields, dict) or set(labels) - {"fields"}:
            raise InputError('document labels are {"fields": {NAME: {"value": ..., "box": ...}}}')
        for name, entry in fields.items():
            if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME:
                raise InputError(f"bad field name {name!r}")
            if not isinstance(entry, dict) or set(entry) - {"value", "box", "page"}:
                raise InputError(f'field {name!r}: expected {{"value": ..., "box": ..., "page": N}}')
            page = entry.get("page", 0)
            if not isinstance(page, int) or isinstance(page, bool) or not 0 <= page < 10_000:
                raise InputError(f"field {name!r}: page is a page number from 0")
            value = entry.get("value")
            if value is not None and not isinstance(value, str | int | float | bool):
                raise InputError(f"field {name!r}: a value is a string, a number, true/false or null")
            _check_quad(entry.get("box"), f"field {name!r}")
        return labels
    if kind == "line":
        if set(labels) - {"text", "illegible"} or not isinstance(labels.get("text", ""), str):
            raise InputError('line labels are {"text": "..."} (or {"illegible": true})')
        if not labels.get("illegible") and not str(labels.get("text", "")).strip():
            raise InputError("a line needs its text, or illegible: true")
        return labels
    if set(labels) - {"label"}:
        raise InputError(f'{kind} labels are {{"label": "CLASS"}}')
    label = labels.get("label")
    if label is not None and (not isinstance(label, str) or not 0 < len(label) <= _MAX_NAME):
        raise InputError("a class label is a non-empty string")
    return labels


def _check_name(value: str | None, what: str, limit: int = _MAX_NAME) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        raise InputError(f"{what} must be a string of at most {limit} characters")
    return value


# --- engine -------------------------------------------------------------------------------------
def default_url(home: Path) -> str:
    return f"sqlite:///{home / 'review' / 'review.db'}"


def default_images(home: Path) -> Path:
    return home / "review" / "images"


def create_engine(url: str) -> sa.Engine:
    """A SQLAlchemy engine set up for the store (SQLite: WAL, full fsync, immediate write locks)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"review database URL {url!r} is not a database URL") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            # a writer takes the lock up front: two deferred transactions that both upgrade to
            # writing would deadlock, and one of them fail with "database is locked"
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("luodi_write") else "BEGIN")

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"review database must be sqlite:/// or postgresql+psycopg://, not {parsed.drivername}")
    return sa.create_engine(parsed, pool_pre_ping=True)


def migrate(engine: sa.Engine) -> str | None:
    """Bring the schema to the newest revision (Alembic); returns it. Safe to run from many processes."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.connect() as conn:
        conn.execution_options(luodi_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727365)")  # one migrator at a time
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        return current_revision(conn)


def current_revision(conn: sa.Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


_SUMMARY_COLUMNS = (
    items.c.id,
    items.c.kind,
    items.c.status,
    items.c.schema_name,
    items.c.dataset,
    items.c.source,
    items.c.created_at,
    items.c.version,
    items.c.lease_owner,
    items.c.lease_until,
    items.c.reviewer,
)


class ReviewStore:
    """Items, flags and events in a database; images in an :class:`~luodi.review.images.ImageStore`.

    Thread-safe (SQLAlchemy's pool hands each call its own connection); share one per process.
    """

    def __init__(self, engine: sa.Engine, images: ImageStore, *, lease_s: float = 300.0) -> None:
        self.engine = engine
        self.images = images
        self.lease_s = lease_s
        self._adds = 0

    @classmethod
    def open(
        cls,
        url: str | None = None,
        images: str | Path | ImageStore | None = None,
        *,
        home: Path | None = None,
        lease_s: float = 300.0,
        migrate_schema: bool = True,
    ) -> ReviewStore:
        """The store at ``url`` (default: SQLite under ``home``), migrated to the newest schema."""
        if url is None or images is None:
            from luodi.config import get_settings

            root = home if home is not None else get_settings().home
            url = url or default_url(root)
            images = images if images is not None else default_images(root)
        engine = create_engine(url)
        image_store = open_image_store(images) if isinstance(images, str | Path) else images
        try:
            if migrate_schema:
                migrate(engine)
        except sa.exc.OperationalError as exc:
            engine.dispose()
            raise ReviewError(f"cannot open the review database: {exc.orig}") from exc
        store = cls(engine, image_store, lease_s=lease_s)
        store.analyze()
        return store

    def analyze(self) -> None:
        """Refresh SQLite's table statistics (bounded sampling, milliseconds). Without them the planner
        walks every waiting item to apply a field or reason filter (164 ms vs 30 ms at 10,000 items,
        bench/results/review.md). PostgreSQL's autovacuum keeps its own."""
        if self.engine.dialect.name != "sqlite":
            return
        with self._write() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE review_items")
            conn.exec_driver_sql("ANALYZE review_flags")

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn:
                conn.execution_options(luodi_write=True)
                with conn.begin():
                    yield conn
        except sa.exc.OperationalError as exc:
            raise ReviewError(f"review database write failed: {exc.orig}") from exc

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except sa.exc.OperationalError as exc:
            raise ReviewError(f"review database read failed: {exc.orig}") from exc

    # --- adding ---------------------------------------------------------------------------------
    def add(self, new: NewItem) -> str:
        """Store the images (durably), then the item, its flags and a "created" event in one transaction."""
        if new.kind not in KINDS:
            raise InputError(f"kind must be one of {', '.join(KINDS)}, not {new.kind!r}")
        if new.status not in STATUSES:
            raise InputError(f"status must be one of {', '.join(STATUSES)}")
        for value, what in ((new.schema, "schema"), (new.dataset, "dataset"), (new.origin, "origin")):
            _check_name(value, what)
        _check_name(new.source, "source", 1024)
        labels = check_labels(new.kind, dict(new.labels)) if new.labels is not None else None
        keys = [check_key(k) for k in new.image_keys] + [self.images.put(data) for data in new.images]
        if new.kind in ("document", "line", "image") and not keys:
            raise InputError(f"a {new.kind} item needs an image")
        if new.kind == "text" and not (new.text or "").strip():
            raise InputError("a text item needs its text")
        parent = check_key(new.parent_image) if new.parent_image else None
        item_id = uuid.uuid4().hex
        now = time.time()
        with self._write() as conn:
            conn.execute(
                items.insert().values(
                    id=item_id,
                    kind=new.kind,
                    status=new.status,
                    schema_name=new.schema,
                    dataset=new.dataset,
                    origin=new.origin,
                    source=new.source,
                    images=keys,
                    text=new.text,
                    parent_image=parent,
                    suggestion=dict(new.suggestion),
                    labels=labels,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
            pairs = sorted({(str(f)[:_MAX_NAME], str(r)[:_MAX_NAME]) for f, r in new.flags})
            if pairs:
                conn.execute(flags.insert(), [{"item_id": item_id, "field": f, "reason": r} for f, r in pairs])
            conn.execute(events.insert().values(item_id=item_id, at=now, action="create", version=1, labels=labels))
        self._adds += 1
        if self._adds % 1000 == 0:  # a store that grew from empty would keep the plans of an empty one
            self.analyze()
        return item_id

    # --- reading --------------------------------------------------------------------------------
    def get(self, item_id: str) -> Item:
        with self._read() as conn:
            row = conn.execute(sa.select(items).where(items.c.id == item_id)).mappings().first()
            if row is None:
                raise ReviewItemNotFoundError(f"no review item {item_id!r}")
            pairs = conn.execute(
                sa.select(flags.c.field, flags.c.reason).where(flags.c.item_id == item_id).order_by(flags.c.field)
            ).all()
        return _item(row, tuple((f, r) for f, r in pairs))

    def image(self, item_id: str, page: int = 0) -> tuple[bytes, str]:
        """The item's page image and its key."""
        item = self.get(item_id)
        if not 0 <= page < len(item.images):
            raise ReviewItemNotFoundError(f"item {item_id} has no page {page}")
        key = item.images[page]
        return self.images.get(key), key

    def _filters(self, q: QueueQuery) -> list[sa.ColumnElement[bool]]:
        if q.status not in STATUSES:
            raise InputError(f"status must be one of {', '.join(STATUSES)}")
        where: list[sa.ColumnElement[bool]] = [items.c.status == q.status]
        if q.kind:
            where.append(items.c.kind == q.kind)
        if q.schema:
            where.append(items.c.schema_name == q.schema)
        if q.dataset:
            where.append(items.c.dataset == q.dataset)
        if q.since is not None:
            where.append(items.c.created_at >= q.since)
        if q.until is not None:
            where.append(items.c.created_at < q.until)
        if q.field or q.reason:
            # one flag row with both: "field X flagged for reason Y"; as IN (…) the database starts
            # from the flags index instead of testing every waiting item
            wanted = [c == v for c, v in ((flags.c.field, q.field), (flags.c.reason, q.reason)) if v]
            where.append(items.c.id.in_(sa.select(flags.c.item_id).where(*wanted)))
        return where

    def queue(self, q: QueueQuery) -> QueuePage:
        """One page of items matching ``q``, oldest first, with the total count."""
        if not 1 <= q.limit <= 500 or q.offset < 0:
            raise InputError("limit must be within 1..500 and offset at least 0")
        where = self._filters(q)
        order = (items.c.created_at.desc(), items.c.id) if q.newest_first else (items.c.created_at, items.c.id)
        now = time.time()
        with self._read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(items).where(*where)).scalar_one()
            rows = (
                conn.execute(
                    sa.select(*_SUMMARY_COLUMNS).where(*where).order_by(*order).limit(q.limit).offset(q.offset)
                )
                .mappings()
                .all()
            )
            ids = [r["id"] for r in rows]
            flagged: dict[str, list[dict[str, str]]] = {}
            if ids:
                for item_id, name, reason in conn.execute(
                    sa.select(flags.c.item_id, flags.c.field, flags.c.reason).where(flags.c.item_id.in_(ids))
                ):
                    flagged.setdefault(item_id, []).append({"field": name, "reason": reason})
        out = []
        for r in rows:
            leased = r["lease_owner"] is not None and (r["lease_until"] or 0) > now
            out.append(
                {
                    "id": r["id"],
                    "kind": r["kind"],
                    "status": r["status"],
                    "schema": r["schema_name"],
                    "dataset": r["dataset"],
                    "source": r["source"],
                    "created_at": r["created_at"],
                    "version": r["version"],
                    "flags": flagged.get(r["id"], []),
                    "lease": {"owner": r["lease_owner"], "until": r["lease_until"]} if leased else None,
                    "reviewer": r["reviewer"],
                }
            )
        return QueuePage(int(total), tuple(out), q)

    def counts(self) -> dict[str, int]:
        """Waiting items per kind (every kind present, zero when none)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(items.c.kind, sa.func.count()).where(items.c.status == "waiting").group_by(items.c.kind)
            ).all()
        out = dict.fromkeys(KINDS, 0)
        out.update({kind: int(n) for kind, n in rows})
        return out

    def facets(self) -> dict[str, list[str]]:
        """The values the queue's filters can take: kinds, schemas and datasets of waiting items; every
        field and reason ever flagged (read from their indexes alone: a join with the items would
        cost a pass over all of them, and a value with nothing waiting just filters to an empty page)."""
        waiting = items.c.status == "waiting"
        with self._read() as conn:

            def distinct(column: Any, *where: Any) -> list[str]:
                rows = conn.execute(sa.select(column).where(*where).distinct().order_by(column)).scalars()
                return [v for v in rows if v is not None]

            return {
                "kinds": distinct(items.c.kind, waiting),
                "schemas": distinct(items.c.schema_name, waiting),
                "datasets": distinct(items.c.dataset, waiting),
                "fields": distinct(flags.c.field),
                "reasons": distinct(flags.c.reason),
            }

    def iter_items(
        self, *, statuses: Sequence[str] = ("accepted",), kinds: Sequence[str] = KINDS, dataset: str | None = None
    ) -> Iterator[Item]:
        """Every item with one of ``statuses`` and ``kinds``, oldest first, read in chunks."""
        where: list[sa.ColumnElement[bool]] = [items.c.status.in_(list(statuses)), items.c.kind.in_(list(kinds))]
        if dataset:
            where.append(items.c.dataset == dataset)
        with self._read() as conn:
            ids = conn.execute(sa.select(items.c.id).where(*where).order_by(items.c.created_at, items.c.id)).scalars()
            all_ids = list(ids)
        for start in range(0, len(all_ids), 200):
            chunk = all_ids[start : start + 200]
            with self._read() as conn:
                rows = {r["id"]: r for r in conn.execute(sa.select(items).where(items.c.id.in_(chunk))).mappings()}
                pairs: dict[str, list[tuple[str, str]]] = {}
                for item_id, name, reason in conn.execute(
                    sa.select(flags.c.item_id, flags.c.field, flags.c.reason).where(flags.c.item_id.in_(chunk))
                ):
                    pairs.setdefault(item_id, []).append((name, reason))
            for item_id in chunk:
                if item_id in rows:
                    yield _item(rows[item_id], tuple(pairs.get(item_id, ())))

    def history(self, item_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(sa.select(events).where(events.c.item_id == item_id).order_by(events.c.id)).mappings()
            return [dict(r) for r in rows]

    # --- reviewing ------------------------------------------------------------------------------
    def _free_or_mine(self, who: str, now: float) -> sa.ColumnElement[bool]:
        return sa.or_(items.c.lease_owner.is_(None), items.c.lease_owner == who, items.c.lease_until < now)

    def claim(self, item_id: str, who: str) -> Item:
        """Take (or renew) the item's lease for ``who``; :class:`LeaseHeldError` if another holds it."""
        who = _reviewer(who)
        now = time.time()
        with self._write() as conn:
            done = conn.execute(
                items.update()
                .where(items.c.id == item_id, self._free_or_mine(who, now))
                .values(lease_owner=who, lease_until=now + self.lease_s)
            ).rowcount
        if not done:
            self._why_not(item_id, None, who)
        return self.get(item_id)

    def release(self, item_id: str, who: str) -> None:
        with self._write() as conn:
            conn.execute(
                items.update()
                .where(items.c.id == item_id, items.c.lease_owner == _reviewer(who))
                .values(lease_owner=None, lease_until=None)
            )

    def next_item(self, q: QueueQuery, who: str) -> Item | None:
        """Claim and return the first waiting item matching ``q`` that nobody else holds."""
        who = _reviewer(who)
        for _ in range(5):  # another reviewer may claim a candidate between our read and our claim
            now = time.time()
            where = [*self._filters(q), self._free_or_mine(who, now)]
            order = (items.c.created_at.desc(), items.c.id) if q.newest_first else (items.c.created_at, items.c.id)
            with self._read() as conn:
                ids = conn.execute(sa.select(items.c.id).where(*where).order_by(*order).limit(8)).scalars().all()
            if not ids:
                return None
            for item_id in ids:
                try:
                    return self.claim(item_id, who)
                except LeaseHeldError:
                    continue
        return None

    def decide(
        self, item_id: str, *, version: int, who: str, action: str, labels: Mapping[str, Any] | None = None
    ) -> Item:
        """Save, accept, reject or reopen the item as of ``version``; the new version is returned.

        ``labels`` replace the saved labels (``None`` keeps them; accepting with none saved takes the
        suggestion). Accepting or rejecting ends the lease.
        """
        who = _reviewer(who)
        if action not in ACTIONS:
            raise InputError(f"action must be one of {', '.join(ACTIONS)}")
        current = self.get(item_id)
        checked = check_labels(current.kind, dict(labels)) if labels is not None else None
        now = time.time()
        values: dict[str, Any] = {"version": items.c.version + 1, "updated_at": now}
        if checked is not None:
            values["labels"] = checked
        if action in ("accept", "reject"):
            values.update(status="accepted" if action == "accept" else "rejected", reviewer=who, reviewed_at=now)
            values.update(lease_owner=None, lease_until=None)
            if action == "accept" and checked is None and current.labels is None:
                values["labels"] = current.final()
        elif action == "reopen":
            values.update(status="waiting", reviewed_at=None)
        with self._write() as conn:
            done = conn.execute(
                items.update()
                .where(items.c.id == item_id, items.c.version == version, self._free_or_mine(who, now))
                .values(**values)
            ).rowcount
            if done:
                conn.execute(
                    events.insert().values(
                        item_id=item_id,
                        at=now,
                        actor=who,
                        action=action,
                        version=version + 1,
                        labels=values.get("labels"),
                    )
                )
        if not done:
            self._why_not(item_id, version, who)
        return self.get(item_id)

    def _why_not(self, item_id: str, version: int | None, who: str) -> None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(items.c.version, items.c.lease_owner, items.c.lease_until, items.c.reviewer).where(
                    items.c.id == item_id
                )
            ).first()
        if row is None:
            raise ReviewItemNotFoundError(f"no review item {item_id!r}")
        if version is not None and row.version != version:
            with self._read() as conn:
                last = conn.execute(
                    sa.select(events.c.actor).where(events.c.item_id == item_id).order_by(events.c.id.desc()).limit(1)
                ).scalar()
            by = f" by {last}" if last else ""
            raise EditConflictError(
                f"item {item_id} was changed{by} since you opened it (your version {version}, now {row.version}); "
                "reload it before saving"
            )
        until = time.strftime("%H:%M:%S", time.localtime(row.lease_until or 0))
        raise LeaseHeldError(f"{row.lease_owner} is reviewing item {item_id} (lease until {until})")


def _reviewer(who: str) -> str:
    name = (who or "").strip()
    if not name or len(name) > _MAX_NAME:
        raise InputError(f"a reviewer name of 1..{_MAX_NAME} characters is needed")
    return name


def _item(row: Any, pairs: tuple[tuple[str, str], ...]) -> Item:
    return Item(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        schema=row["schema_name"],
        dataset=row["dataset"],
        origin=row["origin"],
        source=row["source"],
        images=tuple(row["images"] or ()),
        text=row["text"],
        parent_image=row["parent_image"],
        suggestion=dict(row["suggestion"] or {}),
        labels=row["labels"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        lease_owner=row["lease_owner"],
        lease_until=row["lease_until"],
        reviewer=row["reviewer"],
        reviewed_at=row["reviewed_at"],
        flags=pairs,
    )
