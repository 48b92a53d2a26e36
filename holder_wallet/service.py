"""What the wallet does, below the pages: the identity check, receiving, signing, status, presenting.

No Flask here: the views parse the request, call one method, and render. Every call to the issuer
goes through `IssuerClient` (docs/issuer-wallet.md), credentials arrive over OpenID4VCI
(`agents.oid4vci`), employers' requests are answered over OpenID4VP (`agents.oid4vp`), receipts are
refreshed against the registry (`agents.receipts.refresh`) and live status comes from the public
status lists (`agents.statuslist`) through `agents.fetcher.Fetcher` (registry host only).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from agents import jcs, oid4vci, oid4vp, statuslist, verify
from agents import receipts as receipts_
from agents.contract import accept_contract
from agents.errors import Conflict, Error, FetchError, InvalidInput, NotFound, RegistryError
from agents.fetcher import Fetcher
from agents.keys import Ed25519KeyPair
from agents.policies import checkpoint_fetcher, consistency_fetcher

from . import archive
from .issuer_client import Identified, IssuerClient
from .store import Held, Published, WalletStore

#: contract states at the issuer -> the status the wallet shows for the credential
_STATE_STATUS = {"active": "active", "completed": "completed", "terminated": "completed", "suspended": "suspended", "revoked": "revoked"}
LINK_MINUTES = (10, 30, 60, 24 * 60)
#: a printed certificate is checked days later: its QR link lives 1, 7 or 30 days
CERTIFICATE_MINUTES = (24 * 60, 7 * 24 * 60, 30 * 24 * 60)


@dataclass(frozen=True)
class WalletSettings:
    base_url: str  # the wallet's public URL: short links, the domain of published presentations
    issuer_url: str
    registry_url: str
    dev: bool = False


@dataclass(frozen=True)
class Enrolment:
    account_id: str
    returning: bool  # an existing account found again (lost phone): its passkeys get replaced
    restored: int  # credentials restored from a backup


@dataclass(frozen=True)
class SyncResult:
    received: int
    updated: int
    offers: list[dict[str, Any]]  # contracts waiting for the worker (state offered)
    problems: list[Error]


def draft_digest(draft: Mapping[str, Any]) -> str:
    """base64url SHA-256 of JCS(draft): the challenge of the signing passkey assertion."""
    import base64

    return base64.urlsafe_b64encode(hashlib.sha256(jcs.canonicalize(dict(draft))).digest()).rstrip(b"=").decode()


class WalletService:
    def __init__(self, store: WalletStore, settings: WalletSettings, *, http: httpx.Client | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:  # fmt: skip
        self.store = store
        self.settings = settings
        self.http = http or httpx.Client(timeout=15.0, trust_env=False, follow_redirects=False)
        self.clock = clock or (lambda: datetime.now(UTC))
        registry = urlsplit(settings.registry_url).netloc
        self.fetcher = Fetcher([registry] if registry else [], allow_http_loopback=settings.dev, default_ttl=60, max_ttl=300)

    def close(self) -> None:
        """Release the HTTP connections (the app's teardown, tests)."""
        self.fetcher.close()
        self.http.close()

    def issuer(self, lang: str) -> IssuerClient:
        return IssuerClient(self.settings.issuer_url, http=self.http, lang=lang)

    # --- 1. identity without a visit -------------------------------------------------------------

    def identify(self, token: str, name: str, birth_date: str, lang: str) -> Identified:
        return self.issuer(lang).identify(token, name, birth_date)

    def confirm(self, token: str, name: str, birth_date: str, lang: str, *, code: str | None = None,
                id_token: str | None = None, backup: archive.Contents | None = None) -> Enrolment:  # fmt: skip
        """Finish the identity check at the issuer and find or create the account it binds.

        The DID sent is, in order: the backup's key (restoring), the key of the one live account
        with this name and birth date (a lost phone: the same account, nothing lost), else a new key.
        """
        known = self.store.accounts_for_identity(name, birth_date)
        existing = self.store.account(known[0]) if len(known) == 1 and backup is None else None
        key = backup.key if backup is not None else (self.store.key(existing.id) if existing else Ed25519KeyPair.generate())
        client = self.issuer(lang)
        did = key.public.did_key
        bound = client.verify_oidc(token, id_token, did) if id_token is not None else client.verify(token, code or "", did)
        if existing is not None:
            if existing.issuer_worker_id not in (None, bound.worker_id):
                raise Conflict("This identity check belongs to another worker record; please call the office",
                               message_ko="이 본인 확인은 다른 근로자 기록에 해당합니다. 담당 부서에 전화해 주세요")  # fmt: skip
            self.store.bind_issuer(existing.id, bound.worker_id, bound.worker_token)
            return Enrolment(existing.id, True, 0)
        previous = self.store.account_by_did(did)
        if previous is not None:  # a backup of an account that still exists here: that account it is
            self.store.bind_issuer(previous.id, bound.worker_id, bound.worker_token)
            return Enrolment(previous.id, True, 0)
        account = self.store.create_account(name=name, birth_date=birth_date, key=key)
        self.store.bind_issuer(account.id, bound.worker_id, bound.worker_token)
        restored = archive.restore(self.store, account.id, backup) if backup is not None else 0
        return Enrolment(account.id, False, restored)

    # --- 3./4. receiving and status --------------------------------------------------------------

    def _token(self, account_id: str) -> str:
        token = self.store.worker_token(account_id)
        if token is None:
            raise NotFound("This wallet is not connected to the city's issuing service yet.",
                           message_ko="이 전자지갑은 아직 서울시 발급 서비스와 연결되지 않았습니다")  # fmt: skip
        return token

    def sync(self, account_id: str, lang: str) -> SyncResult:
        """Fetch the worker's contracts; receive what is on offer; update status, reasons and receipts."""
        client = self.issuer(lang)
        token = self._token(account_id)
        items = client.contracts(token)
        key = self.store.key(account_id)
        held = {h.credential_id: h for h in self.store.credentials(account_id)}
        received = updated = 0
        problems: list[Error] = []
        offers = [c for c in items if c.get("state") == "offered"]
        for item in items:
            status = _STATE_STATUS.get(str(item.get("state")), "active")
            reason = str(item.get("statusReason") or "")
            listed = item.get("credential") if isinstance(item.get("credential"), dict) else None
            receipt = item.get("receipt") if isinstance(item.get("receipt"), dict) else None
            cid = listed.get("id") if listed else None
            try:
                old = held.get(cid) if isinstance(cid, str) else None
                if old is None and isinstance(item.get("offer"), str):
                    # a new credential comes over OpenID4VCI, bound to the key that proves possession
                    for issued in oid4vci.receive(item["offer"], key, self.http):
                        self.store.put_credential(account_id, issued.credential, receipt=issued.receipt or receipt,
                                                  status=status, status_reason=reason)  # fmt: skip
                        received += 1
                elif old is None and listed is not None:
                    self.store.put_credential(account_id, listed, receipt=receipt, status=status, status_reason=reason)
                    received += 1
                elif old is not None and (old.status != status or old.status_reason != reason or (receipt and not old.receipt)):
                    self.store.put_credential(account_id, old.credential, receipt=receipt or old.receipt, status=status,
                                              status_reason=reason)  # fmt: skip
                    updated += 1
            except Error as e:  # one bad offer must not hide the others
                problems.append(e)
        for h in self.store.credentials(account_id):
            if h.receipt is None:  # the checkpoint was pending when it arrived: ask again
                try:
                    found = client.receipt(token, h.credential_id)
                except Error:
                    continue
                if found is not None:
                    self.store.put_credential(account_id, h.credential, receipt=found, status=h.status, status_reason=h.status_reason)
                    updated += 1
        return SyncResult(received, updated, offers, problems)

    def live_status(self, held: Held, lists: dict[str, dict[str, Any]] | None = None) -> str:
        """The credential's status now, from its status lists (revoked > suspended > as last seen).

        Shown to the worker only: the lists come from the registry's host alone; an employer's
        verifier checks their signatures. `lists` keeps each list for one page's many credentials.
        """
        entries = held.credential.get("credentialStatus")
        found = held.status
        lists = {} if lists is None else lists
        for entry in entries if isinstance(entries, list) else [entries] if isinstance(entries, dict) else []:
            try:
                url, _index, purpose = statuslist.parse_entry(entry)
                if url not in lists:
                    lists[url] = self.fetcher.get_json(url)
                if statuslist.check_status(entry, lists[url]):
                    found = "revoked" if purpose == "revocation" else "suspended" if found != "revoked" else found
                elif purpose == "suspension" and found == "suspended":
                    found = "active"
            except Error:
                return held.status  # the registry is unreachable: show what was last seen
        return found

    def refresh_status(self, account_id: str) -> list[Held]:
        lists: dict[str, dict[str, Any]] = {}
        for h in self.store.credentials(account_id):
            now = self.live_status(h, lists)
            if now != h.status:
                self.store.set_status(account_id, h.credential_id, now, h.status_reason)
        return self.store.credentials(account_id)

    def export_files(self, account_id: str, lang: str) -> dict[str, bytes]:
        """The PDFs that go into a backup: each held contract as the issuer renders it (when reachable)."""
        files: dict[str, bytes] = {}
        token = self.store.worker_token(account_id)
        if token is None:
            return files
        client = self.issuer(lang)
        for h in self.store.credentials(account_id, "contract"):
            try:
                files[f"contract-{h.credential_id.rsplit(':', 1)[-1]}.pdf"] = client.preview_pdf(token, h.credential_id)
            except Error:
                continue  # the backup still holds the credential itself
        return files

    # --- 3. signing ------------------------------------------------------------------------------

    def sign(self, account_id: str, contract_id: str, draft: Mapping[str, Any], passkey_assertion: Mapping[str, Any], lang: str) -> dict[str, Any]:
        """The worker's acceptance of `draft` (the passkey assertion inside), posted to the issuer."""
        acceptance = accept_contract(draft, self.store.key(account_id), passkey_assertion=passkey_assertion)
        return self.issuer(lang).accept(self._token(account_id), contract_id, acceptance)

    # --- 5. presenting ---------------------------------------------------------------------------

    def _receipts(self, held: Iterable[Held]) -> dict[str, dict[str, Any]]:
        """Each credential's receipt with freshness to the registry's latest checkpoint (kept as is if that fails)."""
        out: dict[str, dict[str, Any]] = {}
        for h in held:
            if not h.receipt:
                continue
            try:
                receipt = receipts_.Receipt.from_json(h.receipt)
                origins = {receipt.origin: self.settings.registry_url}
                fresh = receipts_.refresh(
                    receipt, checkpoint_fetcher(lambda u: self.fetcher.get_text(u, ("text/plain", "text/*")), origins),
                    consistency_fetcher(self.fetcher.get_json, origins),
                )  # fmt: skip
                out[h.credential_id] = fresh.to_json()
            except (RegistryError, FetchError, InvalidInput):
                out[h.credential_id] = dict(h.receipt)
        return out

    def publish(self, account_id: str, credential_ids: Iterable[str], minutes: int, purpose: str = "qr") -> Published:
        """Sign a presentation of the chosen credentials and publish it behind a short link."""
        if minutes not in (CERTIFICATE_MINUTES if purpose == "certificate" else LINK_MINUTES):
            raise InvalidInput("Choose one of the offered durations", message_ko="제시된 기간 중 하나를 고르세요")
        held = [self.store.credential(account_id, cid) for cid in dict.fromkeys(credential_ids)]
        if not held:
            raise InvalidInput("Choose at least one credential", message_ko="제출할 자격증명을 하나 이상 고르세요")
        vp = verify.create_presentation([h.credential for h in held], self.store.key(account_id),
                                        challenge=f"{purpose}:{uuid.uuid4()}", domain=self.settings.base_url)  # fmt: skip
        body = {"verifiablePresentation": vp, "receipts": self._receipts(held)}
        link = self.store.publish(account_id, body, ttl=timedelta(minutes=minutes), purpose=purpose)
        self.store.record_share(account_id, "qr" if purpose == "qr" else "pdf", "shared", {
            "audience": "", "credentialIds": [h.credential_id for h in held], "link": link.id,
            "titles": [h.summary.get("project", "") for h in held], "expiresAt": link.expires_at.isoformat(),
        })  # fmt: skip
        return link

    def link_url(self, link_id: str) -> str:
        return f"{self.settings.base_url}/p/{link_id}"

    def withdraw(self, account_id: str, link_id: str) -> None:
        self.store.withdraw(account_id, link_id)
        self.store.record_share(account_id, "qr", "withdrawn", {"link": link_id})

    def oid4vp_request(self, url: str) -> oid4vp.RequestObject:
        return oid4vp.fetch_request(url, self.http)

    def oid4vp_candidates(self, account_id: str, request: oid4vp.RequestObject) -> dict[str, list[Held]]:
        """The worker's credentials that answer each query of the request (nothing chosen yet)."""
        held = self.store.credentials(account_id)
        by_id = {h.credential_id: h for h in held}
        found = oid4vp.select_credentials(request, [h.credential for h in held])
        return {q: [by_id[str(c["id"])] for c in creds] for q, creds in found.items()}

    def oid4vp_answer(self, account_id: str, url: str, chosen: Iterable[str]) -> str | None:
        """Answer the request with exactly the chosen credentials; returns the verifier's redirect, if any."""
        request = self.oid4vp_request(url)
        wanted = set(chosen)
        candidates = self.oid4vp_candidates(account_id, request)
        selected = {q: [h.credential for h in hs if h.credential_id in wanted] for q, hs in candidates.items()}
        selected = {q: cs for q, cs in selected.items() if cs}
        if not selected:
            raise InvalidInput("Choose at least one credential", message_ko="제출할 자격증명을 하나 이상 고르세요")
        sent = [h for hs in candidates.values() for h in hs if h.credential_id in wanted]
        token = oid4vp.build_vp_token(request, selected, self.store.key(account_id), receipts=self._receipts(sent))
        resp = oid4vp.post_response(request, token, self.http)
        detail = {"audience": audience(request), "credentialIds": [h.credential_id for h in sent],
                  "titles": [h.summary.get("project", "") for h in sent]}  # fmt: skip
        if resp.status_code >= 400:
            self.store.record_share(account_id, "oid4vp", "failed", detail)
            raise InvalidInput(f"The employer's service refused the answer ({resp.status_code})",
                               message_ko=f"고용주 서비스가 제출을 거절했습니다 ({resp.status_code})")  # fmt: skip
        self.store.record_share(account_id, "oid4vp", "shared", detail)
        try:
            redirect = resp.json().get("redirect_uri")
        except ValueError:
            redirect = None
        return redirect if isinstance(redirect, str) and redirect.startswith(("https://", "http://")) else None

    def oid4vp_refuse(self, account_id: str, url: str) -> None:
        request = self.oid4vp_request(url)
        self.store.record_share(account_id, "oid4vp", "refused", {"audience": audience(request), "credentialIds": []})


def audience(request: oid4vp.RequestObject) -> str:
    """Who asks, as a person can read it: the host the answer would go to."""
    return urlsplit(request.response_uri).netloc
