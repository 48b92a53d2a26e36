"""DID resolution without the network: did:key, did:jwk, pinned documents, parsing rules, malformed DIDs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from agents import multibase
from agents.did import DidDocument, Resolver, VerificationMethod, did_jwk, did_key_document
from agents.errors import ResolutionError
from agents.keys import Ed25519KeyPair, Ed25519PublicMultikey

_ROOT = Path(__file__).resolve().parents[2]
_SHARED = Path(os.environ.get("WORKCRED_SHARED_VECTORS", _ROOT.parent / "shared" / "vectors"))
# the shared W3C vc-di-eddsa vectors, else the copy in tests/vectors (as tests/conftest.py picks them)
VECTORS = next(
    (p for p in (_SHARED / "w3c-vc-di-eddsa", _ROOT / "tests" / "vectors" / "w3c-vc-di-eddsa") if p.exists()),
    _SHARED / "w3c-vc-di-eddsa",
)
KEY_PAIR: dict[str, str] = json.loads((VECTORS / "keyPair.json").read_text())
VECTOR_DID = "did:key:" + KEY_PAIR["publicKeyMultibase"]
VECTOR_VM = f"{VECTOR_DID}#{KEY_PAIR['publicKeyMultibase']}"
FOUR = {"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"}


# -- did:key ----------------------------------------------------------------------------------------


def test_did_key_document_for_the_w3c_vector_key() -> None:
    doc = Resolver().resolve(VECTOR_DID)
    mb = KEY_PAIR["publicKeyMultibase"]
    assert doc.to_json() == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": VECTOR_DID,
        "verificationMethod": [
            {"id": VECTOR_VM, "type": "Multikey", "controller": VECTOR_DID, "publicKeyMultibase": mb}
        ],
        "authentication": [VECTOR_VM],
        "assertionMethod": [VECTOR_VM],
        "capabilityDelegation": [VECTOR_VM],
        "capabilityInvocation": [VECTOR_VM],
    }
    assert doc.id == VECTOR_DID
    assert [vm.id for vm in doc.methods] == [VECTOR_VM]


def test_did_key_method_carries_the_vector_public_key() -> None:
    vm = Resolver().resolve_method(VECTOR_VM)
    assert vm == VerificationMethod(
        VECTOR_VM,
        "Multikey",
        VECTOR_DID,
        Ed25519PublicMultikey.from_multibase(KEY_PAIR["publicKeyMultibase"]),
        FOUR,
    )
    assert vm.public_key == Ed25519KeyPair.from_json(KEY_PAIR).public
    assert vm.relationships == FOUR and "keyAgreement" not in vm.relationships


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"])
def test_vector_signatures_verify_with_the_resolved_key(suite: str) -> None:
    """The key a verifier resolves from each vector's proof checks that vector's signature."""
    folder = VECTORS / suite
    config = json.loads(next(folder.glob("proofConfig*.json")).read_text())
    combined = bytes.fromhex(next(folder.glob("combinedHash*.txt")).read_text().strip())
    signature = bytes.fromhex(next(folder.glob("sigHex*.txt")).read_text().strip())
    vm = Resolver().resolve_method(config["verificationMethod"], relationship=config["proofPurpose"])
    assert vm.public_key.verify(signature, combined)
    assert not vm.public_key.verify(signature, combined[:-1] + bytes([combined[-1] ^ 1]))


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "P-256 key is not supported"),
        ("did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc", "X25519 key is not supported"),
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "secp256k1 key is not supported"),
        ("did:key:" + multibase.encode(multibase.ED25519_PUB + bytes(16)), "not 32 bytes"),
        ("did:key:z0OIl", "not valid base58btc"),
        ("did:key:uAe0B", "multibase base58btc"),
    ],
)
def test_did_key_refusals(did: str, reason: str) -> None:
    with pytest.raises(ResolutionError, match=reason):
        Resolver().resolve(did)


def test_did_key_fragment_must_be_the_key() -> None:
    with pytest.raises(ResolutionError, match="has no verification method"):
        Resolver().resolve_method(VECTOR_DID + "#key-1")


def test_a_generated_key_resolves_to_itself() -> None:
    pair = Ed25519KeyPair.generate()
    assert Resolver().resolve_method(pair.verification_method).public_key == pair.public
    assert did_key_document(pair.public.did_key)["verificationMethod"][0]["id"] == pair.public.did_key_vm


# -- did:jwk ----------------------------------------------------------------------------------------


def test_did_jwk_round_trip() -> None:
    pair = Ed25519KeyPair.from_json(KEY_PAIR)
    did = did_jwk(pair.public)
    assert did.startswith("did:jwk:eyJ")
    jwk = json.loads(multibase.b64url_decode(did.removeprefix("did:jwk:")))
    assert jwk == {"crv": "Ed25519", "kty": "OKP", "x": multibase.b64url(pair.public.raw)}
    doc = Resolver().resolve(did)
    vm = Resolver().resolve_method(did + "#0", relationship="assertionMethod")
    assert doc.methods == (vm,)
    assert vm.type == "JsonWebKey2020" and vm.controller == did
    assert vm.public_key == pair.public
    assert vm.to_json()["publicKeyJwk"] == jwk
    message = b"labor contract digest"
    assert vm.public_key.verify(pair.sign(message), message)


def test_did_jwk_use_decides_relationships() -> None:
    pub = Ed25519KeyPair.generate().public
    sig = "did:jwk:" + multibase.b64url(json.dumps({**pub.to_jwk(), "use": "sig"}).encode())
    assert Resolver().resolve(sig).methods[0].relationships == FOUR
    plain = Resolver().resolve(did_jwk(pub)).methods[0].relationships
    assert plain == FOUR | {"keyAgreement"}  # did:jwk §2.3: keyAgreement unless use is "sig"


@pytest.mark.parametrize(
    ("jwk", "reason"),
    [
        ({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, "only OKP Ed25519"),
        ({"kty": "OKP", "crv": "X25519", "x": "A" * 43}, "only OKP Ed25519"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "d": "B" * 43}, "private key"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "short"}, "32-byte base64url"),
        ([1, 2], "publicKeyJwk is missing or not an object"),
    ],
)
def test_did_jwk_refusals(jwk: Any, reason: str) -> None:
    did = "did:jwk:" + multibase.b64url(json.dumps(jwk).encode())
    with pytest.raises(ResolutionError, match=reason):
        Resolver().resolve(did)


def test_did_jwk_that_is_not_json() -> None:
    with pytest.raises(ResolutionError, match="not base64url-encoded JSON"):
        Resolver().resolve("did:jwk:" + multibase.b64url(b"not json"))


# -- malformed DIDs and unknown methods ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("", "empty DID"),
        (" did:key:z6Mk", "spaces or control characters"),
        ("did:key:z6Mk ", "spaces or control characters"),
        ("did:key: z6Mk", "spaces or control characters"),
        ("did:key:z6Mk\n", "spaces or control characters"),
        ("did:key:z6\x00Mk", "spaces or control characters"),
        ("did:key:z6\x7fMk", "spaces or control characters"),
        ("did:web:" + "a" * 5000, "longer than 2048"),
        ("not-a-did", "not a DID"),
        ("DID:key:z6Mk", "not a DID"),
        ("did:KEY:z6Mk", "malformed DID"),
        ("did::z6Mk", "malformed DID"),
        ("did:key", "malformed DID"),
        ("did:key:", "malformed DID"),
        ("did:web:example.com:", "malformed DID"),
        ("did:web:exa%ZZmple.com", "malformed DID"),
        ("did:web:例.com", "malformed DID"),
        (VECTOR_VM, "without path, query or fragment"),
        ("did:web:example.com/path", "without path, query or fragment"),
        ("did:example:123456789abcdefghi", "did:example is not supported"),
        ("did:ethr:0xb9c5714089478a327f09197987f16f9e5d936e8a", "did:ethr is not supported"),
    ],
)
def test_malformed_and_unknown_dids(did: str, reason: str) -> None:
    with pytest.raises(ResolutionError, match=reason) as info:
        Resolver().resolve(did)
    assert info.value.diagnostics("ko")  # a Korean message for the verifier page
    assert len(info.value.message) < 300  # an over-long DID is not echoed back whole


@pytest.mark.parametrize("did", [None, 42, b"did:key:z6Mk"])
def test_non_string_dids(did: Any) -> None:
    with pytest.raises(ResolutionError, match="empty DID"):
        Resolver().resolve(did)


@pytest.mark.parametrize(
    ("vm_id", "reason"),
    [
        (VECTOR_DID, "DID URL with a fragment"),
        (VECTOR_DID + "#", "DID URL with a fragment"),
        (VECTOR_DID + "#a b", "DID URL with a fragment"),
        ("", "empty verification method id"),
        ("#key-1", "empty DID"),
        ("did:web:x.org#" + "k" * 3000, "longer than 2048"),
    ],
)
def test_malformed_method_ids(vm_id: str, reason: str) -> None:
    with pytest.raises(ResolutionError, match=reason):
        Resolver().resolve_method(vm_id)


def test_methods_can_be_limited() -> None:
    with pytest.raises(ResolutionError, match="did:jwk is not supported"):
        Resolver(methods=("key",)).resolve(did_jwk(Ed25519KeyPair.generate().public))


def test_did_web_without_a_fetcher_says_so() -> None:
    with pytest.raises(ResolutionError, match="needs a fetcher"):
        Resolver().resolve("did:web:example.com")


# -- documents: references, embedded methods, key formats, controllers -------------------------------

CITY = "did:web:data.seoul.go.kr:departments:jobs"
K1 = Ed25519KeyPair.from_seed(bytes(range(32))).public
K2 = Ed25519KeyPair.from_seed(bytes(range(1, 33))).public
K3 = Ed25519KeyPair.from_seed(bytes(range(2, 34))).public


def city_document() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": CITY,
        "verificationMethod": [
            {"id": "#key-1", "type": "Multikey", "controller": CITY, "publicKeyMultibase": K1.multibase},
            {"id": f"{CITY}#key-2020", "type": "Ed25519VerificationKey2020", "controller": CITY,
             "publicKeyMultibase": K2.multibase},
            {"id": f"{CITY}#jwk", "type": "JsonWebKey", "controller": CITY, "publicKeyJwk": K3.to_jwk()},
            {"id": f"{CITY}#b58", "type": "Ed25519VerificationKey2018", "controller": CITY,
             "publicKeyBase58": multibase.b58encode(K3.raw)},
            {"id": f"{CITY}#x25519", "type": "X25519KeyAgreementKey2020", "controller": CITY,
             "publicKeyMultibase": "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"},
            {"id": f"{CITY}#foreign", "type": "Multikey", "controller": "did:web:evil.example",
             "publicKeyMultibase": K3.multibase},
        ],
        "assertionMethod": [
            "#key-1",
            f"{CITY}#key-2020",
            {"id": "#embedded", "type": "Multikey", "controller": CITY, "publicKeyMultibase": K3.multibase},
            "#foreign",
        ],
        "authentication": ["#key-1", f"{CITY}#jwk"],
        "keyAgreement": [f"{CITY}#x25519"],
        "capabilityInvocation": ["did:web:other.example#key-1"],  # another DID's key: never followed
    }  # fmt: skip


def test_relationships_by_relative_and_absolute_reference_and_embedding() -> None:
    resolver = Resolver(static={CITY: city_document()})
    doc = resolver.resolve(CITY)
    assert {vm.id for vm in doc.methods_for("assertionMethod")} == {
        f"{CITY}#key-1", f"{CITY}#key-2020", f"{CITY}#embedded", f"{CITY}#foreign"
    }  # fmt: skip
    assert resolver.resolve_method(f"{CITY}#key-1").relationships == {"assertionMethod", "authentication"}
    assert resolver.resolve_method(f"{CITY}#key-1").public_key == K1
    assert resolver.resolve_method(f"{CITY}#key-2020", relationship="assertionMethod").public_key == K2
    assert resolver.resolve_method(f"{CITY}#embedded", relationship="assertionMethod").public_key == K3
    assert resolver.resolve_method(f"{CITY}#jwk", relationship="authentication").public_key == K3
    assert resolver.resolve_method(f"{CITY}#b58").public_key == K3
    assert doc.method("#key-1") is doc.method(f"{CITY}#key-1")


def test_method_not_in_the_asked_relationship() -> None:
    resolver = Resolver(static={CITY: city_document()})
    with pytest.raises(ResolutionError, match="#jwk is not authorised for assertionMethod"):
        resolver.resolve_method(f"{CITY}#jwk", relationship="assertionMethod")
    with pytest.raises(ResolutionError, match="not authorised for assertionMethod"):
        resolver.resolve_method(f"{CITY}#b58", relationship="assertionMethod")


def test_controller_must_be_the_document_id() -> None:
    resolver = Resolver(static={CITY: city_document()})
    with pytest.raises(ResolutionError, match="controller did:web:evil.example is not the DID"):
        resolver.resolve_method(f"{CITY}#foreign", relationship="assertionMethod")


def test_unsupported_key_type_has_a_clear_reason() -> None:
    resolver = Resolver(static={CITY: city_document()})
    with pytest.raises(ResolutionError, match="X25519KeyAgreementKey2020'? is not supported"):
        resolver.resolve_method(f"{CITY}#x25519")
    with pytest.raises(ResolutionError, match="has no verification method"):
        resolver.resolve_method(f"{CITY}#missing")


def test_static_document_must_carry_its_did() -> None:
    with pytest.raises(ResolutionError, match="does not match the DID"):
        Resolver(static={"did:web:data.seoul.go.kr": city_document()})


def test_static_document_wins_over_the_method() -> None:
    pinned = did_key_document(VECTOR_DID)
    pinned["assertionMethod"] = []
    resolver = Resolver(static={VECTOR_DID: pinned})
    with pytest.raises(ResolutionError, match="not authorised for assertionMethod"):
        resolver.resolve_method(VECTOR_VM, relationship="assertionMethod")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.pop("id"), "has no id"),
        (lambda d: d.update(id="not a did"), "spaces or control characters"),
        (lambda d: d.update(verificationMethod={"id": "#k"}), "verificationMethod must be a list"),
        (lambda d: d.update(assertionMethod="#key-1"), "assertionMethod must be a list"),
        (lambda d: d["verificationMethod"].append(dict(d["verificationMethod"][0])), "appears twice"),
        (lambda d: d["verificationMethod"].append({"type": "Multikey"}), "has no id"),
        (lambda d: d["verificationMethod"].append({"id": "#z", "type": "Multikey"}), "type and a controller"),
        (lambda d: d["authentication"].append("#nowhere"), "references .*#nowhere, which the document"),
        (lambda d: d.update(controller=[1]), "controller"),
    ],
)
def test_malformed_documents(change: Any, reason: str) -> None:
    doc = city_document()
    change(doc)
    with pytest.raises(ResolutionError, match=reason):
        DidDocument.from_json(doc)


def test_document_is_a_json_object() -> None:
    with pytest.raises(ResolutionError, match="JSON object"):
        DidDocument.from_json([city_document()])


def test_bad_keys_are_set_aside_with_the_reason() -> None:
    doc = city_document()
    doc["verificationMethod"][1]["publicKeyMultibase"] = "zBadKey0"
    doc["verificationMethod"][2]["publicKeyJwk"] = {**K3.to_jwk(), "d": "secret"}
    parsed = DidDocument.from_json(doc)
    assert f"{CITY}#key-2020" in parsed.unsupported
    with pytest.raises(ResolutionError, match="private key"):
        parsed.method(f"{CITY}#jwk")


# -- immutability -----------------------------------------------------------------------------------------


def test_parsed_document_is_frozen_and_a_copy() -> None:
    source = city_document()
    doc = DidDocument.from_json(source)
    source["id"] = "did:web:changed.example"
    assert doc.to_json()["id"] == CITY
    with pytest.raises(AttributeError):
        doc.id = "x"  # type: ignore[misc]
