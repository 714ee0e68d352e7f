"""``make image-test``: the CPU image built with podman on a local Debian base, run locked down, probed.

No registry is reachable here, so everything comes from Debian's archive and PyPI:

1. a base image made with ``mmdebstrap`` (Debian bookworm minbase + python3), imported into podman
   (kept between runs, keyed by its recipe);
2. ``deploy/Dockerfile`` built on it (``--build-arg PYTHON_IMAGE=<that base>``), with the contact model
   the repository's ``make setup`` trained copied into the image's store; its size is measured
   against the CPU serving target;
3. one container run as production would (read-only root, ``/tmp`` tmpfs, every capability dropped,
   no-new-privileges, UID 10001, published on 127.0.0.1 only, API keys on), then probed: health,
   readiness, OCR of a known image, extraction of a rendered waybill, a queued job, metrics, auth,
   the ``HEALTHCHECK`` and the lock-down itself;
4. the compose services: nginx in front of 2 luodi replicas, a ``luodi worker`` and Redis on one
   network, with the settings of ``deploy/compose.yaml`` (nginx and Redis from Debian's packages on
   the same local base); requests through nginx must reach both replicas, a job submitted through
   nginx must be run by the worker;
5. a broken container (a model that is not in the image) must fail the probe: the probe can fail.

Everything it starts (containers, volumes, networks, the test images) is removed at the end; the base
image is kept. Exit status 0 only when every check passed. Run with the project's venv:
``.venv/bin/python deploy/image_test.py [--keep]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SAMPLES = REPO / "tests" / "data" / "doc_samples"
#: the CPU serving image's size target (podman's decimal megabytes, as `podman images` shows them)
SIZE_LIMIT_MB = 600
SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "netbase", "tzdata")
#: documentation, manuals and translations stay out of the base (copyright files stay in)
DPKG_EXCLUDES = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
)
HOST_CAS = Path("/usr/local/share/ca-certificates")
READY_TIMEOUT_S = 300.0


class ProbeError(AssertionError):
    """A check of the image or of a running container failed."""


def log(message: str) -> None:
    print(f"[image-test {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- podman ------------------------------------------------------------------------------------------
class Podman:
    """The podman CLI with a private ``containers.conf``: runc (crun refuses the hybrid cgroup layout
    of these machines) and ulimits at or below the hard limits (root here cannot raise rlimits)."""

    def __init__(self, workdir: Path) -> None:
        conf = workdir / "containers.conf"
        nofile = _hard_limit("-Hn", 65536)
        nproc = _hard_limit("-Hu", 4096)
        conf.write_text(
            "[containers]\n"
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
            "[engine]\n"
            'runtime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
            encoding="utf-8",
        )
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["podman", *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and proc.returncode != 0:
            raise ProbeError(f"podman {' '.join(args[:3])} … failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return proc

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def stream(self, *args: str, logfile: Path) -> None:
        """A long command (a build) with its output in ``logfile``; the tail is shown on failure."""
        with logfile.open("w", encoding="utf-8") as fh:
            proc = subprocess.run(["podman", *args], env=self.env, stdout=fh, stderr=subprocess.STDOUT, check=False)
        if proc.returncode != 0:
            tail = logfile.read_text(encoding="utf-8", errors="replace")[-4000:]
            raise ProbeError(f"podman {args[0]} failed ({proc.returncode}); log {logfile}:\n{tail}")

    def exists(self, image: str) -> bool:
        return self.run("image", "exists", image, check=False).returncode == 0


def _hard_limit(flag: str, cap: int) -> int:
    raw = subprocess.run(["bash", "-c", f"ulimit {flag}"], capture_output=True, text=True, check=True).stdout.strip()
    return cap if raw == "unlimited" else min(int(raw), cap)


# --- building ----------------------------------------------------------------------------------------
def base_recipe() -> list[str]:
    """mmdebstrap's arguments (after the suite and output): the base is rebuilt when they change."""
    args = ["--variant=minbase", f"--include={','.join(BASE_PACKAGES)}"]
    args += ["--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr"]  # merged /usr without usrmerge (and perl)
    args += [f"--dpkgopt={opt}" for opt in DPKG_EXCLUDES]
    if any(HOST_CAS.glob("*.crt")):
        # pip inside the build must trust what the host's pip trusts (a TLS-inspecting egress proxy here)
        args.append(
            f'--customize-hook=mkdir -p "$1{HOST_CAS}" && cp {HOST_CAS}/*.crt "$1{HOST_CAS}/" '
            '&& chroot "$1" update-ca-certificates'
        )
    return args


