"""Alembic environment of the wallet (accounts, keys, passkeys, credentials, shares)."""

from holder_wallet import models
from web.db import run_env

run_env(models.Base.metadata)
