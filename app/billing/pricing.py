"""Prices and top-up products, all derived from settings."""

from __future__ import annotations

import math
from typing import Any

from app.config import Settings, TopupProduct


def transcription_cost_cents(duration_seconds: float, price_per_hour_cents: int) -> int:
    """ceil(duration * price per hour / 3600), and at least one cent for any non-empty audio."""
    if duration_seconds <= 0:
        return 0
    # Round the product first so float noise (e.g. 3600.0000000001) cannot add a cent.
    cents = math.ceil(round(duration_seconds * price_per_hour_cents / 3600, 9))
    return max(cents, 1)


def dollars(cents: int) -> str:
    """Cents as a two-decimal dollar string: 9998 -> '99.98', -5 -> '-0.05'."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def plans(settings: Settings) -> list[dict[str, Any]]:
    """The transcription plan, and the Apex LLM plan when an upstream is configured."""
    offered: list[dict[str, Any]] = [
        {
            "id": settings.plan_id,
            "name": settings.plan_name,
            "price_per_hour": settings.price_per_hour_cents / 100,
            "price_per_hour_display": f"${dollars(settings.price_per_hour_cents)}",
            "includes": list(settings.plan_includes),
        }
    ]
    if settings.apex_base_url and settings.apex_model:
        offered.append(
            {
                "id": "apex",
                "name": "VoxParse Apex LLM",
                "price_per_million_input_tokens": settings.apex_input_price_per_million_cents / 100,
                "price_per_million_output_tokens": settings.apex_output_price_per_million_cents / 100,
                "includes": ["chat_completions", "streaming", "openai_compatible"],
            }
        )
    return offered


def accepted_plan_ids(settings: Settings) -> set[str]:
    """Plan ids a transcription request may name: ours, plus the one the reference's examples send."""
    return {settings.plan_id, "transcription-ai"}


def product_view(product: TopupProduct) -> dict[str, Any]:
    return {
        "amount_cents": product.amount_cents,
        "amount_dollars": dollars(product.amount_cents),
        "bonus_cents": product.bonus_cents,
        "total_credit_dollars": dollars(product.amount_cents + product.bonus_cents),
    }


def expiry_note(expiry_days: int) -> str:
    months = round(expiry_days / 30.5)
    period = f"{months} months" if expiry_days >= 60 else f"{expiry_days} days"
    return f"Credits expire after {period} of account inactivity."