def ensure_base(podman: Podman, workdir: Path) -> str:
    recipe = base_recipe()
    digest = hashlib.sha256(json.dumps([SUITE, recipe]).encode())
    for crt in sorted(HOST_CAS.glob("*.crt")):
        digest.update(crt.read_bytes())
    tag = f"localhost/luodi-base:{SUITE}-{digest.hexdigest()[:12]}"
    if podman.exists(tag):
        log(f"base {tag} exists")
        return tag
    tar = workdir / "base.tar"
    log(f"mmdebstrap {SUITE} minbase + {' '.join(BASE_PACKAGES)}")
    proc = subprocess.run(
        ["mmdebstrap", *recipe, SUITE, str(tar)], capture_output=True, text=True, timeout=1800, check=False
    )
    if proc.returncode != 0:
        raise ProbeError(f"mmdebstrap failed:\n{proc.stderr[-3000:]}")
    podman.run("import", str(tar), tag)
    tar.unlink()
    return tag


@contextlib.contextmanager
def staged_models() -> Iterator[dict[str, bool]]:
    """The models `make setup` trains (contact NER, document locator), copied into deploy/model-store/
    (the Dockerfile copies that folder into the image's store) for the build, removed afterwards.
    Yields which of them the image holds."""
    from luodi.config import get_settings
    from luodi.errors import ModelError
    from luodi.kie.ner import store as ner_store
    from luodi.locate import store as locator_store

    home = get_settings().home
    held: dict[str, bool] = {}
    staged: list[Path] = []
    try:
        for store in (ner_store, locator_store):
            source = store.default_model_dir(home)
            target = DEPLOY / "model-store" / source.name
            if target.exists():
                held[source.name] = True
                continue
            try:
                store.verify_model_dir(source)
            except ModelError as exc:
                log(f"{source.name} is not trained ({exc.message}): the image goes without it")
                held[source.name] = False
                continue
            shutil.copytree(source, target)
            staged.append(target)
            held[source.name] = True
        yield held
    finally:
        for target in staged:
            shutil.rmtree(target, ignore_errors=True)


def build_image(podman: Podman, base: str, tag: str, workdir: Path) -> float:
    t0 = time.monotonic()
    podman.stream(
        "build",
        "--format",
        "docker",  # OCI drops SHELL and HEALTHCHECK
        "--file",
        str(DEPLOY / "Dockerfile"),
        "--build-arg",
        f"PYTHON_IMAGE={base}",
        "--build-arg",
        f"REVISION={_git_revision()}",
        "--tag",
        tag,
        str(REPO),
        logfile=workdir / "build.log",
    )
    return time.monotonic() - t0


def _git_revision() -> str:
    proc = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "unknown"


def image_size_mb(podman: Podman, tag: str) -> float:
    return int(podman.out("image", "inspect", "--format", "{{.Size}}", tag)) / 1e6


