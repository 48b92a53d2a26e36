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
    """Parse a DCQL query as far as our profile uses it (ldp_vc, meta.type_values); raise InvalidInput."""
    if not isinstance(query, Mapping) or not isinstance(query.get("credentials"), list) or not query["credentials"]:
        raise _bad("a DCQL query is an object with a non-empty credentials list", "DCQL 질의 형식이 잘못되었습니다")
    ids = set()
    for cq in query["credentials"]:
        if not isinstance(cq, Mapping) or not isinstance(cq.get("id"), str) or not cq["id"]:
            raise _bad("each credential query needs an id", "DCQL 자격증명 질의에 id가 없습니다")
        if cq["id"] in ids:
            raise _bad("credential query ids must be unique", "DCQL 자격증명 질의 id가 중복됩니다")
        ids.add(cq["id"])
        if cq.get("format") != FORMAT:
            raise _bad(f"only the {FORMAT} format is supported", f"{FORMAT} 형식만 지원합니다")
        values = (cq.get("meta") or {}).get("type_values")
        if not isinstance(values, list) or not values or not all(
            isinstance(v, list) and v and all(isinstance(t, str) for t in v) for v in values
        ):
            raise _bad("meta.type_values must be a non-empty list of type lists", "meta.type_values 형식이 잘못되었습니다")
    return dict(query)


def credential_matches(credential_query: Mapping[str, Any], credential: Mapping[str, Any]) -> bool:
    """DCQL W3C VC meta: the credential's types include every type of at least one `type_values` entry."""
    types = credential.get("type")
    have = set(types if isinstance(types, list) else [types])
    return any(set(v) <= have for v in credential_query.get("meta", {}).get("type_values", []))


def ends_since(credential: Mapping[str, Any], since: date | None) -> bool:
    """True when the credential's employment period ends on or after `since` (or is still running)."""
    if since is None:
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
    header = json.loads(_b64d(parts[0]))
    if header.get("alg") != "none":
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
