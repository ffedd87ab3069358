from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.main import create_app
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.factories import make_account, serve_asgi, settings_for
from tests.support.services import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
def limited_runtimes(request: pytest.FixtureRequest, database_url: str) -> Iterator[list[Runtime]]:
    """Two server processes' worth of runtime with a limit of 3 requests a minute.

    With Redis they share one count, as replicas behind a proxy do.
    """
    redis_url = REDIS_URL if request.param == "redis" else None
    settings = settings_for(database_url, rate_limit="3/minute", redis_url=redis_url)
    runtimes = [Runtime.create(settings), Runtime.create(settings)]
    yield runtimes
    for rt in runtimes:
        rt.close()


async def test_rate_limit_headers_and_429(limited_runtimes: list[Runtime]) -> None:
    runtime = limited_runtimes[0]
    customer, other = make_account(runtime), make_account(runtime)
    async with serve_asgi(create_app(runtime=runtime)) as client:
        for remaining in (2, 1, 0):
            response = await client.get("/v1/balance", headers=customer.headers)
            assert response.status_code == 200
            assert response.headers["X-RateLimit-Limit"] == "3"
            assert response.headers["X-RateLimit-Remaining"] == str(remaining)
            assert int(response.headers["X-RateLimit-Reset"]) > 0
        limited = await client.get("/v1/balance", headers=customer.headers)
        assert_error(limited, 429)
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        # Each key has its own count; public endpoints are not counted.
        assert (await client.get("/v1/balance", headers=other.headers)).status_code == 200
        assert (await client.get("/v1/pricing")).status_code == 200


async def test_replicas_share_the_count_in_redis(limited_runtimes: list[Runtime]) -> None:
    first, second = limited_runtimes
    customer = make_account(first)
    async with serve_asgi(create_app(runtime=first)) as a, serve_asgi(create_app(runtime=second)) as b:
        statuses = [(await c.get("/v1/jobs", headers=customer.headers)).status_code for c in (a, b, a, b)]
    shared = first.settings.redis_url is not None
    assert statuses == ([200, 200, 200, 429] if shared else [200, 200, 200, 200])


async def test_unreachable_redis_fails_open(database_url: str) -> None:
    settings = settings_for(database_url, rate_limit="1/minute", redis_url="redis://127.0.0.1:1/0")
    runtime = Runtime.create(settings)
    customer = make_account(runtime)
    try:
        async with serve_asgi(create_app(runtime=runtime)) as client:
            for _ in range(2):
                assert (await client.get("/v1/balance", headers=customer.headers)).status_code == 200
    finally:
        runtime.close()


async def test_failed_authentication_is_limited_per_client_address(database_url: str) -> None:
    runtime = Runtime.create(settings_for(database_url, auth_failure_rate_limit="5/minute"))
    customer = make_account(runtime)
    app = create_app(runtime=runtime)
    try:
        async with serve_asgi(app) as client:
            for _ in range(5):
                assert_error(await client.get("/v1/balance", headers={"X-API-Key": "vxp_live_guess"}), 401)
            limited = await client.get("/v1/balance", headers={"X-API-Key": "vxp_live_guess"})
            assert "client address" in assert_error(limited, 429)
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
            # Past the limit the address is refused whatever it sends: guessing is bounded.
            assert_error(await client.get("/v1/balance", headers=customer.headers), 429)
            # Another address is not held back.
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
                assert (await other.get("/v1/balance", headers=customer.headers)).status_code == 200
    finally:
        runtime.close()
