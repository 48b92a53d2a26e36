"""A small typed client for the ACA-Py 1.7 admin API (the W3C VC routes workcred uses)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import Error


class AcapyError(Error):
    """The ACA-Py sidecar is unreachable, not ready, or refused a request."""

    code = "acapy-error"
    http_status = 502


@dataclass(frozen=True)
class DidInfo:
    """A DID created in the ACA-Py wallet."""

    did: str
    verkey: str
    key_type: str

    @property
    def verification_method(self) -> str:
        """The did:key verification method id (`did:key:z6Mk...#z6Mk...`)."""
        return f"{self.did}#{self.did.removeprefix('did:key:')}"


@dataclass(frozen=True)
class DiVerification:
    """What `/vc/di/verify` answered: overall verdict and one entry per proof."""

    verified: bool
    status: int
    proofs: tuple[dict[str, Any], ...]

    def problems(self) -> list[str]:
        """Each proof's problem details, as `title: detail` lines."""
        out = []
        for result in self.proofs:
            for problem in result.get("problemDetails") or []:
                out.append(f"{problem.get('title', '')}: {problem.get('detail', '')}".strip(": "))
        return out


@dataclass(frozen=True)
class LdVerification:
    """What `/vc/credentials/verify` answered (its `verified` flag and its error strings)."""

    verified: bool
    errors: tuple[str, ...]
    raw: dict[str, Any]


class AcapyClient:
    """Synchronous admin-API client; `api_key` is sent as `X-API-KEY` when the agent requires one."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 30.0) -> None:
        headers = {"X-API-KEY": api_key} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AcapyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ---------------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return self._http.post(path, json=body)
        except httpx.HTTPError as e:
            raise AcapyError(
                f"ACA-Py admin API {path} unreachable: {type(e).__name__}",
                message_ko=f"ACA-Py 관리 API({path})에 연결할 수 없습니다",
            ) from e

    @staticmethod
    def _json(resp: httpx.Response, path: str) -> dict[str, Any]:
        try:
            data = resp.json()
        except ValueError as e:
            raise AcapyError(
                f"ACA-Py {path} answered {resp.status_code} without JSON: {resp.reason_phrase}",
                message_ko=f"ACA-Py {path} 응답이 JSON이 아닙니다 ({resp.status_code})",
            ) from e
        if not isinstance(data, dict):
            raise AcapyError(f"ACA-Py {path} answered a non-object", message_ko=f"ACA-Py {path} 응답 형식 오류")
        return data

    def _ok(self, resp: httpx.Response, path: str) -> dict[str, Any]:
        if resp.status_code >= 300:
            # aiohttp puts the reason of an HTTPBadRequest in the status line, vc-api routes in `message`
            detail = resp.reason_phrase
            try:
                detail = str(resp.json().get("message", detail))
            except ValueError:
                pass
            raise AcapyError(
                f"ACA-Py {path} refused the request ({resp.status_code}): {detail}",
                message_ko=f"ACA-Py {path} 요청이 거부되었습니다 ({resp.status_code}): {detail}",
                status=resp.status_code,
            )
        return self._json(resp, path)

    # --- readiness --------------------------------------------------------------------------------

    def is_ready(self) -> bool:
        """True when `/status/ready` says the agent is ready."""
        try:
            resp = self._http.get("/status/ready", timeout=2.0)
            return resp.status_code == 200 and bool(resp.json().get("ready"))
        except (httpx.HTTPError, ValueError):
            return False

    def wait_ready(self, timeout: float = 60.0, *, alive: Any = None) -> None:
        """Poll `/status/ready` until ready; `alive()` (optional) stops the wait when the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_ready():
                return
            if alive is not None and not alive():
                raise AcapyError("ACA-Py exited before it was ready", message_ko="ACA-Py가 준비되기 전에 종료되었습니다")
            time.sleep(0.2)
        raise AcapyError(
            f"ACA-Py not ready after {timeout:.0f}s", message_ko=f"ACA-Py가 {timeout:.0f}초 안에 준비되지 않았습니다"
        )

    # --- wallet -----------------------------------------------------------------------------------

    def create_did_key(self) -> DidInfo:
        """Create an Ed25519 did:key in the agent's wallet (`POST /wallet/did/create`)."""
        path = "/wallet/did/create"
        result = self._ok(self._post(path, {"method": "key", "options": {"key_type": "ed25519"}}), path)["result"]
        return DidInfo(did=result["did"], verkey=result["verkey"], key_type=result["key_type"])

    # --- Data Integrity (VCDM 2.0, eddsa-jcs-2022 only) ---------------------------------------------

    def add_proof(self, document: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """`POST /vc/di/add-proof`: the document with one more DataIntegrityProof (ACA-Py: eddsa-jcs-2022)."""
        path = "/vc/di/add-proof"
        secured: dict[str, Any] = self._ok(self._post(path, {"document": document, "options": options}), path)[
            "securedDocument"
        ]
        return secured

    def di_verify(self, secured_document: dict[str, Any]) -> DiVerification:
        """`POST /vc/di/verify`: 200 when every proof verifies, 400 with the same body otherwise."""
        path = "/vc/di/verify"
        resp = self._post(path, {"securedDocument": secured_document})
        if resp.status_code not in (200, 400):
            self._ok(resp, path)
        try:
            results = self._json(resp, path)["verificationResults"]
        except KeyError:
            raise AcapyError(
                f"ACA-Py {path} refused the document ({resp.status_code}): {resp.reason_phrase}",
                message_ko=f"ACA-Py {path}가 문서를 거부했습니다 ({resp.status_code})",
                status=resp.status_code,
            ) from None
        return DiVerification(
            verified=bool(results.get("verified")) and resp.status_code == 200,
            status=resp.status_code,
            proofs=tuple(results.get("results") or ()),
        )

    # --- Linked Data proofs (VCDM 1.1, Ed25519Signature2020) ----------------------------------------

    def issue_credential(self, credential: dict[str, Any], options: dict[str, Any] | None = None) -> dict[str, Any]:
        """`POST /vc/credentials/issue`: a VCDM 1.1 credential signed by the wallet DID named as `issuer`."""
        path = "/vc/credentials/issue"
        body = {"credential": credential, "options": dict(options or {})}
        vc: dict[str, Any] = self._ok(self._post(path, body), path)["verifiableCredential"]
        return vc

    def ld_verify(self, credential: dict[str, Any]) -> LdVerification:
        """`POST /vc/credentials/verify`: ACA-Py answers 200 with `verified` true or false."""
        path = "/vc/credentials/verify"
        data = self._ok(self._post(path, {"verifiableCredential": credential}), path)
        errors = tuple(str(e) for e in data.get("errors") or ())
        return LdVerification(verified=bool(data.get("verified")), errors=errors, raw=data)