# --- probing a running service -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, *, alive: Any = None, timeout: float = READY_TIMEOUT_S) -> float:
    """Seconds until ``/readyz`` answers 200; ProbeError if ``alive()`` says the process is gone."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if alive is not None and not alive():
            raise ProbeError(f"the service exited before it was ready ({url})")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return time.monotonic() - t0
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise ProbeError(f"{url}/readyz not 200 after {timeout:.0f} s")


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise ProbeError(what)


def rendered_waybill() -> tuple[bytes, dict[str, Any]]:
    """A clean synthetic waybill (dev parties, a plain layout) and its ground truth."""
    from luodi.synth.waybill import WaybillOptions, render_waybill

    sample = render_waybill(0, WaybillOptions(layouts=("labelled_rows",), seed=31, source="dev"))
    return sample.jpeg_bytes(), dict(sample.fields)


def probe_service(url: str, key: str, *, contact_model: bool | None = None) -> dict[str, Any]:
    """Every public behaviour a deployment relies on; raises ProbeError at the first one that fails."""
    auth = {"Authorization": f"Bearer {key}"}
    found: dict[str, Any] = {}
    r = httpx.get(url + "/healthz", timeout=10)
    expect(r.status_code == 200 and r.json() == {"status": "ok"}, f"/healthz: {r.status_code} {r.text[:200]}")
    r = httpx.get(url + "/readyz", timeout=10)
    expect(r.status_code == 200 and r.json()["status"] == "ready", f"/readyz: {r.status_code} {r.text[:200]}")
    found["ready_after_s"] = r.json().get("ready_after_s")

    sign = (SAMPLES / "rapidocr" / "ch_en_num.jpg").read_bytes()
    upload = {"file": ("ch_en_num.jpg", sign, "image/jpeg")}
    r = httpx.post(url + "/v1/ocr", files=upload, timeout=60)
    expect(r.status_code == 401 and r.json()["error"]["type"] == "unauthorized", f"no key: {r.status_code}")
    r = httpx.post(url + "/v1/ocr", files=upload, headers={"Authorization": "Bearer wrong"}, timeout=60)
    expect(r.status_code == 401, f"wrong key: {r.status_code}")
    r = httpx.post(url + "/v1/ocr", files=upload, headers={**auth, "X-Request-ID": "image-test-1"}, timeout=120)
    expect(r.status_code == 200, f"/v1/ocr: {r.status_code} {r.text[:300]}")
    expect(r.headers.get("x-request-id") == "image-test-1", "X-Request-ID not echoed")
    text = "\n".join(line["text"] for page in r.json()["pages"] for line in page["lines"])
    expect("正品促销" in text, f"/v1/ocr read {text[:80]!r}, not the sign's first line 正品促销")

    image, truth = rendered_waybill()
    r = httpx.post(
        url + "/v1/extract/waybill", files={"file": ("w.jpg", image, "image/jpeg")}, headers=auth, timeout=120
    )
    expect(r.status_code == 200, f"/v1/extract/waybill: {r.status_code} {r.text[:300]}")
    fields = r.json()["fields"]
    for name in ("receiver_phone", "tracking_number"):
        got = (fields.get(name) or {}).get("value")
        expect(got == truth.get(name), f"extraction {name}: {got!r}, the waybill says {truth.get(name)!r}")
    r = httpx.post(url + "/v1/extract/no_such_schema", files={"file": ("w.jpg", image, "image/jpeg")}, headers=auth)
    expect(r.status_code == 404, f"unknown schema: {r.status_code}")
    r = httpx.post(url + "/v1/ocr", files={"file": ("x.txt", b"not an image at all", "text/plain")}, headers=auth)
    expect(r.status_code == 415 and r.json()["error"]["type"] == "unsupported_format", f"bad input: {r.status_code}")

    found["job_s"] = run_job(url, auth, sign)
    models = httpx.get(url + "/v1/models", headers=auth, timeout=30).json()["loaded"]
    found["model"] = models["name"]
    if contact_model is not None:
        expect(models["contact_model"]["loaded"] is contact_model, f"contact model loaded: {models['contact_model']}")
    r = httpx.get(url + "/metrics", timeout=30)
    expect(r.status_code == 200 and 'route="/v1/ocr",status="200"' in r.text, "/metrics lacks the OCR requests")
    return found


def run_job(url: str, auth: dict[str, str], image: bytes, timeout: float = 180) -> float:
    t0 = time.monotonic()
    r = httpx.post(url + "/v1/jobs", files={"file": ("job.jpg", image, "image/jpeg")}, headers=auth, timeout=60)
    expect(r.status_code == 202, f"/v1/jobs: {r.status_code} {r.text[:300]}")
    job = r.json()["id"]
    while time.monotonic() - t0 < timeout:
        view = httpx.get(f"{url}/v1/jobs/{job}", headers=auth, timeout=30).json()
        if view["status"] == "succeeded":
            expect(bool(view["result"]["pages"][0]["lines"]), "the job's result has no lines")
            return time.monotonic() - t0
        expect(view["status"] in ("queued", "running"), f"job {job}: {view}")
        time.sleep(0.5)
    raise ProbeError(f"job {job} not done after {timeout:.0f} s")


# --- one locked-down container -------------------------------------------------------------------------
LOCKDOWN = ("--read-only", "--tmpfs", "/tmp:size=256m", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")


def run_locked(podman: Podman, image: str, name: str, port: int, key: str, *extra: str) -> None:
    podman.run(
        "run", "--detach", "--name", name, *LOCKDOWN,
        "--publish", f"127.0.0.1:{port}:8000", "--env", f"LUODI_API_KEYS={key}", *extra, image,
    )  # fmt: skip


def check_lockdown(podman: Podman, name: str) -> None:
    info = json.loads(podman.out("container", "inspect", name))[0]
    expect(info["Config"]["User"] == "10001:10001", f"user {info['Config']['User']}")
    expect(info["HostConfig"]["ReadonlyRootfs"] is True, "root filesystem is writable")
    status = podman.out("exec", name, "cat", "/proc/1/status")
    caps = dict(re.findall(r"^(Cap\w+):\s+([0-9a-f]+)$", status, flags=re.M))
    expect(int(caps["CapEff"], 16) == 0 and int(caps["CapPrm"], 16) == 0, f"capabilities left: {caps}")
    expect(re.search(r"^NoNewPrivs:\s+1$", status, flags=re.M) is not None, "no-new-privileges is off")
    expect(podman.out("exec", name, "id", "-u") == "10001", "not running as 10001")
    for path in ("/opt/venv/bin/x", "/opt/luodi/models/x", "/x"):
        proc = podman.run("exec", name, "touch", path, check=False)
        expect(proc.returncode != 0, f"{path} is writable")
    ports = podman.out("port", name)
    expect(ports.startswith("8000/tcp -> 127.0.0.1:"), f"published beyond loopback: {ports}")


def healthcheck(podman: Podman, name: str) -> None:
    proc = podman.run("healthcheck", "run", name, check=False, timeout=60)
    expect(proc.returncode == 0, f"HEALTHCHECK failed: {proc.stdout} {proc.stderr[-500:]}")


def container_alive(podman: Podman, name: str) -> bool:
    return podman.out("container", "inspect", "--format", "{{.State.Running}}", name) == "true"


# --- the compose services --------------------------------------------------------------------------------
def compose_service(name: str) -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]
    return dict(services[name])


def compose_flags(service: dict[str, Any], env: dict[str, str]) -> list[str]:
    """The podman flags for what compose.yaml says about a service's hardening and environment."""
    flags: list[str] = []
    if service.get("read_only"):
        flags.append("--read-only")
    for mount in service.get("tmpfs", []):
        flags += ["--tmpfs", mount]
    for cap in service.get("cap_drop", []):
        flags += ["--cap-drop", cap]
    for opt in service.get("security_opt", []):
        flags += ["--security-opt", opt.replace(":true", "")]
    for k, v in {**service.get("environment", {}), **env}.items():
        flags += ["--env", f"{k}={v}"]
    return flags


