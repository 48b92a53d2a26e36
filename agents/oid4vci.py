"""OpenID for Verifiable Credential Issuance 1.0 (Final) with `ldp_vc`: the shared parts and the holder side.

Our profile (README "Issuing over open standards"):
- the offer is ``openid-credential-offer://?credential_offer_uri=...`` (or ``?credential_offer=`` by
  value) with the pre-authorized code grant, optionally asking for a ``tx_code`` (§4.1.1);
- the Credential Issuer is its own Authorization Server: token endpoint from
  ``/.well-known/oauth-authorization-server`` (RFC 8414), everything else from
  ``/.well-known/openid-credential-issuer`` (§12.2.2, path inserted after the host);
- a fresh ``c_nonce`` comes from the Nonce Endpoint (§7) before every Credential Request;
- key proofs (§8.2.1, Appendix F): ``jwt`` (``typ: openid4vci-proof+jwt``, ``alg: EdDSA``, ``kid`` a
  did:key verification method, ``aud`` the issuer identifier, ``nonce`` the c_nonce), or ``di_vp``
  (a presentation signed with ``authentication`` purpose, ``domain`` the issuer, ``challenge`` the c_nonce);
- the Credential Response ``{"credentials": [{"credential": ...}]}`` carries, as the extension member
  ``workcred_receipt``, the registry receipt once the checkpoint covering the credential is signed.

JOSE goes through jwcrypto, the project's one JOSE library.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from . import dataintegrity as di
from . import loader, multibase
from .did import Resolver
from .errors import Error, InvalidInput, ResolutionError
from .keys import Ed25519KeyPair, Ed25519PublicMultikey
from .verify import create_presentation

SCHEME = "openid-credential-offer"
FORMAT = "ldp_vc"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CLIENT_CREDENTIALS_GRANT = "client_credentials"
PROOF_JWT_TYP = "openid4vci-proof+jwt"
ISSUER_METADATA_PATH = "/.well-known/openid-credential-issuer"
AS_METADATA_PATH = "/.well-known/oauth-authorization-server"
#: extension member of the Credential Response: the registry receipt of the issued credential
RECEIPT = "workcred_receipt"
#: the credential configurations workcred offers (configuration id = the credential type)
CONFIGURATION_IDS = ("LaborContractCredential", "CareerRecordCredential", "CareerCertificateCredential")

# a key proof older than this (by its iat) is refused even with a live nonce; clocks may differ by SKEW
MAX_PROOF_AGE = 300
SKEW = 60
_MAX_JWT = 8192
_MAX_TEXT = 2048
#: did:key only: a holder key is the key itself, nothing is fetched
_DID_KEY = Resolver(methods=("key",))


class ProtocolError(InvalidInput):
    """An OID4VCI exchange that went wrong; `error` is the spec's error code (§6.3, §8.3.1.2)."""

    code = "oid4vci"

    def __init__(self, message: str, *, message_ko: str | None = None, error: str = "invalid_request", status: int = 400, **details: Any) -> None:
        super().__init__(message, message_ko=message_ko, **details)
        self.error = error
        self.http_status = status


def _bad(en: str, ko: str, error: str = "invalid_request", status: int = 400) -> ProtocolError:
    return ProtocolError(en, message_ko=ko, error=error, status=status)


def _text(value: Any, what: str, *, limit: int = _MAX_TEXT) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _bad(f"{what} must be a non-empty string", f"{what} 값이 올바른 문자열이 아닙니다")
    return value


def _https_or_loopback(url: str, what: str) -> str:
    parts = urllib.parse.urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback) or not parts.netloc:
        raise _bad(f"{what} must be an https URL", f"{what}는 https 주소여야 합니다")
    return url


def well_known_url(identifier: str, well_known: str) -> str:
    """RFC 8414 §3 / OID4VCI §12.2.2: the well-known segment goes between the host and the path."""
    parts = urllib.parse.urlsplit(identifier)
    path = parts.path.rstrip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, well_known + path, "", ""))


