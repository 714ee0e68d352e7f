"""Write the image's locks: luodi's core + ``serve`` + ``s3`` dependency tree, pinned with sha256 hashes.

The repository's requirements.lock pins everything a developer needs (paddlepaddle, moto, mypy,
schemathesis...); the image needs only what ``luodi serve`` / ``luodi worker`` / ``luodi models pull``
import. This walks the dependency metadata of the packages installed in the current environment
(so run it with the project's .venv after ``make deps``) and pins each one at its installed
version, which is the version requirements.lock pins.

    .venv/bin/python deploy/lock_runtime.py --cpu > deploy/requirements-cpu.lock
    .venv/bin/python deploy/lock_runtime.py --openvino > deploy/requirements-openvino.lock
    .venv/bin/python deploy/lock_runtime.py --gpu > deploy/requirements-gpu.lock
    .venv/bin/python deploy/lock_runtime.py --build > deploy/requirements-build.lock

Hashes come from ``pip install --dry-run --report`` against the configured index, so they are the
files pip picks for *this* interpreter and platform: CPython 3.11 on linux x86_64, the image's.
``--gpu`` swaps onnxruntime for onnxruntime-gpu (both provide the ``onnxruntime`` module) plus
NVIDIA's CUDA and cuDNN libraries from PyPI, so the GPU image needs no CUDA base image: only the
host's NVIDIA driver, handed in by the NVIDIA container toolkit. ``--openvino`` is what the ``int8``
image adds on top of the CPU lock (OpenVINO runs the INT8 bundles of ``luodi quantize``): 180 MB the
plain CPU serving image does without.

A dependency whose marker depends on the Python patch release is kept with its marker: redis needs
``async-timeout; python_full_version < "3.11.3"``, so the image's Python (Debian bookworm's 3.11.2, or
any 3.11 base) gets it even though the interpreter running this script (3.11.7) does not need it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as canonical

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
EXTRAS = ("serve", "s3", "review")  # review: the /ui labelling page
INT8_EXTRAS = ("openvino",)  # the INT8 IR bundles of `luodi quantize` run on it: the int8 image only
BUILD = ["setuptools==84.2.1", "wheel==0.48.0"]
GPU_ROOT = "onnxruntime-gpu[cuda,cudnn]==1.31.1"  # newest onnxruntime-gpu on PyPI when this was written
# Evaluated for the image, not for the machine running this script.
TARGET_ENV = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"}


# CPython 3.11 patch releases the image's interpreter may be (Debian bookworm ships 3.11.2)
PATCHES = [f"3.11.{n}" for n in range(30)]


def root_requirements(extras: tuple[str, ...] = EXTRAS, *, core: bool = True) -> list[str]:
    """luodi's own requirements, read from pyproject.toml (an editable install's metadata may be stale)."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"]) if core else []
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return reqs


def _verdicts(req: Requirement, extras: tuple[str, ...]) -> set[bool]:
    """Whether ``req`` applies, for each 3.11 patch release the image may run."""
    if req.marker is None:
        return {True}
    marker = req.marker
    return {
        any(
            marker.evaluate({**TARGET_ENV, "python_full_version": v, "python_version": "3.11", "extra": extra})
            for extra in (*extras, "")
        )
        for v in PATCHES
    }


def _walk(roots: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(pins of the installed closure, {name: requirement with its marker} for patch-conditional ones)."""
    pinned: dict[str, str] = {}
    conditional: dict[str, str] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [
        (Requirement(r).name, tuple(sorted(Requirement(r).extras))) for r in roots
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
            verdicts = _verdicts(req, extras)
            if verdicts == {True}:
                todo.append((req.name, tuple(sorted(req.extras))))
            elif True in verdicts:
                conditional[canonical(req.name)] = str(req)
    return pinned, {n: r for n, r in conditional.items() if n not in pinned}


def closure() -> dict[str, str]:
    """The installed closure of the CPU image's requirements: canonical name -> ``Name==version``."""
    return _walk(root_requirements())[0]


def conditional() -> dict[str, str]:
    """Requirements the image needs on some 3.11 patch releases only, with their markers."""
    return _walk(root_requirements())[1]


def resolve(requirements: list[str], *, deps: bool, python: str | None = None) -> dict[str, tuple[str, str]]:
    """canonical name -> (pin, sha256) of what pip would install for this interpreter (or ``python``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(requirements) + "\n")
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-"]
    cmd += ["--only-binary=:all:", "-r", f.name] + ([] if deps else ["--no-deps"])
    cmd += ["--python-version", python] if python else []
    report = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    out: dict[str, tuple[str, str]] = {}
    for item in report["install"]:
        meta = item["metadata"]
        sha = item["download_info"]["archive_info"]["hashes"]["sha256"]
        out[canonical(meta["name"])] = (f"{meta['name']}=={meta['version']}", sha)
    return out


def resolve_conditional(requirements: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each patch-conditional requirement pinned for the oldest 3.11 it applies to, its marker kept."""
    out: dict[str, tuple[str, str]] = {}
    for name, raw in requirements.items():
        req = Requirement(raw)
        assert req.marker is not None
        oldest = next(v for v in PATCHES if req.marker.evaluate({**TARGET_ENV, "python_full_version": v, "extra": ""}))
        bare = f"{req.name}{req.specifier}"
        ((pin, sha),) = resolve([bare], deps=False, python=oldest).values()
        out[name] = (f"{pin} ; {str(req.marker).replace(chr(39), chr(34))}", sha)
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
    pinned, extra = _walk(root_requirements())
    runtime = resolve(sorted(pinned.values(), key=str.lower), deps=False) | resolve_conditional(extra)
    if mode == "--cpu":
        extras = ",".join(EXTRAS)
        header = f"# luodi image, CPU: luodi[{extras}] at requirements.lock's versions, CPython 3.11 linux x86_64.\n"
        write(header + regen, runtime)
        return
    if mode == "--openvino":
        int8 = _walk(root_requirements(INT8_EXTRAS, core=False))[0]
        added = {n: pin for n, pin in int8.items() if n not in pinned}
        header = "# luodi image, int8 variant: what luodi[openvino] adds to the CPU lock (install both).\n"
        write(header + regen, resolve(sorted(added.values(), key=str.lower), deps=False))
        return
    if mode != "--gpu":
        raise SystemExit("usage: lock_runtime.py [--cpu | --openvino | --gpu | --build]")
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
