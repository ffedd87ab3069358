"""Stripe top-ups: checkout through the real `stripe` library, signed webhooks credited once."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from app.main import create_app
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.factories import Customer, make_account, serve_asgi
from tests.support.fake_stripe import FakeStripe, sign
from tests.support.stripe_events import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    balance,
    deliver,
    paid_event,
    refund_event,
    with_stripe,
)


async def test_checkout_sends_amount_currency_metadata_and_urls(
    stripe_client: httpx.AsyncClient, stripe_api: FakeStripe, account: Customer
) -> None:
    response = await stripe_client.post(
        "/billing/checkout",
        headers=account.headers,
        json={"amount_cents": 20000, "success_url": "https://example.test/ok", "cancel_url": "https://example.test/no"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["session_id"].startswith("cs_test_")
    assert body["checkout_url"].startswith("https://checkout.stripe.com/")
    sent = stripe_api.requests[-1]
    assert sent["path"] == "/v1/checkout/sessions"
    assert sent["authorization"] == f"Bearer {SECRET_KEY}"
    form = sent["form"]
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == "20000"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["metadata[account_id]"] == account.account_id
    assert form["metadata[bonus_cents]"] == "1000"
    assert form["success_url"] == "https://example.test/ok"
    assert form["cancel_url"] == "https://example.test/no"


async def test_checkout_refusals(
    stripe_client: httpx.AsyncClient, stripe_api: FakeStripe, runtime: Runtime, account: Customer
) -> None:
    assert_error(
        await stripe_client.post("/billing/checkout", headers=account.headers, json={"amount_cents": 1234}), 400
    )
    assert_error(await stripe_client.post("/billing/checkout", json={"amount_cents": 1000}), 401)
    stripe_api.fail_with = (400, "Invalid currency: xyz")
    message = assert_error(
        await stripe_client.post("/billing/checkout", headers=account.headers, json={"amount_cents": 1000}), 502
    )
    assert "Invalid currency" in message
    assert SECRET_KEY not in message
    async with serve_asgi(create_app(runtime=with_stripe(runtime, "http://127.0.0.1:9"))) as unreachable:
        message = assert_error(
            await unreachable.post("/billing/checkout", headers=account.headers, json={"amount_cents": 1000}), 502
        )
        assert SECRET_KEY not in message
    async with serve_asgi(create_app(runtime=with_stripe(runtime, None, stripe_secret_key=None))) as unconfigured:
        assert_error(
            await unconfigured.post("/billing/checkout", headers=account.headers, json={"amount_cents": 1000}), 503
        )


async def test_a_paid_checkout_credits_amount_and_bonus_once(
    stripe_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = make_account(runtime)
    payload = paid_event(customer, "cs_paid_1", 20000, 1000, "evt_1")
    first = await deliver(stripe_client, payload)
    assert first.status_code == 200
    assert first.json() == {"received": True, "result": "processed"}
    replay = await deliver(stripe_client, payload)
    assert replay.json()["result"] == "duplicate"
    # The same session in a different event (Stripe retries with new ids for some types).
    await deliver(stripe_client, paid_event(customer, "cs_paid_1", 20000, 1000, "evt_1b"))
    body = await balance(stripe_client, customer)
    assert body["balance_cents"] == 21000
    assert body["balance_dollars"] == "210.00"
    assert [(t["amount_cents"], t["bonus_cents"]) for t in body["recent_topups"]] == [(20000, 1000)]


async def test_twenty_concurrent_deliveries_credit_once(stripe_client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    payload = paid_event(customer, "cs_race_1", 50000, 5000, "evt_race_1")
    responses = await asyncio.gather(*(deliver(stripe_client, payload) for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["result"] for r in responses).count("processed") == 1
    assert (await balance(stripe_client, customer))["balance_cents"] == 55000


@pytest.mark.parametrize("case", ["bad-signature", "wrong-secret", "old-timestamp", "no-header", "malformed-json"])
async def test_unverifiable_webhooks_are_400_and_credit_nothing(
    stripe_client: httpx.AsyncClient, runtime: Runtime, case: str
) -> None:
    customer = make_account(runtime)
    payload = paid_event(customer, f"cs_bad_{case}", 1000, 0, f"evt_bad_{case}")
    signature = {
        "bad-signature": sign(payload, WEBHOOK_SECRET).replace("v1=", "v1=00"),
        "wrong-secret": sign(payload, "whsec_other"),
        "old-timestamp": sign(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 3600),
        "no-header": "",
        "malformed-json": sign(b"{not json", WEBHOOK_SECRET),
    }[case]
    body = b"{not json" if case == "malformed-json" else payload
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["Stripe-Signature"] = signature
    response = await stripe_client.post("/billing/webhook", content=body, headers=headers)
    assert_error(response, 400)
    assert (await balance(stripe_client, customer))["balance_cents"] == 0


async def test_unknown_and_unpaid_events_change_nothing(stripe_client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    other = json.dumps({"id": "evt_other", "type": "customer.created", "data": {"object": {}}}).encode()
    assert (await deliver(stripe_client, other)).json()["result"] == "ignored"
    unpaid = paid_event(customer, "cs_unpaid", 1000, 0, "evt_unpaid", payment_status="unpaid")
    assert (await deliver(stripe_client, unpaid)).status_code == 200
    assert (await balance(stripe_client, customer))["balance_cents"] == 0


async def test_refunds_take_back_the_amount_and_its_bonus(stripe_client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    await deliver(stripe_client, paid_event(customer, "cs_refund", 20000, 1000, "evt_refund_paid"))
    # Half refunded, then the rest: the bonus goes back in proportion.
    assert (await deliver(stripe_client, refund_event("cs_refund", 10000, "evt_refund_1"))).status_code == 200
    assert (await balance(stripe_client, customer))["balance_cents"] == 21000 - 10000 - 500
    await deliver(stripe_client, refund_event("cs_refund", 10000, "evt_refund_1"))  # replay
    await deliver(stripe_client, refund_event("cs_refund", 20000, "evt_refund_2"))
    assert (await balance(stripe_client, customer))["balance_cents"] == 0


async def test_a_refund_before_its_payment_is_retried_later(stripe_client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    early = refund_event("cs_ooo", 20000, "evt_ooo_refund")
    assert_error(await deliver(stripe_client, early), 503)
    await deliver(stripe_client, paid_event(customer, "cs_ooo", 20000, 1000, "evt_ooo_paid"))
    assert (await deliver(stripe_client, early)).json()["result"] == "processed"
    assert (await balance(stripe_client, customer))["balance_cents"] == 0


async def test_a_refund_after_spending_shows_what_is_owed(stripe_client: httpx.AsyncClient, runtime: Runtime) -> None:
    from app.billing import ledger
    from app.jobs import records

    customer = make_account(runtime)
    await deliver(stripe_client, paid_event(customer, "cs_spent", 20000, 1000, "evt_spent_paid"))
    with runtime.db.transaction() as session:
        job = records.create_job(session, customer.account_id, type="transcribe", model="test")
        hold = ledger.place_hold(session, customer.account_id, job.id, 5000, expiry_days=183)
        ledger.settle_hold(session, hold.id, 5000)
    await deliver(stripe_client, refund_event("cs_spent", 20000, "evt_spent_refund"))
    body = await balance(stripe_client, customer)
    assert body["balance_cents"] == 21000 - 5000 - 21000
    assert body["balance_dollars"] == "-50.00"
