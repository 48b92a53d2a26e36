"""worker.identity_index (a keyed blind index of name + birth date: the account after a lost phone)
and passkey_challenge (web.passkeys.SqlChallengeStore).

Revision ID: 0002_identity_passkeys
Revises: 0001_wallet
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_identity_passkeys"
down_revision: str | Sequence[str] | None = "0001_wallet"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("worker") as batch:
        batch.add_column(sa.Column("identity_index", sa.String(64), nullable=True))
        batch.create_index("ix_worker_identity_index", ["identity_index"])
    op.create_table(
        "passkey_challenge",
        sa.Column("handle", sa.String(64), primary_key=True),
        sa.Column("challenge", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_passkey_challenge_expires_at", "passkey_challenge", ["expires_at"])


def downgrade() -> None:
    op.drop_table("passkey_challenge")
    with op.batch_alter_table("worker") as batch:
        batch.drop_index("ix_worker_identity_index")
        batch.drop_column("identity_index")
