"""Single-use tokens that open a live stream

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stream_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("stream_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stream_tokens_key_id"), ["key_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stream_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_tokens_key_id"))
    op.drop_table("stream_tokens")
