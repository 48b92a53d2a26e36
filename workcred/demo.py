"""Demo data for `make run`: the hook each role uses to seed its database once, and the city's
issuing side (a demo department and a sample certificate) published to the registry over HTTP.

A role that wants demo data defines, in `<package>/demo.py` (or in `<package>/app.py`),

    def seed_demo(app: flask.Flask) -> None: ...

It is called once per data directory, after every role is serving (so a role may call another over
HTTP, e.g. the issuer registering its departments with the registry), in the order registry,
issuer, wallet, verifier. It must be idempotent (safe to call again on a seeded database): the
stamp file `<data dir>/demo-<role>.done` only saves the work. A seed that raises is reported and
retried on the next start. Set WORKCRED_DEMO=0 to skip seeding.

Then, when the registry is among the roles, the issuing side of the city seeds (`seed_city`, stamp
`demo-city.done`), as the issuer does in production: the registry never holds a department key.

1. the department `demo-jobs` (accredited on the trust list by the registry's own seed): its key in
   the issuing side's key store (`WORKCRED_KEYSTORE_DIR`, default `<data dir>/keystore`; in
   development its master key is generated there), its did:web document and a revocation and a
   suspension status list, signed here and published with the registry's API token;
2. a sample for the employer's side: a demo worker's CareerRecordCredential signed by the
   department and logged by the registry, the worker's presentation of it, and the certificate PDF
   built with `agents.certificate` (layout v1), written to `<data dir>/demo/`:
   `sample-certificate.pdf`, `sample-certificate.en.pdf` and `sample-presentation.json`
   (`{"verifiablePresentation", "receipts"}`, what the certificate's QR link serves).

The API token: `prepare(data_dir)` (called by `workcred.run` before the roles start, in development
only) puts a generated token in `<data dir>/registry-api-token` and in the supervisor's environment,
as WORKCRED_REGISTRY_API_TOKEN (the issuing side's) and among WORKCRED_REGISTRY_API_TOKENS (the
registry's), unless they are set already.
"""

from __future__ import annotations

import calendar
import copy
import importlib
import json
import os
import secrets
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from flask import Flask

import schemas
from agents import certificate, dataintegrity, merkle, statuslist, verify
from agents import receipts as receipts_
from agents.errors import Error, RegistryError
from agents.keys import Ed25519KeyPair
from agents.keystore import KeyStore, open_keystore
from agents.policies import checkpoint_fetcher, consistency_fetcher
from agents.registry_client import RegistryClient
from web.config import RoleConfig, peer_url

SeedFn = Callable[[Flask], Any]

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
TOKEN_FILE = "registry-api-token"
CITY_STAMP = "demo-city.done"


@dataclass(frozen=True)
class Sample:
    """Where the sample certificate files were written."""

    pdf: Path
    pdf_en: Path
    presentation: Path


def _enabled() -> bool:
    return os.environ.get("WORKCRED_DEMO", "1") not in ("0", "false", "no")


def prepare(data_dir: Path) -> None:
    """Before the roles start, in development: one registry API token for the registry and the seeding."""
    if os.environ.get("WORKCRED_DEV", "0") not in ("1", "true", "yes") or not _enabled():
        return
    token = os.environ.get("WORKCRED_REGISTRY_API_TOKEN") or _dev_token(Path(data_dir) / TOKEN_FILE)
    os.environ["WORKCRED_REGISTRY_API_TOKEN"] = token
    tokens = [t.strip() for t in os.environ.get("WORKCRED_REGISTRY_API_TOKENS", "").split(",") if t.strip()]
    if token not in tokens:
        os.environ["WORKCRED_REGISTRY_API_TOKENS"] = ",".join([*tokens, token])


def _dev_token(path: Path) -> str:
    """The data directory's development token (created once, readable by its owner only)."""
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


