"""OpenID4VCI 1.0 on the issuer side: offers, the pre-authorized code, nonces and credential delivery.

An offer delivers one credential the issuer has already signed (a contract made active, a career
record, a certificate) to the worker it is about: the Credential Request's key proof must come from
the DID in the credential's `credentialSubject.id`, the DID the worker bound at the identity check.
Codes, transaction codes and nonces are single use and expire; only their hashes are stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from agents import oid4vci
from agents.errors import Error
from agents.oid4vci import ProtocolError

from . import models
from .oauth import AccessToken
from .protocol_models import CredentialOfferRow, NonceRow
from .protocols import ProtocolContext

log = logging.getLogger(__name__)
TX_CODE_LENGTH = 6
MAX_TX_ATTEMPTS = 5


def _sha(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def _aware(at: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC)."""
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MadeOffer:
    """An offer as the worker gets it: the link (QR and `openid-credential-offer://`), and the tx_code to send."""

    handle: str
    url: str
    offer_uri: str
    tx_code: str | None
    expires_at: datetime


def offer_uri(ctx: ProtocolContext, handle: str) -> str:
    return f"{ctx.issuer_url}/oid4vci/offers/{handle}"


def pre_authorized_code(ctx: ProtocolContext, handle: str) -> str:
    """The code is derived from the offer's handle, so the database keeps only its hash."""
    from agents import multibase

    return multibase.b64url(ctx.mac("pre-authorized_code", handle))


def make_offer(
    ctx: ProtocolContext,
    s: Session,
    *,
    source: str,
    credential_urn: str,
    configuration_id: str,
    participant_id: int | None,
    with_tx_code: bool,
) -> MadeOffer:
    """Store an offer of one credential; with `with_tx_code` (out of band: QR, SMS) a 6-digit code guards it."""
    if source not in CONFIGURATION_OF or configuration_id not in oid4vci.CONFIGURATION_IDS:
        raise ValueError(f"unknown offer source or configuration: {source}, {configuration_id}")
    handle = secrets.token_urlsafe(24)
    tx_code = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH)) if with_tx_code else None
    expires = ctx.now() + ctx.offer_ttl
    s.add(
        CredentialOfferRow(
            handle=handle, code_hash=_sha(pre_authorized_code(ctx, handle)), configuration_id=configuration_id,
            source=source, credential_urn=credential_urn, participant_id=participant_id,
            tx_code_hash=ctx.mac("tx_code", tx_code) if tx_code else None, expires_at=expires,
        )  # fmt: skip
    )
    uri = offer_uri(ctx, handle)
    return MadeOffer(handle, oid4vci.offer_url(offer_uri=uri), uri, tx_code, expires)


def offer_document(ctx: ProtocolContext, s: Session, handle: str) -> dict[str, Any]:
    """The Credential Offer object served at credential_offer_uri (§4.1.3), while the offer is open."""
    row = s.scalars(select(CredentialOfferRow).where(CredentialOfferRow.handle == handle)).one_or_none()
    if row is None or row.redeemed_at is not None or row.locked or _aware(row.expires_at) <= ctx.now():
        raise ProtocolError("this offer is unknown, used or expired", message_ko="이 제안은 없거나 이미 사용되었거나 만료되었습니다", error="invalid_request", status=404)
    tx = oid4vci.TxCode(TX_CODE_LENGTH, "numeric", "문자로 받은 6자리 코드 / the 6-digit code sent to you by SMS") if row.tx_code_hash else None
    return oid4vci.CredentialOffer(ctx.issuer_url, (row.configuration_id,), pre_authorized_code(ctx, handle), tx).to_json()


def _grant_error(en: str, ko: str) -> ProtocolError:
    return ProtocolError(en, message_ko=ko, error="invalid_grant")


