"""Dependencies of the routes, declared once: the process state, readiness, auth, deadline, schema."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from luodi.errors import InputError, UnknownModelError, UnknownSchemaError
from luodi.pipeline import Pipeline
from luodi.serve.state import ServiceState
from luodi.serve.tenancy import owner_of

# the API takes built-in schema names only: a path such as ``../x.yaml`` never reaches the extractor
_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# model names become folder names in the store: the zoo's own rule, checked before it is asked
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_DEADLINE_MS = re.compile(r"^[0-9]{1,9}$")

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer KEY")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: KEY")


async def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.luodi
    return state


State = Annotated[ServiceState, Depends(get_state)]


async def get_pipeline(state: State) -> Pipeline:
    """503 ``not_ready`` until the models are loaded."""
    return state.require_pipeline()


Ready = Annotated[Pipeline, Depends(get_pipeline)]


async def authorize(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    key: Annotated[str | None, Security(_api_key)],
) -> str:
    """The caller's owner id (``tenancy.owner_of`` its key): jobs belong to it."""
    # the security schemes document the two ways in; the checker reads the raw header itself
    return owner_of(state.keys.check(request.headers.get("authorization"), key))


#: the owner id of the request's API key (``anonymous`` on a server without keys); FastAPI runs
#: ``authorize`` once per request, for the router and for this parameter alike
Owner = Annotated[str, Depends(authorize)]


async def open_or_authorized(request: Request, state: State) -> None:
    """``/metrics``: open unless ``open_metrics`` is off."""
    if not state.settings.open_metrics:
        state.keys.check(request.headers.get("authorization"), request.headers.get("x-api-key"))


async def get_deadline(request: Request, state: State) -> float:
    """The request's deadline (``time.monotonic()``); ``X-Deadline-Ms`` may shorten, never extend, it."""
    budget = state.settings.deadline_s
    asked = request.headers.get("x-deadline-ms")
    if asked is not None:
        # at most 9 digits (11.5 days): a longer number would overflow the float it becomes
        if not _DEADLINE_MS.match(asked.strip()):
            shown = asked[:20]
            raise InputError(f"X-Deadline-Ms must be a whole number of milliseconds (0 to 999999999), not {shown!r}")
        budget = min(budget, int(asked) / 1000.0)
    return time.monotonic() + budget


Deadline = Annotated[float, Depends(get_deadline)]


async def checked_schema(schema: str, pipeline: Ready) -> str:
    """The ``{schema}`` of a path (or a job's field): a built-in schema whose extractor is built (404 otherwise)."""
    if not _SCHEMA_NAME.match(schema):
        raise UnknownSchemaError(f"unknown schema {schema!r}: the API takes built-in schema names only")
    await asyncio.to_thread(pipeline.check, "extract", schema)  # builds the extractor once
    return schema


def checked_model_name(model: str) -> str:
    """A text or vision model's name from a path, or 404 ``unknown_model`` before the store is asked."""
    if not _MODEL_NAME.match(model) or ".." in model:
        raise UnknownModelError(f"unknown model {model!r}")
    return model


def v1_router(tag: str) -> APIRouter:
    """A router of the ``/v1`` API: every route needs a valid key (when keys are configured), then
    loaded models. The prefix sits on each area's own router so that a route's template (the
    ``route`` label of the request metrics) is its full path."""
    from luodi.serve.openapi import ERRORS

    return APIRouter(
        prefix="/v1", tags=[tag], dependencies=[Depends(authorize), Depends(get_pipeline)], responses=ERRORS
    )
