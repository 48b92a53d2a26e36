"""Which checkpoints are anchored on the EVM chain (so missed ones are anchored later).

Revision ID: 0003_anchor
Revises: 0002_vdr
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_anchor"
down_revision: str | Sequence[str] | None = "0002_vdr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_anchor",
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("log_anchor")