# --- the offer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TxCode:
    """What the offer says about the transaction code the holder must type (§4.1.1)."""

    length: int | None = None
    input_mode: str = "numeric"
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input_mode": self.input_mode}
        if self.length is not None:
            out["length"] = self.length
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class CredentialOffer:
    """A Credential Offer with the pre-authorized code grant (the only grant workcred offers)."""

    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: TxCode | None = None

    def to_json(self) -> dict[str, Any]:
        grant: dict[str, Any] = {"pre-authorized_code": self.pre_authorized_code}
        if self.tx_code is not None:
            grant["tx_code"] = self.tx_code.to_json()
        return {
            "credential_issuer": self.credential_issuer,
            "credential_configuration_ids": list(self.configuration_ids),
            "grants": {PRE_AUTHORIZED_GRANT: grant},
        }

    @classmethod
    def parse(cls, data: Any) -> CredentialOffer:
        """Parse a Credential Offer object (§4.1.1); raise ProtocolError naming what is wrong."""
        if not isinstance(data, Mapping):
            raise _bad("the credential offer is not a JSON object", "자격증명 제안이 JSON 객체가 아닙니다")
        issuer = _https_or_loopback(_text(data.get("credential_issuer"), "credential_issuer"), "credential_issuer")
        ids = data.get("credential_configuration_ids")
        if not isinstance(ids, list) or not ids or len(ids) > 16:
            raise _bad("credential_configuration_ids must be a non-empty array", "credential_configuration_ids가 비어 있거나 잘못되었습니다")
        grants = data.get("grants")
        grant = grants.get(PRE_AUTHORIZED_GRANT) if isinstance(grants, Mapping) else None
        if not isinstance(grant, Mapping):
            raise _bad("the offer has no pre-authorized code grant", "사전 승인 코드(pre-authorized code)가 없는 제안입니다")
        code = _text(grant.get("pre-authorized_code"), "pre-authorized_code")
        tx = grant.get("tx_code")
        tx_code = None
        if tx is not None:
            if not isinstance(tx, Mapping):
                raise _bad("tx_code must be an object", "tx_code 형식이 잘못되었습니다")
            length = tx.get("length")
            mode = tx.get("input_mode", "numeric")
            desc = tx.get("description")
            if (length is not None and (type(length) is not int or not 0 < length <= 64)) or mode not in ("numeric", "text") or (desc is not None and not isinstance(desc, str)):
                raise _bad("tx_code has a bad length, input_mode or description", "tx_code의 length, input_mode, description이 잘못되었습니다")
            tx_code = TxCode(length, mode, desc[:300] if desc else None)
        return cls(issuer, tuple(_text(i, "credential_configuration_id", limit=128) for i in ids), code, tx_code)


def offer_url(*, offer_uri: str | None = None, offer: CredentialOffer | None = None) -> str:
    """``openid-credential-offer://?credential_offer_uri=...`` (by reference) or ``?credential_offer=`` (by value)."""
    if (offer_uri is None) == (offer is None):
        raise ValueError("give exactly one of offer_uri and offer")
    if offer_uri is not None:
        query = urllib.parse.urlencode({"credential_offer_uri": offer_uri})
    else:
        assert offer is not None
        query = urllib.parse.urlencode({"credential_offer": json.dumps(offer.to_json(), separators=(",", ":"))})
    return f"{SCHEME}://?{query}"


def resolve_offer(url: str, http: httpx.Client) -> CredentialOffer:
    """Parse an offer link (or a plain https link with the same query), dereferencing credential_offer_uri."""
    parts = urllib.parse.urlsplit(url.strip())
    query = urllib.parse.parse_qs(parts.query)
    if parts.scheme not in (SCHEME, "https", "http") or len(url) > 16384:
        raise _bad("not a credential offer link", "자격증명 제안 링크가 아닙니다")
    by_value, by_ref = query.get("credential_offer"), query.get("credential_offer_uri")
    if bool(by_value) == bool(by_ref):
        raise _bad(
            "the link must carry exactly one of credential_offer and credential_offer_uri",
            "링크에 credential_offer 또는 credential_offer_uri 중 하나만 있어야 합니다",
        )
    if by_value:
        return CredentialOffer.parse(_json(by_value[0].encode(), "credential_offer"))
    uri = _https_or_loopback(by_ref[0], "credential_offer_uri")  # type: ignore[index]
    return CredentialOffer.parse(_get_json(http, uri, "credential offer"))


