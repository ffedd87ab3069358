"""Money edges and hostile input found by an attacker's pass (issue 14): signed Stripe garbage, return
URLs elsewhere, callback ports, deep metadata, keys in logs. Each answers a clear 4xx (or the
bounded behaviour) and leaves the ledger as it was."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest

from app.jobs import webhooks
from app.logs import SecretFilter, redact_secrets
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.factories import Customer, make_account
from tests.support.fake_stripe import FakeStripe, sign
from tests.support.stripe_events import WEBHOOK_SECRET, balance, deliver, paid_event
from tests.support.synth import SynthCall


def _ledger_rows(runtime: Runtime, account_id: str) -> int:
    from sqlalchemy import func, select

    from app.models import LedgerEntry

    with runtime.db.transaction(read_only=True) as session:
        return int(
            session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == account_id))
            or 0
        )


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        ("negative amount", {"amount_total": -500}),
        ("zero amount", {"amount_total": 0}),
        ("text amount", {"amount_total": "abc"}),
        ("fractional amount", {"amount_total": 12.5}),
        ("another currency", {"currency": "xyz"}),
    ],
)
async def test_signed_checkout_sessions_of_a_bad_shape_are_400_and_credit_nothing(
    stripe_client: httpx.AsyncClient, runtime: Runtime, case: str, extra: dict[str, Any]
) -> None:
    customer = make_account(runtime)
    payload = paid_event(customer, f"cs_shape_{case}", 1000, 0, f"evt_shape_{case}", **extra)
    assert_error(await deliver(stripe_client, payload), 400)
    assert (await balance(stripe_client, customer))["balance_cents"] == 0
    assert _ledger_rows(runtime, customer.account_id) == 0


@pytest.mark.parametrize("body", [b'"x"', b"[]", b"42", b"null"])
async def test_signed_json_that_is_not_an_event_is_400(stripe_client: httpx.AsyncClient, body: bytes) -> None:
    assert_error(await deliver(stripe_client, body), 400)


async def test_a_timestamp_from_the_future_is_refused(stripe_client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    payload = paid_event(customer, "cs_future", 1000, 0, "evt_future")
    signature = sign(payload, WEBHOOK_SECRET, timestamp=int(time.time()) + 3600)
    assert_error(await deliver(stripe_client, payload, signature), 400)
    assert (await balance(stripe_client, customer))["balance_cents"] == 0


async def test_a_paid_session_for_an_unknown_account_is_not_acknowledged(
    stripe_client: httpx.AsyncClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    ghost = Customer(account_id="acct_does_not_exist", key="", key_id="")
    payload = paid_event(ghost, "cs_ghost", 1000, 0, "evt_ghost")
    with caplog.at_level(logging.ERROR):
        response = await deliver(stripe_client, payload)
    assert response.status_code >= 300  # Stripe retries anything but 2xx
    assert response.json()["error"]["code"] == response.status_code
    assert any("evt_ghost" in r.getMessage() for r in caplog.records)
    # Not recorded as seen: once the account exists, the retry credits it.
    again = await deliver(stripe_client, payload)
    assert again.status_code == response.status_code


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://evil.example.com/console",
        "http://evil.example.com/console",
        "https://user:pw@127.0.0.1/console",
        "ftp://127.0.0.1/console",
    ],
)
async def test_checkout_return_urls_must_be_ours(
    stripe_client: httpx.AsyncClient, stripe_api: FakeStripe, runtime: Runtime, url: str
) -> None:
    customer = make_account(runtime)
    for field in ("success_url", "cancel_url"):
        response = await stripe_client.post(
            "/billing/checkout", headers=customer.headers, json={"amount_cents": 1000, field: url}
        )
        message = assert_error(response, 400)
        assert field in message
    assert stripe_api.requests == []


async def test_checkout_accepts_the_consoles_own_url(
    stripe_client: httpx.AsyncClient, stripe_api: FakeStripe, runtime: Runtime
) -> None:
    customer = make_account(runtime)
    url = "http://127.0.0.1:9999/console#/balance?topup=success"
    response = await stripe_client.post(
        "/billing/checkout", headers=customer.headers, json={"amount_cents": 1000, "success_url": url}
    )
    assert response.status_code == 200, response.text
    assert stripe_api.requests[-1]["form"]["success_url"] == url


@pytest.mark.parametrize("url", ["http://93.184.216.34:22/", "https://93.184.216.34:8443/hook"])
def test_callbacks_only_to_web_ports(url: str) -> None:
    with pytest.raises(webhooks.InvalidCallbackUrl, match="port"):
        webhooks.resolve_callback(url, allow_private=False)
    # Development (private callbacks allowed) takes any port.
    webhooks.resolve_callback(url, allow_private=True)


async def test_deeply_nested_metadata_is_400_and_nothing_is_held(
    client: httpx.AsyncClient, runtime: Runtime, support_calls: dict[str, SynthCall]
) -> None:
    customer = make_account(runtime, credit_cents=500)
    deep: Any = "leaf"
    for _ in range(300):
        deep = {"k": deep}
    metadata = json.dumps(deep)
    assert len(metadata) < 4096
    with support_calls["wav"].path.open("rb") as f:
        response = await client.post(
            "/v1/transcribe",
            headers=customer.headers,
            files={"file": ("call.wav", f)},
            data={"async": "true", "metadata": metadata},
        )
    assert "levels" in assert_error(response, 400)
    assert (await client.get("/v1/balance", headers=customer.headers)).json()["balance_cents"] == 500
    assert _ledger_rows(runtime, customer.account_id) == 1  # the credit only


def test_keys_in_request_lines_are_masked_before_any_handler_sees_them() -> None:
    key = "vxp_live_" + "A1b2" * 10
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/v1/balance?api_key={key}&x=1", "1.1", 401), None,
    )  # fmt: skip
    SecretFilter().filter(record)
    line = record.getMessage()
    assert key not in line
    assert "api_key=[redacted]&x=1" in line
    assert redact_secrets(f"Bearer {key}") == "Bearer vxp_live_[redacted]"
    assert redact_secrets("/v1/jobs?token=abc&limit=5") == "/v1/jobs?token=[redacted]&limit=5"
