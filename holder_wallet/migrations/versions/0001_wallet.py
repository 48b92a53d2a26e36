"""The wallet's tables: accounts, passkeys, held credentials, share history, published presentations.

Revision ID: 0001_wallet
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_wallet"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "worker",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("did", sa.String(128), nullable=True, unique=True),
        sa.Column("issuer_worker_id", sa.String(128), nullable=True, unique=True),
        sa.Column("user_handle", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_profile", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_secret_key", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_worker_token", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_login_at", _TS, nullable=True),
        sa.Column("erased_at", _TS, nullable=True),
    )
    op.create_table(
        "worker_passkey",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("worker_id", sa.String(32), sa.ForeignKey("worker.id", ondelete="CASCADE"), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(1024), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_used_at", _TS, nullable=True),
    )
    op.create_index("ix_worker_passkey_worker_id", "worker_passkey", ["worker_id"])
    op.create_table(
        "held_credential",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("worker_id", sa.String(32), sa.ForeignKey("worker.id", ondelete="CASCADE"), nullable=False),
        sa.Column("credential_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("contract_id", sa.String(200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_checked_at", _TS, nullable=True),
        sa.Column("sealed_credential", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_receipt", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_summary", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_status_reason", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", _TS, nullable=False),
        sa.UniqueConstraint("worker_id", "credential_id", name="uq_held_credential_worker_credential"),
    )
    op.create_index("ix_held_credential_worker_kind_end", "held_credential", ["worker_id", "kind", "end_date"])
    op.create_table(
        "share_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("worker_id", sa.String(32), sa.ForeignKey("worker.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("sealed_detail", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_share_event_worker_id", "share_event", ["worker_id"])
    op.create_table(
        "published_presentation",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("worker_id", sa.String(32), sa.ForeignKey("worker.id", ondelete="CASCADE"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("sealed_presentation", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("withdrawn_at", _TS, nullable=True),
    )
    op.create_index("ix_published_presentation_worker_id", "published_presentation", ["worker_id"])
    op.create_index("ix_published_presentation_expires_at", "published_presentation", ["expires_at"])


def downgrade() -> None:
    for table in ("published_presentation", "share_event", "held_credential", "worker_passkey", "worker"):
        op.drop_table(table)
