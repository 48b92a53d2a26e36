"""VCDM 2.0 §4 data-model rules: one checker for the issuer (refuse to sign) and the verifier (refuse to judge)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from agents import datamodel
from agents.korean import josa

VECTORS = Path(__file__).parents[1] / "vectors" / "w3c-vc-di-eddsa"


def _good() -> dict[str, Any]:
    return {
        "@context": [datamodel.VC_V2, {"@vocab": "https://example.org/#"}],
        "id": "urn:uuid:7f0e3bd4-0e1f-4a5f-9d43-6c1e8a0d2c11",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": {"id": "did:web:example.org", "name": "Example"},
        "validFrom": "2027-01-01T00:00:00Z",
        "validUntil": "2028-01-01T00:00:00+09:00",
        "credentialSubject": {"id": "did:example:worker", "position": "supporter"},
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusListCredential": "https://example.org/s/1"},
        "credentialSchema": [{"id": "https://example.org/schema.json", "type": "JsonSchema"}],
    }


def test_a_conforming_credential_has_no_violation() -> None:
    assert datamodel.check_credential(_good()) == []
    datamodel.require_credential(_good())


def test_the_w3c_vectors_conform() -> None:
    doc = json.loads((VECTORS / "unsigned.json").read_text())
    assert datamodel.check_credential(doc) == []


def _mutated(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_good())
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()

CASES = [
    (["@context"], _DELETE, "4.3-context", "$.@context"),
    (["@context"], ["https://example.org/ctx", datamodel.VC_V2], "4.3-context-first", "$.@context[0]"),
    (["@context"], [datamodel.VC_V2, 42], "4.3-context-item", "$.@context[1]"),
    (["id"], "not a url", "4.4-id", "$.id"),
    (["id"], ["urn:a", "urn:b"], "4.4-id", "$.id"),
    (["type"], _DELETE, "4.5-type", "$.type"),
    (["type"], ["ExampleCredential"], "4.5-type-required", "$.type"),
    (["type"], ["VerifiableCredential", 7], "4.5-type-value", "$.type"),
    (["issuer"], _DELETE, "4.7-issuer", "$.issuer"),
    (["issuer"], {"name": "no id"}, "4.7-issuer-value", "$.issuer"),
    (["issuer"], "example.org", "4.7-issuer-value", "$.issuer"),
    (["name"], 5, "4.6-name", "$.name"),
    (["credentialSubject"], _DELETE, "4.8-credentialSubject", "$.credentialSubject"),
    (["credentialSubject"], [], "4.8-credentialSubject", "$.credentialSubject"),
    (["credentialSubject"], {}, "4.8-credentialSubject-value", "$.credentialSubject"),
    (["credentialSubject"], "did:example:worker", "4.8-credentialSubject-value", "$.credentialSubject"),
    (["validFrom"], "2027-01-01T00:00:00", "4.9-datetime", "$.validFrom"),
    (["validUntil"], "2026-01-01T00:00:00Z", "4.9-order", "$.validUntil"),
    (["credentialStatus"], {"statusListCredential": "https://example.org/s/1"}, "4-credentialStatus-type", "$.credentialStatus.type"),
    (["credentialStatus"], "https://example.org/s/1", "4-credentialStatus", "$.credentialStatus"),
    (["credentialSchema"], [{"type": "JsonSchema"}], "4.11-credentialSchema-id", "$.credentialSchema[0].id"),
    (["termsOfUse"], {"id": "urn:x"}, "4-termsOfUse-type", "$.termsOfUse.type"),
    (["termsOfUse"], "2099-01-01T00:00:00Z", "4-termsOfUse", "$.termsOfUse"),
    (["evidence"], [{"id": "urn:e"}], "4-evidence-type", "$.evidence[0].type"),
    (["refreshService"], {"id": "https://example.org/r"}, "4-refreshService-type", "$.refreshService.type"),
    (["relatedResource"], [{"id": "https://example.org/x"}], "5.3-relatedResource-digest", "$.relatedResource[0]"),
]


@pytest.mark.parametrize(("path", "value", "rule", "where"), CASES, ids=[c[2] + ":" + c[3] for c in CASES])
def test_each_must_of_section_4_is_enforced(path: list[Any], value: Any, rule: str, where: str) -> None:
    found = datamodel.check_credential(_mutated(path, value))
    assert (rule, where) in [(v.rule, v.path) for v in found]
    with pytest.raises(datamodel.NonConforming, match=where.replace("$", r"\$").replace(".", r"\.").replace("[", r"\[")):
        datamodel.require_credential(_mutated(path, value))


def test_every_violation_says_what_is_wrong_in_both_languages() -> None:
    for path, value, _rule, _where in CASES:
        for v in datamodel.check_credential(_mutated(path, value)):
            assert v.message_ko and v.message_en
            assert "이(가)" not in v.message_ko and "은(는)" not in v.message_ko


def test_the_error_is_a_400_with_every_violation() -> None:
    doc = _mutated(["issuer"], _DELETE)
    doc["validFrom"] = "yesterday"
    with pytest.raises(datamodel.NonConforming) as caught:
        datamodel.require_credential(doc)
    assert caught.value.http_status == 400
    assert {v["rule"] for v in caught.value.details["violations"]} == {"4.7-issuer", "4.9-datetime"}
    assert "외 1건" in caught.value.diagnostics("ko")


def test_a_presentation_without_credentials_conforms() -> None:
    vp = {"@context": [datamodel.VC_V2], "type": ["VerifiablePresentation"], "holder": "did:example:worker"}
    assert datamodel.check_presentation(vp) == []


def test_a_presentation_checks_the_credentials_inside() -> None:
    bad = _mutated(["credentialSubject"], _DELETE)
    vp = {"@context": [datamodel.VC_V2], "type": "VerifiablePresentation", "verifiableCredential": [_good(), bad]}
    found = datamodel.check_presentation(vp)
    assert [(v.rule, v.path) for v in found] == [("4.8-credentialSubject", "$.verifiableCredential[1].credentialSubject")]
    vp["verifiableCredential"] = {"@context": [datamodel.VC_V2], "type": "EnvelopedVerifiableCredential", "id": "https://x"}
    assert [v.rule for v in datamodel.check_presentation(vp)] == ["4.13.1-enveloped-id"]
    vp["verifiableCredential"]["id"] = "data:application/vc+jwt,eyJ"
    assert datamodel.check_presentation(vp) == []
    assert [v.rule for v in datamodel.check_presentation({"@context": [datamodel.VC_V2], "type": ["VerifiableCredential"]})] == ["4.5-type-required"]


@pytest.mark.parametrize(
    ("word", "particle", "expected"),
    [("발급자", "이", "발급자가"), ("계약서", "을", "계약서를"), ("서명", "을", "서명을"), ("서울시", "은", "서울시는"),
     ("issuer", "은", "issuer는"), ("validFrom", "이", "validFrom이"), ("3", "을", "3을"), ("2", "을", "2를"), ("URL", "으로", "URL로"), ("파일", "으로", "파일로"),
     ("문서", "으로", "문서로"), ("서명", "으로", "서명으로"), ("VerifiableCredential", "이", "VerifiableCredential이"),
     ("(발급기관)", "과", "(발급기관)과")],
)  # fmt: skip
def test_korean_particles_follow_the_word(word: str, particle: str, expected: str) -> None:
    assert josa(word, particle) == expected


def test_the_verifier_refuses_a_non_conforming_credential_with_every_violation() -> None:
    from agents.verify import Credential

    doc = _mutated(["validUntil"], "2026-01-01T00:00:00Z")
    with pytest.raises(datamodel.NonConforming, match="validUntil"):
        Credential.parse(doc)
