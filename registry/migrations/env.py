"""Alembic environment of the registry (the log in 0001_log, the VDR tables from 0002_vdr)."""

import importlib

from registry import models
from web.db import run_env

try:  # the VDR models share `Base`; importing them lets autogenerate see every table
    importlib.import_module("registry.vdr_models")
except ModuleNotFoundError as e:
    if e.name != "registry.vdr_models":
        raise

run_env(models.Base.metadata)
