"""agents.oidc: an ID token is accepted only when signed by the provider's published key, for this
client, from this issuer, in time, with this nonce; every other case is one VerificationError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jwcrypto import jwk, jwt

from agents import oidc
from agents.errors import InvalidInput, VerificationError

ISSUER, CLIENT = "https://id.seoul.test", "workcred-wallet"
AT = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
KEY = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")
OTHER = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")
JWKS = {"keys": [json.loads(KEY.export_public())]}


def _token(key: jwk.JWK = KEY, alg: str = "RS256", **claims: Any) -> str:
    now = int(AT.timestamp())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "kim", "iat": now, "exp": now + 300, "nonce": "n-1",
            "name": "김서울", "birthdate": "1990-05-01"} | claims  # fmt: skip
    token = jwt.JWT(header={"alg": alg, "kid": "k1"}, claims={k: v for k, v in body.items() if v is not None})
    token.make_signed_token(key)
    return str(token.serialize())


def test_a_good_token_gives_its_claims() -> None:
    claims = oidc.verify_id_token(_token(), JWKS, issuer=ISSUER, audience=CLIENT, nonce="n-1", at=AT)
    assert oidc.person(claims) == ("김서울", "1990-05-01")
    several = _token(aud=[CLIENT, "other"], azp=CLIENT)
    assert oidc.verify_id_token(several, JWKS, issuer=ISSUER, audience=CLIENT, at=AT)["sub"] == "kim"


@pytest.mark.parametrize("token, why", [
    (_token(key=OTHER), "signature"),
    (_token(iss="https://evil.test"), "issuer"),
    (_token(aud="another-client"), "audience"),
    (_token(aud=[CLIENT, "other"], azp="other"), "audience"),
    (_token(exp=int(AT.timestamp()) - 120), "expired"),
    (_token(iat=int(AT.timestamp()) + 3600), "expired"),
    (_token(nonce="n-2"), "nonce"),
    (_token(sub=None), "subject"),
    ("eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lkLnNlb3VsLnRlc3QifQ.", "signature"),
    ("not a token", "signature"),
    (None, "not a token"),
])  # fmt: skip
def test_everything_else_is_refused(token: Any, why: str) -> None:
    with pytest.raises(VerificationError, match="could not be confirmed") as caught:
        oidc.verify_id_token(token, JWKS, issuer=ISSUER, audience=CLIENT, nonce="n-1", at=AT)
    assert caught.value.details["reason"] == why
    assert "다시 시도" in caught.value.diagnostics("ko")


def test_a_token_without_name_or_birth_date_is_not_a_person() -> None:
    claims = oidc.verify_id_token(_token(birthdate=None), JWKS, issuer=ISSUER, audience=CLIENT, at=AT)
    with pytest.raises(InvalidInput, match="name and birth date"):
        oidc.person(claims)
