"""Prepaid top-ups through Stripe Checkout, credited exactly once from signed webhooks.

A top-up is one Checkout Session. `checkout.session.completed` (paid) credits the amount as a
`topup` entry and the product's bonus as a `bonus` entry, in the same transaction that inserts the
`payments` row keyed by the session id and records the event id: a redelivered, duplicated or
concurrent event finds the row (or loses the race on its primary key) and changes nothing.
`charge.refunded` takes back what was refunded, and the bonus in proportion.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import stripe
from pydantic import BaseModel, Field, StrictInt, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.billing import ledger, pricing
from app.billing.accounts import Principal
from app.config import Settings
from app.db import Database
from app.errors import BadGateway, BadRequest, ServiceUnavailable
from app.models import Account, EntryKind, Payment, PaymentStatus, StripeEvent

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300


class RetryLater(ServiceUnavailable):
    """Stripe should deliver this event again later (it does, with backoff, for days)."""


class UnknownAccount(RetryLater):
    """A paid session for an account this server does not have: answered non-2xx so that Stripe
    keeps retrying while an operator looks (the error log names the event)."""


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


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def return_url(settings: Settings, url: str | None, field: str) -> str | None:
    """A checkout return URL the client may choose: https (http only for this machine) on a host
    the operator allows (`VOXPARSE_CHECKOUT_ALLOWED_HOSTS`, by default the console's own). Anything
    else would let Stripe send a paying customer to a page of someone else's choosing."""
    if url is None or not url.strip():
        return None
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS)
    if not secure or not host or parts.username or parts.password or host not in settings.checkout_hosts:
        raise BadRequest(
            f"'{field}' must be an https URL on an allowed host ({', '.join(sorted(settings.checkout_hosts))})."
        )
    return url.strip()


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
        "success_url": return_url(settings, success_url, "success_url") or settings.checkout_success_url,
        "cancel_url": return_url(settings, cancel_url, "cancel_url") or settings.checkout_cancel_url,
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
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise BadRequest("Invalid webhook payload.") from exc
    _refuse_future_timestamp(signature)
    try:
        body: dict[str, Any] = event.to_dict()
    except (AttributeError, TypeError) as exc:  # a JSON string or list that is not an event
        raise BadRequest("Invalid webhook payload.") from exc
    if not isinstance(body.get("id"), str) or not isinstance(body.get("type"), str):
        raise BadRequest("Invalid webhook payload.")
    return body


def _refuse_future_timestamp(signature: str) -> None:
    """stripe's check refuses old timestamps only; one from the future is refused the same way."""
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and int(value) > time.time() + SIGNATURE_TOLERANCE_SECONDS:
            raise BadRequest("Invalid Stripe signature: the timestamp is in the future.")


class PaidSession(BaseModel):
    """The fields of a paid Checkout Session that decide a credit, checked before any is made."""

    id: str = Field(min_length=1)
    payment_status: str
    amount_total: StrictInt = Field(gt=0)
    currency: str
    payment_intent: str | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


def _seen(session: Session, event_id: str) -> bool:
    return session.get(StripeEvent, event_id) is not None


def _paid_session(settings: Settings, event_id: str, checkout: dict[str, Any]) -> PaidSession | None:
    """The session, validated; None when it is not (yet) paid. A malformed one is a 400."""
    if checkout.get("payment_status") != "paid":
        return None  # an asynchronous payment method: credited by async_payment_succeeded later
    try:
        paid = PaidSession.model_validate(checkout)
    except ValidationError as exc:
        logger.error("stripe event %s: checkout session of an unexpected shape: %s", event_id, _fields(exc))
        raise BadRequest("Invalid checkout session in the webhook payload.") from exc
    if paid.currency.lower() != settings.currency.lower():
        logger.error("stripe event %s: checkout session in %s, not %s", event_id, paid.currency, settings.currency)
        raise BadRequest(f"Checkout session in an unexpected currency ({paid.currency}).")
    return paid


def _fields(exc: ValidationError) -> str:
    return ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())


def _credit_session(session: Session, settings: Settings, event_id: str, checkout: dict[str, Any]) -> None:
    paid_session = _paid_session(settings, event_id, checkout)
    if paid_session is None:
        return
    session_id = paid_session.id
    if session.get(Payment, session_id) is not None:
        return
    metadata = paid_session.metadata
    account_id = metadata.get("account_id") or paid_session.client_reference_id
    if not account_id:
        logger.warning("checkout session without an account: ignored")
        return
    if session.get(Account, account_id) is None:
        # Paid, but for no account here: never acknowledge it, so Stripe retries and it is seen.
        logger.error("stripe event %s: checkout session %s credits unknown account", event_id, session_id)
        raise UnknownAccount("The checkout session names an account that does not exist.")
    paid = paid_session.amount_total
    product = settings.product_for(int(metadata.get("amount_cents") or paid))
    # The bonus is the product's, and only when the full product price was paid.
    bonus = int(metadata.get("bonus_cents") or (product.bonus_cents if product else 0))
    if product is None or paid < product.amount_cents:
        bonus = 0
    session.add(
        Payment(
            session_id=session_id,
            account_id=str(account_id),
            payment_intent=paid_session.payment_intent,
            amount_cents=paid,
            bonus_cents=bonus,
            currency=paid_session.currency,
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


def handle_event(db: Database, settings: Settings, event: dict[str, Any]) -> str:
    """Apply a verified event once. Returns what happened, for the response body."""
    event_id, event_type = event["id"], event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    try:
        with db.transaction() as session:
            if _seen(session, event_id):
                return "duplicate"
            action = HANDLERS.get(event_type)
            if action == "credit":
                _credit_session(session, settings, event_id, obj)
            elif action == "refund":
                _refund_charge(session, obj)
            session.add(StripeEvent(id=event_id, type=event_type))
            session.flush()
    except IntegrityError:
        # Another delivery of the same event (or session) committed first.
        return "duplicate"
    return "processed" if event_type in HANDLERS else "ignored"
