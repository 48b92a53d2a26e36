"""OpenID Connect ID tokens from a city's identity provider (such as Seoul Pass): discovery and checks.

Shared by the wallet (which runs the login with authlib and reads the worker's name and birth date
from the ID token) and the issuer (which checks the same ID token before it binds the wallet's DID to
the roster row). Provider documents come through `agents.fetcher.Fetcher` (allow-listed host, size
caps, timeouts); JOSE goes through jwcrypto, the project's one JOSE library.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException

from .errors import InvalidInput, VerificationError
from .fetcher import Fetcher

#: what an ID token may be signed with (never "none", never HMAC with the client secret)
ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
LEEWAY = 60
MAX_TOKEN = 16 * 1024


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def discover(issuer: str, fetcher: Fetcher) -> ProviderMetadata:
    """The provider's `/.well-known/openid-configuration`; its `issuer` must be the one configured."""
    doc = fetcher.get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(doc.get(f), str) for f in fields) or doc["issuer"].rstrip("/") != issuer.rstrip("/"):
        raise InvalidInput("the identity provider's configuration is not usable", message_ko="본인 인증 서비스의 설정 정보를 사용할 수 없습니다")
    return ProviderMetadata(*(str(doc[f]) for f in fields))


def _refuse(why: str) -> VerificationError:
    return VerificationError(f"the identity provider's answer could not be confirmed ({why})",
                             message_ko="본인 인증 결과를 확인하지 못했습니다. 다시 시도하세요", reason=why)  # fmt: skip


def verify_id_token(token: Any, jwks: dict[str, Any], *, issuer: str, audience: str, nonce: str | None = None,
                    at: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """The claims of an ID token signed by a key of `jwks`, for `audience`, from `issuer`, not expired
    (and carrying `nonce` when given); one VerificationError for every failure."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise _refuse("not a token")
    try:
        keys = jwk.JWKSet.from_json(json.dumps(jwks))
        parsed = jwt.JWT(jwt=token, key=keys, algs=ALGORITHMS, check_claims=False, expected_type="JWS")
        claims = json.loads(parsed.claims)
    except (JWException, jws.InvalidJWSSignature, ValueError, TypeError, KeyError):
        raise _refuse("signature") from None
    now = (at or datetime.now(UTC)).timestamp()
    aud = claims.get("aud")
    # 1. issuer, 2. audience (and the authorized party when there are several), 3. time, 4. nonce
    if claims.get("iss") != issuer:
        raise _refuse("issuer")
    if not (aud == audience or (isinstance(aud, list) and audience in aud and claims.get("azp", audience) == audience)):
        raise _refuse("audience")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp + LEEWAY < now or (isinstance(iat, int | float) and iat - LEEWAY > now):
        raise _refuse("expired")
    if nonce is not None and claims.get("nonce") != nonce:
        raise _refuse("nonce")
    if not isinstance(claims.get("sub"), str):
        raise _refuse("subject")
    return dict(claims)


def person(claims: dict[str, Any]) -> tuple[str, str]:
    """(name, birth date) from standard claims; InvalidInput when the provider did not release them."""
    name, birth = claims.get("name"), claims.get("birthdate")
    if not isinstance(name, str) or not name.strip() or not isinstance(birth, str) or len(birth) != 10:
        raise InvalidInput("the identity provider did not give your name and birth date",
                           message_ko="본인 인증 서비스가 이름과 생년월일을 보내지 않았습니다")  # fmt: skip
    return name.strip(), birth
