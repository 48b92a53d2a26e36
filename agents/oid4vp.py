"""OpenID for Verifiable Presentations 1.0 with DCQL and W3C `ldp_vc` credentials: the shared parts and
the holder side (the wallet's flow, also used by the tests acting as a holder).

Our profile (documented in README "Verifier"):
- the Authorization Request is passed by reference: ``openid4vp://?client_id=...&request_uri=...``;
  `request_uri` answers the Request Object as JSON (or, with ``Accept: application/oauth-authz-req+jwt``,
  as an unsecured JWT, ``alg: none``: the `redirect_uri:` client id prefix forbids signed requests);
- ``client_id`` is ``redirect_uri:<response_uri>`` (OpenID4VP 1.0 §5.9.3), ``response_mode`` is
  ``direct_post`` and ``state`` names the request;
- the nonce becomes the presentation proof's ``challenge`` and the client id its ``domain`` (§B.1.3.2.2);
- ``vp_token`` is a JSON object keyed by the DCQL credential query id, each value an array of
  presentations (§8.1).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from . import loader
from .errors import InvalidInput
from .keys import Signer
from .receipts import Receipt
from .verify import create_presentation

SCHEME = "openid4vp"
FORMAT = "ldp_vc"
CLIENT_ID_PREFIX = "redirect_uri:"
REQUEST_OBJECT_JWT = "application/oauth-authz-req+jwt"
CAREER_TYPES = ("CareerRecordCredential", "CareerCertificateCredential")
#: workcred extension of the Request Object: the earliest end date of the career records asked for
SINCE = "workcred_since"
#: unsigned member of a presentation carrying the registry receipts, keyed by credential id
RECEIPTS = "workcredReceipts"

# bounds on a DCQL query: it is stored and served back, so its size is ours to limit
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_QUERIES, _MAX_CLAIMS, _MAX_PATH, _MAX_TEXT, _MAX_INDEX = 10, 50, 16, 200, 2**31 - 1


def _bad(en: str, ko: str) -> InvalidInput:
    return InvalidInput(en, message_ko=ko)


def career_query(query_id: str = "career") -> dict[str, Any]:
    """DCQL: career records or career certificates (VCDM `ldp_vc`), as many as the holder has."""
    return {
        "credentials": [
            {
                "id": query_id,
                "format": FORMAT,
                "multiple": True,
                "meta": {"type_values": [["VerifiableCredential", t] for t in CAREER_TYPES]},
                "claims": [
                    {"path": ["credentialSubject", "employmentPeriod"]},
                    {"path": ["credentialSubject", "position"]},
                    {"path": ["credentialSubject", "duties"]},
                ],
            }
        ]
    }


def check_dcql(query: Any) -> dict[str, Any]:
    """Parse a DCQL query (OpenID4VP 1.0 §6) as far as our profile uses it; raise InvalidInput.

    Every member DCQL defines is type-checked (objects, arrays of strings, booleans ...), `ldp_vc` with
    `meta.type_values` is required, and what comes back is a fresh copy holding only those members:
    the query is stored and served back in the Request Object, so nothing unchecked rides along.
    """
    q = _object(query, "dcql_query")
    credentials = _array(q.get("credentials"), "credentials", limit=_MAX_QUERIES)
    out: dict[str, Any] = {"credentials": []}
    ids: set[str] = set()
    for i, item in enumerate(credentials):
        cq = _credential_query(item, f"credentials[{i}]")
        if cq["id"] in ids:
            raise _bad("credential query ids must be unique", "DCQL 자격증명 질의 id가 중복됩니다")
        ids.add(cq["id"])
        out["credentials"].append(cq)
    if "credential_sets" in q:
        sets = []
        for i, item in enumerate(_array(q["credential_sets"], "credential_sets", limit=_MAX_QUERIES)):
            where = f"credential_sets[{i}]"
            cs = _object(item, where)
            options = [_ids(o, f"{where}.options", known=ids) for o in _array(cs.get("options"), f"{where}.options", limit=_MAX_QUERIES)]
            entry: dict[str, Any] = {"options": options}
            if "required" in cs:
                entry["required"] = _bool(cs["required"], f"{where}.required")
            sets.append(entry)
        out["credential_sets"] = sets
    return out


def _credential_query(item: Any, where: str) -> dict[str, Any]:
    cq = _object(item, where)
    query_id = cq.get("id")
    if not isinstance(query_id, str) or not _ID.fullmatch(query_id):
        raise _bad(f"{where}.id must be 1-64 letters, digits, '_' or '-'", "DCQL 자격증명 질의 id가 없거나 형식이 잘못되었습니다")
    if cq.get("format") != FORMAT:
        raise _bad(f"only the {FORMAT} format is supported", f"{FORMAT} 형식만 지원합니다")
    out: dict[str, Any] = {"id": query_id, "format": FORMAT}
    for key in ("multiple", "require_cryptographic_holder_binding"):
        if key in cq:
            out[key] = _bool(cq[key], f"{where}.{key}")
    meta = _object(cq.get("meta"), f"{where}.meta")
    values = _array(meta.get("type_values"), f"{where}.meta.type_values", limit=_MAX_QUERIES)
    out["meta"] = {"type_values": [_strings(v, f"{where}.meta.type_values[{j}]") for j, v in enumerate(values)]}
    if "trusted_authorities" in cq:
        authorities = []
        for j, ta in enumerate(_array(cq["trusted_authorities"], f"{where}.trusted_authorities", limit=_MAX_QUERIES)):
            t = _object(ta, f"{where}.trusted_authorities[{j}]")
            authorities.append({"type": _text(t.get("type"), f"{where}.trusted_authorities[{j}].type"),
                                "values": _strings(t.get("values"), f"{where}.trusted_authorities[{j}].values")})  # fmt: skip
        out["trusted_authorities"] = authorities
    claim_ids: set[str] = set()
    if "claims" in cq:
        claims = []
        for j, c in enumerate(_array(cq["claims"], f"{where}.claims", limit=_MAX_CLAIMS)):
            claim = _claim_query(c, f"{where}.claims[{j}]")
            if "id" in claim:
                if claim["id"] in claim_ids:
                    raise _bad(f"{where}.claims ids must be unique", "DCQL 항목 질의 id가 중복됩니다")
                claim_ids.add(claim["id"])
            claims.append(claim)
        out["claims"] = claims
    if "claim_sets" in cq:
        if "claims" not in cq or len(claim_ids) != len(out["claims"]):
            raise _bad(f"{where}.claim_sets needs claims that all have an id", "claim_sets에는 id가 있는 claims가 필요합니다")
        out["claim_sets"] = [_ids(s, f"{where}.claim_sets", known=claim_ids)
                             for s in _array(cq["claim_sets"], f"{where}.claim_sets", limit=_MAX_CLAIMS)]  # fmt: skip
    return out


def _claim_query(item: Any, where: str) -> dict[str, Any]:
    c = _object(item, where)
    out: dict[str, Any] = {}
    if "id" in c:
        if not isinstance(c["id"], str) or not _ID.fullmatch(c["id"]):
            raise _bad(f"{where}.id must be 1-64 letters, digits, '_' or '-'", "DCQL 항목 질의 id 형식이 잘못되었습니다")
        out["id"] = c["id"]
    path = _array(c.get("path"), f"{where}.path", limit=_MAX_PATH)
    for p in path:
        # a path element is a claim name, an array index (>= 0) or null (every element of an array)
        ok = p is None or (isinstance(p, str) and _fits(p)) or (type(p) is int and 0 <= p <= _MAX_INDEX)
        if not ok:
            raise _bad(f"{where}.path elements are strings, non-negative integers or null", "DCQL 항목 경로 형식이 잘못되었습니다")
    out["path"] = list(path)
    if "values" in c:
        values = _array(c["values"], f"{where}.values", limit=_MAX_CLAIMS)
        for v in values:
            ok = type(v) is bool or (type(v) is int and abs(v) <= _MAX_INDEX) or (isinstance(v, str) and _fits(v))
            if not ok:
                raise _bad(f"{where}.values are strings, integers or booleans", "DCQL 항목 값 형식이 잘못되었습니다")
        out["values"] = list(values)
    return out


def _fits(text: str) -> bool:
    """A short string that is valid Unicode (a lone surrogate cannot be stored or served as UTF-8)."""
    if len(text) > _MAX_TEXT:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(f"{where} must be an object", f"DCQL {where} 항목은 객체여야 합니다")
    return value


def _array(value: Any, where: str, *, limit: int) -> list[Any]:
    if not isinstance(value, list) or not value or len(value) > limit:
        raise _bad(f"{where} must be a non-empty array of at most {limit} entries", f"DCQL {where} 항목은 {limit}개 이하의 비어 있지 않은 배열이어야 합니다")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _bad(f"{where} must be true or false", f"DCQL {where} 항목은 true 또는 false여야 합니다")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or not _fits(value):
        raise _bad(f"{where} must be a non-empty string of at most {_MAX_TEXT} characters", f"DCQL {where} 항목은 {_MAX_TEXT}자 이하의 문자열이어야 합니다")
    return value


def _strings(value: Any, where: str) -> list[str]:
    return [_text(v, where) for v in _array(value, where, limit=_MAX_CLAIMS)]


def _ids(value: Any, where: str, *, known: set[str]) -> list[str]:
    out = _strings(value, where)
    if not set(out) <= known:
        raise _bad(f"{where} names an id that is not in the query", f"DCQL {where} 항목이 없는 id를 가리킵니다")
    return out


def credential_matches(credential_query: Mapping[str, Any], credential: Mapping[str, Any]) -> bool:
    """DCQL W3C VC meta: the credential's types include every type of at least one `type_values` entry."""
    # total on any JSON: the credential (and its type) come from the holder, unchecked
    types = credential.get("type") if isinstance(credential, Mapping) else None
    have = {t for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)}
    meta = credential_query.get("meta")
    values = meta.get("type_values") if isinstance(meta, Mapping) else None
    return any(
        isinstance(v, list) and v and all(isinstance(t, str) for t in v) and set(v) <= have
        for v in (values if isinstance(values, list) else [])
    )


