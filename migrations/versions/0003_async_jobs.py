"""Asynchronous jobs: progress, cancellation, queued audio, retries, webhooks and their secrets

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = ("queued", "decoding", "transcribing", "diarizing", "analyzing", "done")
WEBHOOK_STATES = ("pending", "delivered", "failed")


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_secret", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret_created_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret_previous", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret_previous_until", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("metadata", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "progress_stage",
                sa.Enum(*STAGES, name="job_stage", native_enum=False, length=20),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("progress_percent", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("audio_file", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("is_async", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("callback_url", sa.String(length=2000), nullable=True))
        batch_op.add_column(
            sa.Column(
                "webhook_status",
                sa.Enum(*WEBHOOK_STATES, name="webhook_status", native_enum=False, length=20),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("webhook_next_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_jobs_status", ["status"], unique=False)
        batch_op.create_index("ix_jobs_webhook_status", ["webhook_status"], unique=False)

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_attempts_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_job_id"))
    op.drop_table("webhook_attempts")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_webhook_status")
        batch_op.drop_index("ix_jobs_status")
        for column in (
            "webhook_next_at",
            "webhook_status",
            "callback_url",
            "is_async",
            "attempts",
            "enqueued_at",
            "options",
            "audio_file",
            "cancel_requested",
            "progress_percent",
            "progress_stage",
            "metadata",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("webhook_secret_previous_until")
        batch_op.drop_column("webhook_secret_previous")
        batch_op.drop_column("webhook_secret_created_at")
        batch_op.drop_column("webhook_secret")
