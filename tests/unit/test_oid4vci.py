"""agents.oid4vci: offers, key proofs (jwt and di_vp) and their refusals, without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from agents import multibase, oid4vci
from agents.keys import Ed25519KeyPair

ISSUER = "https://issuer.workcred.test"
AT = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def test_offer_round_trip_by_value_and_reference() -> None:
    offer = oid4vci.CredentialOffer(ISSUER, ("LaborContractCredential",), "code-1", oid4vci.TxCode(6, "numeric", "SMS"))
    url = oid4vci.offer_url(offer=offer)
    assert url.startswith("openid-credential-offer://?credential_offer=")
    assert oid4vci.resolve_offer(url, http=None) == offer  # type: ignore[arg-type]
    assert oid4vci.CredentialOffer.parse(offer.to_json()) == offer
    by_ref = oid4vci.offer_url(offer_uri=ISSUER + "/oid4vci/offers/abc")
    assert by_ref == "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.workcred.test%2Foid4vci%2Foffers%2Fabc"


@pytest.mark.parametrize(
    ("offer", "match"),
    [
        ({"credential_issuer": "http://evil.example", "credential_configuration_ids": ["x"], "grants": {}}, "https"),
        ({"credential_issuer": ISSUER, "credential_configuration_ids": [], "grants": {}}, "non-empty"),
        ({"credential_issuer": ISSUER, "credential_configuration_ids": ["x"], "grants": {}}, "pre-authorized"),
        ({"credential_issuer": ISSUER, "credential_configuration_ids": ["x"], "grants": {oid4vci.PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "c", "tx_code": {"length": 0}}}}, "tx_code"),
    ],
)
def test_bad_offers_are_refused(offer: dict, match: str) -> None:
    with pytest.raises(oid4vci.ProtocolError, match=match):
        oid4vci.CredentialOffer.parse(offer)


def test_well_known_path_is_inserted_after_the_host() -> None:
    assert oid4vci.well_known_url("https://a.test", oid4vci.ISSUER_METADATA_PATH) == "https://a.test/.well-known/openid-credential-issuer"
    assert oid4vci.well_known_url("https://a.test/city/", oid4vci.AS_METADATA_PATH) == "https://a.test/.well-known/oauth-authorization-server/city"


def test_jwt_proof_names_the_holder_and_nonce() -> None:
    holder = Ed25519KeyPair.generate()
    token = oid4vci.jwt_proof(holder, audience=ISSUER, nonce="n-1", at=AT)
    header = json.loads(multibase.b64url_decode(token.split(".")[0]))
    assert header == {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": holder.verification_method}
    proven = oid4vci.verify_jwt_proof(token, audience=ISSUER, at=AT + timedelta(seconds=5))
    assert proven == oid4vci.ProvenKey(holder.public.did_key, "n-1", "jwt")


def _resign(token: str, header: dict | None = None, claims: dict | None = None, key: Ed25519KeyPair | None = None) -> str:
    """A jwt proof with a changed header or claims, signed by `key` (the raw JWS signing input)."""
    h, c, _ = token.split(".")
    h = multibase.b64url(json.dumps(header).encode()) if header is not None else h
    c = multibase.b64url(json.dumps(claims).encode()) if claims is not None else c
    sig = (key or Ed25519KeyPair.generate()).sign(f"{h}.{c}".encode())
    return f"{h}.{c}.{multibase.b64url(sig)}"


def test_jwt_proof_refusals() -> None:
    holder, other = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    good = oid4vci.jwt_proof(holder, audience=ISSUER, nonce="n", at=AT)
    claims = {"aud": ISSUER, "iat": int(AT.timestamp()), "nonce": "n"}
    header = {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": holder.verification_method}
    cases = {
        "signature does not verify": _resign(good, key=other),  # signed by another key than its kid
        "aud is not": oid4vci.jwt_proof(holder, audience="https://other.test", nonce="n", at=AT),
        "iat": oid4vci.jwt_proof(holder, audience=ISSUER, nonce="n", at=AT - timedelta(minutes=10)),
        "typ must be": _resign(good, header={**header, "typ": "JWT"}, key=holder),
        "EdDSA": _resign(good, header={**header, "alg": "none"}, key=holder),
        "did:key kid only": _resign(good, header={**header, "jwk": holder.public.to_jwk()}, key=holder),
        "no nonce": _resign(good, claims={k: v for k, v in claims.items() if k != "nonce"}, key=holder),
        "compact JWS": "not-a-jwt",
    }
    for match, token in cases.items():
        with pytest.raises(oid4vci.ProtocolError, match=match):
            oid4vci.verify_jwt_proof(token, audience=ISSUER, at=AT)
    with pytest.raises(oid4vci.ProtocolError, match="kid must be a did:key"):
        oid4vci.verify_jwt_proof(_resign(good, header={**header, "kid": "did:web:x.test#k"}, key=holder), audience=ISSUER, at=AT)


def test_di_vp_proof_and_refusals() -> None:
    holder, other = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    vp = oid4vci.di_vp_proof(holder, audience=ISSUER, nonce="n-2", at=AT)
    assert oid4vci.verify_di_vp_proof(vp, audience=ISSUER) == oid4vci.ProvenKey(holder.public.did_key, "n-2", "di_vp")
    with pytest.raises(oid4vci.ProtocolError, match="domain"):
        oid4vci.verify_di_vp_proof(vp, audience="https://other.test")
    tampered = {**vp, "holder": other.public.did_key}
    with pytest.raises(oid4vci.ProtocolError, match="no valid authentication proof"):
        oid4vci.verify_di_vp_proof(tampered, audience=ISSUER)
    with pytest.raises(oid4vci.ProtocolError, match="not a VerifiablePresentation"):
        oid4vci.verify_di_vp_proof({"type": "X"}, audience=ISSUER)
