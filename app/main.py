"""The application factory. Nothing heavy happens at import time: the lifespan builds the runtime."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api.body_limit import BodyLimitMiddleware
from app.api.errors import install_error_handlers
from app.api.routers import (
    apex,
    balance,
    billing,
    categories,
    console,
    health,
    jobs,
    pricing,
    stream,
    transcribe,
    webhook_secret,
)
from app.config import Settings, get_settings
from app.jobs import maintenance
from app.logs import configure_logging
from app.runtime import Runtime

logger = logging.getLogger(__name__)


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids (the handler's name) so generated clients do not churn."""
    return route.name


def upload_body_limits(settings: Settings) -> dict[str, int]:
    """Endpoints that take uploads get the upload limit plus room for the form's other fields."""
    return {"/v1/transcribe": settings.max_upload_bytes + 1024 * 1024}


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. Tests pass a `runtime` to share one across apps; it is then not closed."""
    given_runtime = runtime
    settings = runtime.settings if runtime is not None else (settings or get_settings())
    configure_logging(settings.log_level)
    app_settings = settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if given_runtime is not None:
            active = given_runtime
        else:
            active = await run_in_threadpool(Runtime.create, app_settings)
        app.state.runtime = active
        await run_in_threadpool(maintenance.recover, active, fail_interrupted_sync_jobs=True)
        if active.settings.preload_models:
            await run_in_threadpool(active.models.load_all)
        loop = maintenance.MaintenanceLoop(active)
        loop.start()
        try:
            yield
        finally:
            loop.stop()
            if given_runtime is None:
                await active.aclose()

    app = FastAPI(
        title="VoxParse Server",
        version="0.1.0",
        summary="Call transcription, diarization and analysis, with a prepaid balance.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    routers = (health, pricing, billing, balance, jobs, transcribe, stream, categories, webhook_secret, apex, console)
    for module in routers:
        app.include_router(module.router)
    app.mount(console.STATIC_PATH, console.static_files, name="console-static")

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_request_bytes,
        path_limits=upload_body_limits(settings),
    )
    # Only these peers may set the client address and scheme through X-Forwarded-*.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def __getattr__(name: str) -> Any:
    """`uvicorn app.main:app` and `fastapi run`: the app, built from the environment's settings on
    first access (importing this module stays cheap). `voxparse serve` remains the supported entry
    point; this one behaves the same behind a proxy."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _leave_forwarded_headers_to_the_app()
    application = create_app()
    globals()["app"] = application
    return application


def _leave_forwarded_headers_to_the_app() -> None:
    """uvicorn wraps the app it loads in its own ProxyHeadersMiddleware, which believes
    X-Forwarded-For from 127.0.0.1 whatever VOXPARSE_TRUSTED_PROXIES says. This app applies the
    trusted list itself (as `voxparse serve` does, with uvicorn's handling off), so when uvicorn's
    Config is loading this module (its `load` is on the stack), its own handling is turned off."""
    frame = inspect.currentframe()
    for _ in range(16):
        if frame is None:
            return
        config: Any = frame.f_locals.get("self")
        if type(config).__module__ == "uvicorn.config" and hasattr(config, "proxy_headers"):
            config.proxy_headers = False
            return
        frame = frame.f_back
