"""issuer protocols: OAuth clients, OpenID4VCI offers and nonces, VC-API credentials

Revision ID: 0101_protocols
Revises: 0001_issuer
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0101_protocols"
down_revision: str | Sequence[str] | None = "0001_issuer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_index("ix_oauth_client_department_id", "oauth_client", ["department_id"])
    op.create_table(
        "oid4vci_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=43), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("configuration_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("credential_urn", sa.String(length=64), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("tx_code_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("tx_attempts", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder_did", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handle"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_oid4vci_offer_credential_urn", "oid4vci_offer", ["credential_urn"])
    op.create_index("ix_oid4vci_offer_participant_id", "oid4vci_offer", ["participant_id"])
    op.create_table(
        "oid4vci_nonce",
        sa.Column("nonce_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce_hash"),
    )
    op.create_index("ix_oid4vci_nonce_expires_at", "oid4vci_nonce", ["expires_at"])
    op.create_table(
        "vcapi_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=False),
        sa.Column("credential_id", sa.String(length=300), nullable=False),
        sa.Column("issuer_did", sa.String(length=300), nullable=False),
        sa.Column("revocation_list", sa.String(length=63), nullable=True),
        sa.Column("revocation_index", sa.Integer(), nullable=True),
        sa.Column("suspension_list", sa.String(length=63), nullable=True),
        sa.Column("suspension_index", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("department_id", "credential_id", name="uq_vcapi_credential"),
    )
    op.create_index("ix_vcapi_credential_department_id", "vcapi_credential", ["department_id"])
    op.create_index("ix_vcapi_credential_log_index", "vcapi_credential", ["log_index"])


def downgrade() -> None:
    op.drop_table("vcapi_credential")
    op.drop_table("oid4vci_nonce")
    op.drop_table("oid4vci_offer")
    op.drop_table("oauth_client")
