"""Request and response bodies of the public API, shaped as in the VoxParse reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, PlainSerializer

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_timestamp(value: datetime) -> str:
    """UTC, as the reference writes it: `2026-04-19 19:13:18`."""
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    models: dict[str, str]


class PlanOut(BaseModel):
    id: str
    name: str
    price_per_hour: float | None = None
    price_per_hour_display: str | None = None
    price_per_million_input_tokens: float | None = None
    price_per_million_output_tokens: float | None = None
    includes: list[str]


class PricingOut(BaseModel):
    plans: list[PlanOut]


class ProductOut(BaseModel):
    amount_cents: int
    amount_dollars: str
    bonus_cents: int
    total_credit_dollars: str


class ProductsOut(BaseModel):
    products: list[ProductOut]
    currency: str
    note: str


class TopupOut(BaseModel):
    amount_cents: int
    bonus_cents: int
    created_at: Timestamp


class BalanceOut(BaseModel):
    balance_cents: int
    balance_dollars: str
    expired: bool
    recent_topups: list[TopupOut]


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "processing", "completed", "failed"]
    type: str
    model: str
    duration_seconds: float | None
    cost_cents: int | None
    created_at: Timestamp
    completed_at: Timestamp | None


class JobDetailOut(JobOut):
    error: str | None
    result_url: str | None = None
    """Present when the job is completed and its result is stored."""


class JobsPageOut(BaseModel):
    jobs: list[JobOut]
    limit: int
    offset: int
