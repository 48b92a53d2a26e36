"""Index log entries by document digest: the bulk issuer's idempotent batch append looks them up.

Revision ID: 0004_entry_digest
Revises: 0003_anchor
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_entry_digest"
down_revision: str | Sequence[str] | None = "0003_anchor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_log_entry_digest", "log_entry", ["digest"])


def downgrade() -> None:
    op.drop_index("ix_log_entry_digest", table_name="log_entry")
