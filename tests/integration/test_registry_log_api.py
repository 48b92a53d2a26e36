"""The log's HTTP API through Flask's test client: happy paths, auth, and bad input as 4xx problems."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from agents import merkle
from agents.checkpoint import parse_and_verify, parse_verifier_key
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url, b64url_decode
from agents.receipts import InMemoryCheckpointMemory, Receipt, verify_receipt
from registry import cli
from registry.app import create_app
from web.config import RoleConfig

KEY = Ed25519KeyPair.from_seed(b"\x33" * 32)
ORIGIN = "registry.workcred.test/log"
AUTH = {"Authorization": "Bearer tok-2"}
DOC = {"type": ["VerifiableCredential"], "credentialSubject": {"name": "홍길동", "wage": 10030}}


def _config(url: str, **extra: str) -> RoleConfig:
    settings = {
        "key": KEY.secret_multibase,
        "origin": ORIGIN,
        "api_tokens": "tok-1, tok-2",
        "checkpoint_every": "1000",
        "checkpoint_seconds": "3600",
        "background": "0",
    }
    settings.update(extra)
    return RoleConfig("registry", database_url=url, secret_key="test", dev=True, extra=settings)


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    app = create_app(_config(db_url))
    app.config["TESTING"] = True
    yield app
    app.extensions["registry"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _append(client: FlaskClient, doc: dict[str, Any], type_: str = "credential") -> dict[str, Any]:
    resp = client.post("/log/entries", json={"type": type_, "digest": b64url(merkle.document_digest(doc))}, headers=AUTH)
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def _problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status
    return dict(body)


def test_empty_log_has_a_signed_checkpoint(client: FlaskClient) -> None:
    key = client.get("/log/key").get_json()
    name, public = parse_verifier_key(key["verifierKey"])
    assert (name, key["origin"], key["publicKeyMultibase"]) == (ORIGIN, ORIGIN, KEY.public.multibase)
    resp = client.get("/log/checkpoint")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    cp = parse_and_verify(resp.get_data(as_text=True), {name: public})
    assert (cp.size, cp.root) == (0, merkle.EMPTY_ROOT)


def test_append_receipt_and_proofs(client: FlaskClient) -> None:
    entry = _append(client, DOC)
    for i in range(4):
        _append(client, {"n": i}, "audit-event")
    assert entry["index"] == 0 and len(b64url_decode(entry["salt"])) == 32
    pending = client.get(f"/log/receipts/{entry['index']}", headers=AUTH)
    assert pending.status_code == 202 and pending.get_json()["status"] == "pending"
    assert pending.headers["Retry-After"]

    note = client.post("/log/checkpoint", headers=AUTH).get_data(as_text=True)
    cp = parse_and_verify(note, {ORIGIN: KEY.public})
    assert cp.size == 5
    assert client.get("/log/checkpoint").get_data(as_text=True) == note

    receipt = Receipt.from_json(client.get(f"/log/receipts/{entry['index']}", headers=AUTH).get_json())
    memory = InMemoryCheckpointMemory()
    assert verify_receipt(receipt, DOC, {ORIGIN: KEY.public}, memory=memory).size == 5
    with pytest.raises(RegistryError):
        verify_receipt(receipt, dict(DOC, credentialSubject={"name": "홍길동", "wage": 20000}),
                       {ORIGIN: KEY.public}, memory=None)

    public = client.get("/log/entries/0").get_json()
    assert set(public) == {"index", "type", "leafHash", "createdAt"}  # never the salt
    assert public["leafHash"] == entry["leafHash"]

    inc = client.get(f"/log/proof/inclusion?leafHash={entry['leafHash']}&treeSize=5").get_json()
    merkle.verify_inclusion(b64url_decode(entry["leafHash"]), inc["leafIndex"], 5,
                            [b64url_decode(p) for p in inc["inclusionProof"]], cp.root)

    for i in range(3):
        _append(client, {"later": i})
    cp2 = parse_and_verify(client.post("/log/checkpoint", headers=AUTH).get_data(as_text=True), {ORIGIN: KEY.public})
    cons = client.get("/log/proof/consistency?first=5&second=8").get_json()
    merkle.verify_consistency(5, 8, cp.root, cp2.root, [b64url_decode(p) for p in cons["consistencyProof"]])

    def fetch(origin: str, a: int, b: int) -> list[bytes]:
        body = client.get(f"/log/proof/consistency?first={a}&second={b}").get_json()
        return [b64url_decode(p) for p in body["consistencyProof"]]

    newer = Receipt.from_json(client.get("/log/receipts/0", headers=AUTH).get_json())
    assert verify_receipt(newer, DOC, {ORIGIN: KEY.public}, memory=memory, fetch_consistency=fetch).size == 8


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("post", "/log/entries", {}),
        ("post", "/log/entries", {"Authorization": "Bearer wrong"}),
        ("post", "/log/entries", {"Authorization": "Basic tok-1"}),
        ("post", "/log/entries", {"Authorization": "Bearer "}),
        ("get", "/log/receipts/0", {}),
        ("post", "/log/checkpoint", {"Authorization": "Bearer tok-1x"}),
    ],
)
def test_writer_endpoints_need_a_token(client: FlaskClient, method: str, path: str, headers: dict[str, str]) -> None:
    resp = getattr(client, method)(path, json={"type": "credential", "digest": b64url(b"\x00" * 32)}, headers=headers)
    _problem(resp, 401)


GOOD_DIGEST = b64url(b"\x01" * 32)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "credential"}',
        b'{"type": "credential", "digest": "%s", "extra": 1}' % GOOD_DIGEST.encode(),
        b'{"type": "passport", "digest": "%s"}' % GOOD_DIGEST.encode(),
        b'{"type": 5, "digest": "%s"}' % GOOD_DIGEST.encode(),
        b'{"type": "credential", "digest": "abc"}',
        b'{"type": "credential", "digest": "%s="}' % GOOD_DIGEST.encode(),
        b'{"type": "credential", "digest": "%s"}' % b64url(b"\x01" * 33).encode(),
        b'{"type": "credential", "digest": 12}',
        b'{"type": "credential", "digest": "%s"}' % (GOOD_DIGEST[:-1] + "B").encode(),  # non-canonical bits
    ],
)
def test_bad_entry_bodies_are_4xx(client: FlaskClient, body: bytes) -> None:
    resp = client.post("/log/entries", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"


def test_bad_queries_are_4xx(client: FlaskClient) -> None:
    entry = _append(client, DOC)
    _append(client, {"x": 1})
    leaf = entry["leafHash"]
    unknown = b64url(b"\x07" * 32)
    cases = {
        f"/log/proof/inclusion?leafHash={leaf}&treeSize=3": 400,  # beyond the tree
        f"/log/proof/inclusion?leafHash={leaf}&treeSize=0": 400,  # entry not in that tree
        f"/log/proof/inclusion?leafHash={leaf}": 400,
        f"/log/proof/inclusion?leafHash={leaf}&treeSize=-1": 400,
        f"/log/proof/inclusion?leafHash={leaf}&treeSize=1e3": 400,
        f"/log/proof/inclusion?leafHash={leaf}&treeSize=99999999999999999999999": 400,
        "/log/proof/inclusion?leafHash=zz&treeSize=1": 400,
        f"/log/proof/inclusion?leafHash={leaf}=&treeSize=1": 400,
        f"/log/proof/inclusion?leafHash={unknown}&treeSize=2": 404,
        "/log/proof/consistency?first=2&second=1": 400,
        "/log/proof/consistency?first=1&second=3": 400,
        "/log/proof/consistency?first=1": 400,
        "/log/proof/consistency?first=a&second=2": 400,
        "/log/entries/2": 404,
        "/log/entries/99999999999999999999999999": 404,
        "/log/entries/-1": 404,
        "/log/nothing": 404,
    }
    for path, status in cases.items():
        _problem(client.get(path), status)
    _problem(client.get("/log/receipts/5", headers=AUTH), 404)
    _problem(client.get("/log/receipts/99999999999999999999999", headers=AUTH), 404)
    ok = client.get(f"/log/proof/inclusion?leafHash={leaf}&treeSize=2")
    assert ok.status_code == 200
    assert client.get("/log/proof/consistency?first=0&second=2").get_json()["consistencyProof"] == []


def test_checkpoints_every_n_entries_after_post(db_url: str) -> None:
    app = create_app(_config(db_url, checkpoint_every="3"))
    try:
        client = app.test_client()
        for i in range(3):
            _append(client, {"i": i})
        cp = parse_and_verify(client.get("/log/checkpoint").get_data(as_text=True), {ORIGIN: KEY.public})
        assert cp.size == 3
    finally:
        app.extensions["registry"].close()


def test_background_timer_starts_and_stops(db_url: str) -> None:
    app = create_app(_config(db_url, background="1", checkpoint_seconds="0.05"))
    try:
        client = app.test_client()
        _append(client, DOC)
        for _ in range(200):
            note = client.get("/log/checkpoint").get_data(as_text=True)
            if parse_and_verify(note, {ORIGIN: KEY.public}).size == 1:
                break
            threading.Event().wait(0.02)
        assert parse_and_verify(note, {ORIGIN: KEY.public}).size == 1
    finally:
        app.extensions["registry"].close()
    assert not any(t.name == "registry-checkpoint" for t in threading.enumerate())


def test_cli_verify_and_checkpoint(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WORKCRED_REGISTRY_KEY", KEY.secret_multibase)
    monkeypatch.setenv("WORKCRED_REGISTRY_ORIGIN", ORIGIN)
    app = create_app(_config(db_url))
    client = app.test_client()
    for i in range(6):
        _append(client, {"i": i})
    ctx = app.extensions["registry"]

    parser = argparse.ArgumentParser()
    cli.add_subparser(parser.add_subparsers(dest="command"))

    def run(*argv: str) -> int:
        args = parser.parse_args(["registry", *argv, "--database-url", db_url])
        return int(args.func(args))

    try:
        assert run("checkpoint") == 0
        assert parse_and_verify(capsys.readouterr().out, {ORIGIN: KEY.public}).size == 6
        assert run("verify") == 0
        assert "ok: 6 entries" in capsys.readouterr().out
        with ctx.engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("UPDATE log_entry SET digest = :d WHERE idx = 4"), {"d": b"\x00" * 32})
        assert run("verify") == 1
        assert "first bad entry index 4" in capsys.readouterr().out
    finally:
        ctx.close()


def test_signing_key_sources(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from agents.errors import KeyError_
    from registry.app import load_signing_key
    from web import db

    monkeypatch.setattr(db, "DEFAULT_DATA_DIR", tmp_path)
    dev = RoleConfig("registry", dev=True)
    first = load_signing_key(dev)
    path = tmp_path / "registry-key.json"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_signing_key(dev).public == first.public  # generated once, then reused
    assert load_signing_key(RoleConfig("registry", extra={"key": KEY.secret_multibase})).public == KEY.public
    assert load_signing_key(RoleConfig("registry", extra={"key_file": str(path)})).public == first.public
    with pytest.raises(KeyError_, match="WORKCRED_REGISTRY_KEY"):
        load_signing_key(RoleConfig("registry", dev=False))
    with pytest.raises(KeyError_):
        load_signing_key(RoleConfig("registry", extra={"key": "zNotAKey"}))