def ends_since(credential: Mapping[str, Any], since: date | None) -> bool:
    """True when the credential's employment period ends on or after `since` (or is still running)."""
    if since is None or not isinstance(credential, Mapping):
        return True
    subject = credential.get("credentialSubject")
    period = subject.get("employmentPeriod") if isinstance(subject, Mapping) else None
    end = period.get("endDate") if isinstance(period, Mapping) else None
    if not isinstance(end, str):
        return True
    try:
        return date.fromisoformat(end[:10]) >= since
    except ValueError:
        return False


def parse_vp_token(raw: str | bytes) -> dict[str, list[dict[str, Any]]]:
    """The shape of a `vp_token` (§8.1) for `ldp_vc`: an object keyed by credential query id, each value
    a presentation object or an array of them, their `verifiableCredential` objects; raise InvalidInput.

    Checked before the verifier claims the request's nonce, so a malformed answer does not use it up.
    """
    token = loader.parse_json(raw)
    if not isinstance(token, dict) or not token:
        raise _bad("vp_token must be a JSON object keyed by credential query id", "vp_token은 질의 id를 키로 하는 JSON 객체여야 합니다")
    out: dict[str, list[dict[str, Any]]] = {}
    for query_id, value in token.items():
        vps = value if isinstance(value, list) else [value]
        if not _ID.fullmatch(query_id) or not all(isinstance(vp, dict) for vp in vps):
            raise _bad("each vp_token member is an array of presentation objects", "vp_token의 각 항목은 프레젠테이션 객체의 배열이어야 합니다")
        for vp in vps:
            vcs = vp.get("verifiableCredential", [])
            if not all(isinstance(vc, dict) for vc in (vcs if isinstance(vcs, list) else [vcs])):
                raise _bad("verifiableCredential holds credential objects", "verifiableCredential에는 자격증명 객체만 들어갈 수 있습니다")
        out[query_id] = vps
    return out