def nginx_conf(replicas: list[str]) -> str:
    """deploy/nginx/nginx.conf for Debian's nginx 1.22 on a podman network without DNS: the replicas'
    addresses in the upstream instead of `server luodi:8000 resolve` (re-resolution needs 1.27.3+)."""
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    conf, n = re.subn(r"^\s*resolver [^;]*;\n", "", conf, flags=re.M)
    expect(n == 1, "nginx.conf: no resolver line to replace")
    servers = "".join(f"        server {ip}:8000 max_fails=3 fail_timeout=10s;\n" for ip in replicas)
    conf, n = re.subn(r"^\s*server luodi:8000 resolve[^;]*;\n", servers, conf, flags=re.M)
    expect(n == 1, "nginx.conf: no `server luodi:8000 resolve` line to replace")
    return conf


def replica_requests(podman: Podman, name: str) -> float:
    """POST /v1/ocr 200s this replica answered, from its own /metrics (not reachable through nginx)."""
    code = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/metrics').read().decode())"
    text = podman.out("exec", name, "/opt/venv/bin/python", "-c", code)
    m = re.search(r'luodi_requests_total\{method="POST",route="/v1/ocr",status="200"\} ([0-9.]+)', text)
    return float(m.group(1)) if m else 0.0


class Stack:
    """Containers, volumes and networks this run created, removed by :meth:`down`."""

    def __init__(self, podman: Podman, prefix: str) -> None:
        self.podman = podman
        self.prefix = prefix
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.networks: list[str] = []
        self.images: list[str] = []

    def name(self, what: str) -> str:
        return f"{self.prefix}-{what}"

    def down(self) -> None:
        for c in reversed(self.containers):
            self.podman.run("rm", "--force", "--volumes", "--time", "5", c, check=False)
        for v in self.volumes:
            self.podman.run("volume", "rm", "--force", v, check=False)
        for n in self.networks:
            self.podman.run("network", "rm", "--force", n, check=False)
        for i in self.images:
            self.podman.run("rmi", "--force", i, check=False)


