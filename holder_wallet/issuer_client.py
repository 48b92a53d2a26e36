"""The wallet's side of the issuer's wallet API (docs/issuer-wallet.md), over HTTP only.

Every answer is parsed here into plain typed values; an issuer problem (4xx with problem details) is
raised as an `agents.errors` condition carrying the issuer's own message in the worker's language, so
the page can show it (a locked invitation says to call the office). A network failure is
`Unavailable` (503: try again), never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from agents.errors import Conflict, Error, InvalidInput, NotFound, Unauthorized, Unavailable

TIMEOUT = 15.0
MAX_ANSWER = 4 * 1024 * 1024


class IssuerProblem(Error):
    """What the issuer refused, with its message (status kept for the page)."""

    code = "issuer-refused"


_BY_STATUS: dict[int, type[Error]] = {401: Unauthorized, 403: Unauthorized, 404: NotFound, 409: Conflict, 410: NotFound}


@dataclass(frozen=True)
class Identified:
    code_sent_to: str
    expires_at: str


@dataclass(frozen=True)
class Bound:
    worker_token: str
    worker_id: str
    contracts: list[dict[str, Any]]


class IssuerClient:
    """Calls to `<issuer>/api/wallet/...`; `lang` picks the language of the issuer's messages."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None, lang: str = "ko") -> None:
        self.base = base_url.rstrip("/")
        self.http = http or httpx.Client(timeout=TIMEOUT, trust_env=False, follow_redirects=False)
        self.lang = lang

    def _call(self, method: str, path: str, *, token: str | None = None, json: Any = None, raw: bool = False) -> Any:
        headers = {"Accept": "application/pdf" if raw else "application/json", "Accept-Language": self.lang}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            resp = self.http.request(method, f"{self.base}{path}", json=json, headers=headers,
                                     params={"lang": self.lang})  # fmt: skip
        except httpx.HTTPError:
            raise Unavailable("The city's issuing service cannot be reached; try again in a few minutes",
                              message_ko="서울시 발급 서비스에 연결할 수 없습니다. 잠시 뒤 다시 시도하세요") from None  # fmt: skip
        if len(resp.content) > MAX_ANSWER:
            raise Unavailable("The issuing service sent too large an answer", message_ko="발급 서비스의 응답이 너무 큽니다")
        if resp.status_code >= 400:
            raise _problem(resp)
        if raw:
            return resp.content
        if resp.status_code == 202 and not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise Unavailable("The issuing service sent an unreadable answer", message_ko="발급 서비스의 응답을 읽을 수 없습니다") from None

    # --- the identity check ----------------------------------------------------------------------

    def identify(self, token: str, name: str, birth_date: str) -> Identified:
        body = self._call("POST", f"/api/wallet/invitations/{_seg(token)}/identify", json={"name": name, "birthDate": birth_date})
        return Identified(str(_get(body, "codeSentTo")), str(_get(body, "expiresAt")))

    def verify(self, token: str, code: str, holder_did: str) -> Bound:
        body = self._call("POST", f"/api/wallet/invitations/{_seg(token)}/verify", json={"code": code, "holderDid": holder_did})
        return _bound(body)

    def verify_oidc(self, token: str, id_token: str, holder_did: str) -> Bound:
        body = self._call("POST", f"/api/wallet/invitations/{_seg(token)}/oidc", json={"idToken": id_token, "holderDid": holder_did})
        return _bound(body)

    # --- contracts -------------------------------------------------------------------------------

    def contracts(self, worker_token: str) -> list[dict[str, Any]]:
        body = self._call("GET", "/api/wallet/contracts", token=worker_token)
        items = body.get("contracts") if isinstance(body, Mapping) else body
        if not isinstance(items, list):
            raise _unreadable()
        return [dict(c) for c in items if isinstance(c, Mapping)]

    def contract(self, worker_token: str, contract_id: str) -> dict[str, Any]:
        body = self._call("GET", f"/api/wallet/contracts/{_seg(contract_id)}", token=worker_token)
        if not isinstance(body, Mapping):
            raise _unreadable()
        return dict(body)

    def preview_pdf(self, worker_token: str, contract_id: str) -> bytes:
        data: bytes = self._call("GET", f"/api/wallet/contracts/{_seg(contract_id)}/preview.pdf", token=worker_token, raw=True)
        return data

    def put_details(self, worker_token: str, contract_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        body = self._call("PUT", f"/api/wallet/contracts/{_seg(contract_id)}/details", token=worker_token, json=dict(fields))
        if not isinstance(body, Mapping) or not isinstance(body.get("draftDigest"), str):
            raise _unreadable()
        return dict(body)

    def accept(self, worker_token: str, contract_id: str, acceptance: Mapping[str, Any]) -> dict[str, Any]:
        body = self._call("POST", f"/api/wallet/contracts/{_seg(contract_id)}/acceptance", token=worker_token,
                          json={"acceptance": dict(acceptance)})  # fmt: skip
        return dict(body) if isinstance(body, Mapping) else {}

    def certificate(self, worker_token: str, career_record_ids: Sequence[str], items: Sequence[str], purpose: str = "") -> dict[str, Any]:
        """A CareerCertificateCredential of those career records with exactly `items` (LSA art. 39(2):
        the worker picks them): `{id, credential, offer?}`, the credential itself and, where the
        issuer runs OpenID4VCI for it, an `openid-credential-offer://` link."""
        body = self._call("POST", "/api/wallet/certificates", token=worker_token,
                          json={"careerRecordIds": list(career_record_ids), "items": list(items),
                                "purpose": purpose, "lang": self.lang})  # fmt: skip
        if not isinstance(body, Mapping) or not (isinstance(body.get("offer"), str) or isinstance(body.get("credential"), Mapping)):
            raise _unreadable()
        return dict(body)

    def receipt(self, worker_token: str, credential_id: str) -> dict[str, Any] | None:
        """The registry receipt, or None while the checkpoint is pending (202)."""
        body = self._call("GET", f"/api/wallet/credentials/{_seg(credential_id)}/receipt", token=worker_token)
        return dict(body) if isinstance(body, Mapping) and body.get("index") is not None else None


def _seg(value: str) -> str:
    return quote(value, safe="")


def _get(body: Any, key: str) -> Any:
    if not isinstance(body, Mapping) or key not in body:
        raise _unreadable()
    return body[key]


def _bound(body: Any) -> Bound:
    contracts = body.get("contracts") if isinstance(body, Mapping) else None
    return Bound(str(_get(body, "workerToken")), str(_get(body, "workerId")),
                 [dict(c) for c in contracts if isinstance(c, Mapping)] if isinstance(contracts, list) else [])  # fmt: skip


def _unreadable() -> Unavailable:
    return Unavailable("The issuing service sent an unexpected answer", message_ko="발급 서비스가 예상과 다른 응답을 보냈습니다")


def _problem(resp: httpx.Response) -> Error:
    """The issuer's problem as our error, its message (already in the worker's language) kept."""
    try:
        body = resp.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, Mapping) else None
    text = str(detail or body.get("title") or "") if isinstance(body, Mapping) else ""
    if resp.status_code >= 500 and resp.status_code != 501 or not text:
        if resp.status_code >= 500:
            return Unavailable("The city's issuing service has a problem; try again later",
                               message_ko="서울시 발급 서비스에 문제가 있습니다. 잠시 뒤 다시 시도하세요")  # fmt: skip
        text = f"the issuing service refused the request ({resp.status_code})"
    cls = _BY_STATUS.get(resp.status_code, InvalidInput)
    err = cls(text, message_ko=text, issuer_status=resp.status_code, issuer_type=body.get("type") if isinstance(body, Mapping) else None)
    if resp.status_code in (429, 501):  # too many tries; a part the issuer does not offer (yet)
        err.http_status = resp.status_code
        retry = resp.headers.get("Retry-After", "")
        if retry.isdigit():
            err.details["retry_after"] = int(retry)
    return err
