"""Prepaid top-ups through Stripe Checkout, credited exactly once from signed webhooks.

A top-up is one Checkout Session. `checkout.session.completed` (paid) credits the amount as a
`topup` entry and the product's bonus as a `bonus` entry, in the same transaction that inserts the
`payments` row keyed by the session id and records the event id: a redelivered, duplicated or
concurrent event finds the row (or loses the race on its primary key) and changes nothing.
`charge.refunded` takes back what was refunded, and the bonus in proportion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import BadGateway, BadRequest, ServiceUnavailable
from app.models import EntryKind, Payment, PaymentStatus, StripeEvent
from app.runtime import Runtime
from app.services import ledger, pricing
from app.services.accounts import Principal

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300


class RetryLater(ServiceUnavailable):
    """Stripe should deliver this event again later (it does, with backoff, for days)."""


@dataclass(frozen=True)
class CheckoutSession:
    checkout_url: str
    session_id: str


def stripe_client(settings: Settings) -> stripe.StripeClient:
    if settings.stripe_secret_key is None:
        raise ServiceUnavailable("Top-ups are not configured on this server (no Stripe key).")
    base = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    return stripe.StripeClient(
        settings.stripe_secret_key.get_secret_value(),
        base_addresses=base,  # type: ignore[arg-type]
        max_network_retries=1,
    )


def create_checkout(
    settings: Settings, principal: Principal, amount_cents: int, success_url: str | None, cancel_url: str | None
) -> CheckoutSession:
    product = settings.product_for(amount_cents)
    if product is None:
        offered = ", ".join(str(p.amount_cents) for p in settings.topup_products)
        raise BadRequest(f"Unknown top-up amount {amount_cents}; choose one of: {offered} (cents).")
    client = stripe_client(settings)
    total = pricing.dollars(product.amount_cents + product.bonus_cents)
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": settings.currency,
                    "unit_amount": product.amount_cents,
                    "product_data": {"name": f"VoxParse credit: ${total}"},
                },
            }
        ],
        "success_url": success_url or settings.checkout_success_url,
        "cancel_url": cancel_url or settings.checkout_cancel_url,
        "client_reference_id": principal.account_id,
        "metadata": {
            "account_id": principal.account_id,
            "amount_cents": str(product.amount_cents),
            "bonus_cents": str(product.bonus_cents),
        },
    }
    try:
        session = client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    except stripe.StripeError as exc:
        # Stripe's own message says what was wrong; it never contains our key.
        raise BadGateway(f"Stripe error: {exc.user_message or 'the request failed'}") from exc
    if not session.url:
        raise BadGateway("Stripe returned a checkout session without a URL.")
    return CheckoutSession(checkout_url=session.url, session_id=session.id)


def verify_event(settings: Settings, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, if Stripe signed it with our webhook secret within the tolerance window."""
    if settings.stripe_webhook_secret is None:
        raise ServiceUnavailable("Stripe webhooks are not configured on this server.")
    if not signature:
        raise BadRequest("Missing Stripe-Signature header.")
    try:
        event = stripe.Webhook.construct_event(
            payload,
            signature,
            settings.stripe_webhook_secret.get_secret_value(),
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as exc:
        raise BadRequest("Invalid Stripe signature.") from exc
    except ValueError as exc:
        raise BadRequest("Invalid webhook payload.") from exc
    body: dict[str, Any] = event.to_dict()
    if not isinstance(body.get("id"), str) or not isinstance(body.get("type"), str):
        raise BadRequest("Invalid webhook payload.")
    return body


def _seen(session: Session, event_id: str) -> bool:
    return session.get(StripeEvent, event_id) is not None


def _credit_session(session: Session, settings: Settings, checkout: dict[str, Any]) -> None:
    if checkout.get("payment_status") != "paid":
        return  # an asynchronous payment method: credited by async_payment_succeeded later
    session_id = str(checkout["id"])
    if session.get(Payment, session_id) is not None:
        return
    metadata = checkout.get("metadata") or {}
    account_id = metadata.get("account_id") or checkout.get("client_reference_id")
    if not account_id:
        logger.warning("checkout session without an account: ignored")
        return
    paid = int(checkout.get("amount_total") or 0)
    product = settings.product_for(int(metadata.get("amount_cents") or paid))
    # The bonus is the product's, and only when the full product price was paid.
    bonus = int(metadata.get("bonus_cents") or (product.bonus_cents if product else 0))
    if product is None or paid < product.amount_cents:
        bonus = 0
    session.add(
        Payment(
            session_id=session_id,
            account_id=str(account_id),
            payment_intent=checkout.get("payment_intent"),
            amount_cents=paid,
            bonus_cents=bonus,
            currency=str(checkout.get("currency") or settings.currency),
            status=PaymentStatus.PAID,
            refunded_cents=0,
        )
    )
    session.flush()
    ledger.credit(
        session,
        str(account_id),
        paid,
        kind=EntryKind.TOPUP,
        reason="Stripe top-up",
        payment_ref=session_id,
        expiry_days=settings.credit_expiry_days,
    )
    if bonus:
        ledger.credit(
            session,
            str(account_id),
            bonus,
            kind=EntryKind.BONUS,
            reason="top-up bonus",
            payment_ref=session_id,
            expiry_days=settings.credit_expiry_days,
        )


def _refund_charge(session: Session, charge: dict[str, Any]) -> None:
    intent = charge.get("payment_intent")
    payment = session.scalars(select(Payment).where(Payment.payment_intent == intent)).one_or_none() if intent else None
    if payment is None:
        # The refund arrived before the payment it refunds: have Stripe send it again later.
        raise RetryLater("Refund for a payment not seen yet; retry later.")
    refunded_total = min(int(charge.get("amount_refunded") or 0), payment.amount_cents)
    new_refund = refunded_total - payment.refunded_cents
    if new_refund <= 0:
        return
    bonus_back = payment.bonus_cents * refunded_total // payment.amount_cents - (
        payment.bonus_cents * payment.refunded_cents // payment.amount_cents
    )
    ledger.debit(
        session,
        payment.account_id,
        new_refund,
        kind=EntryKind.REFUND,
        reason="Stripe refund",
        payment_ref=payment.session_id,
    )
    if bonus_back:
        ledger.debit(
            session,
            payment.account_id,
            bonus_back,
            kind=EntryKind.REFUND,
            reason="bonus of a refunded top-up",
            payment_ref=payment.session_id,
        )
    payment.refunded_cents = refunded_total
    payment.status = (
        PaymentStatus.REFUNDED if refunded_total >= payment.amount_cents else PaymentStatus.PARTIALLY_REFUNDED
    )


HANDLERS = {
    "checkout.session.completed": "credit",
    "checkout.session.async_payment_succeeded": "credit",
    "charge.refunded": "refund",
}


def handle_event(runtime: Runtime, event: dict[str, Any]) -> str:
    """Apply a verified event once. Returns what happened, for the response body."""
    event_id, event_type = event["id"], event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    try:
        with runtime.db.transaction() as session:
            if _seen(session, event_id):
                return "duplicate"
            action = HANDLERS.get(event_type)
            if action == "credit":
                _credit_session(session, runtime.settings, obj)
            elif action == "refund":
                _refund_charge(session, obj)
            session.add(StripeEvent(id=event_id, type=event_type))
            session.flush()
    except IntegrityError:
        # Another delivery of the same event (or session) committed first.
        return "duplicate"
    return "processed" if event_type in HANDLERS else "ignored"