def _json(raw: bytes, what: str) -> Any:
    try:
        return loader.parse_json(raw)
    except Error:
        raise _bad(f"the {what} is not valid JSON", f"{what} 응답이 올바른 JSON이 아닙니다") from None


def _get_json(http: httpx.Client, url: str, what: str) -> Any:
    try:
        resp = http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as e:
        raise _bad(f"cannot reach the issuer for the {what}: {type(e).__name__}", f"발급기관에 연결할 수 없습니다 ({what})", status=502) from None
    if resp.status_code != 200:
        raise _answer_error(resp, what)
    return _json(resp.content, what)


def _answer_error(resp: httpx.Response, what: str) -> ProtocolError:
    """The issuer's error answer (OAuth `error` member, or problem details) as a ProtocolError."""
    error, text = "invalid_request", ""
    try:
        body = loader.parse_json(resp.content)
        if isinstance(body, Mapping):
            code = body.get("error")
            error = code if isinstance(code, str) else error
            text = next((body[k] for k in ("error_description", "detail", "title") if isinstance(body.get(k), str)), "")
    except Error:
        pass
    return ProtocolError(
        f"the issuer refused the {what} ({resp.status_code} {error}): {text[:300]}",
        message_ko=f"발급기관이 요청을 거절했습니다 ({what}, {resp.status_code} {error}): {text[:300]}",
        error=error,
        status=resp.status_code,
    )


# --- metadata ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuerMetadata:
    """The endpoints and configurations a holder needs (§12.2.4, RFC 8414)."""

    credential_issuer: str
    token_endpoint: str
    credential_endpoint: str
    nonce_endpoint: str | None
    configurations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def fetch_metadata(credential_issuer: str, http: httpx.Client) -> IssuerMetadata:
    """Credential issuer metadata, then its authorization server's metadata for the token endpoint."""
    meta = _get_json(http, well_known_url(credential_issuer, ISSUER_METADATA_PATH), "issuer metadata")
    if not isinstance(meta, Mapping) or meta.get("credential_issuer") != credential_issuer:
        # §12.2.4: the metadata must name the same issuer the offer did, or it is someone else's
        raise _bad("the issuer metadata names another credential_issuer", "발급기관 메타데이터의 credential_issuer가 제안과 다릅니다")
    servers = meta.get("authorization_servers") or [credential_issuer]
    if not isinstance(servers, list) or not servers:
        raise _bad("authorization_servers must be an array", "authorization_servers 형식이 잘못되었습니다")
    server = _https_or_loopback(_text(servers[0], "authorization_servers"), "authorization server")
    as_meta = _get_json(http, well_known_url(server, AS_METADATA_PATH), "authorization server metadata")
    if not isinstance(as_meta, Mapping) or as_meta.get("issuer") != server:
        raise _bad("the authorization server metadata names another issuer", "인가 서버 메타데이터의 issuer가 다릅니다")
    configs = meta.get("credential_configurations_supported")
    nonce = meta.get("nonce_endpoint")
    return IssuerMetadata(
        credential_issuer,
        _https_or_loopback(_text(as_meta.get("token_endpoint"), "token_endpoint"), "token_endpoint"),
        _https_or_loopback(_text(meta.get("credential_endpoint"), "credential_endpoint"), "credential_endpoint"),
        _https_or_loopback(nonce, "nonce_endpoint") if isinstance(nonce, str) else None,
        dict(configs) if isinstance(configs, Mapping) else {},
    )


# --- token and nonce ---------------------------------------------------------------------------------


