from __future__ import annotations

from fastapi import APIRouter

from app.deps import SettingsDep
from app.schemas import PlanOut, PricingOut, ProductOut, ProductsOut
from app.services import pricing

router = APIRouter(tags=["pricing"])


@router.get("/v1/pricing", response_model=PricingOut)
def get_pricing(settings: SettingsDep) -> PricingOut:
    """Transcription plans and their per-hour rates. No authentication."""
    return PricingOut(plans=[PlanOut(**plan) for plan in pricing.plans(settings)])


@router.get("/billing/products", response_model=ProductsOut)
def get_products(settings: SettingsDep) -> ProductsOut:
    """Top-up amounts with their bonuses. No authentication."""
    return ProductsOut(
        products=[ProductOut(**pricing.product_view(p)) for p in settings.topup_products],
        currency=settings.currency,
        note=pricing.expiry_note(settings.credit_expiry_days),
    )
