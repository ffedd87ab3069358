from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.factories import Customer, serve_asgi


async def test_unknown_route_is_404_in_the_error_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/nothing-here"), 404)


async def test_wrong_method_is_405_in_the_error_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/v1/pricing"), 405)


async def test_validation_errors_are_400(client: httpx.AsyncClient, account: Customer) -> None:
    message = assert_error(await client.get("/v1/jobs?limit=abc", headers=account.headers), 400)
    assert "limit" in message


@pytest.mark.parametrize("path", ["/billing/checkout", "/v1/apex/chat/completions"])
async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, account: Customer, path: str) -> None:
    """Endpoints that take a body refuse one over `max_request_bytes`, declared or streamed,
    before they look at it."""
    big = b"{" + b"x" * (2 * 1024 * 1024)
    headers = {**account.headers, "Content-Type": "application/json"}
    assert_error(await client.post(path, content=big, headers=headers), 413)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(32):
            yield b"x" * 65536

    assert_error(await client.post(path, content=chunks(), headers=headers), 413)


async def test_unhandled_exception_is_500_without_details(runtime: Runtime) -> None:
    app: FastAPI = create_app(runtime=runtime)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret-detail vxp_live_" + "Z" * 40)

    async with serve_asgi(app, raise_app_exceptions=False) as c:
        response = await c.get("/boom")
    message = assert_error(response, 500)
    assert "secret-detail" not in response.text
    assert "Traceback" not in response.text
    assert "vxp_live_" not in message
