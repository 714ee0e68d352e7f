"""``luodi batch`` on a real Ray cluster started by the test: a head and two worker nodes on this machine.

The cluster is capped (the head holds no CPUs, each worker node says it has 2), its nodes are
declared dead after ~2 s without a health check, and it is torn down by process id at the end.
Pages come from ``luodi synth waybill``; S3 is moto's server on loopback (a MinIO stand-in: no MinIO
binary ships on PyPI). The worker-kill test SIGKILLs one worker node (its raylet, agents and actor
processes) after the first part is committed, and checks that every page is in the output once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")
boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")
psutil = pytest.importorskip("psutil")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SRC = Path(__file__).parents[2] / "src"
RAY = str(Path(sys.executable).with_name("ray"))
MODEL = "pp-ocrv4"
PAGES = 16
S3_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, require_bundle: Any) -> Path:
    require_bundle(MODEL)
    out = tmp_path_factory.mktemp("synth")
    cmd = [sys.executable, "-m", "luodi", "synth", "waybill", "-n", str(PAGES), "-o", str(out), "--seed", "15"]
    subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(SRC)}, check=True, capture_output=True, timeout=300)
    return out / "images"


class Cluster:
    """``ray start --head --port 0`` and two ``ray start --address … --block`` worker nodes."""

    def __init__(self, env: dict[str, str]) -> None:
        # a short temp dir: Ray's unix sockets live under it and their paths must stay under 108 bytes
        self.temp = tempfile.mkdtemp(prefix="lr", dir="/tmp")
        self.env = env
        self.head: subprocess.Popen[str] | None = None
        self.workers: list[subprocess.Popen[str]] = []
        self.address = ""
        self._head_lines: list[str] = []

    def start(self) -> None:
        self.head = self._start(["--head", "--port", "0", "--num-cpus", "0", "--include-dashboard", "false"])
        threading.Thread(target=self._read_head, daemon=True).start()
        self.address = self._address(self.head)
        ray.init(address=self.address, logging_level="ERROR", log_to_driver=False)
        try:  # one node at a time: `ray start` gives a raylet 30 s to register, which a busy box may miss
            for count in (2, 3):
                self.workers.append(self._join(count))
        finally:
            ray.shutdown()

    def _join(self, count: int, tries: int = 3, timeout: float = 180) -> subprocess.Popen[str]:
        for _ in range(tries):
            node = self._start(["--address", self.address, "--num-cpus", "2"])
            deadline = time.monotonic() + timeout
            while node.poll() is None and time.monotonic() < deadline:
                if sum(n["Alive"] for n in ray.nodes()) >= count:
                    return node
                time.sleep(1)
            for proc in _tree(node.pid):  # timed out on startup: clear it away and try again
                _kill(proc)
            node.wait(timeout=30)
        raise AssertionError(f"no worker node joined the cluster in {tries} tries")

    def _start(self, args: list[str]) -> subprocess.Popen[str]:
        cmd = [RAY, "start", *args, "--block", "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
        cmd += ["--object-store-memory", str(80 << 20)]
        if "--head" in args:
            cmd += ["--temp-dir", self.temp]
        out = subprocess.PIPE if "--head" in args else subprocess.DEVNULL
        return subprocess.Popen(
            cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )

    def _read_head(self) -> None:
        assert self.head is not None and self.head.stdout is not None
        for line in self.head.stdout:
            self._head_lines.append(line)

    def _address(self, head: subprocess.Popen[str], timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and head.poll() is None:
            for line in list(self._head_lines):
                found = re.search(r"--address='([^']+)'", line)
                if found:
                    return found.group(1)
            time.sleep(0.5)
        raise AssertionError("the Ray head did not start:\n" + "".join(self._head_lines)[-3000:])

    def kill_node(self, index: int) -> list[str]:
        """SIGKILL worker node ``index`` as a machine dying would: its raylet and everything under it."""
        victims = _tree(self.workers[index].pid)
        names = [p.name() for p in victims if p.is_running()]
        for proc in victims:
            _kill(proc)
        return names

    def stop(self) -> None:
        nodes = [*self.workers, *([self.head] if self.head is not None else [])]
        for node in nodes:
            for proc in _tree(node.pid):
                _kill(proc)
        for node in nodes:
            node.wait(timeout=30)
            if node.stdout is not None:
                node.stdout.close()


def _tree(pid: int) -> list[Any]:
    """A process, its process group (``ray start`` daemons) and all their descendants."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return []
    group = [p for p in psutil.process_iter() if _pgid(p) == pid]
    found = {p.pid: p for p in [root, *group]}
    for proc in list(found.values()):
        with contextlib.suppress(psutil.NoSuchProcess):
            found.update({c.pid: c for c in proc.children(recursive=True)})
    return list(found.values())


def _pgid(proc: Any) -> int | None:
    try:
        return os.getpgid(proc.pid)
    except OSError:
        return None