def find_seed(package: str) -> SeedFn | None:
    """The role's `seed_demo`, from `<package>.demo` first, then `<package>.app`; None if it has none."""
    for module_name in (f"{package}.demo", f"{package}.app"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                continue
            raise
        seed = getattr(module, "seed_demo", None)
        if callable(seed):
            return seed  # type: ignore[no-any-return]
    return None


def seed_all(apps: Iterable[tuple[str, str, Flask]], data_dir: Path, log: Callable[[str], None]) -> None:
    """Seed each `(role, package, app)` once, then the city's issuing side when the registry runs;
    report failures through `log` and go on with the rest."""
    if not _enabled():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    apps = list(apps)
    for role, package, app in apps:
        stamp = data_dir / f"demo-{role}.done"
        if stamp.exists():
            continue
        try:
            seed = find_seed(package)
            if seed is None:
                continue
            with app.app_context():
                seed(app)
        except Exception as e:  # a broken seed must not stop the other roles from running
            _report(log, role, e)
            continue
        stamp.write_text("seeded\n", encoding="utf-8")
    registry = next((app for role, _, app in apps if role == "registry"), None)
    if registry is None or (data_dir / CITY_STAMP).exists():
        return
    try:
        seed_city_for(registry, data_dir)
    except Exception as e:  # the roles keep running without the sample
        _report(log, "city", e)
        return
    (data_dir / CITY_STAMP).write_text("seeded\n", encoding="utf-8")


def _report(log: Callable[[str], None], who: str, e: Exception) -> None:
    log(f"{who}: demo data not seeded ({type(e).__name__}: {e})")
    if os.environ.get("WORKCRED_DEBUG"):
        traceback.print_exc()


def seed_city_for(registry: Flask, data_dir: Path, *, at: datetime | None = None) -> Sample:
    """`seed_city` against the running registry app's public URL, with WORKCRED_REGISTRY_API_TOKEN."""
    config: RoleConfig = registry.config["WORKCRED"]
    token = os.environ.get("WORKCRED_REGISTRY_API_TOKEN")
    if not token:
        raise RuntimeError("WORKCRED_REGISTRY_API_TOKEN is not set (make run sets a development token)")
    keys = open_keystore(os.environ.get("WORKCRED_KEYSTORE_DIR") or Path(data_dir) / "keystore", dev=config.dev)
    with httpx.Client(timeout=20, trust_env=False) as http:
        client = RegistryClient(config.base_url, token, http)

        def checkpoint() -> None:  # the seed's one call the client has no method for
            http.post(config.base_url + "/log/checkpoint", headers={"Authorization": f"Bearer {token}"}).raise_for_status()

        return seed_city(
            client, keys, Path(data_dir) / SAMPLE_DIR, verifier_url=peer_url(config, "verifier"),
            wallet_url=peer_url(config, "wallet"), checkpoint=checkpoint, at=at,
        )  # fmt: skip


def seed_city(
    client: RegistryClient, keys: KeyStore, out: Path, *, verifier_url: str, wallet_url: str,
    checkpoint: Callable[[], None] | None = None, at: datetime | None = None,
) -> Sample:
    """The demo department and the sample certificate, published through `client` (with the API
    token), signed with `keys`; `checkpoint` asks the registry for one now. Idempotent."""
    at = (at or datetime.now(UTC)).replace(microsecond=0)
    did = ensure_department(client, keys, at=at)
    return ensure_sample(client, keys, did, out, verifier_url=verifier_url, wallet_url=wallet_url, checkpoint=checkpoint, at=at)


def ensure_department(client: RegistryClient, keys: KeyStore, *, at: datetime) -> str:
    """The demo department's key, did:web document and status lists (the issuer's code); its DID."""
    from issuer.service import publish_department

    return publish_department(client, keys, DEPARTMENT, at=at, revocation=REVOCATION, suspension=SUSPENSION)


def period_ending_last_month(today: date) -> dict[str, str]:
    """Eight months of work that ended last month (a finished job, inside any "last N years")."""
    end = today.replace(day=1) - timedelta(days=1)
    start_month = (end.month - 8) % 12 + 1
    start_year = end.year if start_month <= end.month else end.year - 1
    start = date(start_year, start_month, min(2, calendar.monthrange(start_year, start_month)[1]))
    return {"startDate": start.isoformat(), "endDate": end.isoformat()}


def _still_logged(client: RegistryClient, saved: Any) -> bool:
    """The saved sample's entry is in the registry's log (not a leftover of a deleted database)."""
    receipts = saved.get("receipts") if isinstance(saved, dict) else None
    if not isinstance(receipts, dict) or len(receipts) != 1:
        return False
    receipt = next(iter(receipts.values()))
    try:
        current = client.receipt(int(receipt["index"]))
    except (Error, KeyError, TypeError, ValueError):
        return False
    return current is not None and current.salt == receipt.get("salt")


def _receipt(client: RegistryClient, index: int, checkpoint: Callable[[], None] | None) -> receipts_.Receipt:
    """The entry's receipt: a checkpoint asked for now, else the registry's timer (up to 10 s)."""
    for _ in range(50):
        if checkpoint is not None:
            checkpoint()
        receipt = client.receipt(index)
        if receipt is not None:
            return receipt
        time.sleep(0.2)
    raise RegistryError("the registry did not checkpoint the demo credential", message_ko="등록소가 시연용 자격증명을 체크포인트에 넣지 않았습니다")


def ensure_sample(
    client: RegistryClient, keys: KeyStore, did: str, out: Path, *, verifier_url: str, wallet_url: str,
    checkpoint: Callable[[], None] | None = None, at: datetime,
) -> Sample:
    """Issue, log and present a demo worker's career record; write the certificate PDFs (once)."""
    sample = Sample(out / SAMPLE_PDF, out / SAMPLE_PDF_EN, out / SAMPLE_JSON)
    if all(p.exists() for p in (sample.pdf, sample.pdf_en, sample.presentation)):
        try:
            if _still_logged(client, json.loads(sample.presentation.read_text(encoding="utf-8"))):
                return sample
        except ValueError:
            pass  # a damaged file is written again
    worker = Ed25519KeyPair.generate()  # the demo worker's wallet key; only its proof is kept
    vc = copy.deepcopy(schemas.example("career-record"))
    vc["id"] = f"urn:uuid:{uuid.uuid4()}"
    vc["issuer"] = did
    vc["validFrom"] = dataintegrity.now_iso(at)
    subject = vc["credentialSubject"]
    subject["id"] = worker.public.did_key
    subject["employer"] = {"id": did, "name": LABEL_KO}
    subject["employmentPeriod"] = period_ending_last_month(at.date())
    subject["project"]["name"] = f"{subject['employmentPeriod']['startDate'][:4]} 서울 데이터 서포터즈"
    vc["credentialStatus"] = [
        statuslist.status_entry(client.status_list_url(DEPARTMENT, list_id), client.allocate_status(DEPARTMENT, list_id), purpose)
        for list_id, purpose in ((REVOCATION, "revocation"), (SUSPENSION, "suspension"))
    ]
    vc = dataintegrity.sign(vc, keys.signer(DEPARTMENT), at=at)
    index = int(client.append("credential", merkle.document_digest(vc))["index"])
    receipt = _receipt(client, index, checkpoint)
    # the holder's part: freshness to the latest checkpoint, so a verifier never names the receipt's
    with httpx.Client(timeout=20, trust_env=False) as http:
        origins = {receipt.origin: client.base_url}
        receipt = receipts_.refresh(
            receipt, checkpoint_fetcher(lambda u: http.get(u).raise_for_status().text, origins),
            consistency_fetcher(lambda u: dict(http.get(u).raise_for_status().json()), origins),
            registry_keys=client.log_verifiers(),
        )  # fmt: skip
    receipts = {vc["id"]: receipt.to_json()}
    vp = verify.create_presentation([vc], worker, challenge=f"certificate:{uuid.uuid4()}", domain=wallet_url, at=at)
    qr_url = verifier_url.rstrip("/") + SAMPLE_LINK_PATH
    out.mkdir(parents=True, exist_ok=True)
    for path, lang in ((sample.pdf, "ko"), (sample.pdf_en, "en")):
        _write(path, certificate.build_certificate_pdf(vp, receipts, qr_url=qr_url, lang=lang, at=at))
    _write(sample.presentation, json.dumps({"verifiablePresentation": vp, "receipts": receipts}, ensure_ascii=False).encode("utf-8"))
    return sample


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
