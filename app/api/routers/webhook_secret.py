from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from app.api.deps import CurrentPrincipal, RuntimeDep
from app.api.errors import error_responses
from app.api.schemas import WebhookSecretOut
from app.jobs import webhooks

router = APIRouter(prefix="/v1/webhook-secret", tags=["webhooks"], responses=error_responses(401, 429))


@router.get("", response_model=WebhookSecretOut)
def get_webhook_secret(principal: CurrentPrincipal, runtime: RuntimeDep) -> WebhookSecretOut:
    """The secret that signs your webhooks (`VoxParse-Signature: t=TIMESTAMP,v1=HEX`, HEX being
    HMAC-SHA256 of `TIMESTAMP.BODY`). Created on first use."""
    with runtime.db.transaction() as session:
        secret = webhooks.get_secret(session, principal.account_id)
    return WebhookSecretOut.of(secret)


@router.post("", response_model=WebhookSecretOut)
def rotate_webhook_secret(principal: CurrentPrincipal, runtime: RuntimeDep) -> WebhookSecretOut:
    """Replace the secret. Webhooks are signed with the new one from now on, and for
    `VOXPARSE_WEBHOOK_SECRET_OVERLAP_HOURS` (24) with the old one too: the header then carries
    two `v1=` values, so receivers can switch at their own pace."""
    overlap = timedelta(hours=runtime.settings.webhook_secret_overlap_hours)
    with runtime.db.transaction() as session:
        secret = webhooks.rotate_secret(session, principal.account_id, overlap=overlap)
    return WebhookSecretOut.of(secret)
