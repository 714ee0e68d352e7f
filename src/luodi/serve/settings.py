"""Service settings: one frozen object built by ``luodi serve`` / ``luodi worker`` and handed to every
process (uvicorn workers get it as JSON in ``LUODI_SERVE_SETTINGS`` so ``--workers N`` needs no
pickling and each worker builds the very same app).

Environment: ``LUODI_SERVE_*`` (nested with ``__``), e.g. ``LUODI_SERVE_QUEUE_SIZE=16``;
API keys come from ``LUODI_API_KEYS`` (comma-separated plain keys, hashed at start-up) and/or a keys
file of sha256 hashes.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from luodi.config import Limits, get_settings
from luodi.errors import ConfigError

SETTINGS_ENV = "LUODI_SERVE_SETTINGS"


class BatchingSettings(BaseModel):
    """Cross-request dynamic batching of recognition crops.

    Off by default: measured on the 2-core CPU (bench/results/service.md), batching crops from
    concurrent requests cost 1.8x the CPU per request with ONNX Runtime (0.76 vs 0.41 CPU s), as
    crops padded to the widest in the batch gain nothing from the batch dimension on CPU
    (DESIGN.md's per-crop timings agree). Turn it on for GPU runtimes where larger batches pay.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    max_batch_size: int = Field(16, ge=1, le=256)
    max_wait_ms: float = Field(5.0, ge=0, le=1000)


class JobSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Where job inputs, states and results live; default $LUODI_HOME/jobs. In Redis mode with workers
    # on other machines this must be a shared volume.
    dir: Path | None = None
    embedded_worker: bool = True  # run a consumer thread inside `luodi serve`
    worker_threads: int = Field(1, ge=1, le=64)
    result_ttl_s: float = Field(24 * 3600, gt=0)
    max_attempts: int = Field(3, ge=1, le=20)
    # A running job whose heartbeat is older than this is taken to have lost its worker.
    stale_after_s: float = Field(15.0, gt=0)
    heartbeat_s: float = Field(2.0, gt=0)
    webhook_allow_hosts: tuple[str, ...] = ()
    webhook_timeout_s: float = Field(5.0, gt=0, le=60)


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUODI_SERVE_", env_nested_delimiter="__", extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    home: Path | None = None  # defaults to luodi's Settings.home
    model: str | None = None  # defaults to luodi's Settings.model
    runtime: str | None = None
    # "cpu" or "cuda[:N]" (onnxruntime-gpu): the runtime refuses a device it cannot grant.
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?)$")
    # Layout (bench/results/service.md): one inference slot per core and, unless set, the cores shared
    # out between the slots (resolved_threads) — the best throughput under concurrent load.
    threads: int | None = Field(None, ge=1, le=256)  # intra-op threads per inference session
    # Requests allowed to run inference at the same time, and how many more may wait for a slot.
    concurrency: int | None = Field(None, ge=1, le=256)
    queue_size: int = Field(16, ge=0, le=10_000)
    deadline_s: float = Field(60.0, gt=0, le=3600)
    retry_after_s: int = Field(1, ge=1, le=3600)
    batching: BatchingSettings = Field(default_factory=BatchingSettings)  # type: ignore[arg-type]
    jobs: JobSettings = Field(default_factory=JobSettings)  # type: ignore[arg-type]
    limits: Limits | None = None  # defaults to luodi's Settings.limits
    keys_file: Path | None = None
    insecure: bool = False
    open_metrics: bool = True  # /metrics without a key
    log_level: str = "info"

    def resolved_concurrency(self) -> int:
        return self.concurrency if self.concurrency is not None else max(1, cores())

    def resolved_threads(self) -> int:
        """Intra-op threads per session: by default the cores shared out between the inference slots.

        Measured on 2 idle cores (bench/results/service.md): 1 thread x 2 slots serves 5.83 req/s at
        4 clients against 5.30 for 2 threads x 2 slots (sessions oversubscribed), at less CPU per
        request; a lone client waits longer (p50 0.36 s vs 0.24 s). A service is sized for concurrent
        load, so the default splits the cores; ``--threads`` restores whole-machine sessions.
        """
        if self.threads is not None:
            return self.threads
        return max(1, cores() // self.resolved_concurrency())

    def resolved_home(self) -> Path:
        return self.home if self.home is not None else get_settings().home

    def resolved_limits(self) -> Limits:
        return self.limits if self.limits is not None else get_settings().limits

    def resolved_model(self) -> str:
        return self.model or get_settings().model

    def jobs_dir(self) -> Path:
        return self.jobs.dir if self.jobs.dir is not None else self.resolved_home() / "jobs"


def cores() -> int:
    """CPUs this process may run on."""

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def load_serve_settings(**overrides: object) -> ServeSettings:
    """Settings from the environment with explicit ``overrides`` (``None`` ignored) on top."""
    try:
        return ServeSettings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "serve settings"
        raise ConfigError(f"bad serve setting {where}: {first['msg']}") from exc


def settings_from_env() -> ServeSettings:
    """The settings a uvicorn worker process was handed by ``luodi serve``."""
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        return load_serve_settings()
    try:
        return ServeSettings.model_validate_json(raw)
    except ValidationError as exc:
        raise ConfigError(f"{SETTINGS_ENV} does not hold valid serve settings: {exc}") from exc


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
