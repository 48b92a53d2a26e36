"""OpenID4VP presentation requests and the verification audit trail.

Revision ID: 0001_requests
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_requests"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "presentation_request",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(64), nullable=False, unique=True),
        sa.Column("status_token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict", sa.String(32), nullable=True),
        sa.Column("presentation_sha256", sa.LargeBinary(32), nullable=True),
        sa.Column("presentation", sa.Text(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("purged", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_presentation_request_expires_at", "presentation_request", ["expires_at"])
    op.create_table(
        "verification_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("presentation_sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_verification_audit_request_id", "verification_audit", ["request_id"])


def downgrade() -> None:
    op.drop_table("verification_audit")
    op.drop_table("presentation_request")
