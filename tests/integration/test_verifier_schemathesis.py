"""Schemathesis against the live verifier app (WSGI): no 5xx, and every answer conforms to /openapi.json."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from verifier.app import create_app
from web.config import RoleConfig

_TMP = Path(tempfile.mkdtemp(prefix="workcred-schemathesis-"))
APP = create_app(RoleConfig("verifier", base_url="http://verifier.test", database_url=f"sqlite:///{_TMP / 'v.sqlite3'}",
                            secret_key="t", dev=True, extra={"profile": "core", "background": "0"}))  # fmt: skip
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: schemathesis.Case) -> None:
    # A schema cannot say what a *verifiable* credential is, so schema-valid bodies may rightly be
    # refused: "positive data acceptance" does not apply to a verifier.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