# --- the holder side ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestObject:
    """An Authorization Request as the wallet needs it, checked at the boundary."""

    client_id: str
    response_uri: str
    nonce: str
    state: str
    dcql_query: dict[str, Any]
    since: date | None
    raw: dict[str, Any]

    @classmethod
    def parse(cls, data: Any, *, expected_client_id: str | None = None) -> RequestObject:
        if not isinstance(data, Mapping):
            raise _bad("the request object is not a JSON object", "요청 객체가 JSON 객체가 아닙니다")
        for key in ("client_id", "response_uri", "nonce", "state"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise _bad(f"the request object has no {key}", f"요청 객체에 {key}가 없습니다")
        if data.get("response_type") != "vp_token" or data.get("response_mode") != "direct_post":
            raise _bad("only response_type vp_token with direct_post is supported", "vp_token/direct_post 요청만 지원합니다")
        client_id = str(data["client_id"])
        if expected_client_id is not None and client_id != expected_client_id:
            raise _bad("the request object is for another client_id", "요청 객체의 client_id가 다릅니다")
        # redirect_uri prefix: the client is identified by where the answer goes, so they must agree
        if client_id != CLIENT_ID_PREFIX + str(data["response_uri"]):
            raise _bad("client_id must be redirect_uri:<response_uri>", "client_id가 응답 주소와 맞지 않습니다")
        since_raw = data.get(SINCE)
        try:
            since = date.fromisoformat(since_raw) if isinstance(since_raw, str) else None
        except ValueError:
            raise _bad(f"{SINCE} is not a date", f"{SINCE} 날짜 형식이 잘못되었습니다") from None
        return cls(client_id, str(data["response_uri"]), str(data["nonce"]), str(data["state"]),
                   check_dcql(data.get("dcql_query")), since, dict(data))  # fmt: skip


def parse_request_url(url: str) -> tuple[str, str]:
    """``openid4vp://?client_id=...&request_uri=...`` -> (client_id, request_uri)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != SCHEME:
        raise _bad("not an openid4vp:// request", "openid4vp:// 요청이 아닙니다")
    params = urllib.parse.parse_qs(parts.query, strict_parsing=False)
    client_id = params.get("client_id", [""])[0]
    request_uri = params.get("request_uri", [""])[0]
    if not client_id or not request_uri.startswith(("https://", "http://")):
        raise _bad("the request needs client_id and an http(s) request_uri", "client_id와 request_uri가 필요합니다")
    return client_id, request_uri


def request_url(client_id: str, request_uri: str) -> str:
    """The URL shown as a QR code (request by reference)."""
    return f"{SCHEME}://?" + urllib.parse.urlencode({"client_id": client_id, "request_uri": request_uri})


def decode_request_jwt(token: str) -> dict[str, Any]:
    """Payload of an unsecured (``alg: none``) Request Object JWT."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[2]:
        raise _bad("not an unsecured JWT", "서명 없는 JWT 형식이 아닙니다")
    header = loader.parse_json(_b64d(parts[0]))
    if not isinstance(header, dict) or header.get("alg") != "none":
        raise _bad("only alg none is expected for the redirect_uri client id prefix", "alg none 요청만 받습니다")
    value = loader.parse_json(_b64d(parts[1]))
    if not isinstance(value, dict):
        raise _bad("the JWT payload is not an object", "JWT 내용이 객체가 아닙니다")
    return value


def _b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise _bad("bad base64url in the JWT", "JWT의 base64url이 잘못되었습니다") from None


def fetch_request(url: str, http: httpx.Client) -> RequestObject:
    """Dereference the request URL's `request_uri` (GET) and parse the Request Object."""
    client_id, request_uri = parse_request_url(url)
    resp = http.get(request_uri, headers={"Accept": "application/json"})
    if resp.status_code != 200:
        raise _bad(f"the request_uri answered {resp.status_code}", f"요청 주소가 {resp.status_code}로 응답했습니다")
    data = decode_request_jwt(resp.text) if resp.headers.get("content-type", "").startswith(REQUEST_OBJECT_JWT) else loader.parse_json(resp.content)
    return RequestObject.parse(data, expected_client_id=client_id)


def select_credentials(
    request: RequestObject, credentials: Iterable[Mapping[str, Any]]
) -> dict[str, list[Mapping[str, Any]]]:
    """The holder's matching credentials per credential query id (queries without a match are left out)."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    pool = list(credentials)
    for cq in request.dcql_query["credentials"]:
        found = [c for c in pool if credential_matches(cq, c) and ends_since(c, request.since)]
        if found:
            out[cq["id"]] = found if cq.get("multiple") else found[:1]
    return out


def build_vp_token(
    request: RequestObject,
    selected: Mapping[str, Sequence[Mapping[str, Any]]],
    holder: Signer,
    *,
    receipts: Mapping[str, Mapping[str, Any]] | None = None,
    refresh: Callable[[Receipt], Receipt] | None = None,
    cryptosuite: str = "eddsa-rdfc-2022",
    challenge: str | None = None,
    domain: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """One presentation per credential query, signed with challenge = nonce and domain = client_id.

    The registry receipts of the credentials ride along in the presentation's `workcredReceipts`
    member (keyed by credential id), added after signing: receipts prove themselves against a
    registry-signed checkpoint, and outside the signed part they work with every cryptosuite.
    With `refresh` (`agents.receipts.refresh` bound to the registry) each receipt presented first gets
    its `freshness` (the latest checkpoint and the consistency proof to it), so the verifier checks the
    log's consistency without naming the credential's checkpoint to the registry (README "Verifier").
    """
    if receipts and refresh is not None:
        wanted = {c.get("id") for creds in selected.values() for c in creds}
        receipts = {k: refresh(Receipt.from_json(dict(v))).to_json() for k, v in receipts.items() if k in wanted}
    token: dict[str, list[dict[str, Any]]] = {}
    for query_id, creds in selected.items():
        vp = create_presentation(
            creds, holder, challenge=challenge if challenge is not None else request.nonce,
            domain=domain if domain is not None else request.client_id, cryptosuite=cryptosuite,
        )  # fmt: skip
        ids = {c.get("id") for c in creds}
        if receipts:
            vp[RECEIPTS] = {k: dict(v) for k, v in receipts.items() if k in ids}
        token[query_id] = [vp]
    return token


def post_response(
    request: RequestObject, vp_token: Mapping[str, Any], http: httpx.Client, *, state: str | None = None
) -> httpx.Response:
    """direct_post: form-encoded `vp_token` (JSON) and `state` to the response_uri."""
    body = {"vp_token": json.dumps(vp_token, ensure_ascii=False), "state": state or request.state}
    return http.post(request.response_uri, data=body)


def respond(
    url: str,
    credentials: Iterable[Mapping[str, Any]],
    holder: Signer,
    http: httpx.Client,
    *,
    receipts: Mapping[str, Mapping[str, Any]] | None = None,
    refresh: Callable[[Receipt], Receipt] | None = None,
    choose: Callable[[dict[str, list[Mapping[str, Any]]]], Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
) -> httpx.Response:
    """The whole holder flow: fetch the request, select, (let the user choose), sign, post."""
    request = fetch_request(url, http)
    found = select_credentials(request, credentials)
    selected: Mapping[str, Sequence[Mapping[str, Any]]] = choose(found) if choose is not None else found
    if not selected:
        raise _bad("no credential matches the request", "요청에 맞는 자격증명이 없습니다")
    return post_response(request, build_vp_token(request, selected, holder, receipts=receipts, refresh=refresh), http)