def request_token(meta: IssuerMetadata, offer: CredentialOffer, http: httpx.Client, *, tx_code: str | None = None) -> str:
    """Trade the pre-authorized code (and the transaction code, when asked) for an access token (§6)."""
    if offer.tx_code is not None and not tx_code:
        raise _bad("this offer needs the transaction code sent to you", "이 제안에는 따로 받은 거래 코드(tx_code)가 필요합니다", "invalid_grant")
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.pre_authorized_code}
    if tx_code:
        form["tx_code"] = tx_code
    body = _post(http, meta.token_endpoint, "token request", data=form)
    if not isinstance(body, Mapping) or str(body.get("token_type", "")).lower() != "bearer":
        raise _bad("the token response has no bearer token", "토큰 응답에 bearer 토큰이 없습니다")
    return _text(body.get("access_token"), "access_token")


def request_nonce(meta: IssuerMetadata, http: httpx.Client) -> str:
    """A fresh c_nonce from the Nonce Endpoint (§7)."""
    if meta.nonce_endpoint is None:
        raise _bad("the issuer has no nonce endpoint", "발급기관에 nonce 엔드포인트가 없습니다")
    body = _post(http, meta.nonce_endpoint, "nonce request")
    if not isinstance(body, Mapping):
        raise _bad("the nonce response is not an object", "nonce 응답 형식이 잘못되었습니다")
    return _text(body.get("c_nonce"), "c_nonce")


def _post(http: httpx.Client, url: str, what: str, **kw: Any) -> Any:
    try:
        resp = http.post(url, headers={"Accept": "application/json", **kw.pop("headers", {})}, **kw)
    except httpx.HTTPError as e:
        raise _bad(f"cannot reach the issuer for the {what}: {type(e).__name__}", f"발급기관에 연결할 수 없습니다 ({what})", status=502) from None
    if resp.status_code != 200:
        raise _answer_error(resp, what)
    return _json(resp.content, what)


# --- key proofs --------------------------------------------------------------------------------------


def _jwk_of(pair: Ed25519KeyPair) -> jwk.JWK:
    return jwk.JWK(kty="OKP", crv="Ed25519", x=multibase.b64url(pair.public.raw), d=multibase.b64url(pair.seed))


def jwt_proof(holder: Ed25519KeyPair, *, audience: str, nonce: str, at: datetime | None = None, client_id: str | None = None) -> str:
    """The `jwt` key proof (Appendix F.1) signed with the holder's did:key (EdDSA, kid = its method)."""
    header = {"typ": PROOF_JWT_TYP, "alg": "EdDSA", "kid": holder.verification_method}
    claims: dict[str, Any] = {"aud": audience, "iat": int((at or datetime.now(UTC)).timestamp()), "nonce": nonce}
    if client_id:
        claims["iss"] = client_id
    token = jws.JWS(json.dumps(claims, separators=(",", ":")).encode())
    token.allowed_algs = ["EdDSA"]
    token.add_signature(_jwk_of(holder), alg="EdDSA", protected=json.dumps(header, separators=(",", ":")))
    return str(token.serialize(compact=True))


def di_vp_proof(holder: Ed25519KeyPair, *, audience: str, nonce: str, at: datetime | None = None) -> dict[str, Any]:
    """The `di_vp` key proof (Appendix F.2): an empty presentation, challenge = c_nonce, domain = issuer."""
    return create_presentation([], holder, challenge=nonce, domain=audience, at=at)


@dataclass(frozen=True)
class ProvenKey:
    """What a valid key proof established: the holder's DID and the c_nonce it was made for."""

    holder_did: str
    nonce: str
    proof_type: str


def _proof_error(en: str, ko: str) -> ProtocolError:
    return _bad(en, ko, "invalid_proof")


def _did_key_public(kid: str) -> Ed25519PublicMultikey:
    """The key a did:key verification method names, checked by DID resolution (no network)."""
    if not kid.startswith("did:key:") or "#" not in kid:
        raise _proof_error("the proof's kid must be a did:key verification method", "증명의 kid는 did:key 검증 방법이어야 합니다")
    try:
        return _DID_KEY.resolve_method(kid, relationship="authentication").public_key
    except ResolutionError as e:
        raise _proof_error(f"the proof's kid does not resolve: {e.message}", f"증명의 kid를 해석할 수 없습니다: {e.message_ko}") from None


