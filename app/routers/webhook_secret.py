from __future__ import annotations

from fastapi import APIRouter

from app.deps import CurrentPrincipal, RuntimeDep
from app.errors import error_responses
from app.schemas import WebhookSecretOut
from app.services import webhooks

router = APIRouter(prefix="/v1/webhook-secret", tags=["webhooks"], responses=error_responses(401, 429))


@router.get("", response_model=WebhookSecretOut)
def get_webhook_secret(principal: CurrentPrincipal, runtime: RuntimeDep) -> WebhookSecretOut:
    """The secret that signs your webhooks (`VoxParse-Signature: t=TIMESTAMP,v1=HEX`, HEX being
    HMAC-SHA256 of `TIMESTAMP.BODY`). Created on first use."""
    with runtime.db.transaction() as session:
        secret = webhooks.get_secret(session, principal.account_id)
    return WebhookSecretOut(secret=secret.secret, created_at=secret.created_at)


@router.post("", response_model=WebhookSecretOut)
def rotate_webhook_secret(principal: CurrentPrincipal, runtime: RuntimeDep) -> WebhookSecretOut:
    """Replace the secret. Webhooks sent from now on, retries included, are signed with the new one."""
    with runtime.db.transaction() as session:
        secret = webhooks.rotate_secret(session, principal.account_id)
    return WebhookSecretOut(secret=secret.secret, created_at=secret.created_at)
