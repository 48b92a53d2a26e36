"""Alembic environment of the registry (the log and, from 0002, the VDR tables)."""

from registry import models
from web.db import run_env

try:  # the VDR engineer's models share `Base`; import them so autogenerate sees every table
    import registry.vdr_models  # noqa: F401
except ImportError:
    pass

run_env(models.Base.metadata)
