"""Alembic environment of the verifier (OpenID4VP requests and the audit trail)."""

from verifier import models
from web.db import run_env

run_env(models.Base.metadata)
