"""The registry's batch routes over HTTP: idempotent append, receipts and status allocation in bulk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agents import merkle
from agents.errors import RegistryError
from agents.multibase import b64url_decode
from tests.helpers_city import REVOCATION, TOKEN, City, start_city


@pytest.fixture
def city(tmp_path: Path, db_url: str) -> Iterator[City]:
    with start_city(tmp_path, db_url) as c:
        yield c


def test_batch_append_logs_each_digest_once(city: City) -> None:
    digests = [merkle.document_digest({"n": i}) for i in range(1200)]
    first = city.client.append_batch([("credential", d) for d in digests[:700]])
    assert [e["created"] for e in first] == [True] * 700
    assert [e["index"] for e in first] == list(range(first[0]["index"], first[0]["index"] + 700))
    # a resumed run sends the first 700 again with 500 new ones: the 700 come back as they were
    again = city.client.append_batch([("credential", d) for d in digests])
    assert again[:700] == [dict(e, created=False) for e in first]
    assert [e["created"] for e in again[700:]] == [True] * 500
    size = city.log.size()
    assert len({e["index"] for e in again}) == 1200 and again[-1]["index"] == size - 1
    # the same digest under another type is another leaf (a different statement)
    [other] = city.client.append_batch([("audit-event", digests[0])])
    assert other["created"] and other["index"] == size


def test_batch_receipts_match_the_single_ones(city: City) -> None:
    digests = [merkle.document_digest({"r": i}) for i in range(30)]
    entries = city.client.append_batch([("credential", d) for d in digests])
    indexes = [e["index"] for e in entries]
    city.checkpoint()
    receipts = city.client.receipts([*indexes, city.log.size() + 5])
    assert receipts[-1] is None  # no checkpoint covers it (yet)
    for index, digest, receipt in zip(indexes, digests, receipts, strict=False):
        assert receipt is not None and receipt == city.client.receipt(index)
        leaf = merkle.entry_leaf_hash("credential", b64url_decode(receipt.salt), digest)
        assert city.log.entry(index).leaf_hash == leaf


def test_batch_allocation_gives_distinct_unused_indexes(city: City) -> None:
    dept = city.department("batch-dept")
    single = city.client.allocate_status(dept.name, REVOCATION)
    indexes = city.client.allocate_statuses(dept.name, REVOCATION, 2500)
    assert len(indexes) == len(set(indexes)) == 2500 and single not in indexes
    assert len(set(indexes) | set(city.client.allocate_statuses(dept.name, REVOCATION, 10))) == 2510


def test_batch_allocation_when_the_list_fills_up_regression_topup_collided(city: City) -> None:
    # the first version topped up the taken draws with unchecked random indexes: once a tenth of the
    # list was allocated, nearly every batch of 1000 hit a unique-key conflict 8 times and gave up
    dept = city.department("full-dept")
    allocated: set[int] = set()
    for _ in range(20):
        allocated.update(city.client.allocate_statuses(dept.name, REVOCATION, 1000))
    assert len(allocated) == 20_000


def test_batch_routes_refuse_bad_bodies(city: City) -> None:
    http = httpx.Client(base_url=city.base_url, trust_env=False)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert http.post("/log/entries/batch", json={"entries": [{"type": "credential", "digest": "x" * 43}]}).status_code == 401
    for body in ({}, {"entries": []}, {"entries": [{"type": "nope", "digest": "A" * 43}]}, {"entries": [1] * 1001}):
        r = http.post("/log/entries/batch", json=body, headers=auth)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert http.post("/log/receipts/batch", json={"indexes": [-1]}, headers=auth).status_code == 400
    dept = city.department("refuse-dept")
    for count in (0, 1001, "5", True):
        r = http.post(f"/status/{dept.name}/{REVOCATION}/allocate/batch", json={"count": count}, headers=auth)
        assert r.status_code == 400
    assert http.post("/status/refuse-dept/nolist/allocate/batch", json={"count": 1}, headers=auth).status_code == 404
    with pytest.raises(RegistryError, match="400"):
        city.client.receipts([-5])
