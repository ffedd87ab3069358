"""Stripe as the tests drive it: the test keys, a runtime configured for them, and signed events."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from app.runtime import Runtime
from tests.support.factories import Customer, settings_for
from tests.support.fake_stripe import sign

SECRET_KEY = "sk_test_" + "k" * 24
WEBHOOK_SECRET = "whsec_" + "w" * 24


def with_stripe(runtime: Runtime, api_base: str | None, **overrides: Any) -> Runtime:
    values: dict[str, Any] = {
        "stripe_secret_key": SECRET_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_api_base": api_base,
        "checkout_allowed_hosts": ["example.test"],
    }
    values.update(overrides)
    return dataclasses.replace(runtime, settings=settings_for(runtime.settings.database_url, **values))


def paid_event(customer: Customer, session_id: str, amount: int, bonus: int, event_id: str, **extra: Any) -> bytes:
    obj = {
        "id": session_id,
        "object": "checkout.session",
        "payment_status": "paid",
        "amount_total": amount,
        "currency": "usd",
        "payment_intent": f"pi_{session_id}",
        "client_reference_id": customer.account_id,
        "metadata": {"account_id": customer.account_id, "amount_cents": str(amount), "bonus_cents": str(bonus)},
    }
    obj.update(extra)
    return json.dumps(
        {"id": event_id, "object": "event", "type": "checkout.session.completed", "data": {"object": obj}}
    ).encode()


def refund_event(session_id: str, refunded: int, event_id: str) -> bytes:
    charge = {
        "id": f"ch_{session_id}",
        "object": "charge",
        "payment_intent": f"pi_{session_id}",
        "amount": 20000,
        "amount_refunded": refunded,
        "refunded": refunded >= 20000,
    }
    return json.dumps(
        {"id": event_id, "object": "event", "type": "charge.refunded", "data": {"object": charge}}
    ).encode()


async def deliver(client: httpx.AsyncClient, payload: bytes, signature: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature or sign(payload, WEBHOOK_SECRET)}
    return await client.post("/billing/webhook", content=payload, headers=headers)


async def balance(client: httpx.AsyncClient, customer: Customer) -> dict[str, Any]:
    return dict((await client.get("/v1/balance", headers=customer.headers)).json())
