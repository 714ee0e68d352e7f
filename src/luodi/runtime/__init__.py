"""Runtime seam: InferenceSession protocol and backends (imported lazily by ``create_session``)."""

from luodi.runtime.base import Backend, InferenceSession, RuntimeInfo
from luodi.runtime.factory import create_session, parse_backend

__all__ = ["Backend", "InferenceSession", "RuntimeInfo", "create_session", "parse_backend"]
