"""Idempotency claims carry a token, and records are indexed by age for the purge.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 17:18:58.523519

``claim_token`` is nullable: a claim in flight while the service is upgraded has none, so
that no new request can finish it; it is forgotten, like a dead server's, once its in-flight
limit passes. Both changes are additive (SQLite adds the column and the index in place, no
copy of the table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("idempotency", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_idempotency_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("idempotency", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_created_at")
        batch_op.drop_column("claim_token")
