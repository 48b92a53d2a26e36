"""The verifiable data registry: DID document versions, status lists and allocations, trust list.

Revision ID: 0002_vdr
Revises: 0001_log
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_vdr"
down_revision: str | Sequence[str] | None = "0001_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vdr_did_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("department", "version", name="uq_vdr_did_version"),
    )
    op.create_index("ix_vdr_did_version_department", "vdr_did_version", ["department"])
    op.create_table(
        "vdr_status_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(63), nullable=False),
        sa.Column("list_id", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("ttl_ms", sa.BigInteger(), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("department", "list_id", "version", name="uq_vdr_status_version"),
    )
    op.create_table(
        "vdr_status_allocation",
        sa.Column("department", sa.String(63), primary_key=True),
        sa.Column("list_id", sa.String(63), primary_key=True),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "vdr_trust_list_version",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vdr_trust_list_version")
    op.drop_table("vdr_status_allocation")
    op.drop_table("vdr_status_version")
    op.drop_index("ix_vdr_did_version_department", table_name="vdr_did_version")
    op.drop_table("vdr_did_version")
