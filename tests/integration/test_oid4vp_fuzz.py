"""Hostile JSON at both OpenID4VP endpoints of a city-profile verifier: wrong types at every member,
huge numbers, lone surrogates, nulls, deep nesting. Never a 500, and an answer that claimed a request's
nonce always leaves a stored verdict (never a request "answered" with no verdict).

Regression cases are named after what they caught (H3: `meta: 5` was an AttributeError; H4: a dict in
a credential's `type` was a TypeError after the nonce was claimed)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import oid4vp
from agents.keys import Ed25519KeyPair
from tests.conftest import pg_schema
from tests.helpers_city import City, Department, Issued, start_city
from verifier.app import create_app

pytestmark = pytest.mark.slow

ODD: list[Any] = [
    None, 5, -1, 0, 1.5, True, False, "", "x", "\ud800", "a\udfffb", 10**40, -(10**40), 1e308, [], {}, [None],
    ["\ud800"], {"\ud800": 1}, {"": None}, [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    "x" * 10_000, [1] * 300, {"a": {"b": {"c": {"d": {"e": {"f": {"g": []}}}}}}}, "2026-13-45", "did:key:z", "ldp_vc",
]  # fmt: skip


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def dept(city: City) -> Department:
    return city.department("seoul-digital-policy", "서울시 디지털정책과", "Digital Policy Division")


@pytest.fixture(scope="module")
def worker() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate()


@pytest.fixture(scope="module")
def issued(city: City, dept: Department, worker: Ed25519KeyPair) -> Issued:
    return city.issue_career(dept, worker)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def verifier(request: pytest.FixtureRequest, city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('v') / 'verifier.sqlite3'}"
        app = create_app(city.verifier_config(url))
        yield app
        app.extensions["verifier"].close()
        return
    # the production database refuses NUL characters that SQLite stores: fuzz it too
    with pg_schema() as url:
        app = create_app(city.verifier_config(url))
        yield app
        app.extensions["verifier"].close()


@pytest.fixture(scope="module")
def http(verifier: Flask) -> Iterator[httpx.Client]:
    # errors become the app's own 500 problem (as in production), not exceptions in the test
    transport = httpx.WSGITransport(app=verifier, raise_app_exceptions=False)
    with httpx.Client(transport=transport, base_url="http://verifier.test") as c:
        yield c


def _json_body(value: Any) -> bytes:
    # ensure_ascii keeps lone surrogates as \ud800 escapes: the JSON text itself is what a client sends
    return json.dumps(value).encode("ascii")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member and element path of a JSON value (the root included)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(value: Any, path: tuple[Any, ...], how: str, odd: Any) -> Any:
    """A copy of `value` with the member at `path` replaced by `odd`, deleted, or given an odd sibling."""
    out = copy.deepcopy(value)
    if not path:
        return odd
    parent = out
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "sibling" and isinstance(parent, dict):
        parent["\ud800" if isinstance(odd, str) else "x"] = odd
    else:
        parent[last] = odd
    return out


def _create(http: httpx.Client, body: bytes) -> httpx.Response:
    return http.post("/requests", content=body, headers={"Content-Type": "application/json"})


def _assert_no_500(resp: httpx.Response, what: Any) -> None:
    assert resp.status_code < 500, (what, resp.status_code, resp.text[:300])


# --- regressions ------------------------------------------------------------------------------------


def test_h3_meta_not_an_object_is_a_400(http: httpx.Client) -> None:
    resp = http.post("/requests", json={"dcql_query": {"credentials": [{"id": "a", "format": "ldp_vc", "meta": 5}]}})
    assert resp.status_code == 400 and "meta" in resp.json()["detail"]


def test_h4_dict_in_type_is_a_verdict_not_a_stranded_request(http: httpx.Client, issued: Issued, worker: Ed25519KeyPair) -> None:
    created = _create(http, b"{}").json()
    request = oid4vp.fetch_request(created["authorizationRequest"], http)
    vc = dict(issued.vc, type=["VerifiableCredential", {"x": 1}])
    token = oid4vp.build_vp_token(request, {"career": [vc]}, worker, cryptosuite="eddsa-jcs-2022")
    resp = oid4vp.post_response(request, token, http)
    assert resp.status_code == 400 and resp.json()["report"]["verdict"] != "valid"
    status = http.get(created["statusUrl"]).json()
    assert status["status"] == "answered" and status["verdict"] == resp.json()["report"]["verdict"]


def test_dcql_members_are_type_checked(http: httpx.Client) -> None:
    good = oid4vp.career_query()
    assert oid4vp.check_dcql(good) == good
    cq = good["credentials"][0]
    bad = [
        {"credentials": [dict(cq, multiple="yes")]},
        {"credentials": [dict(cq, meta={"type_values": [["VerifiableCredential", 5]]})]},
        {"credentials": [dict(cq, meta={"type_values": "VerifiableCredential"})]},
        {"credentials": [dict(cq, claims=[{"path": "credentialSubject"}])]},
        {"credentials": [dict(cq, claims=[{"path": ["credentialSubject", -1]}])]},
        {"credentials": [dict(cq, claims=[{"path": ["credentialSubject", 10**40]}])]},
        {"credentials": [dict(cq, claims=[{"path": ["a"], "values": [{"x": 1}]}])]},
        {"credentials": [dict(cq, claim_sets=[["nope"]])]},
        {"credentials": [dict(cq, trusted_authorities=[{"type": "aki", "values": [1]}])]},
        {"credentials": [dict(cq, id="a b")]},
        {"credentials": [dict(cq, id="\ud800")]},
        {"credentials": [cq], "credential_sets": [{"options": [["other"]]}]},
        {"credentials": [cq], "credential_sets": [{"options": [["career"]], "required": 1}]},
        {"credentials": [cq] * 2},
        {"credentials": [cq] * 11},
    ]
    for query in bad:
        resp = _create(http, _json_body({"dcql_query": query}))
        assert resp.status_code == 400 and resp.headers["content-type"].startswith("application/problem+json"), (query, resp.text)
    # what is stored and served is the checked copy: unknown members do not ride along
    extra = {"credentials": [dict(cq, extension={"any": "thing"})], "other": 1}
    assert oid4vp.check_dcql(extra) == good
    sets = {"credentials": [cq], "credential_sets": [{"options": [["career"]], "required": False}]}
    assert oid4vp.check_dcql(sets) == sets


def test_credential_matches_is_total() -> None:
    query = oid4vp.career_query()["credentials"][0]
    for types in (None, 5, {"a": 1}, ["VerifiableCredential", {"a": 1}, "CareerRecordCredential"], [[1]], "\ud800"):
        matched = oid4vp.credential_matches(query, {"type": types})
        assert matched is (isinstance(types, list) and "CareerRecordCredential" in types)
    for q in ({}, {"meta": 5}, {"meta": {"type_values": [5, [{"x": 1}]]}}):
        assert oid4vp.credential_matches(q, {"type": ["VerifiableCredential"]}) is False
    assert oid4vp.ends_since([], None) is True


# --- fuzzing ----------------------------------------------------------------------------------------

odd_values = st.sampled_from(ODD) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_create_request_never_500s(http: httpx.Client, data: st.DataObject) -> None:
    base = {"years": 3, "purpose": "채용", "dcql_query": oid4vp.career_query()}
    paths = _paths(base)
    path = data.draw(st.sampled_from(paths))
    how = data.draw(st.sampled_from(["replace", "delete", "sibling"])) if path else "replace"
    body = _mutate(base, path, how, data.draw(odd_values))
    resp = _create(http, _json_body(body))
    _assert_no_500(resp, body)
    if resp.status_code == 201:
        # what was accepted is served back as a Request Object a holder can parse
        obj = http.get(resp.json()["requestUri"])
        _assert_no_500(obj, body)
        oid4vp.RequestObject.parse(obj.json())


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_direct_post_never_500s_nor_strands(http: httpx.Client, issued: Issued, worker: Ed25519KeyPair, data: st.DataObject) -> None:
    created = _create(http, b"{}").json()
    request = oid4vp.fetch_request(created["authorizationRequest"], http)
    suite = data.draw(st.sampled_from(["eddsa-jcs-2022", "eddsa-rdfc-2022"]))
    token = oid4vp.build_vp_token(request, {"career": [issued.vc]}, worker, receipts={issued.id: issued.receipt}, cryptosuite=suite)
    path = data.draw(st.sampled_from(_paths(token)))
    how = data.draw(st.sampled_from(["replace", "delete", "sibling"])) if path else "replace"
    mutated = _mutate(token, path, how, data.draw(odd_values))
    state = data.draw(st.sampled_from([request.state, request.state, "\x00", "x" * 65]))
    body = {"vp_token": json.dumps(mutated), "state": state}
    resp = http.post("/requests/response", data=body)
    _assert_no_500(resp, mutated)
    status = http.get(created["statusUrl"])
    _assert_no_500(status, mutated)
    got = status.json()
    # the nonce is claimed only together with a stored verdict
    assert (got["status"] == "answered") == (got.get("verdict") is not None), (mutated, got)
    if resp.status_code in (200, 400) and resp.headers["content-type"].startswith("application/json") and "report" in resp.json():
        assert got["verdict"] == resp.json()["report"]["verdict"]


@pytest.mark.parametrize("path", ["/requests/%00/object", "/requests/%00/status?token=%00", "/requests/" + "x" * 300 + "/object"])
def test_odd_request_ids(http: httpx.Client, path: str) -> None:
    resp = http.get(path)
    assert resp.status_code == 404, resp.text
