"""The career certificate (경력증명서): ask the city for one, publish it behind a short link, print it.

1. The worker picks career records and the LSA art. 39(2) items to show; the wallet asks the issuer
   for a CareerCertificateCredential with exactly those (`POST /api/wallet/certificates`), receives
   it over OpenID4VCI and refuses one that carries an item the worker did not pick.
2. Publishing signs a presentation of the certificate with the worker's did:key, refreshes its
   registry receipt (`WalletService.publish` -> `agents.receipts.refresh`) and keeps both behind a
   short link for 1, 7 or 30 days; the worker can withdraw it; then `/p/<id>` answers 404.
3. The PDF (`agents.certificate`, layout v1) is rendered from what the link serves, with the link
   in its QR; nothing is stored besides the link.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from agents import certificate, oid4vci
from agents.errors import Conflict, InvalidInput, NotFound

from .issuer_client import IssuerClient
from .service import WalletService
from .store import Held, Published

#: what a certificate may show (LSA art. 39(2)), in the order the form lists them
ITEMS = ("employer", "project", "employmentPeriod", "duties", "position", "wage")
#: ticked when the form opens: wage is personal, so the worker adds it only when asked for it
DEFAULT_ITEMS = ("employer", "project", "employmentPeriod", "duties", "position")
RECEIPT_TRIES, RECEIPT_WAIT = 4, 1.0  # the registry checkpoints every second or so


def _shown_items(vc: Mapping[str, Any]) -> set[str]:
    subject = vc.get("credentialSubject")
    s: Mapping[str, Any] = subject if isinstance(subject, Mapping) else {}
    blocks = [s, *[r for r in s.get("records", []) if isinstance(r, Mapping)]] if isinstance(s.get("records"), list) else [s]
    return {k for block in blocks for k in ITEMS if k in block}


def request_certificate(svc: WalletService, account_id: str, record_ids: Sequence[str], items: Sequence[str],
                        lang: str, purpose: str = "") -> Held:  # fmt: skip
    """A new certificate from the issuer with exactly `items` of the chosen career records, now held."""
    chosen = [i for i in ITEMS if i in set(items)]
    if not chosen or set(items) - set(ITEMS):
        raise InvalidInput("pick at least one item to show", message_ko="증명서에 표시할 항목을 하나 이상 고르세요")
    records = [svc.store.credential(account_id, rid) for rid in dict.fromkeys(record_ids)]
    if not records or any(r.kind != "career" for r in records):
        raise InvalidInput("pick one or more of your career records", message_ko="경력 기록을 하나 이상 고르세요")
    token = svc.store.worker_token(account_id)
    if token is None:
        raise NotFound("this wallet is not connected to the city's issuing service yet",
                       message_ko="이 전자지갑은 아직 서울시 발급 서비스와 연결되지 않았습니다")  # fmt: skip
    client = svc.issuer(lang)
    answer = client.certificate(token, [r.credential_id for r in records], chosen, purpose.strip()[:200])
    if isinstance(answer.get("offer"), str):
        issued = oid4vci.receive(answer["offer"], svc.store.key(account_id), svc.http)
        if len(issued) != 1:
            raise Conflict("the city sent something other than one certificate", message_ko="서울시가 경력증명서가 아닌 것을 보냈습니다")
        vc, receipt = issued[0].credential, issued[0].receipt
    else:  # handed over directly on the worker's own authenticated call
        vc, receipt = dict(answer["credential"]), None
    subject = vc.get("credentialSubject")
    holder = svc.store.account(account_id).did
    if "CareerCertificateCredential" not in vc.get("type", []) or not isinstance(subject, Mapping) or subject.get("id") != holder:
        raise Conflict("the city sent something other than your certificate", message_ko="서울시가 본인의 경력증명서가 아닌 것을 보냈습니다")
    extra = _shown_items(vc) - {"employer", *chosen}  # the employer names the issuer: always shown
    if extra:
        raise Conflict(f"the certificate shows items you did not pick ({', '.join(sorted(extra))}); it was not kept",
                       message_ko=f"고르지 않은 항목({', '.join(sorted(extra))})이 들어 있어 보관하지 않았습니다")  # fmt: skip
    if receipt is None:
        receipt = _receipt(client, token, str(vc.get("id", "")))
    return svc.store.put_credential(account_id, vc, receipt=receipt)


def _receipt(client: IssuerClient, token: str, credential_id: str) -> dict[str, Any] | None:
    """The registry receipt, waiting a few seconds for the checkpoint that covers the new certificate."""
    for attempt in range(RECEIPT_TRIES):
        found: dict[str, Any] | None = client.receipt(token, credential_id)
        if found is not None:
            return found
        if attempt + 1 < RECEIPT_TRIES:
            time.sleep(RECEIPT_WAIT)
    return None  # kept without one; the next sync or publishing fetches it


def publish_certificate(svc: WalletService, account_id: str, certificate_id: str, minutes: int) -> Published:
    """The certificate behind a short link for `minutes` (1, 7 or 30 days), receipts refreshed."""
    held = svc.store.credential(account_id, certificate_id)
    if held.kind != "certificate":
        raise InvalidInput("only a career certificate can be printed", message_ko="경력증명서만 PDF로 만들 수 있습니다")
    if held.status == "revoked":
        raise InvalidInput("this certificate was revoked", message_ko="폐기된 경력증명서입니다")
    return svc.publish(account_id, [certificate_id], minutes, purpose="certificate")


def certificate_link(svc: WalletService, account_id: str, link_id: str) -> Published:
    """One of the worker's certificate links (any state); NotFound for anyone else's."""
    for link in svc.store.published(account_id):
        if link.id == link_id and link.purpose == "certificate":
            return link
    raise NotFound("no such certificate link", message_ko="그런 경력증명서 링크가 없습니다")


def certificate_pdf(svc: WalletService, account_id: str, link_id: str, lang: str) -> bytes:
    """The certificate PDF of a live link: the presentation and receipts it serves, its URL in the QR."""
    link = certificate_link(svc, account_id, link_id)
    body = svc.store.open_published(link.id)  # NotFound once expired or withdrawn
    return certificate.build_certificate_pdf(body["verifiablePresentation"], body.get("receipts") or {},
                                             qr_url=svc.link_url(link.id), qr_expires=link.expires_at.isoformat(),
                                             lang=lang)  # fmt: skip
