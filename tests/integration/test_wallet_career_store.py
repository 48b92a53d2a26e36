"""The career view's data path on SQLite and PostgreSQL: the store's summaries of one worker's
contracts and career records (sealed under the worker's key), then holder_wallet.career."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

import schemas
from holder_wallet import career
from holder_wallet.store import WalletStore
from web import db, envelope

MASTER = envelope.MasterKey(b"\x43" * 32, "wallet")


@pytest.fixture
def store(db_url: str) -> Iterator[WalletStore]:
    db.migrate("holder_wallet", db_url)
    engine = db.make_engine(db_url)
    yield WalletStore(db.session_factory(engine), MASTER, clock=lambda: datetime(2027, 1, 10, tzinfo=UTC))
    engine.dispose()


def _contract(n: int, holder: str, start: str, end: str, project: str) -> dict:
    vc = schemas.example("labor-contract-part-time")
    vc["id"] = f"urn:uuid:00000000-0000-4000-8000-{n:012d}"
    vc["credentialSubject"].update(id=holder, contractPeriod={"startDate": start, "endDate": end},
                                   project={"id": f"urn:p:{project}", "name": project})  # fmt: skip
    return vc


def test_summaries_feed_the_career_view(store: WalletStore) -> None:
    me = store.create_account(name="홍길동", birth_date="1998-04-12")
    other = store.create_account(name="김민지", birth_date="2000-01-01")
    k1 = _contract(1, me.did, "2026-03-02", "2026-12-31", "데이터 서포터즈")
    k2 = _contract(2, me.did, "2026-06-01", "2026-07-31", "청년 인턴")
    store.put_credential(me.id, k1, status="completed")
    store.put_credential(me.id, k2, status="completed")
    record = schemas.example("career-record")
    record["credentialSubject"].update(id=me.did, contract=k1["id"], employmentPeriod={"startDate": "2026-03-02", "endDate": "2026-06-30"})
    store.put_credential(me.id, record, status="completed")
    cert = schemas.example("career-certificate")
    store.put_credential(me.id, cert)
    store.put_credential(other.id, _contract(3, other.did, "2026-01-01", "2026-12-31", "남의 사업"), status="completed")

    rows = store.summaries(me.id)
    assert sorted(r.kind for r in rows) == ["career", "contract", "contract"]  # the certificate is not work
    assert {r.credential_id for r in rows} == {k1["id"], k2["id"], record["id"]}
    view = career.build(rows, today=date(2027, 1, 10))
    # the career record (2 Mar .. 30 Jun) replaces contract 1; contract 2 (Jun .. Jul) overlaps it in June
    assert [w.credential_id for w in view.works] == [k2["id"], record["id"]]
    assert view.total_days == (date(2026, 7, 31) - date(2026, 3, 2)).days + 1
    assert view.total == career.Span(4, 30).carried() == career.Span(5, 0)
    assert [name for _id, name in view.projects] == ["2026 서울 데이터 서포터즈", "청년 인턴"]
