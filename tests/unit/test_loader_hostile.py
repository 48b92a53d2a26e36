"""The offline loader under hostile input: bounded parsing, no fetch for unknown contexts, no dropped terms."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from agents import dataintegrity as di
from agents import loader, verify
from agents.errors import DroppedProperty, InvalidCredential, ResourceLimit, UnknownContext
from agents.keys import Ed25519KeyPair

VC2 = "https://www.w3.org/ns/credentials/v2"
VC1 = "https://www.w3.org/2018/credentials/v1"
VOCAB = {"@vocab": "https://example.org/vocab#"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any connection attempt fails the test loudly (and is recorded)."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise AssertionError(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: refuse(None, a))  # type: ignore[arg-type]
    return attempts


def _vc(**extra: Any) -> dict[str, Any]:
    doc = {"@context": [VC2], "type": ["VerifiableCredential"], "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:s"}}
    return doc | extra


# --- bounded parsing -------------------------------------------------------------------------------


def test_size_cap() -> None:
    raw = json.dumps({"pad": "x" * 60_000, "more": ["y" * 60_000] * 4})
    with pytest.raises(ResourceLimit, match="bytes; the limit is 262144"):
        loader.parse_json(raw)
    assert loader.parse_json(raw, loader.Limits(max_bytes=1 << 20))["pad"]


@pytest.mark.parametrize("open_", ["[", '{"a":'])
def test_depth_10000(open_: str) -> None:
    close = "]" if open_ == "[" else "}"
    raw = open_ * 10_000 + "1" + close * 10_000
    started = time.perf_counter()
    with pytest.raises(ResourceLimit, match="nested deeper than 32"):
        loader.parse_json(raw)
    assert time.perf_counter() - started < 0.1


def test_depth_10000_as_an_object_already_parsed() -> None:
    node: list[Any] = []
    root = node
    for _ in range(10_000):
        child: list[Any] = []
        node.append(child)
        node = child
    with pytest.raises(ResourceLimit, match="nested deeper"):
        loader.check_bounds(root)
    with pytest.raises(ResourceLimit, match="nested deeper"):
        verify.check_credential(_vc(evidence=root), resolve=lambda vm: None)


def test_100000_members() -> None:
    wide = {"credentialSubject": {f"k{i}": i for i in range(100_000)}}
    with pytest.raises(ResourceLimit):  # the size cap answers first for raw JSON
        loader.parse_json(json.dumps(wide))
    with pytest.raises(ResourceLimit, match="more than 20000 members"):
        loader.parse_json(json.dumps(wide), loader.Limits(max_bytes=4 << 20))
    with pytest.raises(ResourceLimit, match="members"):
        loader.check_bounds({"a": list(range(100_000))})


@pytest.mark.parametrize(
    "raw",
    ['{"a": "x\\u0001y"}', '{"a\\u0007": 1}', '{"a": "\\u001b[31mred"}', '{"a": "x\\u007f"}', '{"a": "x\u0001"}'],
    ids=["escaped-value", "escaped-key", "ansi-escape", "delete", "raw"],
)
def test_control_characters(raw: str) -> None:
    with pytest.raises(InvalidCredential, match="control character"):
        loader.parse_json(raw)


def test_tab_and_newline_are_allowed() -> None:
    assert loader.parse_json('{"a": "x\\ty\\nz"}') == {"a": "x\ty\nz"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity(constant: str) -> None:
    with pytest.raises(InvalidCredential, match="not allowed"):
        loader.parse_json('{"a": ' + constant + '}')


def test_nan_in_an_object_already_parsed() -> None:
    with pytest.raises(InvalidCredential, match="NaN"):
        loader.check_bounds({"a": [float("nan")]})


def test_not_utf8_and_not_json() -> None:
    with pytest.raises(InvalidCredential, match="UTF-8"):
        loader.parse_json(b'{"a": "\xff"}')
    with pytest.raises(InvalidCredential, match="not valid JSON"):
        loader.parse_json("{'a': 1}")


# --- blank nodes -----------------------------------------------------------------------------------


def _clique(n: int) -> dict[str, Any]:
    """n blank nodes, each pointing to every other: RDFC-1.0's worst case (n! permutations)."""
    return {
        "@context": VOCAB,
        "@graph": [{"@id": f"_:b{i}", "knows": [{"@id": f"_:b{j}"} for j in range(n) if j != i]} for i in range(n)],
    }


