"""Write the image's locks: luodi's core + ``serve`` + ``s3`` dependency tree, pinned with sha256 hashes.

The repository's requirements.lock pins everything a developer needs (paddlepaddle, moto, mypy,
schemathesis...); the image needs only what ``luodi serve`` / ``luodi worker`` / ``luodi models pull``
import. This walks the dependency metadata of the packages installed in the current environment
(so run it with the project's .venv after ``make deps``) and pins each one at its installed
version, which is the version requirements.lock pins.

    .venv/bin/python deploy/lock_runtime.py --cpu > deploy/requirements-cpu.lock
    .venv/bin/python deploy/lock_runtime.py --gpu > deploy/requirements-gpu.lock
    .venv/bin/python deploy/lock_runtime.py --build > deploy/requirements-build.lock

Hashes come from ``pip install --dry-run --report`` against the configured index, so they are the
files pip picks for *this* interpreter and platform: CPython 3.11 on linux x86_64, the image's.
``--gpu`` swaps onnxruntime for onnxruntime-gpu (both provide the ``onnxruntime`` module) plus
NVIDIA's CUDA and cuDNN libraries from PyPI, so the GPU image needs no CUDA base image: only the
host's NVIDIA driver, handed in by the NVIDIA container toolkit.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
EXTRAS = ("serve", "s3", "openvino", "review")  # openvino: the INT8 IR bundles of `luodi quantize` run on it; review: /ui
BUILD = ["setuptools==84.2.1", "wheel==0.48.0"]
GPU_ROOT = "onnxruntime-gpu[cuda,cudnn]==1.31.1"  # newest onnxruntime-gpu on PyPI when this was written
# Evaluated for the image, not for the machine running this script.
TARGET_ENV = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def root_requirements() -> list[str]:
    """luodi's own requirements, read from pyproject.toml (an editable install's metadata may be stale)."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in EXTRAS:
        reqs += project["optional-dependencies"][extra]
    return reqs


def closure() -> dict[str, str]:
    pinned: dict[str, str] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [
        (Requirement(r).name, tuple(sorted(Requirement(r).extras))) for r in root_requirements()
    ]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        name, extras = todo.pop()
        if (canonical(name), extras) in seen:
            continue
        seen.add((canonical(name), extras))
        dist = metadata.distribution(name)
        pinned[canonical(name)] = f"{dist.metadata['Name']}=={dist.version}"
        for raw in dist.requires or ():
            req = Requirement(raw)
            wanted = req.marker is None or any(
                req.marker.evaluate({**TARGET_ENV, "extra": extra}) for extra in (*extras, "")
            )
            if wanted:
                todo.append((req.name, tuple(sorted(req.extras))))
    return pinned


def resolve(requirements: list[str], *, deps: bool) -> dict[str, tuple[str, str]]:
    """canonical name -> (pin, sha256) of what pip would install for this interpreter."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(requirements) + "\n")
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-"]
    cmd += ["--only-binary=:all:", "-r", f.name] + ([] if deps else ["--no-deps"])
    report = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    out: dict[str, tuple[str, str]] = {}
    for item in report["install"]:
        meta = item["metadata"]
        sha = item["download_info"]["archive_info"]["hashes"]["sha256"]
        out[canonical(meta["name"])] = (f"{meta['name']}=={meta['version']}", sha)
    return out


def write(header: str, resolved: dict[str, tuple[str, str]]) -> None:
    sys.stdout.write(header)
    for _, (pin, sha) in sorted(resolved.items()):
        sys.stdout.write(f"{pin} \\\n    --hash=sha256:{sha}\n")


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "--cpu"
    regen = f"# Regenerate: .venv/bin/python deploy/lock_runtime.py {mode} > deploy/requirements-{mode[2:]}.lock\n"
    if mode == "--build":
        # What builds luodi's own wheel in the image's build stage (pyproject's build-system).
        write("# Build stage only: the PEP 517 backend that builds luodi's wheel.\n" + regen, resolve(BUILD, deps=True))
        return
    runtime = resolve(sorted(closure().values(), key=str.lower), deps=False)
    if mode == "--cpu":
        header = "# luodi image, CPU: luodi[serve,s3,openvino] at requirements.lock's versions, CPython 3.11 linux x86_64.\n"
        write(header + regen, runtime)
        return
    if mode != "--gpu":
        raise SystemExit("usage: lock_runtime.py [--cpu | --gpu | --build]")
    gpu = resolve([GPU_ROOT], deps=True)
    clash = [gpu[n][0] for n in gpu if n in runtime and gpu[n][0] != runtime[n][0]]
    if clash:
        raise SystemExit(f"onnxruntime-gpu needs other versions than the CPU lock: {clash}")
    # onnxruntime-gpu provides the same `onnxruntime` module: never both in one environment
    merged = {n: v for n, v in runtime.items() if n != "onnxruntime"} | gpu
    header = (
        "# luodi image, GPU: the CPU lock with onnxruntime-gpu and NVIDIA's CUDA/cuDNN wheels instead of onnxruntime.\n"
    )
    write(header + regen, merged)


if __name__ == "__main__":
    main()
