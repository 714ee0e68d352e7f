"""``POST /v1/text/{model}`` and text jobs on a real ``luodi serve``, with a small model trained here."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.service, pytest.mark.slow]

TRAIN = [
    *({"text": f"给{n}打电话", "intent": "DIAL", "slots": {"name": n}} for n in ("张三", "李四", "王五", "赵六")),
    *({"text": f"呼叫{n}", "intent": "DIAL", "slots": {"name": n}} for n in ("孙七", "周八", "吴九", "郑十")),
    *({"text": f"{c}天气怎么样", "intent": "WEATHER", "slots": {"city": c}} for c in ("北京", "上海", "广州", "深圳")),
    *({"text": f"明天{c}下雨吗", "intent": "WEATHER", "slots": {"city": c}} for c in ("杭州", "成都", "武汉", "西安")),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, model_pulled: str) -> Path:
    """A model store with the OCR model linked in and a text model trained into it."""
    from luodi.text.config import parse_text_config
    from luodi.text.export import export_text_run
    from luodi.text.train import train_text
    from luodi.zoo import get_bundle

    root = tmp_path_factory.mktemp("texthome")
    (root / "models").mkdir()
    ocr = get_bundle(model_pulled)
    (root / "models" / model_pulled).symlink_to(ocr.files[0].path.parent)
    data = root / "train.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in TRAIN * 3), encoding="utf-8")
    cfg = parse_text_config(
        {
            "task": "nlu",
            "train": str(data),
            "eval_fraction": 0.2,
            "output_dir": str(root / "runs"),
            "min_count": 1,
            "model": {
                "lexicon": "none",
                "context": "none",
                "teacher": "none",
                "channels": 32,
                "char_dim": 32,
                "bag_dim": 32,
                "bigram_dim": 16,
            },
            "optim": {"epochs": 15, "batch_size": 8, "warmup_steps": 5},
        }
    )
    result = train_text(cfg, name="svc", home=root)
    export_text_run(result.run_dir, "svc-nlu", home=root)
    return root


@pytest.fixture(scope="module")
def server(start_server: Any, home: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    jobs = tmp_path_factory.mktemp("jobs")
    return start_server("--jobs-dir", str(jobs), env={"LUODI_HOME": str(home)})


def test_batch_of_texts(server: Any) -> None:
    r = httpx.post(server.url + "/v1/text/svc-nlu", json={"texts": ["给李四打电话", "北京天气怎么样"]}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "svc-nlu" and body["task"] == "nlu"
    first, second = body["results"]
    assert first["label"] == "DIAL" and first["slots"][0]["value"] == "李四"
    assert second["label"] == "WEATHER" and len(second["top_k"]) == 2
    metrics = httpx.get(server.url + "/metrics", timeout=10).text
    assert 'luodi_stage_duration_seconds_count{stage="text"}' in metrics


@pytest.mark.parametrize(
    ("path", "body", "status", "kind"),
    [
        ("/v1/text/svc-nlu", {"texts": ["好", " "]}, 400, "empty_input"),
        ("/v1/text/svc-nlu", {"texts": []}, 422, None),
        ("/v1/text/svc-nlu", {"texts": ["好"], "lang": "zh"}, 422, None),
        ("/v1/text/no-such-model", {"texts": ["好"]}, 404, "unknown_model"),
        ("/v1/text/..%2Fetc", {"texts": ["好"]}, 404, None),
    ],
)
def test_bad_requests_are_4xx_and_the_server_stays_up(
    server: Any, path: str, body: dict[str, Any], status: int, kind: str | None
) -> None:
    r = httpx.post(server.url + path, json=body, timeout=30)
    assert r.status_code == status, r.text
    if kind is not None:
        assert r.json()["error"]["type"] == kind
    assert httpx.get(server.url + "/readyz", timeout=5).status_code == 200


def test_text_job_over_an_uploaded_file(server: Any) -> None:
    lines = "给王五打电话\n\n上海天气怎么样\n"
    r = httpx.post(
        server.url + "/v1/jobs",
        data={"task": "text", "model": "svc-nlu"},
        files={"file": ("texts.txt", lines.encode(), "text/plain")},
        timeout=30,
    )
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    deadline = time.monotonic() + 60
    while True:
        view = httpx.get(server.url + f"/v1/jobs/{job}", timeout=10).json()
        if view["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert view["status"] == "succeeded", view
    results = json.dumps(view, ensure_ascii=False)
    assert "DIAL" in results and "WEATHER" in results
    r = httpx.post(server.url + "/v1/jobs", data={"task": "text"}, files={"file": ("t.txt", b"x")}, timeout=30)
    assert r.status_code == 400 and "model" in r.json()["error"]["message"]
