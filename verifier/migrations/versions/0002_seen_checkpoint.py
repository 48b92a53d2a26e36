"""The split-view memory: the newest registry checkpoint seen per log, shared by workers, kept across restarts.

Revision ID: 0002_seen_checkpoint
Revises: 0001_requests
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_seen_checkpoint"
down_revision: str | Sequence[str] | None = "0001_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_checkpoint",
        sa.Column("origin", sa.String(255), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("seen_checkpoint")
