"""Demo data for `make run`: a demo department on the local registry and a sample certificate.

`seed_demo(app)` is called once per data directory by `workcred/demo.py`, after every role serves.
It is idempotent: each step looks before it writes, so a second run (or a run after a failed one)
finishes what is missing and changes nothing else.

1. the department `demo-jobs`: its key in the department key store of the data directory
   (`WORKCRED_KEYSTORE_DIR`, default `<data dir>/keystore`; in development its master key is
   generated there), its did:web document hosted and logged by this registry, a revocation and a
   suspension status list, and its accreditation on the signed trust list;
2. a sample for the employer's side: a demo worker's CareerRecordCredential signed by the
   department and logged here, the worker's presentation of it, and the certificate PDF built with
   `agents.certificate` (layout v1), written to `<data dir>/demo/`:
   `sample-certificate.pdf`, `sample-certificate.en.pdf` and `sample-presentation.json`
   (`{"verifiablePresentation", "receipts"}`, what the certificate's QR link serves).

In `make run` this process stands in for the city's issuing side, as the only one that may append
to the log without an API token; in production the issuer does this over HTTP and the registry
never holds a department key.
"""

from __future__ import annotations

import calendar
import copy
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask

import schemas
from agents import certificate, dataintegrity, didhistory, merkle, statuslist, verify
from agents import receipts as receipts_
from agents.errors import NotFound
from agents.keys import Ed25519KeyPair
from agents.keystore import KeyStore, open_keystore
from web.config import RoleConfig, peer_url
from web.db import DEFAULT_DATA_DIR, transaction

from .app import load_signing_key
from .log import RegistryContext
from .vdr_dids import DidRegistry
from .vdr_status import StatusRegistry
from .vdr_trust import accredit, latest_trust_list, update_trust_list

__all__ = ["DEPARTMENT", "Sample", "ensure_department", "ensure_sample", "seed", "seed_demo"]

DEPARTMENT = "demo-jobs"
LABEL_KO = "서울특별시 일자리정책과(시연용)"
LABEL_EN = "Job Policy Division, Seoul (demo)"
REVOCATION, SUSPENSION = "revocation-1", "suspension-1"
SAMPLE_DIR = "demo"
SAMPLE_PDF = "sample-certificate.pdf"
SAMPLE_PDF_EN = "sample-certificate.en.pdf"
SAMPLE_JSON = "sample-presentation.json"
#: the path under the verifier where its demo serves the sample's published presentation (the QR link)
SAMPLE_LINK_PATH = "/sample/presentation.json"


@dataclass(frozen=True)
class Sample:
    """Where the sample certificate files were written."""

    pdf: Path
    pdf_en: Path
    presentation: Path


def seed_demo(app: Flask) -> None:
    """The `make run` hook (see workcred/demo.py)."""
    seed(app, DEFAULT_DATA_DIR)


def seed(app: Flask, data_dir: Path, *, at: datetime | None = None) -> Sample:
    """Seed the demo department and write the sample certificate under `data_dir` (idempotent)."""
    config = cast(RoleConfig, app.config["WORKCRED"])
    ctx = cast(RegistryContext, app.extensions["registry"])
    at = (at or datetime.now(UTC)).replace(microsecond=0)
    keys = open_keystore(os.environ.get("WORKCRED_KEYSTORE_DIR") or Path(data_dir) / "keystore", dev=config.dev)
    did = ensure_department(ctx, config, keys, at=at)
    return ensure_sample(ctx, config, keys, did, Path(data_dir) / SAMPLE_DIR, at=at)


def _base_url(config: RoleConfig) -> str:
    return (config.base_url or f"http://{config.host}:{config.port}").rstrip("/")


def ensure_department(ctx: RegistryContext, config: RoleConfig, keys: KeyStore, *, at: datetime) -> str:
    """The demo department's key, did:web document, status lists and accreditation; returns its DID."""
    dids = DidRegistry(ctx, _base_url(config))
    statuses = StatusRegistry(ctx, dids)
    did = dids.did(DEPARTMENT)
    if DEPARTMENT not in keys.names():
        keys.create(DEPARTMENT, controller=did)
    try:
        dids.latest(DEPARTMENT)
    except NotFound:
        records = [didhistory.KeyRecord(k.key_id, k.public, k.current) for k in keys.public_keys(DEPARTMENT)]
        dids.publish(DEPARTMENT, didhistory.sign_did_document(didhistory.build_did_document(did, records), [keys.signer(DEPARTMENT)]))
    for list_id, purpose in ((REVOCATION, "revocation"), (SUSPENSION, "suspension")):
        try:
            statuses.latest(DEPARTMENT, list_id)
        except NotFound:
            url = statuses.url(DEPARTMENT, list_id)
            vc = statuslist.status_list_credential(url, did, purpose, statuslist.Bitstring(statuslist.MIN_ENTRIES), at, 300_000)
            statuses.publish(DEPARTMENT, list_id, dataintegrity.sign(vc, keys.signer(DEPARTMENT), at=at))
    try:
        listed = latest_trust_list(ctx.session_factory).get("issuers", [])
    except NotFound:
        listed = []  # no trust list yet: the accreditation below publishes version 1
    if not any(i.get("department") == DEPARTMENT and i.get("did") == did for i in listed):
        update_trust_list(ctx.session_factory, ctx.log, load_signing_key(config), _base_url(config), accredit(DEPARTMENT, did, label_ko=LABEL_KO, label_en=LABEL_EN, at=at), at=at)
    return did


