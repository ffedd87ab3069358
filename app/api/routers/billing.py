from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from app.api.deps import CurrentPrincipal, RuntimeDep, SettingsDep
from app.api.errors import error_responses
from app.api.idempotent import Answer, IdempotencyKeyHeader, claim, recorded
from app.api.schemas import CheckoutIn, CheckoutOut, ProductOut, ProductsOut, StripeWebhookOut
from app.billing import payments, pricing

router = APIRouter(prefix="/billing", tags=["billing"])


@router.get("/products", response_model=ProductsOut)
def get_products(settings: SettingsDep) -> ProductsOut:
    """Top-up amounts with their bonuses. No authentication."""
    return ProductsOut(
        products=[ProductOut(**pricing.product_view(p)) for p in settings.topup_products],
        currency=settings.currency,
        note=pricing.expiry_note(settings.credit_expiry_days),
    )


@router.post("/checkout", response_model=CheckoutOut, responses=error_responses(400, 401, 409, 422, 429, 502, 503))
def create_checkout(
    body: CheckoutIn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> CheckoutOut | JSONResponse:
    """Start a Stripe Checkout for a top-up; send the customer to `checkout_url`."""
    settings = runtime.settings
    keyed, replay = claim(
        runtime.db, settings, principal, idempotency_key, "POST /billing/checkout", body.model_dump(mode="json")
    )
    if replay is not None:
        return JSONResponse(replay.body, status_code=replay.status)
    session = recorded(
        keyed,
        lambda: payments.create_checkout(settings, principal, body.amount_cents, body.success_url, body.cancel_url),
        lambda done: Answer(200, CheckoutOut(checkout_url=done.checkout_url, session_id=done.session_id).model_dump()),
    )
    return CheckoutOut(checkout_url=session.checkout_url, session_id=session.session_id)


@router.post("/webhook", response_model=StripeWebhookOut, responses=error_responses(400, 503))
async def stripe_webhook(
    request: Request,
    runtime: RuntimeDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> StripeWebhookOut:
    """Stripe's events, verified by signature (no API key). Each is applied exactly once."""
    event = payments.verify_event(runtime.settings, await request.body(), stripe_signature)
    result = await run_in_threadpool(payments.handle_event, runtime.db, runtime.settings, event)
    return StripeWebhookOut(received=True, result=result)
