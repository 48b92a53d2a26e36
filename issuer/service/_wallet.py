"""The worker's side of the issuer (docs/issuer-wallet.md): identity check by roster match and a
one-time code, binding the wallet's DID, the worker's contracts, and the worker's signed acceptance."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

import schemas
from agents import contract as contract_
from agents import dataintegrity as di
from agents import multibase
from agents.did import Resolver
from agents.errors import Conflict, Error, InvalidInput, NotFound, Unauthorized

from .. import models
from ._base import Actor, aware, digest, dumps
from ._contracts import ContractsMixin, token_hash
from ._roster import mask_phone

CODE_MINUTES = 5
MAX_ATTEMPTS = 5
_DID_KEY = Resolver(methods=("key",))


class InvitationLocked(Error):
    code = "invitation-locked"
    http_status = 409


@dataclass(frozen=True)
class CodeSent:
    code_sent_to: str
    expires_at: datetime


@dataclass(frozen=True)
class WorkerAuth:
    """A worker authenticated by a worker token."""

    participant_id: int
    holder_did: str


@dataclass(frozen=True)
class Bound:
    worker_token: str
    worker_id: int
    holder_did: str


@dataclass(frozen=True)
class WalletContract:
    """One contract as the worker's wallet sees it (the worker's own data, decrypted)."""

    urn: str
    version: int
    state: str
    status_reason: str | None
    title: Mapping[str, str]
    project: str
    offered_at: datetime | None
    draft: Mapping[str, Any] | None  # while it waits for the signature
    draft_digest: str
    credential: Mapping[str, Any] | None  # once issued
    receipt: Mapping[str, Any] | None
    supersedes: str | None
    template: Mapping[str, Any]  # sections and workerFields of the template


def _mismatch() -> InvalidInput:
    # one answer for every mismatch: no oracle telling which field was wrong
    return InvalidInput("the details do not match the invitation", message_ko="입력한 정보가 초대 정보와 일치하지 않습니다",
                        hint_ko="성명과 생년월일을 다시 확인하세요.")  # fmt: skip


def _locked() -> InvitationLocked:
    return InvitationLocked(
        "this invitation is locked after too many wrong attempts: please call the office that invited you",
        message_ko="잘못된 시도가 너무 많아 초대가 잠겼습니다. 초대한 부서에 전화해 주세요",
    )


def _gone() -> NotFound:
    return NotFound("this invitation link is not valid (expired, already used or replaced)",
                    message_ko="초대 링크가 유효하지 않습니다 (만료, 이미 사용됨 또는 새 링크로 바뀜)")  # fmt: skip


def check_did_key(did: str) -> str:
    if not isinstance(did, str) or not did.startswith("did:key:"):
        raise InvalidInput("holderDid must be a did:key", message_ko="holderDid는 did:key여야 합니다")
    try:
        _DID_KEY.resolve(did)
    except Error:
        raise InvalidInput("holderDid is not a valid did:key", message_ko="holderDid가 올바른 did:key가 아닙니다") from None
    return did


class WalletMixin(ContractsMixin):
    def _invitation(self, s: Any, token: str) -> models.Invitation:
        inv: models.Invitation | None = s.scalar(
            select(models.Invitation).where(models.Invitation.token_hash == token_hash(token)).with_for_update()
        )
        if inv is None or inv.used_at is not None or aware(inv.expires_at) <= self.now():
            raise _gone()
        if inv.locked:
            raise _locked()
        return inv

    def _fail(self, token: str, error: Error) -> Error:
        """Count a failed attempt in its own transaction (it must stick although the request fails)."""
        with self.tx() as s:
            inv = self._invitation(s, token)
            inv.attempts += 1
            if inv.attempts >= MAX_ATTEMPTS:
                inv.locked = True
                self.audit(s, Actor(f"invitation:{inv.id}"), "invitation.locked", "participant", inv.participant_id)
                return _locked()
        return error

    def _code_hash(self, invitation_id: int, code: str) -> bytes:
        return multibase.b64url_decode(self.kek.blind_index("text", f"otp|{invitation_id}|{code}"))

    def identify(self, token: str, name: str, birth_date: str, *, ip: str = "") -> CodeSent:
        """Roster match (NFC, whitespace-insensitive); on success a 6-digit code goes to the phone on record."""
        if not isinstance(name, str) or not isinstance(birth_date, str):
            raise InvalidInput("name and birthDate are strings", message_ko="성명과 생년월일을 입력하세요")
        with self.tx() as s:
            inv = self._invitation(s, token)
            p = s.get_one(models.Participant, inv.participant_id)
            ok = p.wrapped_dek is not None
            ok &= hmac.compare_digest(p.name_index, self.kek.blind_index("name", name))
            ok &= hmac.compare_digest(p.birth_date_index, self.kek.blind_index("birth-date", birth_date))
            if ok:
                code = f"{secrets.randbelow(10**6):06d}"
                inv.code_hash = self._code_hash(inv.id, code)
                inv.code_expires_at = self.now() + timedelta(minutes=CODE_MINUTES)
                dek = self.dek(p)
                phone = self.unseal(dek, p, "phone", p.phone_enc).decode()
                self.outbox.queue(s, dek, p, "sms", "code", phone,
                                  f"[서울시] 전자지갑 인증번호 {code} ({CODE_MINUTES}분 안에 입력). Your code: {code}")  # fmt: skip
                self.audit(s, Actor(f"worker:{p.id}", ip), "invitation.identify", "participant", p.id, project_id=p.project_id)
                return CodeSent(mask_phone(phone), inv.code_expires_at)
        raise self._fail(token, _mismatch())

    def verify_code(self, token: str, code: str, holder_did: str, *, ip: str = "") -> Bound:
        """The one-time code (single use, 5 minutes, constant-time); binds `holder_did` to the worker."""
        check_did_key(holder_did)
        with self.tx() as s:
            inv = self._invitation(s, token)
            expected, expires = inv.code_hash, inv.code_expires_at
            valid = (expected is not None and expires is not None and aware(expires) > self.now()
                     and isinstance(code, str) and hmac.compare_digest(expected, self._code_hash(inv.id, code.strip())))  # fmt: skip
            if valid:
                inv.used_at, inv.code_hash = self.now(), None
                p = s.get_one(models.Participant, inv.participant_id)
                worker_token = self._bind(s, p, holder_did)
                self.audit(s, Actor(f"worker:{p.id}", ip), "worker.bind", "participant", p.id, project_id=p.project_id,
                           holderDid=holder_did)  # fmt: skip
                return Bound(worker_token, p.id, holder_did)
        raise self._fail(token, InvalidInput("the code is wrong or expired", message_ko="인증번호가 틀렸거나 만료되었습니다"))

    def verify_identity_claims(self, token: str, name: str, birth_date: str, holder_did: str, *, ip: str = "",
                               provider: str = "oidc") -> Bound:  # fmt: skip
        """The identity check by a trusted identity provider (its ID token already checked by the caller):
        name and birth date must match the invitation's roster row like `identify`; then bind like `verify_code`."""
        check_did_key(holder_did)
        if not isinstance(name, str) or not isinstance(birth_date, str):
            raise InvalidInput("name and birthDate are strings", message_ko="성명과 생년월일을 입력하세요")
        with self.tx() as s:
            inv = self._invitation(s, token)
            p = s.get_one(models.Participant, inv.participant_id)
            ok = p.wrapped_dek is not None
            ok &= hmac.compare_digest(p.name_index, self.kek.blind_index("name", name))
            ok &= hmac.compare_digest(p.birth_date_index, self.kek.blind_index("birth-date", birth_date))
            if ok:
                inv.used_at, inv.code_hash = self.now(), None
                worker_token = self._bind(s, p, holder_did)
                self.audit(s, Actor(f"worker:{p.id}", ip), "worker.bind", "participant", p.id, project_id=p.project_id,
                           holderDid=holder_did, via=provider)  # fmt: skip
                return Bound(worker_token, p.id, holder_did)
        raise self._fail(token, _mismatch())

    def _bind(self, s: Any, p: models.Participant, holder_did: str) -> str:
        """Bind the DID to the row and to every contract the worker has not signed yet; a new worker token."""
        p.holder_did = holder_did
        dek = self.dek(p)
        for c in s.scalars(select(models.Contract).where(models.Contract.participant_id == p.id,
                                                         models.Contract.state.in_((models.DRAFT, models.OFFERED)))):  # fmt: skip
            _, _, draft = self.draft_of(s, c)
            draft["credentialSubject"] = {"id": holder_did} | {k: v for k, v in draft["credentialSubject"].items() if k != "id"}
            self.store_draft(c, p, dek, draft)
        token = multibase.b64url(secrets.token_bytes(32))
        s.add(models.WorkerToken(token_hash=token_hash(token), participant_id=p.id, holder_did=holder_did))
        return token

    def bind_holder(self, participant_id: int, holder_did: str, *, actor: Actor) -> str:
        """Bind a DID proven another way (the OIDC login, the protocols' holder proof); a worker token."""
        check_did_key(holder_did)
        with self.tx() as s:
            p = s.get(models.Participant, participant_id)
            if p is None or p.wrapped_dek is None:
                raise NotFound("no such worker", message_ko="해당 근로자가 없습니다")
            token = self._bind(s, p, holder_did)
            self.audit(s, actor, "worker.bind", "participant", p.id, project_id=p.project_id, holderDid=holder_did)
            return token

    def worker(self, bearer: str) -> WorkerAuth:
        """The worker a `workerToken` stands for; Unauthorized otherwise."""
        with self.tx() as s:
            row = s.scalar(select(models.WorkerToken).where(models.WorkerToken.token_hash == token_hash(bearer or "")))
            if row is None or row.revoked_at is not None:
                raise Unauthorized("sign in to your wallet again", message_ko="전자지갑에 다시 로그인하세요")
            return WorkerAuth(row.participant_id, row.holder_did)

    def _worker_contracts(self, s: Any, auth: WorkerAuth, urn: str | None = None) -> list[models.Contract]:
        """The worker's contracts past the draft (or the one named `urn`, if it is theirs): one query."""
        q = select(models.Contract).join(models.Participant, models.Contract.participant_id == models.Participant.id).where(
            models.Participant.holder_did == auth.holder_did, models.Contract.state != models.DRAFT)  # fmt: skip
        if urn is not None:
            q = q.where(models.Contract.urn == urn)
        return list(s.scalars(q.order_by(models.Contract.id)))

    def _wallet_view(self, s: Any, c: models.Contract) -> WalletContract:
        p, dek, draft = self.draft_of(s, c)
        project = s.get_one(models.Project, c.project_id)
        template = schemas.template(project.template_variant)
        credential = None  # kept before logging but not logged yet: not issued
        if c.credential_enc is not None and c.log_index is not None:
            credential = self.unseal_json(dek, p, f"contract|{c.urn}|credential", c.credential_enc)
        return WalletContract(
            c.urn, c.version, c.state, c.status_reason, template["title"], project.name, c.offered_at,
            draft if c.state == models.OFFERED else None, c.draft_digest, credential,
            _json(c.receipt), c.supersedes, {"sections": template["sections"], "workerFields": template["workerFields"]},
        )  # fmt: skip

    def worker_contracts(self, auth: WorkerAuth) -> list[WalletContract]:
        with self.tx() as s:
            return [self._wallet_view(s, c) for c in self._worker_contracts(s, auth)]

    def worker_contract(self, auth: WorkerAuth, urn: str) -> WalletContract:
        with self.tx() as s:
            for c in self._worker_contracts(s, auth, urn):
                return self._wallet_view(s, c)
        raise NotFound("no such contract of yours", message_ko="해당 계약이 없습니다")

    def contract_preview(self, auth: WorkerAuth, urn: str, lang: str = "ko") -> bytes:
        """The PDF rendering of one of the worker's contracts (the final draft)."""
        from ..preview import contract_preview_pdf

        with self.tx() as s:
            c = next(iter(self._worker_contracts(s, auth, urn)), None)
            if c is None:
                raise NotFound("no such contract of yours", message_ko="해당 계약이 없습니다")
            _, _, draft = self.draft_of(s, c)
            variant = s.get_one(models.Project, c.project_id).template_variant
            return contract_preview_pdf(draft, variant, c.draft_digest, lang=lang)

    def accept(self, auth: WorkerAuth, urn: str, acceptance: Mapping[str, Any], *, ip: str = "") -> str:
        """offered → signed: the worker's ContractAcceptance, checked (signer = the bound DID =
        credentialSubject.id, the draft unchanged, the proof valid, passkey challenge = draft digest)."""
        if not isinstance(acceptance, Mapping):
            raise InvalidInput("acceptance is a JSON object", message_ko="acceptance는 JSON 객체여야 합니다")
        with self.tx() as s:
            c = next(iter(self._worker_contracts(s, auth, urn)), None)
            if c is None:
                raise NotFound("no such contract of yours", message_ko="해당 계약이 없습니다")
            if c.state != models.OFFERED:
                raise Conflict(f"the contract is {c.state}, not waiting for a signature", message_ko="서명을 기다리는 계약이 아닙니다")
            p, dek, draft = self.draft_of(s, c)
            self._check_acceptance(draft, c.draft_digest, auth.holder_did, acceptance)
            c.acceptance_enc = self.seal(dek, p, f"contract|{c.urn}|acceptance", dumps(acceptance))
            c.state, c.signed_at, c.updated_at = models.SIGNED, self.now(), self.now()
            self.audit(s, Actor(f"worker:{p.id}", ip), "contract.sign", "contract", c.urn, department_id=c.department_id,
                       project_id=c.project_id)  # fmt: skip
            return c.state

    @staticmethod
    def _check_acceptance(draft: dict[str, Any], draft_digest: str, holder_did: str, entry: Mapping[str, Any]) -> None:
        def refuse(en: str, ko: str) -> InvalidInput:
            return InvalidInput(f"the acceptance is not valid: {en}", message_ko=f"서명이 올바르지 않습니다: {ko}")

        # 1. the draft is the one offered and names this worker
        if digest(draft) != draft_digest or draft.get("credentialSubject", {}).get("id") != holder_did:
            raise refuse("the contract is not addressed to this wallet", "이 전자지갑에 보낸 계약이 아닙니다")
        # 2. the entry is a ContractAcceptance by the bound DID, for authentication
        if not contract_.acceptances({"evidence": [dict(entry)]}):
            raise refuse("not a ContractAcceptance", "ContractAcceptance 형식이 아닙니다")
        proof = entry["acceptanceProof"]
        vm = proof.get("verificationMethod")
        if not isinstance(vm, str) or vm.split("#", 1)[0] != holder_did or proof.get("proofPurpose") != "authentication":
            raise refuse("signed by another key than the wallet's", "전자지갑의 키가 아닌 키로 서명했습니다")
        # 3. the passkey assertion was made over this draft
        passkey = entry.get("passkeyAssertion")
        if not isinstance(passkey, Mapping) or not hmac.compare_digest(str(passkey.get("challenge", "")), draft_digest):
            raise refuse("the passkey confirmation is not for this contract", "패스키 확인이 이 계약에 대한 것이 아닙니다")
        # 4. the signature covers the draft exactly
        try:
            outcome = contract_.verify_acceptance(draft, entry, lambda m: di.resolved_key_from(_DID_KEY.resolve_method(m)))
        except Error:
            outcome = None
        if outcome is None or not outcome.ok:
            raise refuse("the signature does not match the contract", "서명이 계약서 내용과 맞지 않습니다")


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None
