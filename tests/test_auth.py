from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.billing import accounts
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.factories import Customer, read_all_rows, sqlite_file_bytes


async def test_x_api_key_header(client: httpx.AsyncClient, account: Customer) -> None:
    response = await client.get("/v1/balance", headers={"X-API-Key": account.key})
    assert response.status_code == 200
    assert response.json()["balance_cents"] == 10_000


async def test_bearer_token(client: httpx.AsyncClient, account: Customer) -> None:
    response = await client.get("/v1/balance", headers={"Authorization": f"Bearer {account.key}"})
    assert response.status_code == 200
    assert response.json()["balance_dollars"] == "100.00"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": ""},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "vxp_live_short"},
        {"X-API-Key": "vxp_live_" + "A" * 43},
        {"X-API-Key": ("vxp_live_" + "é" * 40).encode("latin-1")},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer vxp_live_" + "B" * 43},
    ],
)
async def test_missing_malformed_or_unknown_key_is_401(client: httpx.AsyncClient, headers: dict[str, Any]) -> None:
    assert_error(await client.get("/v1/balance", headers=headers), 401)
    assert_error(await client.get("/v1/jobs", headers=headers), 401)


async def test_revoked_key_is_401(client: httpx.AsyncClient, runtime: Runtime, account: Customer) -> None:
    assert (await client.get("/v1/balance", headers=account.headers)).status_code == 200
    with runtime.db.transaction() as session:
        accounts.revoke_key(session, account.key_id)
    message = assert_error(await client.get("/v1/balance", headers=account.headers), 401)
    assert "revoked" in message


async def test_public_endpoints_need_no_key(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/v1/pricing", "/billing/products"):
        assert (await client.get(path)).status_code == 200, path


async def test_no_plaintext_key_is_stored(runtime: Runtime, account: Customer) -> None:
    secret_part = account.key.removeprefix(accounts.KEY_PREFIX)
    assert secret_part not in read_all_rows(runtime)
    assert account.key.encode() not in sqlite_file_bytes(runtime)
    assert accounts.hash_key(account.key) in read_all_rows(runtime)


def test_keys_have_the_documented_form(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        created = accounts.create_key(session, accounts.create_account(session, "x"), "x")
    assert created.plaintext.startswith("vxp_live_")
    assert len(created.plaintext) >= len("vxp_live_") + 32
    assert accounts.looks_like_key(created.plaintext)