def verify_jwt_proof(token: Any, *, audience: str, at: datetime | None = None) -> ProvenKey:
    """Check a `jwt` key proof (Appendix F.1): header, signature, aud, iat; the caller consumes the nonce."""
    if not isinstance(token, str) or len(token) > _MAX_JWT or token.count(".") != 2:
        raise _proof_error("the jwt proof is not a compact JWS", "jwt 증명 형식이 잘못되었습니다")
    # 1. the header, read before verifying only to find the key (alg and typ are checked, not trusted)
    try:
        header = json.loads(multibase.b64url_decode(token.split(".", 1)[0]))
    except (ValueError, Error):
        raise _proof_error("the jwt proof header is not base64url JSON", "jwt 증명 헤더를 읽을 수 없습니다") from None
    if not isinstance(header, dict) or header.get("typ") != PROOF_JWT_TYP:
        raise _proof_error(f"the jwt proof's typ must be {PROOF_JWT_TYP}", f"jwt 증명의 typ은 {PROOF_JWT_TYP}이어야 합니다")
    if header.get("alg") != "EdDSA":
        raise _proof_error("the jwt proof must be signed with EdDSA", "jwt 증명은 EdDSA로 서명해야 합니다")
    if "jwk" in header or "x5c" in header or not isinstance(header.get("kid"), str):
        raise _proof_error("the jwt proof must name its key with a did:key kid only", "jwt 증명은 did:key kid로만 키를 밝혀야 합니다")
    kid = header["kid"]
    public = _did_key_public(kid)
    # 2. the signature, with EdDSA only
    verifier = jws.JWS()
    verifier.allowed_algs = ["EdDSA"]
    try:
        verifier.deserialize(token, key=jwk.JWK(**public.to_jwk()))
    except (JWException, ValueError, TypeError):
        raise _proof_error("the jwt proof's signature does not verify with its kid", "jwt 증명의 서명이 kid의 키로 검증되지 않습니다") from None
    try:
        claims = json.loads(verifier.payload)
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise _proof_error("the jwt proof's claims are not a JSON object", "jwt 증명의 클레임이 JSON 객체가 아닙니다")
    # 3. audience: this issuer, or the proof was made for another one
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise _proof_error("the jwt proof's aud is not this credential issuer", "jwt 증명의 aud가 이 발급기관이 아닙니다")
    # 4. iat: recent (the nonce bounds the replay window too, this bounds a proof made in advance)
    iat = claims.get("iat")
    now = (at or datetime.now(UTC)).timestamp()
    if not isinstance(iat, int | float) or isinstance(iat, bool) or not now - MAX_PROOF_AGE <= iat <= now + SKEW:
        raise _proof_error("the jwt proof's iat is missing, in the future or too old", "jwt 증명의 iat가 없거나 미래이거나 너무 오래되었습니다")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise _bad("the jwt proof carries no nonce", "jwt 증명에 nonce가 없습니다", "invalid_nonce")
    return ProvenKey(kid.split("#", 1)[0], nonce, "jwt")