def _kill(proc: Any) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.send_signal(signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(s3_endpoint: str) -> Iterator[Cluster]:
    env = {
        **os.environ,
        **S3_ENV,
        "PYTHONPATH": str(SRC),
        "LUODI_S3_ENDPOINT_URL": s3_endpoint,  # the workers read s3:// inputs themselves
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "disabled",  # loopback only; drivers then need no token file
        "RAY_health_check_period_ms": "500",  # a dead node is declared dead in ~2 s, not ~30 s
        "RAY_health_check_failure_threshold": "4",
    }
    made = Cluster(env)
    try:
        made.start()
        yield made
    finally:
        made.stop()


def _batch(cluster: Cluster, *args: str, timeout: float = 400) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "luodi", "batch", "ocr", *args, "--engine", "ray", "--address", cluster.address]
    cmd += ["--model", MODEL, "--no-progress"]
    return subprocess.Popen(cmd, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _indices(out: Path) -> list[int]:
    return [json.loads(line)["index"] for f in sorted(out.glob("part-*.jsonl")) for line in f.read_text().splitlines()]


def test_s3_in_and_out_on_the_cluster(cluster: Cluster, pages: Path, s3_endpoint: str) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="scans")
    for path in sorted(pages.iterdir())[:4]:
        client.put_object(Bucket="scans", Key=f"in/{path.name}", Body=path.read_bytes())
    client.put_object(Bucket="scans", Key="in/unreadable.jpg", Body=b"\xff\xd8 torn off")
    run = _batch(cluster, "s3://scans/in", "-o", "s3://scans/out", "--format", "parquet", "--part-size", "2")
    stdout, stderr = run.communicate(timeout=400)
    assert run.returncode == 1, stderr  # one input failed: listed, counted, and the run went on
    report = json.loads(stdout.splitlines()[-1])
    assert (report["inputs"], report["out"], report["failed"]) == (5, 4, 1)
    assert "Ray dashboard:" in stderr and "error: s3://scans/in/unreadable.jpg" in stderr
    keys = {o["Key"] for o in client.list_objects_v2(Bucket="scans", Prefix="out/")["Contents"]}
    assert {"out/part-00000.parquet", "out/part-00001.parquet", "out/part-00002.parquet"} <= keys
    errors = client.get_object(Bucket="scans", Key="out/errors/part-00002.jsonl")["Body"].read().decode()
    assert json.loads(errors)["source"] == "s3://scans/in/unreadable.jpg"


def test_a_worker_node_killed_mid_run_loses_nothing(cluster: Cluster, pages: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--part-size", "2", "--batch-size", "1", "--actors", "4", "--cpus-per-actor", "0.5"]
    run = _batch(cluster, str(pages), "-o", str(out), *args)
    deadline = time.monotonic() + 400
    while not (committed_before := len(list(out.glob("_parts/*.json")))):  # wait for the first part
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    killed = cluster.kill_node(1)
    assert any(name.startswith("ray::MapWorker") for name in killed), killed  # an actor was working there
    assert committed_before < PAGES // 2, "the run ended before the node was killed"
    stdout, stderr = run.communicate(timeout=400)
    assert run.returncode == 0, stderr[-3000:]
    report = json.loads(stdout.splitlines()[-1])
    assert (report["inputs"], report["out"], report["failed"]) == (PAGES, PAGES, 0)
    assert sorted(_indices(out)) == list(range(PAGES))  # every page exactly once
    assert len(list((out / "_parts").glob("*.json"))) == PAGES // 2


def test_a_ray_started_for_the_run_is_lean_and_single_threaded(tmp_path: Path) -> None:
    """Without --address, luodi starts a Ray of its own (RAY_ADDRESS is not followed) with no dashboard, and
    each actor's native thread pools (OpenCV's, OpenMP/BLAS) follow its single inference thread."""
    import numpy as np
    from PIL import Image

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(np.full((8, 20 + i, 3), 200, np.uint8)).save(folder / f"p{i}.png")
    options = f"BatchOptions({str(out)!r}, engine='ray', actors=2, cpus_per_actor=0.5, part_size=2, batch_size=1)"
    code = (
        "import json; from luodi.batch import *; from batch_fake_task import TASKS\n"
        f"r = run_batch(WorkSpec('threads', tasks=TASKS), list_inputs({str(folder)!r}), {options}, say=print)\n"
        "print(json.dumps(r.to_dict()))"
    )
    fake = Path(__file__).parents[1] / "unit" / "batch"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{fake}", "RAY_USAGE_STATS_ENABLED": "0"}
    env["RAY_ADDRESS"] = "127.0.0.1:9"  # nothing listens there: following it would fail the run
    cmd = [sys.executable, "-c", code]
    done = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert (report["inputs"], report["out"], report["failed"], report["dashboard"]) == (6, 6, 0, None)
    assert "Ray dashboard: off" in done.stdout
    records = [json.loads(line) for f in sorted(out.glob("part-*.jsonl")) for line in f.read_text().splitlines()]
    assert sorted(r["index"] for r in records) == list(range(6))
    for record in records:
        result = record["result"]
        assert result["cv2_threads"] == 1, result
        assert result["env"] == {"OPENCV_FOR_THREADS_NUM": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
