"""A job as it is published: the body of GET /v1/jobs/{id} and the `job` of its webhook, in the
reference's shape. Both publishers (the API and the webhook sender) render it from here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, PlainSerializer

from app.models import Job, JobStatus, WebhookAttempt

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_timestamp(value: datetime) -> str:
    """UTC, as the reference writes it: `2026-04-19 19:13:18`."""
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


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
    audio_url: str | None = None
    """Present while the job's redacted audio is kept (`redact_audio=true`)."""
    progress: ProgressOut | None = None
    metadata: dict[str, Any] | None = None
    cancel_requested: bool = False
    webhook: WebhookOut | None = None


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
        audio_url=f"/v1/jobs/{job.id}/audio" if job.redacted_audio else None,
        progress=ProgressOut(stage=job.progress_stage.value, percent=job.progress_percent)
        if job.progress_stage
        else None,
        metadata=job.meta,
        cancel_requested=job.cancel_requested,
        webhook=webhook,
    )
