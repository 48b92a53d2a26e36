"""Schemathesis against a `city`-profile verifier (a real registry from tests/helpers_city.py, its
policies on): 150 examples per operation, no 5xx and every answer as /openapi.json says.

The core-profile run (test_verifier_schemathesis.py) never reaches the registry policies; here the
registry client, status lists and trust list are in the path of every credential that parses."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from agents.keys import Ed25519KeyPair
from agents.verify import create_presentation
from tests.helpers_city import City, Issued, start_city
from verifier.app import create_app
from web.config import RoleConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def issued(city: City) -> tuple[Issued, Ed25519KeyPair]:
    dept = city.department("seoul-digital-policy", "서울시 디지털정책과", "Digital Policy Division")
    worker = Ed25519KeyPair.generate()
    return city.issue_career(dept, worker, cryptosuite="eddsa-jcs-2022"), worker


@pytest.fixture(scope="module")
def city_verifier(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(city.verifier_config(f"sqlite:///{tmp_path_factory.mktemp('v') / 'verifier.sqlite3'}"))
    assert app.extensions["verifier"].settings.profile == "city"
    yield app
    app.extensions["verifier"].close()


class _Switch:
    """A WSGI app that forwards to the app of the moment: the schema is loaded at import (from a core
    verifier: /openapi.json is the same), the examples run against the city verifier of the fixture."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


_TMP = Path(tempfile.mkdtemp(prefix="workcred-schemathesis-city-"))
_CORE = RoleConfig("verifier", base_url="http://verifier.test", database_url=f"sqlite:///{_TMP / 'core.sqlite3'}",
                   secret_key="t", dev=True, extra={"profile": "core", "background": "0"})  # fmt: skip
SWITCH = _Switch(create_app(_CORE))
_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
_STRINGS = {"type": "array", "minItems": 1, "items": {"type": "string"}}
#: DCQL (OpenID4VP 1.0 §6) as agents.oid4vp.check_dcql takes it: /openapi.json only says "object", so
#: without this the examples would almost never reach a member of the wrong type (H3 was `meta: 5`)
DCQL = {
    "type": "object",
    "required": ["credentials"],
    "properties": {
        "credentials": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
            "type": "object",
            "required": ["id", "format", "meta"],
            "properties": {
                "id": _ID,
                "format": {"type": "string", "enum": ["ldp_vc"]},
                "multiple": {"type": "boolean"},
                "require_cryptographic_holder_binding": {"type": "boolean"},
                "meta": {"type": "object", "required": ["type_values"],
                         "properties": {"type_values": {"type": "array", "minItems": 1, "items": _STRINGS}}},
                "trusted_authorities": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["type", "values"],
                    "properties": {"type": {"type": "string"}, "values": _STRINGS}}},
                "claims": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["path"],
                    "properties": {
                        "id": _ID,
                        "path": {"type": "array", "minItems": 1, "items": {"type": ["string", "integer", "null"]}},
                        "values": {"type": "array", "minItems": 1, "items": {"type": ["string", "integer", "boolean"]}},
                    }}},
                "claim_sets": {"type": "array", "minItems": 1, "items": _STRINGS},
            },
        }},
        "credential_sets": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["options"],
            "properties": {"options": {"type": "array", "minItems": 1, "items": _STRINGS}, "required": {"type": "boolean"}}}},
    },
}  # fmt: skip


def _load() -> Any:
    raw = json.loads(SWITCH.app.test_client().get("/openapi.json").get_data())
    body = raw["paths"]["/requests"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body["properties"]["dcql_query"] = DCQL
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app, loaded.location = SWITCH, "/openapi.json"
    # wrong types at every member (negative) as well as schema-shaped bodies (positive)
    loaded.config.generation.update(modes=list(GenerationMode))
    return loaded


schema = _load()


@pytest.fixture(scope="module", autouse=True)
def _serve_city(city_verifier: Flask) -> Iterator[None]:
    before, SWITCH.app = SWITCH.app, city_verifier
    yield
    SWITCH.app = before


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_city_api_conforms(case: schemathesis.Case) -> None:
    assert SWITCH.app.extensions["verifier"].settings.profile == "city"
    # as in the core run: a schema-valid body may rightly be refused by a verifier
    case.call_and_validate(additional_checks=[not_a_server_error], excluded_checks=[positive_data_acceptance])


@pytest.fixture(scope="module")
def http(city_verifier: Flask) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=city_verifier, raise_app_exceptions=False)
    with httpx.Client(transport=transport, base_url="http://verifier.test") as c:
        yield c


@pytest.mark.parametrize("purpose", [[], {}, [1], {"type": "x"}])
def test_status_purpose_not_a_string_is_a_400(http: httpx.Client, issued: tuple[Issued, Ed25519KeyPair], purpose: Any) -> None:
    """Regression: agents/statuslist.parse_entry hashed statusPurpose (a list was a TypeError, a 500)."""
    vc = json.loads(json.dumps(issued[0].vc))
    vc["credentialStatus"][0]["statusPurpose"] = purpose
    resp = http.post("/credentials/verify", json={"verifiableCredential": vc})
    assert resp.status_code == 400, resp.text
    vp = create_presentation([vc], issued[1], challenge="c", domain="d", cryptosuite="eddsa-jcs-2022")
    resp = http.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "c", "domain": "d"}})
    assert resp.status_code < 500, resp.text
