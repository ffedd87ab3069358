from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import SettingsDep
from app.api.schemas import PlanOut, PricingOut
from app.billing import pricing

router = APIRouter(tags=["pricing"])


@router.get("/v1/pricing", response_model=PricingOut, response_model_exclude_none=True)
def get_pricing(settings: SettingsDep) -> PricingOut:
    """Transcription plans and their per-hour rates. No authentication."""
    return PricingOut(plans=[PlanOut(**plan) for plan in pricing.plans(settings)])