def redeem(ctx: ProtocolContext, code: str | None, tx_code: str | None) -> str:
    """The token request of the pre-authorized code grant (§6.1): one access token per offer, ever."""
    if not code or len(code) > 200:
        raise ProtocolError("pre-authorized_code is missing", message_ko="pre-authorized_code가 없습니다")
    now = ctx.now()
    wrong_tx = False
    with ctx.tx() as s:
        row = s.scalars(select(CredentialOfferRow).where(CredentialOfferRow.code_hash == _sha(code))).one_or_none()
        if row is None or row.redeemed_at is not None or _aware(row.expires_at) <= now:
            raise _grant_error("the pre-authorized code is unknown, used or expired", "사전 승인 코드가 없거나 이미 사용되었거나 만료되었습니다")
        if row.locked:
            raise _grant_error(
                "too many wrong transaction codes: the offer is locked; ask the office for a new one",
                "거래 코드가 여러 번 틀려 잠겼습니다. 담당 부서에 새 제안을 요청하세요",
            )
        if row.tx_code_hash is not None:
            given = ctx.mac("tx_code", tx_code) if tx_code and len(tx_code) <= 64 else b""
            if not hmac.compare_digest(given, row.tx_code_hash):
                wrong_tx = True
        if not wrong_tx:
            # single use even under a race: only the request that flips redeemed_at gets a token
            done = s.execute(
                update(CredentialOfferRow).where(CredentialOfferRow.id == row.id, CredentialOfferRow.redeemed_at.is_(None)).values(redeemed_at=now)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise _grant_error("the pre-authorized code is unknown, used or expired", "사전 승인 코드가 없거나 이미 사용되었거나 만료되었습니다")
            return ctx.tokens.mint("oid4vci", row.handle, offer_id=row.id)
        attempts = row.tx_attempts + 1
        s.execute(update(CredentialOfferRow).where(CredentialOfferRow.id == row.id).values(tx_attempts=attempts, locked=attempts >= MAX_TX_ATTEMPTS))
    # committed above: the attempt counts even though the answer is an error
    raise _grant_error(
        "the transaction code (tx_code) is missing or wrong" + (" (the offer is now locked)" if attempts >= MAX_TX_ATTEMPTS else ""),
        "거래 코드(tx_code)가 없거나 틀렸습니다" + (" (제안이 잠겼습니다)" if attempts >= MAX_TX_ATTEMPTS else ""),
    )


# --- nonces ---------------------------------------------------------------------------------------


def new_nonce(ctx: ProtocolContext) -> tuple[str, int]:
    """A fresh c_nonce (§7.2) and its lifetime in seconds; expired ones are swept now and then."""
    nonce = secrets.token_urlsafe(32)
    now = ctx.now()
    with ctx.tx() as s:
        s.add(NonceRow(nonce_hash=_sha(nonce), expires_at=now + ctx.nonce_ttl))
        if secrets.randbelow(64) == 0:
            s.execute(delete(NonceRow).where(NonceRow.expires_at < now - ctx.nonce_ttl))
    return nonce, int(ctx.nonce_ttl.total_seconds())


def consume_nonce(ctx: ProtocolContext, s: Session, nonce: str) -> None:
    """Spend a c_nonce: it must exist, be unexpired and unused (single use even under a race)."""
    done = s.execute(
        update(NonceRow)
        .where(NonceRow.nonce_hash == _sha(nonce), NonceRow.used_at.is_(None), NonceRow.expires_at > ctx.now())
        .values(used_at=ctx.now())
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise ProtocolError(
            "the proof's nonce is unknown, used or expired: get a new one from the nonce endpoint",
            message_ko="증명의 nonce가 없거나 이미 사용되었거나 만료되었습니다. nonce 엔드포인트에서 새로 받으세요",
            error="invalid_nonce",
        )


# --- the credential -------------------------------------------------------------------------------


#: the engine's credential kinds (issuer.service.ReadyCredential.kind) and their configurations
CONFIGURATION_OF = {"labor-contract": "LaborContractCredential", "career-record": "CareerRecordCredential", "certificate": "CareerCertificateCredential"}


def _kind_of(s: Session, urn: str) -> tuple[str, int] | None:
    contract = s.scalars(select(models.Contract).where(models.Contract.urn == urn)).one_or_none()
    if contract is not None:
        return "labor-contract", contract.participant_id
    issued = s.scalars(select(models.IssuedCredential).where(models.IssuedCredential.urn == urn)).one_or_none()
    return (issued.kind, issued.participant_id) if issued is not None else None


def open_offer(ctx: ProtocolContext, urn: str, *, out_of_band: bool = False) -> MadeOffer | None:
    """An offer of the issued credential `urn`: for our wallet (no tx_code), or out of band (QR, SMS) with
    a tx_code sent to the worker's phone through the outbox. None if no such issued credential."""
    with ctx.tx() as s:
        found = _kind_of(s, urn)
        if found is None or found[0] not in CONFIGURATION_OF:
            return None
        kind, participant_id = found
        made = make_offer(ctx, s, source=kind, credential_urn=urn, configuration_id=CONFIGURATION_OF[kind],
                          participant_id=participant_id, with_tx_code=out_of_band)  # fmt: skip
        if made.tx_code is not None:
            p = s.get_one(models.Participant, participant_id)
            dek = ctx.service.dek(p)
            phone = ctx.service.unseal(dek, p, "phone", p.phone_enc).decode()
            body = f"[서울시] 전자증명서 받기 확인 코드: {made.tx_code} (다른 사람에게 알려 주지 마세요) / Seoul: your credential code {made.tx_code}"
            ctx.outbox.queue(s, dek, p, "sms", "offer", phone, body)
        return made


def offer_link(ctx: ProtocolContext, urn: str) -> str | None:
    """The link of an open offer of `urn` for the worker's wallet (no tx_code), made when there is none.

    The wallet lists its contracts often: an open offer is reused, not made again each time.
    """
    with ctx.tx() as s:
        handle = s.scalar(
            select(CredentialOfferRow.handle).where(
                CredentialOfferRow.credential_urn == urn, CredentialOfferRow.tx_code_hash.is_(None),
                CredentialOfferRow.redeemed_at.is_(None), CredentialOfferRow.locked.is_(False),
                CredentialOfferRow.expires_at > ctx.now(),
            ).order_by(CredentialOfferRow.id.desc()).limit(1)
        )  # fmt: skip
    if handle is not None:
        return oid4vci.offer_url(offer_uri=offer_uri(ctx, handle))
    made = open_offer(ctx, urn)
    return made.url if made is not None else None


def offer_issued(ctx: ProtocolContext, urns: Sequence[str]) -> None:
    """The engine's after-issue hook: an offer for each newly issued credential, which the wallet lists."""
    for urn in urns:
        try:
            open_offer(ctx, urn)
        except Error as e:  # an offer can be made again later; the issuance itself stands
            log.warning("no offer made for %s: %s", urn, e.message)


def _ready(ctx: ProtocolContext, row: CredentialOfferRow, holder_did: str) -> Any:
    """The signed credential the offer names, if `holder_did` is the worker it was issued to."""
    ready = ctx.service.credentials_ready_for(holder_did, [row.credential_urn])
    if not ready:
        raise ProtocolError(
            "the key proof is not by the worker this credential is about",
            message_ko="키 증명의 서명자가 이 자격증명의 근로자 본인이 아닙니다",
            error="credential_request_denied",
        )
    return ready[0]


_PROOF_CHECKS: dict[str, Callable[..., oid4vci.ProvenKey]] = {
    "jwt": oid4vci.verify_jwt_proof,
    "di_vp": oid4vci.verify_di_vp_proof,
}


def _request_error(en: str, ko: str, error: str = "invalid_credential_request") -> ProtocolError:
    return ProtocolError(en, message_ko=ko, error=error)


def deliver(ctx: ProtocolContext, grant: AccessToken, body: Any) -> dict[str, Any]:
    """The Credential Endpoint (§8): check the request and the key proof, spend the nonce, answer the credential."""
    if not isinstance(body, Mapping):
        raise _request_error("the credential request is not a JSON object", "자격증명 요청이 JSON 객체가 아닙니다")
    if "credential_identifier" in body:
        raise _request_error("this issuer answers credential_configuration_id requests only", "이 발급기관은 credential_configuration_id 요청만 받습니다")
    if "proof" in body and "proofs" not in body:
        raise _request_error("OpenID4VCI 1.0 sends key proofs in 'proofs' (an object of arrays)", "OpenID4VCI 1.0에서는 키 증명을 'proofs'로 보냅니다", "invalid_proof")
    config_id = body.get("credential_configuration_id")
    proofs = body.get("proofs")
    if not isinstance(proofs, Mapping) or len(proofs) != 1:
        raise _request_error("proofs must hold exactly one proof type", "proofs에는 증명 형식 하나만 있어야 합니다", "invalid_proof")
    ((proof_type, values),) = proofs.items()
    if proof_type not in _PROOF_CHECKS or not isinstance(values, list) or len(values) != 1:
        raise _request_error("proofs must be one jwt or one di_vp proof", "proofs는 jwt 또는 di_vp 증명 하나여야 합니다", "invalid_proof")
    with ctx.tx() as s:
        row = s.get(CredentialOfferRow, grant.offer_id)
        if row is None or row.redeemed_at is None or row.delivered_at is not None or row.handle != grant.subject:
            raise _request_error("this access token's credential was already delivered", "이 액세스 토큰의 자격증명은 이미 전달되었습니다", "credential_request_denied")
        if config_id != row.configuration_id:
            raise _request_error(
                f"the credential configuration {str(config_id)[:64]!r} was not offered with this token",
                "이 토큰으로 제안되지 않은 자격증명 구성입니다", "unknown_credential_configuration",
            )  # fmt: skip
        s.expunge(row)
    # 1. the key proof: signature, audience and age
    proven = _PROOF_CHECKS[proof_type](values[0], audience=ctx.issuer_url, **({"at": ctx.now()} if proof_type == "jwt" else {}))
    # 2. holder binding: the DID that proved possession is the worker the credential names
    ready = _ready(ctx, row, proven.holder_did)
    # 3. the nonce, spent with the delivery (single use even under a race)
    with ctx.tx() as s:
        consume_nonce(ctx, s, proven.nonce)
        done = s.execute(
            update(CredentialOfferRow).where(CredentialOfferRow.id == row.id, CredentialOfferRow.delivered_at.is_(None))
            .values(delivered_at=ctx.now(), holder_did=proven.holder_did)
        )  # fmt: skip
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise _request_error("this access token's credential was already delivered", "이 액세스 토큰의 자격증명은 이미 전달되었습니다", "credential_request_denied")
    answer: dict[str, Any] = {"credentials": [{"credential": ready.credential}]}
    if ready.receipt is not None:
        answer[oid4vci.RECEIPT] = ready.receipt
    return answer


def proof_error_of(e: Error) -> ProtocolError:
    """Any other workcred error met while checking a proof is the holder's fault: invalid_proof."""
    if isinstance(e, ProtocolError):
        return e
    return ProtocolError(e.message, message_ko=e.message_ko, error="invalid_proof")
