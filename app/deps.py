"""Dependencies shared by the routers, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.config import Settings
from app.runtime import Runtime
from app.services import accounts
from app.services.accounts import Principal

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your VoxParse API key.")
_bearer = HTTPBearer(auto_error=False, description="Your VoxParse API key as a bearer token.")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction per request: committed when the handler succeeds, rolled back otherwise."""
    with runtime.db.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_principal(
    runtime: RuntimeDep,
    response: Response,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the key (X-API-Key or Authorization: Bearer) and count the request."""
    presented = api_key or (bearer.credentials if bearer else None)
    # A short transaction of its own, so a long request never keeps one open.
    with runtime.db.transaction() as session:
        principal = accounts.authenticate(session, presented)
    state = runtime.limiter.hit(runtime.settings.rate_limit, "all", principal.key_id)
    if state is not None:
        response.headers.update(state.headers())
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def transcribe_rate_limit(runtime: RuntimeDep, response: Response, principal: CurrentPrincipal) -> Principal:
    """The upload limit, counted on top of the general one."""
    state = runtime.limiter.hit(runtime.settings.transcribe_rate_limit, "transcribe", principal.key_id)
    if state is not None:
        response.headers.update(state.headers())
    return principal


TranscribePrincipal = Annotated[Principal, Depends(transcribe_rate_limit)]
