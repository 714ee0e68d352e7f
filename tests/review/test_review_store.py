"""The review store on SQLite and on a real PostgreSQL server: queue, filters, leases, versions."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from review_support import png

from luodi.errors import EditConflictError, ImagePathError, InputError, LeaseHeldError, ReviewItemNotFoundError
from luodi.kie.result import Extraction, FieldResult
from luodi.review import NewItem, QueueQuery, ReviewStore
from luodi.review.ingest import document_item
from luodi.review.store import create_engine, migrate

BOX = ((10.0, 10.0), (90.0, 10.0), (90.0, 30.0), (10.0, 30.0))


def extraction(name: str = "张三", *, flagged: bool = True) -> Extraction:
    return Extraction(
        source="w.png",
        schema="waybill",
        fields=(
            FieldResult(
                "receiver_name", name, raw=name, score=0.5, box=BOX, needs_review=flagged, reasons=("ambiguous",)
            ),
            FieldResult("receiver_phone", "13800138000", raw="13800138000", score=0.99, box=BOX, needs_review=False),
            FieldResult("sender_name", None, needs_review=True, reasons=("not found",)),
        ),
        needs_review=flagged,
    )


def add_doc(store: ReviewStore, **kw) -> str:
    return store.add(document_item(extraction(**kw), [png()], origin="service"))


def test_add_get_and_the_queue(store: ReviewStore) -> None:
    first = add_doc(store)
    second = store.add(NewItem(kind="line", suggestion={"text": "abc"}, images=(png(text="abc"),), schema=None))
    item = store.get(first)
    assert item.kind == "document" and item.schema == "waybill" and item.version == 1
    assert set(item.flags) == {("receiver_name", "ambiguous"), ("sender_name", "not found")}
    assert item.final()["fields"]["receiver_phone"] == {"value": "13800138000", "box": [list(p) for p in BOX]}
    assert item.suggestion["fields"]["receiver_name"]["raw"] == "张三"
    page = store.queue(QueueQuery())
    assert page.total == 2 and [e["id"] for e in page.items] == [first, second]
    assert store.counts() == {"document": 1, "line": 1, "text": 0, "image": 0}
    data, key = store.image(first)
    assert data == png() and key.endswith(".png")


def test_filters_by_schema_field_reason_kind_and_date(store: ReviewStore) -> None:
    doc = add_doc(store)
    line = store.add(NewItem(kind="line", suggestion={"text": "x"}, images=(png(),), flags=(("text", "low score"),)))
    time.sleep(0.02)
    cut = time.time()
    time.sleep(0.02)
    late = store.add(NewItem(kind="text", suggestion={"label": None}, text="你好", schema="intents"))

    def ids(**kw: object) -> list[str]:
        return [e["id"] for e in store.queue(QueueQuery(**kw)).items]  # type: ignore[arg-type]

    assert ids(schema="waybill") == [doc]
    assert ids(field="sender_name") == [doc]
    assert ids(reason="low score") == [line]
    assert ids(reason="ambiguous", field="receiver_name") == [doc]
    assert ids(reason="ambiguous", field="receiver_phone") == []
    assert ids(kind="text") == [late]
    assert ids(since=cut) == [late]
    assert ids(until=cut) == [doc, line]
    assert ids(newest_first=True)[0] == late
    facets = store.facets()
    assert facets["schemas"] == ["intents", "waybill"]
    assert facets["fields"] == ["receiver_name", "sender_name", "text"]
    assert "not found" in facets["reasons"]
    with pytest.raises(InputError):
        store.queue(QueueQuery(limit=0))


def test_accept_leaves_the_queue_and_is_recorded(store: ReviewStore) -> None:
    item_id = add_doc(store)
    store.claim(item_id, "alice")
    labels = {"fields": {"receiver_name": {"value": "李四", "box": None}}}
    done = store.decide(item_id, version=1, who="alice", action="accept", labels=labels)
    assert done.status == "accepted" and done.version == 2 and done.reviewer == "alice"
    assert done.lease_owner is None and done.labels == labels
    assert store.queue(QueueQuery()).total == 0
    assert store.queue(QueueQuery(status="accepted")).total == 1
    assert [e["action"] for e in store.history(item_id)] == ["create", "accept"]
    assert store.history(item_id)[-1]["actor"] == "alice"


def test_accept_without_labels_takes_the_suggestion(store: ReviewStore) -> None:
    item_id = add_doc(store)
    done = store.decide(item_id, version=1, who="bob", action="accept")
    assert done.labels == done.final() and done.labels["fields"]["receiver_name"]["value"] == "张三"


def test_second_save_on_a_stale_version_is_told_not_applied(store: ReviewStore) -> None:
    item_id = add_doc(store)
    a = {"fields": {"receiver_name": {"value": "A", "box": None}}}
    b = {"fields": {"receiver_name": {"value": "B", "box": None}}}
    store.decide(item_id, version=1, who="alice", action="save", labels=a)
    with pytest.raises(EditConflictError, match="alice"):
        store.decide(item_id, version=1, who="bob", action="save", labels=b)
    assert store.get(item_id).labels == a


def test_concurrent_saves_one_wins(store: ReviewStore) -> None:
    item_id = add_doc(store)
    outcomes: list[str] = []

    def save(who: str) -> None:
        try:
            store.decide(item_id, version=1, who=who, action="save", labels={"fields": {"x": {"value": who}}})
            outcomes.append("saved")
        except EditConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(f"r{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["saved"]
    assert store.get(item_id).version == 2


def test_one_reviewer_per_item_until_the_lease_expires(store: ReviewStore) -> None:
    item_id = add_doc(store)
    store.claim(item_id, "alice")
    with pytest.raises(LeaseHeldError, match="alice"):
        store.claim(item_id, "bob")
    with pytest.raises(LeaseHeldError):
        store.decide(item_id, version=1, who="bob", action="accept")
    store.claim(item_id, "alice")  # renewing is fine
    store.lease_s = 0.05
    store.claim(item_id, "alice")
    time.sleep(0.1)
    assert store.claim(item_id, "bob").lease_owner == "bob"  # expired: bob may take it
    store.release(item_id, "bob")
    assert store.get(item_id).lease_owner is None


def test_next_hands_two_reviewers_different_items(store: ReviewStore) -> None:
    ids = {add_doc(store) for _ in range(3)}
    a = store.next_item(QueueQuery(), "alice")
    b = store.next_item(QueueQuery(), "bob")
    assert a is not None and b is not None and a.id != b.id and {a.id, b.id} <= ids
    assert store.next_item(QueueQuery(), "alice").id == a.id  # alice's own lease comes back first
    store.decide(a.id, version=a.version, who="alice", action="reject")
    assert store.get(a.id).status == "rejected"


def test_bad_labels_and_missing_items(store: ReviewStore) -> None:
    item_id = add_doc(store)
    for bad in (
        {"fields": {"x": {"value": {"nested": 1}}}},
        {"fields": {"x": {"value": "v", "box": [[0, 0], [1, 1]]}}},
        {"fields": "x"},
        {"other": 1},
    ):
        with pytest.raises(InputError):
            store.decide(item_id, version=1, who="a", action="save", labels=bad)
    with pytest.raises(InputError):
        store.decide(item_id, version=1, who="a", action="delete")
    with pytest.raises(ReviewItemNotFoundError):
        store.get("0" * 32)
    with pytest.raises(InputError):
        store.add(NewItem(kind="line", suggestion={}))  # a line needs its image
    with pytest.raises(InputError):
        store.add(NewItem(kind="video", suggestion={}))


def test_an_image_reference_outside_the_store_is_refused(store: ReviewStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png())
    item_id = add_doc(store)
    for bad in ("../secret.png", str(secret), "../../etc/passwd", "ab/../../secret.png"):
        with store.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE review_items SET images = :v WHERE id = :id"), {"v": f'["{bad}"]', "id": item_id}
            )
        with pytest.raises(ImagePathError):
            store.image(item_id)
    with pytest.raises(ImagePathError):
        store.add(NewItem(kind="line", suggestion={"text": "x"}, image_keys=("../secret.png",)))


def test_migrations_match_the_tables_and_run_from_many_threads(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from luodi.review._tables import VERSION_TABLE, metadata

    engine = create_engine(db_url)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(engine)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert migrate(engine) == "0001"
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        assert compare_metadata(context, metadata) == []
    engine.dispose()
