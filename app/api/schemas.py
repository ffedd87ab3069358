"""Request and response bodies of the public API, shaped as in the VoxParse reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, PlainSerializer

from app.jobs.webhooks import WebhookSecret
from app.models import Job, JobStatus, WebhookAttempt

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


class ProgressOut(BaseModel):
    stage: Literal["queued", "decoding", "transcribing", "diarizing", "analyzing", "done"]
    percent: float | None = None


class WebhookAttemptOut(BaseModel):
    attempted_at: Timestamp
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookOut(BaseModel):
    url: str
    status: Literal["waiting", "pending", "delivered", "failed"]
    """`waiting` until the job ends; then `pending` until delivered or given up."""
    attempts: list[WebhookAttemptOut]


class JobDetailOut(JobOut):
    error: str | None
    result_url: str | None = None
    """Present when the job is completed and its result is stored."""
    progress: ProgressOut | None = None
    metadata: dict[str, Any] | None = None
    cancel_requested: bool = False
    webhook: WebhookOut | None = None


class JobsPageOut(BaseModel):
    jobs: list[JobOut]
    limit: int
    offset: int


def result_url(job: Job) -> str | None:
    if job.status == JobStatus.COMPLETED and job.result_location:
        return f"/v1/jobs/{job.id}/result"
    return None


def job_out(job: Job) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


def job_detail_out(job: Job, webhook_attempts: list[WebhookAttempt] | None = None) -> JobDetailOut:
    """The job as GET /v1/jobs/{id} shows it; `webhook_attempts` adds the webhook's record."""
    webhook = None
    if job.callback_url is not None and webhook_attempts is not None:
        webhook = WebhookOut(
            url=job.callback_url,
            status=job.webhook_status.value if job.webhook_status else "waiting",
            attempts=[WebhookAttemptOut.model_validate(a, from_attributes=True) for a in webhook_attempts],
        )
    return JobDetailOut(
        **job_out(job).model_dump(),
        error=job.error,
        result_url=result_url(job),
        progress=ProgressOut(stage=job.progress_stage.value, percent=job.progress_percent)
        if job.progress_stage
        else None,
        metadata=job.meta,
        cancel_requested=job.cancel_requested,
        webhook=webhook,
    )


class WebhookSecretOut(BaseModel):
    secret: str
    created_at: Timestamp
    previous_secret_valid_until: Timestamp | None = None
    """After a rotation: until then webhooks also carry a signature with the previous secret."""

    @classmethod
    def of(cls, secret: WebhookSecret) -> WebhookSecretOut:
        return cls(
            secret=secret.secret,
            created_at=secret.created_at,
            previous_secret_valid_until=secret.previous_valid_until,
        )


class QueuedOut(BaseModel):
    """The answer to an asynchronous POST /v1/transcribe (202)."""

    job_id: str
    status: Literal["queued"]
    job_url: str
    duration_seconds: float
    cost_cents: int
    """Held now; charged when the job completes, released if it fails or is cancelled."""
    metadata: dict[str, Any] | None = None
