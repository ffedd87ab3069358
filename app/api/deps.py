"""Dependencies shared by the routers, as Annotated aliases.

There is deliberately no per-request database session dependency: FastAPI closes a sync generator
dependency in a worker thread after the response, so a request would hold its pooled connection
while waiting for a thread, and under load every thread ends up waiting for a connection held by a
request waiting for a thread. Handlers and services open short transactions inside their own thread
(`runtime.db.transaction(...)`), which always end before the thread is given back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.billing import accounts
from app.billing.accounts import Principal
from app.config import Settings
from app.errors import Unauthorized
from app.runtime import Runtime

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your VoxParse API key.")
_bearer = HTTPBearer(auto_error=False, description="Your VoxParse API key as a bearer token.")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_principal(
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the key (X-API-Key or Authorization: Bearer) and count the request."""
    presented = api_key or (bearer.credentials if bearer else None)
    client = request.client.host if request.client else "unknown"
    limiter, failures = runtime.limiter, runtime.settings.auth_failure_rate_limit
    limiter.refuse_if_over(failures, "auth-failures", client, per="client address")
    try:
        # A short transaction of its own, so a long request never keeps one open.
        with runtime.db.transaction(read_only=True) as session:
            principal = accounts.authenticate(session, presented)
    except Unauthorized:
        limiter.hit(failures, "auth-failures", client, per="client address")
        raise
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
