"""A database that goes away for a moment: 503 while it is gone, back to normal by itself."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from app.db import migrate
from app.main import create_app
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.factories import make_account, serve_asgi, settings_for
from tests.support.services import POSTGRES_ADMIN_DSN


def _set_connections(database: str, allowed: bool) -> None:
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))


async def test_requests_get_503_while_the_database_is_away_and_recover(make_database: Callable[[str], str]) -> None:
    url = make_database("postgresql")
    migrate(url)
    database = url.rsplit("/", 1)[1]
    runtime = Runtime.create(settings_for(url))
    customer = make_account(runtime, credit_cents=100)
    try:
        async with serve_asgi(create_app(runtime=runtime)) as client:
            assert (await client.get("/v1/balance", headers=customer.headers)).status_code == 200
            _set_connections(database, allowed=False)
            try:
                down = await client.get("/v1/balance", headers=customer.headers)
                message = assert_error(down, 503)
                assert "database" in message.lower()
                assert down.headers["Retry-After"] == "5"
                health = await client.get("/health")
                assert health.status_code == 503
                assert health.json()["database"] == "unavailable"
            finally:
                _set_connections(database, allowed=True)
            back = await client.get("/v1/balance", headers=customer.headers)
            assert back.status_code == 200
            assert back.json()["balance_cents"] == 100
    finally:
        runtime.close()
