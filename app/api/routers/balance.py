from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentPrincipal, RuntimeDep
from app.api.errors import error_responses
from app.api.schemas import BalanceOut, TopupOut
from app.billing import ledger, pricing

router = APIRouter(tags=["billing"], responses=error_responses(401, 429))


@router.get("/v1/balance", response_model=BalanceOut)
def get_balance(principal: CurrentPrincipal, runtime: RuntimeDep) -> BalanceOut:
    """The prepaid balance, whether it has expired, and the latest top-ups."""
    settings = runtime.settings
    with runtime.db.transaction(read_only=True) as session:
        summary = ledger.summary(
            session, principal.account_id, expiry_days=settings.credit_expiry_days, recent=settings.recent_topups_shown
        )
    return BalanceOut(
        balance_cents=summary.balance_cents,
        balance_dollars=pricing.dollars(summary.balance_cents),
        expired=summary.expired,
        recent_topups=[
            TopupOut(amount_cents=t.amount_cents, bonus_cents=t.bonus_cents, created_at=t.created_at)
            for t in summary.recent_topups
        ],
    )
