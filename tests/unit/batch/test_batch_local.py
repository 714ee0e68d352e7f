"""``luodi batch`` with the local engine: parts, counts, errors, resume, refusal, inputs, S3 (moto's server).

A fake task (batch_fake_task.py) stands in for the models, so these run in seconds; the real
models and a real Ray cluster are in tests/integration/test_batch_ray.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from batch_fake_task import CALLS_FILE, TASKS
from PIL import Image

from luodi.batch import BatchOptions, WorkSpec, list_inputs, run_batch
from luodi.batch.engine import PartCollector, batches_of
from luodi.batch.layout import RunManifest
from luodi.batch.store import LocalStore
from luodi.errors import InputNotFoundError, OutputError

HERE = Path(__file__).parent
SRC = HERE.parents[2] / "src"
SPEC = WorkSpec("fake", tasks=TASKS)


def _images(folder: Path, widths: list[int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, w in enumerate(widths):
        path = folder / f"p{i}.png"
        Image.fromarray(np.full((10, w, 3), 200, np.uint8)).save(path)
        paths.append(path)
    return paths


def _records(out: Path, pattern: str = "part-*.jsonl") -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(out.glob(pattern)) for line in f.read_text().splitlines()]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    _images(root, [20, 21, 13, 22, 23, 24, 25])  # 13 wide: the fake task raises ValueError
    (root / "broken.jpg").write_bytes(b"not an image at all")
    return root


def test_parts_counts_and_errors(folder: Path, tmp_path: Path) -> None:
    inputs = list_inputs(str(folder))
    assert len(inputs) == 8
    failures: list[dict[str, Any]] = []
    out = tmp_path / "out"
    report = run_batch(SPEC, inputs, BatchOptions(str(out), part_size=3, batch_size=2), on_failure=failures.append)
    assert (report.inputs, report.out, report.failed, report.parts) == (8, 6, 2, 3)
    records = _records(out)
    # broken.jpg sorts first (index 0); p2.png (13 wide) is index 3; each part is sorted by input index
    assert [r["index"] for r in records] == [1, 2, 4, 5, 6, 7]
    assert [r["result"]["width"] for r in records] == [20, 21, 22, 23, 24, 25]
    errors = _records(out, "errors/part-*.jsonl")
    by_type = {e["error"]["type"]: e["source"] for e in errors}
    assert by_type == {"internal_error": str(folder / "p2.png"), "unsupported_format": str(folder / "broken.jpg")}
    assert "thirteen" in next(e for e in errors if e["error"]["type"] == "internal_error")["error"]["message"]
    assert sorted(f["index"] for f in failures) == [0, 3]
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["inputs"] == summary["out"] + summary["failed"] == 8
    assert sorted(p.name for p in (out / "_parts").iterdir()) == [f"part-0000{i}.json" for i in range(3)]


def test_output_of_another_run_is_refused_unless_resume_or_overwrite(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    inputs = list_inputs(str(folder))
    run_batch(SPEC, inputs, BatchOptions(str(out), part_size=4))
    with pytest.raises(OutputError, match="--resume"):
        run_batch(SPEC, inputs, BatchOptions(str(out), part_size=4))
    again = run_batch(SPEC, inputs, BatchOptions(str(out), part_size=4, resume=True))
    assert again.parts_skipped == 2 and again.out + again.failed == 8  # nothing left to do, counts kept
    with pytest.raises(OutputError, match=r"another run's parts.*part_size"):
        run_batch(SPEC, inputs, BatchOptions(str(out), part_size=3, resume=True))
    fresh = run_batch(SPEC, inputs, BatchOptions(str(out), part_size=3, overwrite=True))
    assert fresh.parts_skipped == 0 and fresh.parts == 3
    assert len(_records(out)) == 6
    assert sorted(p.name for p in out.glob("part-*.jsonl")) == [f"part-0000{i}.jsonl" for i in range(3)]


def test_a_killed_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _images(folder, list(range(30, 41)))  # 11 inputs, parts of 3
    out, calls = tmp_path / "out", tmp_path / "calls.txt"
    script = (
        "import sys; from luodi.batch import *; from batch_fake_task import TASKS\n"
        f"run_batch(WorkSpec('fake', tasks=TASKS), list_inputs({str(folder)!r}), "
        f"BatchOptions({str(out)!r}, part_size=3, batch_size=2, resume=len(sys.argv) > 1))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE)]), CALLS_FILE: str(calls)}
    killed = subprocess.run([sys.executable, "-c", script], env={**env, "FAKE_TASK_STOP_AFTER": "8"}, check=False)
    assert killed.returncode == 137
    assert len(list((out / "_parts").iterdir())) == 2  # inputs 0-5 committed; 6, 7 processed but not
    assert len(calls.read_text().splitlines()) == 8
    subprocess.run([sys.executable, "-c", script, "resume"], env=env, check=True)
    done = calls.read_text().splitlines()
    assert len(done) == 8 + 5  # the resumed run did parts 2-3 only (inputs 6-10)
    assert sorted(set(done[8:])) == sorted(str(folder / f"p{i}.png") for i in range(6, 11))
    records = _records(out)
    assert [r["index"] for r in records] == list(range(11))  # every input exactly once
    assert json.loads((out / "_summary.json").read_text())["parts_skipped"] == 2


def test_collector_keeps_the_first_record_and_drops_repeats(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    manifest = RunManifest("fake", None, {}, "x", 6, "0", 2, "jsonl")  # parts {0, 1} {2, 3} {4, 5}
    collector = PartCollector(store, manifest, [0, 1, 2])

    def batch(indices: list[int], tag: str) -> dict[str, np.ndarray]:
        lines = [json.dumps({"index": i, "source": tag, "result": {}}) for i in indices]
        return {"index": np.array(indices), "ok": np.ones(len(indices), bool), "line": np.array(lines, object)}

    assert collector.add(batch([0, 3], "first")) == 2
    assert collector.add(batch([0, 1], "retry")) == 1  # 0 again: dropped; part 0 is complete now
    assert collector.add(batch([1, 4, 2], "late")) == 2  # 1: a part already committed
    assert collector.open_parts == [2] and collector.duplicates == 2
    assert [r["source"] for r in _records(tmp_path)] == ["first", "retry", "late", "first"]


def test_batches_of() -> None:
    got = list(batches_of([(i, f"r{i}") for i in range(5)], 2))
    assert [b["index"].tolist() for b in got] == [[0, 1], [2, 3], [4]]


def test_parquet_parts(folder: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "out"
    run_batch(SPEC, list_inputs(str(folder)), BatchOptions(str(out), format="parquet", part_size=5))
    table = pq.read_table(out / "part-00000.parquet")
    assert table.column_names == ["index", "source", "result"]
    assert table.column("index").to_pylist() == [1, 2, 4]
    assert json.loads(table.column("result")[0].as_py())["width"] == 20


def test_list_inputs_folder_glob_list_file_and_file(folder: Path, tmp_path: Path) -> None:
    assert [Path(r).name for r in list_inputs(str(folder)).refs][:3] == ["broken.jpg", "p0.png", "p1.png"]
    assert len(list_inputs(str(folder / "p*.png")).refs) == 7
    listing = tmp_path / "todo.lst"
    listing.write_text("# scans to redo\nin/p1.png\n\n" + str(folder / "p0.png") + "\ns3://b/k.jpg\n")
    assert list_inputs(str(listing)).refs == (str(tmp_path / "in/p1.png"), str(folder / "p0.png"), "s3://b/k.jpg")
    assert list_inputs(str(folder / "p3.png")).refs == (str(folder / "p3.png"),)
    (folder / "notes.txt").write_text("你好\n")
    assert [Path(r).name for r in list_inputs(str(folder), takes="text").refs] == ["notes.txt"]
    with pytest.raises(InputNotFoundError):
        list_inputs(str(tmp_path / "nothing-here"))


def test_unreachable_ray_address_fails_fast() -> None:
    import time

    from luodi.batch.cluster import check_reachable
    from luodi.errors import ClusterError, ConfigError

    t0 = time.monotonic()
    with pytest.raises(ClusterError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:9"):
        check_reachable("127.0.0.1:9")
    assert time.monotonic() - t0 < 10
    with pytest.raises(ConfigError):
        check_reachable("nowhere")


# --- S3 (moto's server on loopback stands in for MinIO) -------------------------------------------
boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "LUODI_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket="scans")
    yield client
    for obj in client.list_objects_v2(Bucket="scans").get("Contents", []):
        client.delete_object(Bucket="scans", Key=obj["Key"])
    client.delete_bucket(Bucket="scans")


def test_s3_in_and_out(s3: Any, folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        s3.put_object(Bucket="scans", Key=f"2024/{path.name}", Body=path.read_bytes())
    s3.put_object(Bucket="scans", Key="2025/other.png", Body=b"x")
    inputs = list_inputs("s3://scans/2024")
    assert len(inputs) == 8 and inputs.refs[1] == "s3://scans/2024/p0.png"
    report = run_batch(SPEC, inputs, BatchOptions("s3://scans/results/run1", part_size=3))
    assert (report.out, report.failed) == (6, 2)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="scans", Prefix="results/run1/")["Contents"])
    assert "results/run1/part-00002.jsonl" in keys and "results/run1/errors/part-00000.jsonl" in keys
    body = s3.get_object(Bucket="scans", Key="results/run1/part-00000.jsonl")["Body"].read().decode()
    assert [json.loads(line)["source"] for line in body.splitlines()] == [
        "s3://scans/2024/p0.png",
        "s3://scans/2024/p1.png",
    ]
    with pytest.raises(OutputError, match="--resume"):
        run_batch(SPEC, inputs, BatchOptions("s3://scans/results/run1", part_size=3))
    assert run_batch(SPEC, inputs, BatchOptions("s3://scans/results/run1", part_size=3, resume=True)).parts_skipped == 3


def test_empty_s3_prefix_is_an_empty_result_and_a_warning(s3: Any, tmp_path: Path, s3_endpoint: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "LUODI_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "luodi", "batch", "ocr", "s3://scans/nothing/here", "-o", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "warning: s3://scans/nothing/here holds no inputs" in done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["inputs"] == 0
    assert (out / "_summary.json").is_file() and not list(out.glob("part-*"))
