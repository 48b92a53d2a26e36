"""Alembic environment of the issuer (departments, projects, rosters, contracts, audit trail)."""

from issuer import models
from web.db import run_env

run_env(models.Base.metadata)