def compose_test(stack: Stack, image: str, base: str, workdir: Path) -> dict[str, Any]:
    podman = stack.podman
    key = "luodi-example-key-CHANGE-ME"  # the example key whose hash deploy/secrets holds
    for what in ("nginx", "redis"):
        tag = f"localhost/{stack.name(what)}:test"
        podman.stream(
            "build", "--format", "docker", "--file", str(DEPLOY / "image-test" / f"{what}.Containerfile"),
            "--build-arg", f"BASE={base}", "--tag", tag, str(DEPLOY / "image-test"),
            logfile=workdir / f"build-{what}.log",
        )  # fmt: skip
        stack.images.append(tag)
    subnet = f"10.{secrets.randbelow(200) + 20}.{secrets.randbelow(250)}"
    net = stack.name("net")
    podman.run("network", "create", "--subnet", f"{subnet}.0/24", net)
    stack.networks.append(net)
    ip = {"redis": f"{subnet}.10", "luodi-1": f"{subnet}.11", "luodi-2": f"{subnet}.12", "worker": f"{subnet}.13"}
    ip["nginx"] = f"{subnet}.20"
    # compose's named volumes, and its jobs-volume-init (named volumes are created root-owned; the
    # service runs as 10001)
    init = compose_service("jobs-volume-init")
    mounts = []
    for entry in init["volumes"]:
        volume, path = entry.split(":", 1)
        podman.run("volume", "create", stack.name(volume))
        stack.volumes.append(stack.name(volume))
        mounts += ["--volume", f"{stack.name(volume)}:{path}"]
    entry, *args = init["entrypoint"]
    podman.run("run", "--rm", "--user", "0:0", "--network", "none", "--entrypoint", entry, *mounts, image, *args)
    redis = compose_service("redis")
    name = stack.name("redis")
    stack.containers.append(name)
    # compose's command, config file first (it sets the password, so protected mode stays out of the way)
    redis_conf = ["--volume", f"{DEPLOY / 'secrets' / 'redis.example.conf'}:/run/secrets/redis_conf:ro"]
    podman.run("run", "--detach", "--name", name, "--network", net, "--ip", ip["redis"], "--read-only",
               *redis_conf, "--entrypoint", redis["command"][0],
               f"localhost/{stack.name('redis')}:test", *redis["command"][1:])  # fmt: skip
    env = {"LUODI_SERVE_JOBS__REDIS_URL": f"redis://{ip['redis']}:6379/0"}
    keys = DEPLOY / "secrets" / "api-keys.example.txt"
    secret = ["--volume", f"{keys}:/run/secrets/luodi_api_keys:ro", *redis_conf]
    luodi, worker = compose_service("luodi"), compose_service("worker")
    for what, service in (("luodi-1", luodi), ("luodi-2", luodi), ("worker", worker)):
        name = stack.name(what)
        stack.containers.append(name)
        podman.run("run", "--detach", "--name", name, "--network", net, "--ip", ip[what],
                   *compose_flags(service, env), *secret, *mounts, image, *service["command"])  # fmt: skip
    for what in ("luodi-1", "luodi-2"):
        name = stack.name(what)
        wait_ready_in(podman, name)
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_conf([ip["luodi-1"], ip["luodi-2"]]), encoding="utf-8")
    nginx = compose_service("nginx")
    port = free_port()
    name = stack.name("nginx")
    stack.containers.append(name)
    podman.run("run", "--detach", "--name", name, "--network", net, "--ip", ip["nginx"],
               *compose_flags(nginx, {}), "--volume", f"{conf}:/etc/nginx/nginx.conf:ro",
               "--publish", f"127.0.0.1:{port}:8080", f"localhost/{stack.name('nginx')}:test")  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    return probe_stack(stack, url, key)


