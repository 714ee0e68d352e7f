"""Issue #17 item 1 with the fake engine: pages stream one at a time, a per-request pixel budget,
uploads spooled to disk, and admission before the body is read."""

from __future__ import annotations

import io
import socket
import threading
import time
import weakref
from dataclasses import dataclass, field

import httpx
import numpy as np
import pytest
from PIL import Image
from serve_fakes import fake_pipeline, png_bytes

from luodi.config import Limits, load_settings
from luodi.errors import DeadlineExceededError
from luodi.pipeline import Call, PageStream, Pipeline

pytestmark = pytest.mark.usefixtures("no_api_keys")


def blank_pdf(pages: int, inches: float) -> bytes:
    """``pages`` white pages of ``inches`` x ``inches``: a few hundred bytes however large they render."""
    sheets = [Image.new("L", (int(inches), int(inches)), 255) for _ in range(pages)]
    buf = io.BytesIO()
    sheets[0].save(buf, format="PDF", save_all=True, append_images=sheets[1:], resolution=1.0)
    return buf.getvalue()


@dataclass
class CountingProcessor:
    """A task that looks at each page and records how many earlier pages were still alive then."""

    takes: str = "pages"
    alive: list[int] = field(default_factory=list)

    def __call__(self, value, call: Call):
        seen: list[weakref.ref] = []
        for page in value:
            self.alive.append(sum(ref() is not None for ref in seen))
            seen.append(weakref.ref(page))
            del page

        class Done:
            def to_dict(self) -> dict:
                return {}

        return Done(), {}


def test_stream_holds_one_page_at_a_time():
    pipe = Pipeline(load_settings(limits=Limits(pdf_dpi=72)), tasks={"count": lambda p, o: CountingProcessor()})
    proc = pipe.processor("count")
    out = pipe.run("count", blank_pdf(5, 10), stream=True)
    assert proc.alive == [0, 0, 0, 0, 0]  # page k is gone before page k+1 is decoded
    assert out.pages == () and out.stages["decode"] > 0
    proc.alive.clear()
    out = pipe.run("count", blank_pdf(5, 10))  # the default (the CLI's --visualize) keeps them all
    assert proc.alive == [0, 1, 2, 3, 4] and len(out.pages) == 5


def test_stream_stops_at_the_deadline():
    pages = iter([np.zeros((2, 2, 3), np.uint8)] * 3)
    stream = PageStream(pages, deadline=time.monotonic() - 1)
    with pytest.raises(DeadlineExceededError):
        next(stream)


def test_pixel_budget_refuses_before_decoding(serve):
    # 3 pages of 10x10 inches at 72 dpi: 720x720 = 0.52 MP each, 1.56 MP together
    srv = serve(limits=Limits(pdf_dpi=72), request_pixels=1_200_000)
    r = httpx.post(srv.url + "/v1/ocr", files={"file": ("p.pdf", blank_pdf(3, 10), "application/pdf")})
    assert r.status_code == 422 and r.json()["error"]["type"] == "too_many_pixels", r.text
    assert "megapixels" in r.json()["error"]["message"] and "request" in r.json()["error"]["message"]
    assert httpx.post(srv.url + "/v1/ocr", files={"file": ("p.pdf", blank_pdf(2, 10), "application/pdf")}).is_success
    # a batch: all files together
    files = [("files", (f"{i}.pdf", blank_pdf(1, 10), "application/pdf")) for i in range(3)]
    r = httpx.post(srv.url + "/v1/batch/ocr", files=files)
    assert r.status_code == 422 and r.json()["error"]["type"] == "too_many_pixels"
    r = httpx.post(srv.url + "/v1/batch/ocr", files=[*files[:2], ("files", ("x.txt", b"not an image", "text/plain"))])
    assert r.status_code == 200 and r.json()["results"][2]["error"]["type"] == "unsupported_format"
    # a job is refused when it is submitted, not after a worker took it
    r = httpx.post(srv.url + "/v1/jobs", files=files)
    assert r.status_code == 422 and r.json()["error"]["type"] == "too_many_pixels"


def test_batch_uploads_are_spooled_to_disk_and_removed(serve, tmp_path):
    spool = tmp_path / "spool"
    srv = serve(spool_dir=spool)
    padded = png_bytes(20, 10) + b"\0" * (3 << 20)  # a PNG with 3 MB of trailing bytes: past the 1 MB kept in memory
    files = [("files", (f"{i}.png", padded, "image/png")) for i in range(3)]
    seen: list[list[str]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                found = sorted(p.name for p in spool.glob("luodi-upload-*/*"))
            except FileNotFoundError:  # the server removed a request's folder while glob walked it
                found = []
            if found:
                seen.append(found)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        r = httpx.post(srv.url + "/v1/batch/ocr", files=files, timeout=30)
    finally:
        stop.set()
        watcher.join()
    assert r.status_code == 200 and [x["result"]["pages"][0]["width"] for x in r.json()["results"]] == [20, 20, 20]
    assert ["upload-0", "upload-1", "upload-2"] in seen  # on disk while the request ran
    assert list(spool.iterdir()) == []  # and gone after


def read_response(sock: socket.socket) -> str:
    """One whole HTTP/1.1 response with a Content-Length, as text."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(v for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k.lower() == b"content-length")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return (head + b"\r\n\r\n" + body).decode("latin-1")


def test_a_full_queue_answers_503_before_the_body_is_sent(serve):
    srv = serve(concurrency=1, queue_size=0, delay_s=1.5)
    busy = threading.Thread(
        target=httpx.post, args=(srv.url + "/v1/ocr",), kwargs={"files": {"file": ("a.png", png_bytes(), "image/png")}}
    )
    busy.start()
    time.sleep(0.5)
    try:
        for path, ctype in (("/v1/batch/ocr", "multipart/form-data; boundary=x"), ("/v1/text/m", "application/json")):
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\nContent-Length: {100 << 20}\r\n\r\n"
                )
                sock.sendall(head.encode())  # and not one byte of the 100 MB promised
                answer = read_response(sock)
            assert answer.startswith("HTTP/1.1 503"), (path, answer)
            assert "retry-after: 1" in answer.lower() and "queue_full" in answer
    finally:
        busy.join()
    ok = httpx.post(srv.url + "/v1/ocr", files={"file": ("a.png", png_bytes(), "image/png")})
    assert ok.status_code == 200


def test_jobs_read_their_inputs_one_at_a_time(tmp_path):
    """A job's inputs are read from disk as each is reached; the store hands out a lazy sequence."""
    from luodi.pipeline import Item
    from luodi.serve.jobs import JobRequest, JobStore

    store = JobStore(tmp_path / "jobs")
    two = [Item(png_bytes(), "a.png"), Item(png_bytes(), None)]
    meta = store.create(JobRequest("ocr", two, single=False), max_attempts=1)
    inputs = store.inputs(store.root / meta.id, meta)
    assert len(inputs) == 2 and all(u.data is None for u in inputs.uploads)  # nothing read yet
    assert [i.name for i in inputs] == ["a.png", None] and inputs[1].source == png_bytes()


def test_fake_pipeline_in_stream_mode_reads_pdf_pages(tmp_path):
    pipe = fake_pipeline(load_settings(home=tmp_path, limits=Limits(pdf_dpi=72)))
    out = pipe.run("ocr", blank_pdf(3, 2), stream=True)
    assert [p["width"] for p in out.to_dict()["pages"]] == [144, 144, 144]
