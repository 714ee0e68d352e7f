"""Service settings: one frozen object built by ``luodi serve`` / ``luodi worker`` and handed to every
process (uvicorn workers get it as JSON in ``LUODI_SERVE_SETTINGS`` so ``--workers N`` needs no
pickling and each worker builds the very same app).

Environment: ``LUODI_SERVE_*`` (nested with ``__``), e.g. ``LUODI_SERVE_QUEUE_SIZE=16``;
API keys come from ``LUODI_API_KEYS`` (comma-separated plain keys, hashed at start-up) and/or a keys
file of sha256 hashes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shlex
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_settings import NoDecode, SettingsConfigDict

from luodi.config import LayeredSettings, Settings, WholeSource, load_settings, usable_cores, validated
from luodi.errors import ConfigError
from luodi.review.settings import ReviewSettings

SETTINGS_ENV = "LUODI_SERVE_SETTINGS"


class BatchingSettings(BaseModel):
    """Cross-request dynamic batching of recognition crops.

    Off by default: measured on the 2-core CPU (bench/results/service.md), batching crops from
    concurrent requests cost 1.8x the CPU per request with ONNX Runtime (0.76 vs 0.41 CPU s), as
    crops padded to the widest in the batch gain nothing from the batch dimension on CPU
    (docs/architecture.md's per-crop timings agree). Turn it on for GPU runtimes where larger batches pay.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    max_batch_size: int = Field(16, ge=1, le=256)
    max_wait_ms: float = Field(5.0, ge=0, le=1000)


class ConnectionSettings(BaseModel):
    """How long a client may take to send a request, and how many connections are open at once
    (luodi.serve.conn). A body gets body_timeout_s in all (300 s: the largest batch, 32 x 20 MB, at
    about 2 MB/s); time the app itself is not reading does not count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header_timeout_s: float = Field(10.0, gt=0, le=600)  # request line + headers, from connect or last response
    body_idle_timeout_s: float = Field(30.0, gt=0, le=600)  # no body byte for this long: closed
    body_timeout_s: float = Field(300.0, gt=0, le=3600)
    keep_alive_s: int = Field(5, ge=1, le=600)  # idle after a response (uvicorn's timeout_keep_alive)
    # open connections at most [half the descriptor limit]; past it the longest-idle ones are closed
    max_connections: int | None = Field(None, ge=1, le=1_000_000)


class JobSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["sqlite", "redis"] = "sqlite"
    # ``redis://`` or ``rediss://`` (TLS, checked against redis_tls_ca_file or the system's CAs). The
    # password comes from redis_password_file (a compose/Kubernetes secret) or redis_password
    # (LUODI_SERVE_JOBS__REDIS_PASSWORD, kept out of the JSON handed to uvicorn workers), not the URL.
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_password: SecretStr | None = Field(None, exclude=True)
    redis_password_file: Path | None = None
    redis_tls_ca_file: Path | None = None
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
    # Per API key (or for everyone, on a server without keys): jobs queued or running at once, and
    # the input bytes they hold on disk. Past either, POST /v1/jobs answers 429. One job may carry
    # max_files x max_bytes (640 MB by default), so the byte quota leaves room for one such job.
    max_jobs_per_key: int = Field(32, ge=1, le=100_000)
    max_bytes_per_key: int = Field(1 << 30, gt=0)
    # Webhooks (luodi.serve.webhooks): ``host`` (its scheme's default port) or ``host:port`` entries;
    # loopback and private addresses only with webhook_allow_private. Payloads are signed with
    # webhook_secret (LUODI_SERVE_JOBS__WEBHOOK_SECRET; never written into the JSON handed to uvicorn
    # workers, which read the same environment), required once any host is allow-listed.
    webhook_allow_hosts: tuple[str, ...] = ()
    webhook_allow_private: bool = False
    webhook_secret: SecretStr | None = Field(None, exclude=True)
    webhook_timeout_s: float = Field(5.0, gt=0, le=60)  # each attempt's total deadline
    webhook_attempts: int = Field(3, ge=1, le=10)

    def redis_auth(self) -> str | None:
        """The Redis password: from ``redis_password_file``, else ``redis_password``, else none.

        The file holds the password on its first line, or is the Redis config that sets it (a
        ``requirepass`` line): the deployments give Redis and luodi that one secret, so the two
        cannot disagree."""
        if self.redis_password_file is None:
            return self.redis_password.get_secret_value() if self.redis_password is not None else None
        try:
            lines = self.redis_password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read the Redis password file: {exc}") from exc
        for line in lines:
            if line.lstrip().lower().startswith("requirepass"):
                with contextlib.suppress(ValueError):  # unbalanced quotes: not a config line
                    words = shlex.split(line, comments=True)
                    if len(words) == 2 and words[0].lower() == "requirepass":
                        return words[1]
        if not lines or not lines[0]:
            raise ConfigError(f"the Redis password file {self.redis_password_file} is empty")
        return lines[0]

    @field_validator("webhook_allow_hosts")
    @classmethod
    def _check_hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        from luodi.serve.webhooks import parse_allow_entry

        for entry in hosts:
            parse_allow_entry(entry)  # ValueError: a clear setting error at start-up
        return hosts

    @model_validator(mode="after")
    def _signed(self) -> JobSettings:
        if self.webhook_allow_hosts and (self.webhook_secret is None or not self.webhook_secret.get_secret_value()):
            raise ValueError(
                "webhook hosts are allow-listed but no webhook secret is set (LUODI_SERVE_JOBS__WEBHOOK_SECRET): "
                "every webhook is signed with it"
            )
        return self


#: Core settings a ``LUODI_SERVE_*`` variable (or a ``luodi serve`` option) may set for this service only:
#: ``LUODI_SERVE_HOME`` is the service's model store for every model it loads, and its jobs' default root.
CORE_KEYS = ("home", "model", "runtime", "threads", "device", "limits")


class _ServeCoreEnv(WholeSource):
    """``LUODI_SERVE_<KEY>`` for the keys of :data:`CORE_KEYS` (``LUODI_SERVE_LIMITS__MAX_BYTES`` nested)."""

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in os.environ.items():
            key = name.upper()
            if not key.startswith("LUODI_SERVE_"):
                continue
            head, _, nested = key[len("LUODI_SERVE_") :].lower().partition("__")
            if head not in CORE_KEYS:
                continue
            if nested:
                found.setdefault(head, {})[nested] = value
            else:
                found[head] = value
        return found


class ServeSettings(LayeredSettings):
    """The service's settings; ``core`` holds luodi's :class:`~luodi.config.Settings` (store, model,
    runtime, threads, device, limits): the object the service's processing pipeline is built from."""

    model_config = SettingsConfigDict(
        env_prefix="LUODI_SERVE_", env_nested_delimiter="__", extra="forbid", frozen=True, populate_by_name=True
    )
    third_source = _ServeCoreEnv  # explicit arguments > LUODI_SERVE_* > LUODI_SERVE_<core key> > defaults

    core: Settings = Field(default_factory=load_settings)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    # Layout (bench/results/service.md): one inference slot per core and, unless core.threads is set,
    # the cores shared out between the slots (resolved_threads): the best throughput under load.
    # Requests allowed to run inference at the same time, and how many more may wait for a slot.
    concurrency: int | None = Field(None, ge=1, le=256)
    queue_size: int = Field(16, ge=0, le=10_000)
    # Shed by latency: a request that, by the recent calls' run time, would wait past this to finish
    # is refused at once (503 + Retry-After) rather than queued (the 2.5 s of the latency alert in
    # deploy/prometheus; bench/results/service_overload.md). 0 turns it off: queue_size alone.
    latency_target_s: float = Field(2.5, ge=0, le=3600)
    deadline_s: float = Field(60.0, gt=0, le=3600)
    retry_after_s: int = Field(1, ge=1, le=3600)
    # Decoded pixels one request (or job) may ask for, all pages of all its files together: checked
    # from headers before anything is decoded (422 past it). Pages are decoded one at a time, so this
    # bounds time, not memory: 400 MP is a 100-page A4 PDF at 200 dpi (3.9 MP a page) or 8 pages at
    # the 50 MP per-page limit, where the 100-page limit alone would allow 5,000 MP.
    request_pixels: int = Field(400_000_000, gt=0)
    # where uploads past 1 MB are spooled while a request runs [the system's temporary folder]
    spool_dir: Path | None = None
    batching: BatchingSettings = Field(default_factory=BatchingSettings)  # type: ignore[arg-type]
    connections: ConnectionSettings = Field(default_factory=ConnectionSettings)  # type: ignore[arg-type]
    jobs: JobSettings = Field(default_factory=JobSettings)  # type: ignore[arg-type]
    review: ReviewSettings = Field(default_factory=ReviewSettings)  # type: ignore[arg-type]
    keys_file: Path | None = None
    # LUODI_API_KEYS: comma-separated plain keys, hashed as soon as they are read (only hashes are
    # kept); left out of the JSON handed to uvicorn workers, which read the same environment
    api_keys: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias=AliasChoices("LUODI_API_KEYS", "api_keys"), exclude=True
    )
    insecure: bool = False
    open_metrics: bool = True  # /metrics without a key
    log_level: str = "info"

    @model_validator(mode="before")
    @classmethod
    def _fold_core(cls, data: Any) -> Any:
        """``home=``, ``model=``... (arguments or ``LUODI_SERVE_*``) go into ``core``; the rest of
        ``core`` comes from luodi's own settings (``LUODI_*``, the config file)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        given = {k: data.pop(k) for k in CORE_KEYS if k in data}
        given = {k: v for k, v in given.items() if v is not None}
        core = data.get("core")
        if isinstance(core, Settings):
            if not given:
                return data
            core = core.model_dump(exclude_unset=True)
        data["core"] = load_settings(**{**(core or {}), **given})
        return data

    @field_validator("api_keys", mode="before")
    @classmethod
    def _hash_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            from luodi.serve.auth import hash_key

            return frozenset(hash_key(k.strip()) for k in value.split(",") if k.strip())
        return value

    def key_hashes(self) -> frozenset[str]:
        """sha256 hashes of every accepted key: LUODI_API_KEYS and the keys file."""
        from luodi.serve.auth import parse_keys_file

        return self.api_keys | (parse_keys_file(self.keys_file) if self.keys_file is not None else frozenset())

    @field_serializer("core")
    def _core_as_given(self, core: Settings) -> dict[str, Any]:
        # only what was set: a worker handed this JSON keeps "runtime unset" (the bundle's own) as such
        return core.model_dump(mode="json", exclude_unset=True)

    def resolved_concurrency(self) -> int:
        return self.concurrency if self.concurrency is not None else usable_cores()

    def resolved_threads(self) -> int:
        """Intra-op threads per session: by default the cores shared out between the inference slots.

        Measured on 2 idle cores (bench/results/service.md): 1 thread x 2 slots serves 5.83 req/s at
        4 clients against 5.30 for 2 threads x 2 slots (sessions oversubscribed), at less CPU per
        request; a lone client waits longer (p50 0.36 s vs 0.24 s). A service is sized for concurrent
        load, so the default splits the cores; ``--threads`` restores whole-machine sessions.
        """
        if self.core.threads is not None:
            return self.core.threads
        return max(1, usable_cores() // self.resolved_concurrency())

    def pipeline_settings(self) -> Settings:
        """The core settings the service's pipeline is built from (threads resolved for its slots)."""
        return self.core.model_copy(update={"threads": self.resolved_threads()})

    def jobs_dir(self) -> Path:
        return self.jobs.dir if self.jobs.dir is not None else self.core.home / "jobs"


def load_serve_settings(**overrides: object) -> ServeSettings:
    """Settings from the environment with explicit ``overrides`` (``None`` ignored) on top."""
    return validated(ServeSettings, overrides, "serve setting")


def settings_from_env() -> ServeSettings:
    """The settings a uvicorn worker process was handed by ``luodi serve``."""
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        return load_serve_settings()
    try:
        handed = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{SETTINGS_ENV} does not hold valid serve settings: {exc}") from exc
    # what `luodi serve` decided, over this process's environment (which holds LUODI_API_KEYS)
    return load_serve_settings(**handed)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