def _period(today: date) -> dict[str, str]:
    """Eight months of work that ended last month (a finished job, inside any "last N years")."""
    end = today.replace(day=1) - timedelta(days=1)
    start_month = (end.month - 8) % 12 + 1
    start_year = end.year if start_month <= end.month else end.year - 1
    start = date(start_year, start_month, min(2, calendar.monthrange(start_year, start_month)[1]))
    return {"startDate": start.isoformat(), "endDate": end.isoformat()}


def _still_logged(ctx: RegistryContext, saved: dict[str, Any]) -> bool:
    """The saved sample's entry is in this registry's log (not a leftover of a deleted database)."""
    receipts = saved.get("receipts") if isinstance(saved, dict) else None
    if not isinstance(receipts, dict) or len(receipts) != 1:
        return False
    receipt = next(iter(receipts.values()))
    try:
        current = ctx.log.receipt(int(receipt["index"]))
    except (NotFound, KeyError, TypeError, ValueError):
        return False
    return current is not None and current.salt == receipt.get("salt")


def ensure_sample(ctx: RegistryContext, config: RoleConfig, keys: KeyStore, did: str, out: Path, *, at: datetime) -> Sample:
    """Issue, log and present a demo worker's career record; write the certificate PDFs (once)."""
    sample = Sample(out / SAMPLE_PDF, out / SAMPLE_PDF_EN, out / SAMPLE_JSON)
    if all(p.exists() for p in (sample.pdf, sample.pdf_en, sample.presentation)):
        try:
            if _still_logged(ctx, json.loads(sample.presentation.read_text(encoding="utf-8"))):
                return sample
        except ValueError:
            pass  # a damaged file is written again
    dids = DidRegistry(ctx, _base_url(config))
    statuses = StatusRegistry(ctx, dids)
    worker = Ed25519KeyPair.generate()  # the demo worker's wallet key; only its proof is kept
    vc = copy.deepcopy(schemas.example("career-record"))
    vc["id"] = f"urn:uuid:{uuid.uuid4()}"
    vc["issuer"] = did
    vc["validFrom"] = dataintegrity.now_iso(at)
    subject = vc["credentialSubject"]
    subject["id"] = worker.public.did_key
    subject["employer"] = {"id": did, "name": LABEL_KO}
    subject["employmentPeriod"] = _period(at.date())
    subject["project"]["name"] = f"{subject['employmentPeriod']['startDate'][:4]} 서울 데이터 서포터즈"
    vc["credentialStatus"] = [
        statuslist.status_entry(statuses.url(DEPARTMENT, list_id), statuses.allocate(DEPARTMENT, list_id), purpose)
        for list_id, purpose in ((REVOCATION, "revocation"), (SUSPENSION, "suspension"))
    ]
    vc = dataintegrity.sign(vc, keys.signer(DEPARTMENT), at=at)
    with transaction(ctx.session_factory) as s:
        index = ctx.log.append(s, "credential", merkle.document_digest(vc)).index
    ctx.log.checkpoint()
    receipt = ctx.log.receipt(index)
    if receipt is None:  # the checkpoint above covers it; a None here is a bug, not bad input
        raise RuntimeError("the demo credential's checkpoint is missing")
    # the holder's part: freshness to the latest checkpoint, so a verifier never names the receipt's
    receipt = receipts_.refresh(receipt, lambda _origin: ctx.log.latest_note() or "", lambda _origin, a, b: ctx.log.consistency_proof(a, b))
    receipts = {vc["id"]: receipt.to_json()}
    vp = verify.create_presentation([vc], worker, challenge=f"certificate:{uuid.uuid4()}", domain=peer_url(config, "wallet"), at=at)
    qr_url = peer_url(config, "verifier") + SAMPLE_LINK_PATH
    out.mkdir(parents=True, exist_ok=True)
    for path, lang in ((sample.pdf, "ko"), (sample.pdf_en, "en")):
        _write(path, certificate.build_certificate_pdf(vp, receipts, qr_url=qr_url, lang=lang, at=at))
    _write(sample.presentation, json.dumps({"verifiablePresentation": vp, "receipts": receipts}, ensure_ascii=False).encode("utf-8"))
    return sample


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
