from __future__ import annotations

import dataclasses

import httpx
from fastapi import FastAPI, Request

from app.main import create_app
from app.runtime import Runtime
from tests.support.factories import settings_for


def _app_reporting_client(runtime: Runtime, **overrides: object) -> FastAPI:
    shared = dataclasses.replace(runtime, settings=settings_for(runtime.settings.database_url, **overrides))
    app = create_app(runtime=shared)

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, str | None]:
        return {"client": request.client.host if request.client else None, "scheme": request.url.scheme}

    return app


async def _whoami(app: FastAPI, peer: str, headers: dict[str, str]) -> dict[str, str]:
    transport = httpx.ASGITransport(app=app, client=(peer, 5000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        response = await c.get("/whoami", headers=headers)
        assert response.status_code == 200
        return dict(response.json())


FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


async def test_forwarded_headers_are_honoured_from_trusted_proxies(runtime: Runtime) -> None:
    app = _app_reporting_client(runtime, trusted_proxies=["10.0.0.2"])
    assert await _whoami(app, "10.0.0.2", FORWARDED) == {"client": "203.0.113.9", "scheme": "https"}


async def test_forwarded_headers_are_ignored_from_anyone_else(runtime: Runtime) -> None:
    app = _app_reporting_client(runtime, trusted_proxies=["10.0.0.2"])
    assert await _whoami(app, "198.51.100.7", FORWARDED) == {"client": "198.51.100.7", "scheme": "http"}


async def test_root_path_prefix(runtime: Runtime) -> None:
    """Behind a proxy that forwards /voxparse/..., `serve` hands uvicorn VOXPARSE_ROOT_PATH."""
    app = _app_reporting_client(runtime)
    transport = httpx.ASGITransport(app=app, root_path="/voxparse")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        assert (await c.get("/voxparse/v1/pricing")).status_code == 200
        spec = (await c.get("/voxparse/openapi.json")).json()
    assert spec["servers"] == [{"url": "/voxparse"}]


async def test_cors_is_closed_by_default_and_opens_for_listed_origins(runtime: Runtime) -> None:
    preflight = {"Origin": "https://app.example.test", "Access-Control-Request-Method": "GET"}
    closed = create_app(runtime=runtime)
    async with (
        closed.router.lifespan_context(closed),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=closed), base_url="http://t") as c,
    ):
        response = await c.get("/v1/pricing", headers={"Origin": "https://app.example.test"})
        assert "access-control-allow-origin" not in response.headers
    shared = dataclasses.replace(
        runtime, settings=settings_for(runtime.settings.database_url, cors_origins=["https://app.example.test"])
    )
    opened = create_app(runtime=shared)
    async with (
        opened.router.lifespan_context(opened),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=opened), base_url="http://t") as c,
    ):
        response = await c.options("/v1/pricing", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://app.example.test"
        other = await c.get("/v1/pricing", headers={"Origin": "https://evil.example.test"})
        assert "access-control-allow-origin" not in other.headers
