"""The review UI in Debian's Chromium (headless, driven by playwright) against a real ``luodi serve``.

Open the queue, fix a field, accept, see it leave; accept a right suggestion with one key; a
``<script>`` value shown as text; a stale save told; a box redrawn; export and read the export
back. With ``LUODI_SCREENSHOTS=DIR`` the main screens are also saved there (docs/review/ holds them).
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "review"))

from review_support import CHROMIUM, CHROMIUM_ARGS, png, waybill_png
from service_procs import API_KEY

pytestmark = [pytest.mark.service, pytest.mark.slow]

sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium; `make setup` does it)", allow_module_level=True
    )

# a loaded CI machine can take more than playwright's default 5 s to draw a page
sync_api.expect.set_options(timeout=30_000)

NASTY = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
WAYBILL = {"收件人": "张三", "电话": "13800138000", "地址": "广东省深圳市南山区科技园路1号"}


@pytest.fixture(scope="module")
def review_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("review-ui")


@pytest.fixture(scope="module")
def server(start_server: Any, review_home: Path) -> Any:
    return start_server(
        env={
            "LUODI_API_KEYS": API_KEY,
            "LUODI_SERVE_REVIEW__DB_URL": f"sqlite:///{review_home / 'review.db'}",
            "LUODI_SERVE_REVIEW__IMAGES": str(review_home / "images"),
        }
    )


@pytest.fixture(scope="module")
def store(server: Any, review_home: Path) -> Iterator[Any]:
    """The server's own store, opened beside it (SQLite in WAL mode takes both processes)."""
    from luodi.review import ReviewStore

    s = ReviewStore.open(f"sqlite:///{review_home / 'review.db'}", review_home / "images")
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _quad(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def add_waybill(store: Any, name: str, *, receiver: str = "张三", source: str = "waybill.png") -> str:
    """A flagged waybill as the service keeps one: page image, fields with boxes, reasons."""
    from luodi.review import NewItem

    fields = {
        "receiver_name": {
            "value": receiver,
            "raw": receiver,
            "score": 0.55,
            "box": _quad(110, 28, 200, 62),
            "needs_review": True,
            "reasons": ["party decided from position only"],
        },
        "receiver_phone": {
            "value": "13800138000",
            "raw": "13800138000",
            "score": 0.97,
            "box": _quad(95, 83, 260, 117),
            "needs_review": False,
            "reasons": [],
        },
        "receiver_address": {
            "value": "广东省深圳市南山区科技园路1号",
            "raw": "广东省深圳市南山区科技园路1号",
            "score": 0.91,
            "box": _quad(95, 138, 470, 172),
            "needs_review": False,
            "reasons": [],
        },
    }
    return str(
        store.add(
            NewItem(
                kind="document",
                suggestion={"fields": fields, "needs_review": True},
                images=(waybill_png({**WAYBILL, "收件人": name}),),
                schema="waybill",
                origin="service",
                source=source,
                flags=(("receiver_name", "party decided from position only"),),
            )
        )
    )


def clear(store: Any) -> None:
    """Decide whatever an earlier test left waiting, so each test starts from an empty queue."""
    from luodi.review import QueueQuery

    while True:
        page = store.queue(QueueQuery(limit=500))
        if not page.items:
            return
        for entry in page.items:
            store.release(entry["id"], entry["lease"]["owner"]) if entry["lease"] else None
            store.decide(entry["id"], version=entry["version"], who="cleanup", action="reject")


def open_ui(browser: Any, server: Any, name: str = "李四", shots: bool = False) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 760}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
    # offline: every request the page makes goes to luodi itself
    page.on(
        "request", lambda r: None if r.url.startswith(server.url) or r.url.startswith("blob:") else errors.append(r.url)
    )
    page.goto(server.url + "/ui")
    page.fill("#login-key", API_KEY)
    page.fill("#login-name", name)
    page.click("#login-form button[type=submit]")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def screenshot(page: Any, name: str) -> None:
    target = os.environ.get("LUODI_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(300)  # the page image decodes after the form is drawn
        page.screenshot(path=str(Path(target) / name))


def test_unauthenticated_and_wrong_keys_are_refused(server: Any, browser: Any) -> None:
    assert httpx.get(server.url + "/ui/api/queue", timeout=10).status_code == 401
    assert httpx.get(server.url + "/ui/api/queue", headers={"X-API-Key": "nope"}, timeout=10).status_code == 401
    page_resp = httpx.get(server.url + "/ui", timeout=10)
    assert page_resp.status_code == 200 and "script-src 'self'" in page_resp.headers["content-security-policy"]
    assert httpx.get(server.url + "/ui/assets/../../etc/passwd", timeout=10).status_code == 404
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/ui")
    page.fill("#login-key", "wrong")
    page.fill("#login-name", "x")
    page.click("#login-form button[type=submit]")
    sync_api.expect(page.locator("#login-error")).to_contain_text("not accepted")
    context.close()


def test_fix_a_field_accept_and_see_it_leave(server: Any, browser: Any, store: Any) -> None:
    clear(store)
    fixed = add_waybill(store, "王五", receiver="王王")
    right = add_waybill(store, "张三", receiver="张三", source="right.png")
    page = open_ui(browser, server, shots=True)
    rows = page.locator("#queue li")
    sync_api.expect(rows).to_have_count(2)
    field = page.locator('#form input[data-field="receiver_name"]')
    sync_api.expect(field).to_be_focused()  # the cursor starts on the flagged field
    sync_api.expect(page.locator("#form .why")).to_contain_text("party decided from position only")
    sync_api.expect(page.locator("#counts")).to_contain_text("2 waiting")
    screenshot(page, "queue.png")
    page.keyboard.type("王五")  # the suggestion is selected: typing replaces it
    page.keyboard.press("Enter")
    sync_api.expect(rows).to_have_count(1)
    sync_api.expect(page.locator(f'#queue li[data-id="{fixed}"]')).to_have_count(0)
    item = store.get(fixed)
    assert item.status == "accepted" and item.reviewer == "李四"
    assert item.labels["fields"]["receiver_name"]["value"] == "王五"
    assert item.labels["fields"]["receiver_phone"]["value"] == "13800138000"

    # the next waybill's suggestion is right: one keystroke reviews it
    sync_api.expect(page.locator('#form input[data-field="receiver_name"]')).to_have_value("张三")
    page.keyboard.press("Enter")
    sync_api.expect(rows).to_have_count(0)
    sync_api.expect(page.locator("#empty")).to_be_visible()
    assert store.get(right).status == "accepted"
    assert store.get(right).labels["fields"]["receiver_name"]["value"] == "张三"
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_a_script_value_is_shown_as_text(server: Any, browser: Any, store: Any) -> None:
    clear(store)
    item_id = add_waybill(store, "张三", receiver=NASTY, source=NASTY)
    page = open_ui(browser, server)
    field = page.locator('#form input[data-field="receiver_name"]')
    sync_api.expect(field).to_have_value(NASTY)
    sync_api.expect(page.locator("#item-title")).to_have_text(NASTY)
    sync_api.expect(page.locator("#queue li .src")).to_have_text(NASTY)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("script").count() == 1  # app.js only
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#queue li")).to_have_count(0)
    assert store.get(item_id).labels["fields"]["receiver_name"]["value"] == NASTY
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_a_stale_save_is_told_not_applied(server: Any, browser: Any, store: Any) -> None:
    clear(store)
    item_id = add_waybill(store, "赵六", receiver="赵")
    page = open_ui(browser, server, name="alice")
    sync_api.expect(page.locator('#form input[data-field="receiver_name"]')).to_be_focused()
    # meanwhile the same item is saved elsewhere (alice's other tab: her own lease lets it through)
    labels = {"fields": {"receiver_name": {"value": "赵六", "box": None}}}
    store.decide(item_id, version=1, who="alice", action="save", labels=labels)
    page.keyboard.type("赵七")
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#banner")).to_contain_text("changed")
    assert store.get(item_id).labels == labels and store.get(item_id).status == "waiting"
    # a second reviewer cannot take an item alice holds
    other = httpx.post(
        f"{server.url}/ui/api/items/{item_id}/claim", headers={"X-API-Key": API_KEY, "X-Reviewer": "bob"}, timeout=10
    )
    assert other.status_code == 409 and "alice" in other.json()["error"]["message"]
    page.keyboard.press("Alt+L")  # reload, then the save goes through
    sync_api.expect(page.locator('#form input[data-field="receiver_name"]')).to_have_value("赵六")
    page.locator('#form input[data-field="receiver_name"]').focus()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#queue li")).to_have_count(0)
    assert store.get(item_id).status == "accepted"
    page.context.close()


def test_redraw_a_box(server: Any, browser: Any, store: Any) -> None:
    clear(store)
    item_id = add_waybill(store, "孙七", receiver="孙七")
    page = open_ui(browser, server)
    sync_api.expect(page.locator("#canvas svg image")).to_have_count(1)
    page.locator('#form input[data-field="receiver_phone"]').focus()
    page.keyboard.press("Alt+B")
    svg = page.locator("#canvas svg").bounding_box()
    assert svg is not None
    scale = svg["width"] / 760  # the page image is 760 px wide
    page.mouse.move(svg["x"] + 90 * scale, svg["y"] + 80 * scale)
    page.mouse.down()
    page.mouse.move(svg["x"] + 200 * scale, svg["y"] + 100 * scale, steps=4)
    page.mouse.move(svg["x"] + 270 * scale, svg["y"] + 120 * scale, steps=4)
    page.mouse.up()
    sync_api.expect(page.locator('#form .field.changed[data-field="receiver_phone"]')).to_have_count(1)
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#queue li")).to_have_count(0)
    box = store.get(item_id).labels["fields"]["receiver_phone"]["box"]
    assert box[0][0] == pytest.approx(90, abs=4) and box[2][1] == pytest.approx(120, abs=4)
    page.context.close()


def test_a_field_on_the_second_page(server: Any, browser: Any, store: Any) -> None:
    from luodi.review import NewItem

    clear(store)
    fields = {
        "tracking_number": {"value": "SF123", "box": _quad(95, 28, 260, 62), "page": 1, "reasons": ["low score"]},
        "receiver_name": {"value": "张三", "box": _quad(110, 28, 200, 62)},
    }
    item_id = store.add(
        NewItem(
            kind="document",
            suggestion={"fields": fields},
            images=(waybill_png({"收件人": "张三"}), waybill_png({"单号": "SF123"})),
            schema="waybill",
            flags=(("tracking_number", "low score"),),
        )
    )
    page = open_ui(browser, server)
    sync_api.expect(page.locator("#canvas svg image")).to_have_count(2)
    sync_api.expect(page.locator('#canvas svg[data-page="1"] polygon[data-field="tracking_number"]')).to_have_count(1)
    sync_api.expect(page.locator('#canvas svg[data-page="0"] polygon[data-field="receiver_name"]')).to_have_count(1)
    sync_api.expect(page.locator('#form input[data-field="tracking_number"]')).to_be_focused()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#queue li")).to_have_count(0)
    labels = store.get(item_id).labels["fields"]
    assert labels["tracking_number"]["page"] == 1 and "page" not in labels["receiver_name"]
    page.context.close()


def test_lines_and_classes(server: Any, browser: Any, store: Any) -> None:
    from luodi.review import NewItem

    clear(store)
    line = store.add(
        NewItem(
            kind="line",
            suggestion={"text": "广东省深圳市", "score": 0.62},
            images=(waybill_png({"地址": "广东省深圳市"}),),
            flags=(("text", "low score"),),
        )
    )
    text = store.add(
        NewItem(kind="text", suggestion={"label": None, "classes": ["查件", "退货", "投诉"]}, text="我的快递到哪了")
    )
    image = store.add(NewItem(kind="image", suggestion={"label": "ok", "classes": ["ok", "defect"]}, images=(png(),)))
    page = open_ui(browser, server)
    text_input = page.locator('#form input[name="text"]')
    sync_api.expect(text_input).to_be_focused()
    sync_api.expect(text_input).to_have_value("广东省深圳市")
    screenshot(page, "line.png")
    page.keyboard.press("End")
    page.keyboard.type("南山区")
    page.keyboard.press("Enter")
    sync_api.expect(page.locator(".text-item")).to_have_text("我的快递到哪了")
    screenshot(page, "text.png")
    page.keyboard.press("1")  # the first class, and accepted
    sync_api.expect(page.locator("#canvas svg image")).to_have_count(1)
    page.keyboard.press("Enter")  # the image's suggested class is right
    sync_api.expect(page.locator("#empty")).to_be_visible()
    assert store.get(line).labels == {"text": "广东省深圳市南山区"}
    assert store.get(text).labels == {"label": "查件"}
    assert store.get(image).labels == {"label": "ok"} and store.get(image).status == "accepted"
    page.context.close()


def test_export_from_the_page_and_read_it_back(server: Any, browser: Any, store: Any, tmp_path: Path) -> None:
    from luodi.kie.evaluate import read_labels

    clear(store)
    add_waybill(store, "周八", receiver="周")
    page = open_ui(browser, server)
    sync_api.expect(page.locator('#form input[data-field="receiver_name"]')).to_be_focused()
    page.keyboard.type("周八")
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#queue li")).to_have_count(0)
    page.select_option("#export-format", "kie")
    with page.expect_download() as info:
        page.click("#export")
    target = tmp_path / "export.zip"
    info.value.save_as(target)
    sync_api.expect(page.locator("#banner")).to_contain_text("Exported")
    with zipfile.ZipFile(target) as zf:
        zf.extractall(tmp_path / "kie")
    report = json.loads((tmp_path / "kie" / "report.json").read_text(encoding="utf-8"))
    records = read_labels(tmp_path / "kie" / "labels.jsonl")
    assert report["written"] == len(records) >= 1
    assert any(r["fields"]["receiver_name"] == "周八" for r in records)
    assert all((tmp_path / "kie" / r["image"]).is_file() for r in records)
    page.context.close()


def test_waiting_gauge(server: Any, store: Any) -> None:
    clear(store)
    add_waybill(store, "吴九")
    metrics = httpx.get(server.url + "/metrics", timeout=10).text
    assert 'luodi_review_waiting{kind="document"} 1.0' in metrics