def verify_di_vp_proof(vp: Any, *, audience: str) -> ProvenKey:
    """Check a `di_vp` key proof (Appendix F.2): authentication proof by a did:key, domain, challenge."""
    types = vp.get("type") if isinstance(vp, Mapping) else None
    if not isinstance(vp, Mapping) or "VerifiablePresentation" not in (types if isinstance(types, list) else [types]):
        raise _proof_error("the di_vp proof is not a VerifiablePresentation", "di_vp 증명이 VerifiablePresentation이 아닙니다")
    try:
        document = loader.parse_json(json.dumps(vp))  # the same bounds as every other document
        proofs = document.get("proof")
        proofs = proofs if isinstance(proofs, list) else [proofs]
        outcomes = di.verify_proofs(document, lambda vm: di.resolved_key_from(_DID_KEY.resolve_method(vm)))
    except Error as e:
        raise _proof_error(f"the di_vp proof cannot be checked: {e.message}", f"di_vp 증명을 확인할 수 없습니다: {e.message_ko}") from None
    for o in outcomes:
        p = proofs[o.index] if o.index < len(proofs) and isinstance(proofs[o.index], Mapping) else {}
        domain = p.get("domain")
        if not (o.ok and o.proof_purpose == "authentication" and o.controller and o.controller.startswith("did:key:")):
            continue
        if domain != audience and not (isinstance(domain, list) and audience in domain):
            raise _proof_error("the di_vp proof's domain is not this credential issuer", "di_vp 증명의 domain이 이 발급기관이 아닙니다")
        holder = vp.get("holder")
        if holder is not None and holder != o.controller:
            raise _proof_error("the di_vp proof is not signed by its holder", "di_vp 증명의 서명자가 holder와 다릅니다")
        challenge = p.get("challenge")
        if not isinstance(challenge, str) or not challenge:
            raise _bad("the di_vp proof carries no challenge", "di_vp 증명에 challenge가 없습니다", "invalid_nonce")
        return ProvenKey(o.controller, challenge, "di_vp")
    raise _proof_error("the di_vp proof has no valid authentication proof by a did:key", "di_vp 증명에 did:key의 유효한 인증 서명이 없습니다")


# --- the credential ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCredential:
    """One credential received, with its registry receipt when the issuer had one."""

    configuration_id: str
    credential: dict[str, Any]
    receipt: dict[str, Any] | None = None
    notification_id: str | None = None


def request_credential(
    meta: IssuerMetadata,
    access_token: str,
    configuration_id: str,
    http: httpx.Client,
    *,
    proof_type: str,
    proof: str | Mapping[str, Any],
) -> IssuedCredential:
    """POST the Credential Request (§8.2) with one key proof; parse the immediate response (§8.3)."""
    body = {"credential_configuration_id": configuration_id, "proofs": {proof_type: [proof]}}
    answer = _post(http, meta.credential_endpoint, "credential request", json=body, headers={"Authorization": f"Bearer {access_token}"})
    if not isinstance(answer, Mapping):
        raise _bad("the credential response is not an object", "자격증명 응답 형식이 잘못되었습니다")
    creds = answer.get("credentials")
    if not isinstance(creds, list) or not creds or not isinstance(creds[0], Mapping) or not isinstance(creds[0].get("credential"), dict):
        raise _bad("the credential response holds no credential (deferred issuance is not used by workcred)", "자격증명 응답에 자격증명이 없습니다")
    receipt = answer.get(RECEIPT)
    notification = answer.get("notification_id")
    return IssuedCredential(
        configuration_id,
        creds[0]["credential"],
        receipt if isinstance(receipt, dict) else None,
        notification if isinstance(notification, str) else None,
    )


def receive(
    url: str,
    holder: Ed25519KeyPair,
    http: httpx.Client,
    *,
    tx_code: str | None = None,
    proof_type: str = "jwt",
    configuration_ids: Sequence[str] | None = None,
    at: datetime | None = None,
) -> list[IssuedCredential]:
    """The whole pre-authorized flow for an offer link: metadata, token, then per credential a nonce and a proof."""
    if proof_type not in ("jwt", "di_vp"):
        raise ValueError(f"unsupported proof type {proof_type!r}")
    offer = resolve_offer(url, http)
    meta = fetch_metadata(offer.credential_issuer, http)
    token = request_token(meta, offer, http, tx_code=tx_code)
    out = []
    for config_id in configuration_ids or offer.configuration_ids:
        nonce = request_nonce(meta, http)
        proof: str | dict[str, Any]
        if proof_type == "jwt":
            proof = jwt_proof(holder, audience=meta.credential_issuer, nonce=nonce, at=at)
        else:
            proof = di_vp_proof(holder, audience=meta.credential_issuer, nonce=nonce, at=at)
        out.append(request_credential(meta, token, config_id, http, proof_type=proof_type, proof=proof))
    return out
