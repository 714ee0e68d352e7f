"""Review queue targets, against a real ``luodi serve`` and Debian's Chromium.

1. The queue with 10,000 waiting documents (generated entries, bulk-inserted: every one a flagged
   waybill with 3-6 fields and 1-3 flags over 4 schemas and 12 reasons, spread over 30 days):
   the API's answer (``GET /ui/api/queue``, default page and filtered ones, a deep page, facets)
   and the page in the browser: navigation to the first document shown, form focused.
   SQLite (default) and PostgreSQL (``--postgres``, a private server from Debian's package).
2. Keystrokes per flagged waybill when the suggestion is right: the browser reviews N documents
   pressing only Enter, and we count the keys pressed per document that left the queue.

    .venv/bin/python bench/review_bench.py --out bench/results/review.md [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "review"))
sys.path.insert(0, str(ROOT / "tests" / "service"))

from review_support import CHROMIUM, CHROMIUM_ARGS, free_port, start_postgres, waybill_png  # noqa: E402

KEY = "bench-key"
SCHEMAS = ("waybill", "bank_receipt", "id_card", "contact")
FIELDS = ("receiver_name", "receiver_phone", "receiver_address", "sender_name", "sender_phone", "tracking_number")
REASONS = (
    "not found",
    "low score",
    "party decided from position only",
    "2 phone numbers in one place",
    "no phone pattern",
    "address not in gazetteer",
    "failed validation",
    "checksum failed",
    "traditional characters folded",
    "value cut at the edge",
    "ambiguous label",
    "second copy disagrees",
)


def fill(url: str, images: Path, n: int, seed: int = 0) -> None:
    """``n`` flagged documents, bulk-inserted (the store's own add() would fsync each: 10,000 of those
    measure the disk, not the queue). Rows are shaped exactly as the service keeps them."""
    import sqlalchemy as sa

    from luodi.review._tables import flags, items
    from luodi.review.images import DiskImageStore
    from luodi.review.store import create_engine, migrate

    rng = random.Random(seed)
    disk = DiskImageStore(images)
    keys = [disk.put(waybill_png({"收件人": f"张{i}", "电话": f"1380013{i:04d}"})) for i in range(20)]
    engine = create_engine(url)
    migrate(engine)
    now = time.time()
    rows, flag_rows = [], []
    for i in range(n):
        item_id = uuid.uuid4().hex
        names = rng.sample(FIELDS, rng.randint(3, 6))
        flagged = rng.sample(names, rng.randint(1, min(3, len(names))))
        fields = {
            name: {
                "value": f"值{i}-{name}",
                "raw": f"值{i}-{name}",
                "score": round(rng.random(), 3),
                "box": [[10, 10], [90, 10], [90, 30], [10, 30]],
                "needs_review": name in flagged,
                "reasons": [rng.choice(REASONS)] if name in flagged else [],
            }
            for name in names
        }
        created = now - rng.random() * 30 * 86400
        rows.append(
            {
                "id": item_id,
                "kind": "document",
                "status": "waiting",
                "schema_name": rng.choice(SCHEMAS),
                "origin": "service",
                "source": f"doc-{i:05d}.png",
                "images": [rng.choice(keys)],
                "suggestion": {"fields": fields, "needs_review": True},
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        for name in flagged:
            flag_rows.append({"item_id": item_id, "field": name, "reason": fields[name]["reasons"][0]})
    with engine.begin() as conn:
        for start in range(0, n, 1000):
            conn.execute(sa.insert(items), rows[start : start + 1000])
        for start in range(0, len(flag_rows), 2000):
            conn.execute(sa.insert(flags), flag_rows[start : start + 2000])
    engine.dispose()


def start_server(url: str, images: Path, home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LUODI_SERVE")},
        "LUODI_API_KEYS": KEY,
        "LUODI_SERVE_REVIEW__DB_URL": url,
        "LUODI_SERVE_REVIEW__IMAGES": str(images),
        "LUODI_SERVE_JOBS__DIR": str(home / "jobs"),
    }
    log = open(home / "serve.log", "wb")  # noqa: SIM115 - the server writes to it until stopped
    proc = subprocess.Popen(
        [sys.executable, "-m", "luodi", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError((home / "serve.log").read_text()[-2000:])


def timed(client: httpx.Client, path: str, reps: int) -> dict[str, float]:
    client.get(path)  # warm: connection, first query plan
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
        "max_ms": round(times[-1], 1),
    }


def api_timings(base: str, reps: int) -> dict[str, Any]:
    client = httpx.Client(base_url=base, headers={"X-API-Key": KEY, "X-Reviewer": "bench"}, timeout=30)
    since = time.strftime("%Y-%m-%d", time.localtime(time.time() - 7 * 86400))
    paths = {
        "queue, first page (50)": "/ui/api/queue",
        "filter schema": "/ui/api/queue?schema=waybill",
        "filter field + reason": "/ui/api/queue?field=receiver_phone&reason=no%20phone%20pattern",
        "filter date (last 7 days)": f"/ui/api/queue?since={since}",
        "deep page (offset 9,950)": "/ui/api/queue?offset=9950",
        "facets (filter values)": "/ui/api/facets",
    }
    out = {name: timed(client, path, reps) for name, path in paths.items()}
    out["total"] = client.get("/ui/api/queue").json()["total"]
    return out


def browser_timings(base: str, reps: int) -> dict[str, Any]:
    """Navigation to the first flagged field focused, with the key already in the tab (a reviewer
    opening the queue), and the same with the queue list drawn."""
    from playwright.sync_api import sync_playwright

    loads, lists, shells = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # the baseline on the same machine at the same moment: the page with no key (its three
        # static files and the login dialog, no data), so the queue's own cost reads as a difference
        bare = browser.new_context(viewport={"width": 1280, "height": 760})
        for i in range(reps + 1):
            page = bare.new_page()
            t0 = time.perf_counter()
            page.goto(base + "/ui")
            page.wait_for_selector("#login[open]")
            if i:
                shells.append((time.perf_counter() - t0) * 1000)
            page.close()
        bare.close()
        context = browser.new_context(viewport={"width": 1280, "height": 760})
        context.add_init_script(
            f"sessionStorage.setItem('luodi.review.key', '{KEY}');sessionStorage.setItem('luodi.review.name', 'bench');"
        )
        for i in range(reps + 1):
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(base + "/ui")
            page.wait_for_selector("#queue li")
            listed = (time.perf_counter() - t0) * 1000
            page.wait_for_function("document.activeElement && document.activeElement.dataset.field")
            shown = (time.perf_counter() - t0) * 1000
            # leave the lease as it was: the next load must find the same kind of queue
            page.evaluate(
                "fetch('/ui/api/items/' + document.querySelector('#queue li').dataset.id + '/claim', "
                "{method: 'DELETE', headers: {'X-API-Key': sessionStorage.getItem('luodi.review.key'), "
                "'X-Reviewer': 'bench'}})"
            )
            page.close()
            if i:  # the first load warms the browser's cache and the server
                loads.append(shown)
                lists.append(listed)
        browser.close()
    return {
        "baseline: the page with no key (static files, login dialog)": {
            "p50_ms": round(statistics.median(shells), 1),
            "max_ms": round(max(shells), 1),
        },
        "queue listed": {"p50_ms": round(statistics.median(lists), 1), "max_ms": round(max(lists), 1)},
        "first document shown, field focused": {
            "p50_ms": round(statistics.median(loads), 1),
            "max_ms": round(max(loads), 1),
        },
    }


# long: one browser session step by step: seed the queue, press Enter through it, count
def keystrokes(base: str, url: str, images: Path, n: int) -> dict[str, Any]:
    """Review ``n`` flagged waybills whose suggestion is right, pressing only Enter."""
    from playwright.sync_api import sync_playwright

    from luodi.review import NewItem, QueueQuery, ReviewStore

    store = ReviewStore.open(url, images)
    # a fresh queue of realistic waybills, oldest first ahead of the 10,000 generated ones
    ids = []
    for i in range(n):
        values = {"收件人": f"王{i}", "电话": f"1391234{i:04d}", "地址": "广东省深圳市南山区科技园路1号"}
        fields = {
            "receiver_name": {
                "value": f"王{i}",
                "score": 0.6,
                "box": None,
                "reasons": ["party decided from position only"],
            },
            "receiver_phone": {"value": f"1391234{i:04d}", "score": 0.97, "box": None},
            "receiver_address": {"value": values["地址"], "score": 0.9, "box": None},
        }
        ids.append(
            store.add(
                NewItem(
                    kind="document",
                    suggestion={"fields": fields},
                    images=(waybill_png(values),),
                    schema="kbench",
                    flags=(("receiver_name", "party decided from position only"),),
                )
            )
        )
    pressed = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 760})
        context.add_init_script(
            f"sessionStorage.setItem('luodi.review.key', '{KEY}'); sessionStorage.setItem('luodi.review.name', 'kb');"
        )
        page = context.new_page()
        page.goto(base + "/ui")
        page.select_option("#filters select[name=schema]", "kbench")
        t0 = time.perf_counter()
        for _ in range(n):
            page.wait_for_function("document.activeElement && document.activeElement.dataset.field")
            before = page.locator("#item-title").text_content()
            page.keyboard.press("Enter")
            pressed += 1
            page.wait_for_function(
                "(t) => !document.querySelector('#item-title') || document.querySelector('#view').hidden "
                "|| document.querySelector('#item-title').textContent !== t",
                arg=before,
            )
        seconds = time.perf_counter() - t0
        browser.close()
    accepted = [store.get(i) for i in ids]
    right = sum(
        1
        for it in accepted
        if it.status == "accepted"
        and it.labels == it.final()
        and it.labels["fields"]["receiver_name"]["value"] == it.suggestion["fields"]["receiver_name"]["value"]
    )
    left = store.queue(QueueQuery(schema="kbench")).total
    store.close()
    return {
        "documents": n,
        "keys pressed": pressed,
        "keys per document": round(pressed / n, 2),
        "accepted as suggested": right,
        "left in queue": left,
        "seconds per document (browser + server)": round(seconds / n, 3),
    }


def run(backend: str, n: int, reps: int, work: Path) -> dict[str, Any]:
    images = work / f"images-{backend}"
    pg = None
    if backend == "postgres":
        pg = start_postgres(work / "pg")
        url = pg.url
    else:
        url = f"sqlite:///{work / 'review.db'}"
    t0 = time.perf_counter()
    fill(url, images, n)
    fill_s = time.perf_counter() - t0
    home = work / f"home-{backend}"
    home.mkdir()
    proc, base = start_server(url, images, home)
    try:
        out: dict[str, Any] = {"backend": backend, "generated": n, "fill_s": round(fill_s, 1)}
        out["api"] = api_timings(base, reps)
        out["browser"] = browser_timings(base, max(5, reps // 5))
        if backend == "sqlite":
            out["keystrokes"] = keystrokes(base, url, images, 20)
        return out
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        if pg is not None:
            pg.stop()


def render(results: list[dict[str, Any]], command: str) -> str:
    load = os.getloadavg()
    lines = [
        "# Review queue: 10,000 waiting documents, and keystrokes per waybill",
        "",
        f"Command: `{command}`  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M')}; machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the end (shared with other work).",
        "",
        "Each number is the wall time a client sees against a real `luodi serve` on loopback (one process, "
        "models loaded). The page's figure is Chromium's navigation to the first flagged field focused, "
        "the key already in the tab. Target: the queue page answers in < 300 ms.",
        "",
    ]
    for r in results:
        lines += [f"## {r['backend']} ({r['api']['total']:,} waiting; filled in {r['fill_s']} s)", ""]
        lines += ["| request | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|"]
        for name, t in r["api"].items():
            if isinstance(t, dict):
                lines.append(f"| {name} | {t['p50_ms']} | {t['p95_ms']} | {t['max_ms']} |")
        lines += ["", "| in the browser | p50 ms | max ms |", "|---|---:|---:|"]
        for name, t in r["browser"].items():
            lines.append(f"| {name} | {t['p50_ms']} | {t['max_ms']} |")
        lines.append("")
        if "keystrokes" in r:
            k = r["keystrokes"]
            lines += [
                "### Keystrokes per flagged waybill, suggestion right",
                "",
                f"{k['documents']} flagged waybills (receiver name flagged, the value right) reviewed pressing only "
                f"Enter: **{k['keys per document']} key per document** ({k['keys pressed']} keys, "
                f"{k['accepted as suggested']} accepted as suggested, {k['left in queue']} left); "
                f"{k['seconds per document (browser + server)']} s per document in the browser. Target: ≤ 3.",
                "",
            ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "review.md")
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--postgres", action="store_true", help="also PostgreSQL (Debian's server, started here)")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        for backend in ("sqlite", "postgres") if args.postgres else ("sqlite",):
            results.append(run(backend, args.n, args.reps, work))
            print(json.dumps(results[-1], ensure_ascii=False), file=sys.stderr)
    command = "python bench/review_bench.py " + " ".join(sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results, command), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
