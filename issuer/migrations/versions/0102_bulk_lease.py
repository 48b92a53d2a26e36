"""bulk jobs: a lease (owner, until), the current rate and the job's options (issuer/jobs.py)

Revision ID: 0102_bulk_lease
Revises: 0001_issuer
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0102_bulk_lease"
down_revision: str | Sequence[str] | None = "0001_issuer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_job") as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rate", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("options", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("bulk_job") as batch_op:
        for column in ("options", "rate", "lease_until", "lease_owner"):
            batch_op.drop_column(column)