def wait_ready_in(podman: Podman, name: str, timeout: float = READY_TIMEOUT_S) -> None:
    """A replica publishes no port: ask it from inside, as compose's healthcheck does."""
    (check,) = [c for c in compose_service("luodi")["healthcheck"]["test"] if "readyz" in c]
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        expect(container_alive(podman, name), f"{name} exited: {podman.run('logs', name, check=False).stderr[-2000:]}")
        if podman.run("exec", name, "/opt/venv/bin/python", "-c", check, check=False).returncode == 0:
            return
        time.sleep(1)
    raise ProbeError(f"{name} not ready after {timeout:.0f} s")


def probe_stack(stack: Stack, url: str, key: str) -> dict[str, Any]:
    podman = stack.podman
    auth = {"X-API-Key": key}
    t0 = time.monotonic()
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/nginx-health", timeout=2).status_code == 200:
                break
        expect(time.monotonic() - t0 < 60, "nginx did not answer /nginx-health")
        time.sleep(0.5)
    expect(httpx.get(url + "/metrics", timeout=10).status_code == 404, "nginx serves /metrics")
    expect(httpx.get(url + "/readyz", timeout=10).status_code == 200, "/readyz through nginx")
    sign = (SAMPLES / "rapidocr" / "ch_en_num.jpg").read_bytes()
    upload = {"file": ("ch_en_num.jpg", sign, "image/jpeg")}
    expect(httpx.post(url + "/v1/ocr", files=upload, timeout=60).status_code == 401, "no key through nginx")
    before = [replica_requests(podman, stack.name(r)) for r in ("luodi-1", "luodi-2")]
    codes = []
    for i in range(6):  # least_conn with nothing in flight goes round the replicas
        r = httpx.post(url + "/v1/ocr", files=upload, headers={**auth, "X-Request-ID": f"nginx-{i}"}, timeout=120)
        codes.append(r.status_code)
        expect(r.headers.get("x-request-id") == f"nginx-{i}", "nginx did not pass X-Request-ID on")
    expect(codes == [200] * 6, f"OCR through nginx: {codes}")
    served = [replica_requests(podman, stack.name(r)) - b for r, b in zip(("luodi-1", "luodi-2"), before, strict=True)]
    expect(sum(served) == 6 and min(served) >= 1, f"requests per replica: {served} (both must serve)")
    job_s = run_job(url, auth, sign)  # queued by a replica in Redis, run by the worker, polled through nginx
    logs = podman.run("logs", stack.name("worker"), check=False)
    expect("job finished" in logs.stdout + logs.stderr, "the worker did not run the job")
    return {"requests_per_replica": served, "job_through_worker_s": round(job_s, 2)}


