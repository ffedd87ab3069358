"""Database tables. The schema itself is created and changed only by the Alembic migrations."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class EntryKind(enum.StrEnum):
    TOPUP = "topup"
    BONUS = "bonus"
    CHARGE = "charge"
    HOLD = "hold"
    RELEASE = "release"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    EXPIRY = "expiry"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class JobStage(enum.StrEnum):
    """What a job is doing now, finer than its status (GET /v1/jobs/{id} `progress.stage`)."""

    QUEUED = "queued"
    DECODING = "decoding"
    TRANSCRIBING = "transcribing"
    DIARIZING = "diarizing"
    ANALYZING = "analyzing"
    DONE = "done"


class WebhookStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable and readable in SQL.
    return Enum(cls, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e], length=20)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    webhook_secret: Mapped[str | None] = mapped_column(String(100), default=None)
    """Signs this account's webhooks. Kept readable: the account fetches it to verify them."""
    webhook_secret_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    webhook_secret_previous: Mapped[str | None] = mapped_column(String(100), default=None)
    """The secret before the last rotation: webhooks are signed with it too until the time below."""
    webhook_secret_previous_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="account")


class ApiKey(Base):
    """An API key. Only its SHA-256 hash and a short display prefix are stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    account: Mapped[Account] = relationship(back_populates="api_keys")


class StreamToken(Base):
    """A single-use, short-lived ticket to open one live stream (`POST /v1/stream/tokens`), for
    clients that cannot send a header on a WebSocket (browsers, Twilio). Only its hash is stored."""

    __tablename__ = "stream_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="RESTRICT"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_account_created", "account_id", "created_at"),
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_webhook_status", "webhook_status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"), default=JobStatus.QUEUED)
    type: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    duration_seconds: Mapped[float | None] = mapped_column(default=None)
    cost_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    runner: Mapped[str | None] = mapped_column(String(200), default=None)
    """The server process running the job (host:pid:boot), so a restart can find its own orphans."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """Refreshed while the job runs; a stale heartbeat means its process died."""
    result_location: Mapped[str | None] = mapped_column(String(500), default=None)
    """Where the result lives: `db:job_results` when stored in the job_results table."""
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON, default=None)
    """The client's `metadata` form field, returned with the job and in its webhook."""
    progress_stage: Mapped[JobStage | None] = mapped_column(_enum(JobStage, "job_stage"), default=None)
    progress_percent: Mapped[float | None] = mapped_column(default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    """Set by DELETE /v1/jobs/{id} on a running job: it stops at the next stage boundary."""

    # Asynchronous jobs only.
    audio_file: Mapped[str | None] = mapped_column(String(200), default=None)
    """The queued upload's file name inside `audio_store_dir`; set for async jobs until they end."""
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """The request's transcription options, for the worker."""
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """When the job was last handed to the queue (for a retry: when it is due to be)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Processing attempts started (a worker that dies mid-job leaves one behind)."""
    is_async: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    webhook_status: Mapped[WebhookStatus | None] = mapped_column(_enum(WebhookStatus, "webhook_status"), default=None)
    webhook_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """When the pending webhook is due (its next attempt, or the end of a sender's lease)."""
    redacted_audio: Mapped[str | None] = mapped_column(String(200), default=None)
    """The file name of the job's redacted audio (`redact_audio=true`), while it is kept."""


class JobResult(Base):
    __tablename__ = "job_results"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="RESTRICT"), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(Base):
    """One attempt to deliver a job's webhook."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="RESTRICT"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class LedgerEntry(Base):
    """One movement of money, in cents. Rows are never updated: a reversal is a new row.

    The balance of an account is the SUM of its entries' amounts.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_account_kind", "account_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_kind"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="RESTRICT"), index=True)
    payment_ref: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="RESTRICT"), default=None, unique=True
    )
    """The entry this one reverses (a release points at its hold). Unique: reversed at most once."""
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentStatus(enum.StrEnum):
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class Payment(Base):
    """A paid top-up (one Stripe Checkout Session). Its primary key is what makes crediting it
    happen exactly once, however often Stripe delivers the event."""

    __tablename__ = "payments"

    session_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    payment_intent: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    bonus_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(10))
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus, "payment_status"))
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StripeEvent(Base):
    """Every Stripe event id processed, so a redelivery is recognised and changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    """A request sent with an `Idempotency-Key`: what it was (a fingerprint) and what it answered,
    so that a retry of it gets that answer again instead of doing the work twice."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_idempotency_account_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the endpoint, the fields and the file: the same key with another request is refused."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """The answer to replay; for a completed transcription, its job instead (`job_id`)."""
    job_id: Mapped[str | None] = mapped_column(String(36), default=None)


class Category(Base):
    """A named set of rules (`app.categories.rules.CategoryIn`) that every call of the account is
    matched against."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_categories_account_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Scorecard(Base):
    """An account's own QA scorecard (`app.categories.rules.ScorecardIn`); without one, calls are
    scored with the default scorecard."""

    __tablename__ = "scorecards"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobCategory(Base):
    """A category a job's call matched when it was last categorized: what `GET /v1/jobs?category=`
    filters on."""

    __tablename__ = "job_categories"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="RESTRICT"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
