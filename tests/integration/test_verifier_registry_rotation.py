"""The verifier after a registry key rotation: receipts whose checkpoints were signed by the retired key
(a certificate printed before the rotation) still verify when the verifier is configured with what
`workcred registry rotate-key` prints, and a retired key cannot vouch for a larger checkpoint.

The rotation is the real CLI over the city's database (registry restarted with the new key and the
retired one); the verifier is the real app, asked through POST /credentials/verify."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from agents.checkpoint import (
    RetiredKey,
    parse_and_verify,
    parse_verifier_key,
    parse_verifier_keys,
    sign_checkpoint,
)
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from agents.policies import checkpoint_fetcher, consistency_fetcher
from agents.receipts import Receipt, refresh
from registry.app import create_app as create_registry
from registry.models import LogCheckpoint
from tests.helpers_city import ORIGIN, REGISTRY_KEY, TOKEN, City, Issued, start_city
from verifier.app import create_app
from web.config import RoleConfig
from web.db import transaction
from workcred.cli import main

WORKER = Ed25519KeyPair.from_seed(b"\x45" * 32)


@dataclass
class Rotated:
    city: City
    old: Issued  # logged and receipted under the old key A (the receipt's checkpoint is signed by A only)
    new: Issued  # logged after the rotation, under key B
    new_key: str  # the "new key:" line the CLI printed (a verifier key name+hash+key)
    retired: str  # the "retired:" line (vkey@lastSize)
    registry_retired: str  # the WORKCRED_REGISTRY_RETIRED_KEYS value it printed
    new_pair: Ed25519KeyPair
    last_size: int


def _printed(out: str, prefix: str) -> str:
    line = next(line for line in out.splitlines() if line.strip().startswith(prefix))
    return line.strip()[len(prefix) :].strip()


def _rotate(city: City, db_url: str, tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[str, str, str, Path]:
    """`workcred registry rotate-key` with the registry stopped, then the registry restarted with the
    settings it printed; returns (new key line, retired line, WORKCRED_REGISTRY_RETIRED_KEYS, key file)."""
    city.app.extensions["registry"].close()  # the registry is stopped for the hand-over
    for name, value in {
        "WORKCRED_REGISTRY_DATABASE_URL": db_url, "WORKCRED_REGISTRY_KEY": REGISTRY_KEY.secret_multibase,
        "WORKCRED_REGISTRY_ORIGIN": ORIGIN, "WORKCRED_REGISTRY_BASE_URL": city.base_url,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("WORKCRED_REGISTRY_KEY_FILE", "WORKCRED_REGISTRY_RETIRED_KEYS"):
        monkeypatch.delenv(name, raising=False)
    key_file = tmp / "registry-key-2.json"
    capsys.readouterr()
    assert main(["registry", "rotate-key", "--new-key-file", str(key_file)]) == 0
    out = capsys.readouterr().out
    registry_retired = _printed(out, "WORKCRED_REGISTRY_RETIRED_KEYS=")
    config = RoleConfig(
        "registry", port=city.port, base_url=city.base_url, database_url=db_url, secret_key="test", dev=True,
        extra={"key_file": str(key_file), "retired_keys": registry_retired, "origin": ORIGIN, "api_tokens": TOKEN,
               "background": "0", "checkpoint_every": "1"},
    )  # fmt: skip
    app = create_registry(config)
    city._box["app"] = app  # the same address now serves the restarted registry
    city.app = app
    return _printed(out, "new key:"), _printed(out, "retired:"), registry_retired, key_file


@pytest.fixture
def rotated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Rotated]:
    db_url = f"sqlite:///{tmp_path / 'city-registry.sqlite3'}"
    with start_city(tmp_path, db_url) as city:
        dept = city.department("seoul-jobs", "일자리정책과", "Job Policy Division")
        old = city.issue_career(dept, WORKER)
        new_key, retired, registry_retired, key_file = _rotate(city, db_url, tmp_path, monkeypatch, capsys)
        new = city.issue_career(dept, WORKER)
        [(name, keys)] = parse_verifier_keys(retired).items()
        assert name == ORIGIN and isinstance(keys[0], RetiredKey)
        yield Rotated(city, old, new, new_key, retired, registry_retired, Ed25519KeyPair.from_file(str(key_file)), keys[0].last_size)


def _verifier(r: Rotated, tmp: Path, name: str, **extra: Any) -> Flask:
    return create_app(r.city.verifier_config(f"sqlite:///{tmp / (name + '.sqlite3')}", **extra))


def _verify(app: Flask, issued: Issued, receipt: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    body = {"verifiableCredential": issued.vc, "options": {"receipts": {issued.id: receipt or issued.receipt}}}
    resp = app.test_client().post("/credentials/verify", json=body)
    report = resp.get_json()
    assert isinstance(report, dict)
    return resp.status_code, report


def _check(report: dict[str, Any], id_: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in report["checks"] if c["id"] == id_]
    assert len(found) == 1, report
    return found[0]


def _anchored_roots(city: City) -> dict[int, bytes]:
    with city.log.session_factory() as s:
        return {row.size: bytes(row.root) for row in s.execute(select(LogCheckpoint)).scalars()}


class _Chain:
    """The roots the registry anchored (what `registry anchor --catch-up` would have put on chain)."""

    def __init__(self, roots: dict[int, bytes]) -> None:
        self.roots = roots

    def verify_checkpoint_on_chain(self, origin: str, tree_size: int, root: bytes) -> None:
        if origin != ORIGIN or self.roots.get(tree_size) != root:
            raise RegistryError("not anchored", message_ko="앵커 없음")


def test_the_old_receipt_is_signed_by_the_retired_key_only(rotated: Rotated) -> None:
    r = rotated
    name, new_public = parse_verifier_key(r.new_key)
    assert name == ORIGIN and new_public == r.new_pair.public
    old_cp = parse_and_verify(r.old.receipt["checkpoint"], {ORIGIN: REGISTRY_KEY.public})
    assert old_cp.size < r.last_size  # logged well before the hand-over
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        parse_and_verify(r.old.receipt["checkpoint"], {ORIGIN: new_public})
    assert parse_and_verify(r.new.receipt["checkpoint"], {ORIGIN: new_public}).size > r.last_size
    assert r.retired in r.registry_retired.split(",")


def test_current_and_retired_key_verify_the_old_receipt(rotated: Rotated, tmp_path: Path) -> None:
    r = rotated
    roots = _anchored_roots(r.city)
    # exactly what the operator copies from the rotate-key output: the new key and the retired key
    app = create_app(
        r.city.verifier_config(f"sqlite:///{tmp_path / 'a.sqlite3'}", registry_key=r.new_key, registry_retired_keys=r.retired),
        anchor=_Chain(roots),
    )
    try:
        assert app.extensions["verifier"].settings.retired_registry_keys == {ORIGIN: (RetiredKey(REGISTRY_KEY.public, r.last_size),)}
        status, report = _verify(app, r.old)
        assert status == 200 and report["verdict"] == "valid", report
        inclusion = _check(report, "registry.inclusion")
        assert inclusion["outcome"] == "pass" and inclusion["details"]["treeSize"] < r.last_size
        for id_ in ("issuer.trusted", "key-history", "registry.chain"):  # trust list by B; history and chain
            assert _check(report, id_)["outcome"] == "pass", _check(report, id_)
        # an old receipt without freshness cannot be related without naming it: skipped, verdict unchanged
        assert _check(report, "registry.consistency")["outcome"] == "skip"
        # the holder's refresh carries the latest checkpoint (signed by B) and the proof to it
        status, report = _verify(app, r.old, _refreshed(r, r.old))
        assert status == 200 and report["verdict"] == "valid", report
        assert _check(report, "registry.consistency")["outcome"] == "pass"
        # a credential logged after the rotation verifies as before
        status, report = _verify(app, r.new)
        assert status == 200 and report["verdict"] == "valid", report
    finally:
        app.extensions["verifier"].close()
    # the registry's own WORKCRED_REGISTRY_RETIRED_KEYS value works as well (with a publicKeyMultibase key)
    app = _verifier(r, tmp_path, "b", registry_key=r.new_pair.public.multibase, registry_retired_keys=r.registry_retired)
    try:
        status, report = _verify(app, r.old)
        assert status == 200 and report["verdict"] == "valid", report
    finally:
        app.extensions["verifier"].close()
    # development without a pinned key: taken once from GET /log/key, retired keys (verifierKeys) included
    app = _verifier(r, tmp_path, "tofu", registry_key="")
    try:
        status, report = _verify(app, r.old)
        assert status == 200 and report["verdict"] == "valid", report
        assert app.extensions["verifier"].registry_keys() == {ORIGIN: r.new_pair.public}
    finally:
        app.extensions["verifier"].close()


def test_only_the_new_key_refuses_the_old_receipt(rotated: Rotated, tmp_path: Path) -> None:
    r = rotated
    app = _verifier(r, tmp_path, "only-new", registry_key=r.new_key)
    try:
        status, report = _verify(app, r.old)
        assert status == 400 and report["verdict"] != "valid"
        inclusion = _check(report, "registry.inclusion")
        assert inclusion["outcome"] == "fail"
        assert "not signed by a trusted registry key" in inclusion["reason"]["en"]
        assert "신뢰하는 등록소 키" in inclusion["reason"]["ko"]
        # the trust list and the new credential are fine: only the old checkpoint's key is unknown
        assert _check(report, "issuer.trusted")["outcome"] == "pass"
        status, report = _verify(app, r.new)
        assert status == 200 and report["verdict"] == "valid", report
    finally:
        app.extensions["verifier"].close()


def test_the_retired_key_cannot_sign_a_larger_checkpoint(rotated: Rotated, tmp_path: Path) -> None:
    r = rotated
    latest = r.city.log.latest_checkpoint()
    assert latest is not None and latest.size > r.last_size
    forged_note = sign_checkpoint(latest, ORIGIN, REGISTRY_KEY)  # a stolen retired key
    app = _verifier(r, tmp_path, "forged", registry_key=r.new_key, registry_retired_keys=r.retired)
    try:
        # 1. a receipt whose checkpoint (beyond the hand-over) is signed only by the retired key
        forged = dict(r.new.receipt, checkpoint=forged_note)
        status, report = _verify(app, r.new, forged)
        assert status == 400 and report["verdict"] == "tampered", report
        inclusion = _check(report, "registry.inclusion")
        assert inclusion["outcome"] == "fail" and "retired before that size" in inclusion["reason"]["en"]
        assert "교체(폐기)된 등록소 키" in inclusion["reason"]["ko"]
        # 2. an old receipt carrying "freshness" to such a checkpoint (a valid consistency proof)
        old = Receipt.from_json(r.old.receipt)
        old_cp = parse_and_verify(old.checkpoint, {ORIGIN: REGISTRY_KEY.public})
        proof = [b64url(p) for p in r.city.log.consistency_proof(old_cp.size, latest.size)]
        carried = dict(r.old.receipt, freshness={"checkpoint": forged_note, "consistencyProof": proof})
        status, report = _verify(app, r.old, carried)
        assert status == 400 and report["verdict"] == "tampered", report
        assert _check(report, "registry.inclusion")["outcome"] == "pass"  # the receipt itself is A's, in range
        consistency = _check(report, "registry.consistency")
        assert consistency["outcome"] == "fail" and "retired before that size" in consistency["reason"]["en"]
    finally:
        app.extensions["verifier"].close()
    # 3. a registry serving such a checkpoint as its latest: the verifier's own view refuses it
    with transaction(r.city.log.session_factory) as s:
        row = s.get(LogCheckpoint, latest.size)
        assert row is not None
        row.note = forged_note
    app = _verifier(r, tmp_path, "view", registry_key=r.new_key, registry_retired_keys=r.retired)
    try:
        status, report = _verify(app, r.old)  # no freshness: the view is fetched to relate the receipt
        assert status == 400 and report["verdict"] == "tampered", report
        assert _check(report, "registry.inclusion")["outcome"] == "pass"
        consistency = _check(report, "registry.consistency")
        assert consistency["outcome"] == "fail" and "retired before that size" in consistency["reason"]["en"], consistency
    finally:
        app.extensions["verifier"].close()


def _refreshed(r: Rotated, issued: Issued) -> dict[str, Any]:
    """What the wallet does when presenting: the registry's latest checkpoint and the proof to it."""
    with httpx.Client(timeout=10, trust_env=False) as http:
        origins = {ORIGIN: r.city.base_url}
        fresh = refresh(
            Receipt.from_json(issued.receipt),
            checkpoint_fetcher(lambda u: http.get(u).raise_for_status().text, origins),
            consistency_fetcher(lambda u: dict(http.get(u).raise_for_status().json()), origins),
            registry_keys=parse_verifier_keys(f"{r.new_key},{r.retired}"),
        )  # fmt: skip
    return fresh.to_json()