# --- main -----------------------------------------------------------------------------------------------
def negative_check(podman: Podman, stack: Stack, image: str, key: str) -> str:
    """A broken deployment (a model the image does not hold) must fail the probe."""
    name = stack.name("broken")
    stack.containers.append(name)
    port = free_port()
    run_locked(podman, image, name, port, key, "--env", "LUODI_SERVE_MODEL=pp-ocrv4")
    try:
        wait_ready(f"http://127.0.0.1:{port}", alive=lambda: container_alive(podman, name), timeout=120)
        probe_service(f"http://127.0.0.1:{port}", key)
    except ProbeError as exc:
        return str(exc)
    raise ProbeError("a container without its model passed the probe: the probe cannot fail")


def single_container(podman: Podman, stack: Stack, image: str, held: dict[str, bool], report: dict[str, Any]) -> None:
    """Run the image as production would, probe it, check its lock-down and HEALTHCHECK; then check
    that a broken container fails the same probe."""
    key = secrets.token_urlsafe(16)
    name = stack.name("single")
    stack.containers.append(name)
    port = free_port()
    run_locked(podman, image, name, port, key)
    url = f"http://127.0.0.1:{port}"
    report["ready_s"] = round(wait_ready(url, alive=lambda: container_alive(podman, name)), 1)
    log(f"ready after {report['ready_s']} s; probing")
    report["single"] = probe_service(url, key, contact_model=held["express-ner"])
    check_lockdown(podman, name)
    healthcheck(podman, name)
    log("single container: every probe passed")
    report["broken_container_fails_with"] = negative_check(podman, stack, image, key)[:200]
    log(f"a broken container fails the probe: {report['broken_container_fails_with']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", action="store_true", help="keep the images built (containers are always removed)")
    ap.add_argument("--no-compose", action="store_true", help="skip the nginx + 2 replicas + worker + Redis part")
    ap.add_argument("--report", type=Path, default=None, help="write the measurements as JSON here")
    args = ap.parse_args(argv)
    for tool in ("podman", "mmdebstrap"):
        if shutil.which(tool) is None:
            print(f"error: {tool} is not installed (apt-get install podman mmdebstrap; `make image-tools`)")
            return 1
    report: dict[str, Any] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="luodi-image-test-") as tmp:
        workdir = Path(tmp)
        podman = Podman(workdir)
        stack = Stack(podman, f"luodi-it-{secrets.token_hex(3)}")
        image = f"localhost/{stack.prefix}:cpu"
        try:
            base = ensure_base(podman, workdir)
            with staged_models() as held:
                log(f"building deploy/Dockerfile on {base} (trained models baked in: {held})")
                report["build_s"] = round(build_image(podman, base, image, workdir), 1)
            if not args.keep:
                stack.images.append(image)
            size = image_size_mb(podman, image)
            report["image_mb"] = round(size, 1)
            log(f"image {image}: {size:.0f} MB (target <= {SIZE_LIMIT_MB} MB)")
            expect(size <= SIZE_LIMIT_MB, f"the CPU image is {size:.0f} MB, over the {SIZE_LIMIT_MB} MB target")

            single_container(podman, stack, image, held, report)
            if not args.no_compose:
                log("compose services: nginx -> 2 replicas, worker, Redis")
                report["compose"] = compose_test(stack, image, base, workdir)
                log(f"compose: {report['compose']}")
        except ProbeError as exc:
            print(f"image-test FAILED: {exc}", file=sys.stderr)
            for c in stack.containers:
                tail = podman.run("logs", "--tail", "30", c, check=False)
                print(f"--- {c} ---\n{tail.stdout[-2000:]}{tail.stderr[-2000:]}", file=sys.stderr)
            return 1
        finally:
            stack.down()
    report["total_s"] = round(time.monotonic() - started, 1)
    log(f"passed in {report['total_s']} s: {json.dumps(report, ensure_ascii=False)}")
    if args.report is not None:
        args.report.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
