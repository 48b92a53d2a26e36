"""Schemathesis against the live issuer's OpenID4VCI, OAuth and VC-API routes (issuer/openapi.json):
no 5xx on any generated input, and every answer conforms to the document. The generated requests
carry real credentials where the route needs them (a VC-API token of the department, an OpenID4VCI
access token), so the fuzzing reaches the checks behind authentication."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import missing_required_header, positive_data_acceptance

from agents import oid4vci
from agents.keys import Ed25519KeyPair
from tests.helpers_issuer import DEPARTMENT, IssuerUnderTest, start_issuer

ROOT = Path(__file__).resolve().parents[2]
schema = schemathesis.openapi.from_path(str(ROOT / "issuer" / "openapi.json"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IssuerUnderTest, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("issuer-fuzz")
    with start_issuer(tmp, f"sqlite:///{tmp / 'issuer.sqlite3'}") as iss:
        iss.app.config["RATE_LIMITS_ENABLED"] = False  # thousands of requests from one client
        vcapi = iss.vcapi_token(*iss.client())
        worker = Ed25519KeyPair.generate()
        offer = iss.offer(iss.active_contract(worker))
        with iss.holder_http() as http:
            parsed = oid4vci.resolve_offer(offer.url, http)
            meta = oid4vci.fetch_metadata(parsed.credential_issuer, http)
            access = oid4vci.request_token(meta, parsed, http)
        yield iss, {"vcapi": vcapi, "oid4vci": access, "handle": offer.handle}


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_issuer_api_conforms(case: schemathesis.Case, live: tuple[IssuerUnderTest, dict[str, Any]]) -> None:
    iss, secrets = live
    if "department" in (case.path_parameters or {}) and hash(str(case.body)) % 4:
        case.path_parameters["department"] = DEPARTMENT  # mostly the real department, sometimes a made-up one
    if case.path.startswith("/vc-api/"):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {secrets['vcapi']}"}
    elif case.path == "/oid4vci/credential":
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {secrets['oid4vci']}"}
    # a schema cannot say what a conforming credential or a valid proof is: schema-valid bodies may be
    # refused; the header check would drop the security scheme but keep the token set here (401s without
    # a token are tested in test_oid4vci_issuer.py and test_vcapi_issue.py)
    case.call_and_validate(base_url=iss.base_url, excluded_checks=[positive_data_acceptance, missing_required_header])
