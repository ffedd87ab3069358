from __future__ import annotations

import httpx
import pytest

from app.billing.pricing import dollars, transcription_cost_cents


@pytest.mark.parametrize(
    ("seconds", "cents"),
    [
        (0, 0),
        (0.01, 1),
        (1, 1),
        (3600, 49),
        (3600.0000000001, 49),
        (3601, 50),
        (1845.072, 26),
        (7200, 98),
        (46 * 60, 38),
    ],
)
def test_cost_rule(seconds: float, cents: int) -> None:
    assert transcription_cost_cents(seconds, 49) == cents


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "0.00"), (5, "0.05"), (9998, "99.98"), (21000, "210.00"), (-5, "-0.05")]
)
def test_dollars(cents: int, text: str) -> None:
    assert dollars(cents) == text


async def test_pricing_matches_the_reference(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/pricing")).json() == {
        "plans": [
            {
                "id": "pro",
                "name": "VoxParse Pro",
                "price_per_hour": 0.49,
                "price_per_hour_display": "$0.49",
                "includes": [
                    "diarization",
                    "ai_analysis",
                    "compliance",
                    "financial",
                    "sentiment",
                    "timestamps",
                    # Issue 17: offered with every transcription, at no extra charge.
                    "call_metrics",
                    "redacted_audio",
                ],
            }
        ]
    }


async def test_products_match_the_reference(client: httpx.AsyncClient) -> None:
    assert (await client.get("/billing/products")).json() == {
        "products": [
            {
                "amount_cents": 1000,
                "amount_dollars": "10.00",
                "bonus_cents": 0,
                "total_credit_dollars": "10.00",
            },
            {
                "amount_cents": 5000,
                "amount_dollars": "50.00",
                "bonus_cents": 0,
                "total_credit_dollars": "50.00",
            },
            {
                "amount_cents": 20000,
                "amount_dollars": "200.00",
                "bonus_cents": 1000,
                "total_credit_dollars": "210.00",
            },
            {
                "amount_cents": 50000,
                "amount_dollars": "500.00",
                "bonus_cents": 5000,
                "total_credit_dollars": "550.00",
            },
        ],
        "currency": "usd",
        "note": "Credits expire after 6 months of account inactivity.",
    }
