"""The wallet's data layer on SQLite and PostgreSQL: sealed personal data, credentials with receipts,
share history, published links (expiry, withdrawal), the encrypted export, and erasure by destroying
the worker's data key — after which nothing personal is readable and the credentials still verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from agents.errors import Conflict, NotFound
from holder_wallet import archive
from holder_wallet.store import AccountErased, WalletStore
from tests.helpers_city import City, Department, serve, start_city
from verifier.app import create_app as create_verifier
from web import db, envelope

MASTER = envelope.MasterKey(b"\x42" * 32, "wallet")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[WalletStore]:
    db.migrate("holder_wallet", db_url)
    engine = db.make_engine(db_url)
    yield WalletStore(db.session_factory(engine), MASTER, clock=clock)
    engine.dispose()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def dept(city: City) -> Department:
    return city.department("seoul-wallet-store", "서울시 지갑과", "Wallet Division")


def _dump(store: WalletStore) -> bytes:
    """Every value of every wallet table, as the bytes an attacker with the database would read."""
    out = bytearray()
    with store.factory() as s:
        for table in ("worker", "worker_passkey", "held_credential", "share_event", "published_presentation"):
            for row in s.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    out += value if isinstance(value, bytes | memoryview) else str(value).encode()
    return bytes(out)


def test_account_key_and_token_are_sealed(store: WalletStore) -> None:
    account = store.create_account(name="홍길동", birth_date="1998-04-12")
    assert account.did.startswith("did:key:z6Mk") and account.name == "홍길동"
    assert store.key(account.id).public.did_key == account.did
    store.bind_issuer(account.id, "worker-17", "bearer-secret")
    assert store.worker_token(account.id) == "bearer-secret"
    assert store.account_by_issuer_id("worker-17") == store.account(account.id)
    other = store.create_account(name="김철수", birth_date="1990-01-01")
    with pytest.raises(Conflict):
        store.bind_issuer(other.id, "worker-17", "t")
    raw = _dump(store)
    for secret in ("홍길동".encode(), b"1998-04-12", b"bearer-secret", store.key(account.id).seed):
        assert secret not in raw


def test_credentials_shares_and_links(store: WalletStore, city: City, dept: Department, clock: Clock) -> None:
    account = store.create_account(name="홍길동", birth_date="1998-04-12")
    key = store.key(account.id)
    issued = city.issue_contract(dept, key)
    career = city.issue_career(dept, key, end_date="2026-11-30")
    store.put_credential(account.id, issued.vc, receipt=issued.receipt)
    store.put_credential(account.id, career.vc)
    store.set_status(account.id, career.id, "suspended", "근무 기록 정정 중")
    held = store.credentials(account.id)
    assert {h.kind for h in held} == {"contract", "career"}
    got = store.credential(account.id, career.id)
    assert got.status == "suspended" and got.status_reason == "근무 기록 정정 중"
    assert got.summary["project"] == "2026 서울 데이터 서포터즈" and str(got.end_date) == "2026-11-30"
    assert store.credential(account.id, issued.id).receipt == issued.receipt
    assert [h.kind for h in store.credentials(account.id, "career")] == ["career"]

    store.record_share(account.id, "oid4vp", "shared", {"audience": "채용 담당", "credentialIds": [issued.id]})
    assert store.shares(account.id)[0].detail["audience"] == "채용 담당"

    link = store.publish(account.id, {"type": ["VerifiablePresentation"]}, ttl=timedelta(minutes=10))
    assert store.open_published(link.id) == {"type": ["VerifiablePresentation"]}
    store.withdraw(account.id, link.id)
    with pytest.raises(NotFound):
        store.open_published(link.id)
    later = store.publish(account.id, {"x": 1}, ttl=timedelta(minutes=10))
    clock.now += timedelta(minutes=11)
    with pytest.raises(NotFound):
        store.open_published(later.id)
    with pytest.raises(NotFound):
        store.withdraw("someone-else", later.id)


def test_export_erase_restore(store: WalletStore, city: City, dept: Department, tmp_path: Path) -> None:
    account = store.create_account(name="홍길동", birth_date="1998-04-12")
    key = store.key(account.id)
    issued = city.issue_contract(dept, key)
    store.put_credential(account.id, issued.vc, receipt=issued.receipt)
    store.bind_issuer(account.id, "worker-erase", "token-erase")
    store.record_share(account.id, "qr", "shared", {"audience": "고용주"})
    backup = archive.export(store, account.id, "correct horse battery", {"certificate.pdf": b"%PDF-1.7 test"})
    assert b"holder" not in backup and "홍길동".encode() not in backup

    with pytest.raises(archive.ArchiveError, match="passphrase"):
        archive.open_(backup, "wrong passphrase!")
    with pytest.raises(archive.ArchiveError):
        archive.open_(backup[:-1] + bytes([backup[-1] ^ 1]), "correct horse battery")

    store.erase(account.id)
    with pytest.raises(AccountErased):
        store.credentials(account.id)
    raw = _dump(store)
    subject = issued.vc["credentialSubject"]
    for personal in (subject["employee"]["name"], subject["employee"]["birthDate"], subject["employee"]["phone"],
                     subject["employee"]["address"], account.did, "token-erase", "worker-erase", "고용주"):  # fmt: skip
        assert personal.encode() not in raw, personal
    # the sealed rows are still there, and no key in the database opens them
    with store.factory() as s:
        sealed = s.execute(text("SELECT sealed_credential FROM held_credential")).scalars().all()
        assert sealed and all(json.dumps(subject["employee"]["name"]).encode() not in bytes(v) for v in sealed)

    # the credential the worker handed out earlier still verifies against the registry
    app = create_verifier(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}"))
    server, _ = serve(app)
    try:
        resp = httpx.post(f"http://127.0.0.1:{server.server_port}/credentials/verify",
                          json={"verifiableCredential": issued.vc, "options": {"receipts": {issued.id: issued.receipt}}}, timeout=30, trust_env=False)  # fmt: skip
        assert resp.status_code == 200 and resp.json()["verdict"] == "valid", resp.text
    finally:
        server.shutdown()
        app.extensions["verifier"].close()

    # restore into a new account (same key, from the backup)
    contents = archive.open_(backup, "correct horse battery")
    assert contents.files == {"certificate.pdf": b"%PDF-1.7 test"}
    fresh = store.create_account(name=contents.name, birth_date=contents.birth_date, key=contents.key)
    assert fresh.did == account.did and fresh.id != account.id
    assert archive.restore(store, fresh.id, contents) == 1
    assert store.credential(fresh.id, issued.id).receipt == issued.receipt
    assert store.shares(fresh.id)[0].detail["audience"] == "고용주"