def test_blank_node_clique_of_60_is_refused_fast() -> None:
    doc = _clique(60)
    started = time.perf_counter()
    with pytest.raises(ResourceLimit, match="names blank nodes more than 256 times"):
        loader.canonize(doc)
    assert time.perf_counter() - started < 1.0


def test_blank_node_clique_past_the_reference_cap_meets_the_work_budget() -> None:
    """The second line of defence: RDFC-1.0's N-degree step is bounded even when references are allowed."""
    with pytest.raises(ResourceLimit, match="indistinguishable blank nodes|work budget"):
        loader.canonize(_clique(60), loader.Limits(max_blank_node_refs=10_000))


def test_blank_node_clique_in_a_signed_credential_is_unusable_input() -> None:
    key = Ed25519KeyPair.generate()
    doc = _vc(credentialSubject={"id": "did:example:s"})
    doc["@context"] = [VC2, VOCAB]
    signed = di.sign(doc, key)
    signed["evidence"] = [dict(node, type="Evidence") for node in _clique(12)["@graph"]]  # typed: VCDM 2.0 §5.6
    started = time.perf_counter()
    with pytest.raises(ResourceLimit):
        verify.check_credential(signed, resolve=lambda vm: di.ResolvedKey(vm, key.public.did_key, key.public, frozenset({"assertionMethod"})))
    assert time.perf_counter() - started < 1.0


def test_small_symmetric_structure_still_canonicalises() -> None:
    assert "_:c14n" in loader.canonize(_clique(4))


def test_many_blank_nodes() -> None:
    doc = {"@context": VOCAB, "item": [{"n": i} for i in range(600)]}
    with pytest.raises(ResourceLimit, match="601 blank nodes; the limit is 512"):
        loader.canonize(doc)
    assert loader.canonize(doc, loader.Limits(max_blank_nodes=1000)).count("\n") == 1200


# --- contexts and dropped terms --------------------------------------------------------------------


def test_unknown_context_is_an_error_not_a_fetch(no_network: list[Any]) -> None:
    doc = _vc()
    doc["@context"] = [VC2, "https://example.com/contexts/evil.jsonld"]
    with pytest.raises(UnknownContext, match=r"https://example.com/contexts/evil.jsonld.*never fetched"):
        loader.canonize(doc)
    with pytest.raises(UnknownContext):
        loader.expand(doc)
    with pytest.raises(UnknownContext):
        di.sign(doc, Ed25519KeyPair.generate())
    assert no_network == []


def test_unknown_scoped_context_is_an_error(no_network: list[Any]) -> None:
    doc = _vc()
    doc["@context"] = [VC2, {"Thing": {"@id": "https://example.org/Thing", "@context": "https://example.com/scoped"}}]
    doc["credentialSubject"] = {"id": "did:example:s", "type": "Thing"}
    with pytest.raises(UnknownContext, match="example.com/scoped"):
        loader.canonize(doc)
    assert no_network == []


def test_unknown_context_diagnostics_in_korean() -> None:
    with pytest.raises(UnknownContext) as e:
        loader.context_document("https://example.com/x")
    assert "컨텍스트" in e.value.diagnostics("ko")


def test_dropped_property_under_credentials_v1_is_an_error() -> None:
    doc = {"@context": [VC1], "type": ["VerifiableCredential"], "issuer": "did:example:i", "issuanceDate": "2026-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:s", "hourlyWage": 10030}}  # fmt: skip
    with pytest.raises(DroppedProperty, match="hourlyWage"):
        loader.canonize(doc)
    with pytest.raises(DroppedProperty, match="hourlyWage"):
        di.sign(doc, Ed25519KeyPair.generate(), cryptosuite=di.ED25519_2020)


def test_dropped_property_under_credentials_v2_is_an_error() -> None:
    with pytest.raises(DroppedProperty, match="favouriteColour"):
        loader.canonize(_vc(favouriteColour="blue"))


def test_the_same_property_with_a_vocabulary_is_signed() -> None:
    doc = _vc(favouriteColour="blue")
    doc["@context"] = [VC2, VOCAB]
    assert "https://example.org/vocab#favouriteColour" in loader.canonize(doc)


def test_dropped_property_in_a_verified_credential_is_unusable_input() -> None:
    key = Ed25519KeyPair.generate()
    signed = di.sign(_vc(), key)
    signed["sneaky"] = "not covered by the signature"
    with pytest.raises(DroppedProperty):
        verify.check_credential(signed, resolve=lambda vm: di.ResolvedKey(vm, key.public.did_key, key.public, frozenset({"assertionMethod"})))
