"""Witness cosignatures over HTTP: a witness checks consistency from its last seen checkpoint, cosigns,
and the registry serves the cosigned checkpoint; a fork is refused and nothing is cosigned."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from agents.checkpoint import ALG_COSIGNATURE_V1, cosign, parse_and_verify, parse_verifier_key, verifier_key
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from agents.registry_client import RegistryClient
from registry.app import create_app
from web.config import RoleConfig
from workcred.cli import main

KEY = Ed25519KeyPair.from_seed(b"\x91" * 32)
ORIGIN = "registry.workcred.test/witnessed"
TOKEN = "tok-witness"
WITNESS = "witness.example.org"


@pytest.fixture
def served(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[str, Any, Path]]:
    key_file = tmp_path / "witness.json"
    assert main(["registry", "witness", "key", "--name", WITNESS, "--key-file", str(key_file)]) == 0
    vkey = capsys.readouterr().out.strip()
    probe = make_server("127.0.0.1", 0, None)  # type: ignore[arg-type]
    port = probe.server_port
    probe.server_close()
    base = f"http://127.0.0.1:{port}"
    cfg = RoleConfig(
        "registry", port=port, database_url=db_url, secret_key="t", dev=False, base_url=base,
        extra={"key": KEY.secret_multibase, "origin": ORIGIN, "api_tokens": TOKEN, "background": "0",
               "checkpoint_every": "1", "witnesses": vkey},
    )  # fmt: skip
    app = create_app(cfg)
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield base, app, key_file
    httpd.shutdown()
    httpd.server_close()
    app.extensions["registry"].close()


def _append(base: str, n: int) -> None:
    RegistryClient(base, TOKEN).append("credential", hashlib.sha256(f"doc {n}".encode()).digest())


def _cosign(base: str, key_file: Path, state: Path) -> int:
    return main([
        "registry", "witness", "cosign", "--name", WITNESS, "--key-file", str(key_file), "--state", str(state),
        "--log-key", verifier_key(ORIGIN, KEY.public), "--registry-url", base,
    ])  # fmt: skip


def test_witness_cosigns_consistent_checkpoints_and_refuses_a_fork(
    served: tuple[str, Any, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, app, key_file = served
    http = app.test_client()
    witness = Ed25519KeyPair.from_file(str(key_file))
    witnesses = {WITNESS: witness.public}
    assert http.get("/log/key").get_json()["witnesses"] == [verifier_key(WITNESS, witness.public, ALG_COSIGNATURE_V1)]
    state = tmp_path / "witness-state.json"
    for n in range(3):
        _append(base, n)
    assert _cosign(base, key_file, state) == 0
    note = http.get("/log/checkpoint").get_data(as_text=True)
    cp = parse_and_verify(note, {ORIGIN: KEY.public}, witnesses=witnesses, witness_quorum=1)
    assert cp.size == 3

    # the log grows; the witness checks the consistency proof from size 3 and cosigns again
    for n in range(3, 7):
        _append(base, n)
    capsys.readouterr()
    assert _cosign(base, key_file, state) == 0
    assert "size 7" in capsys.readouterr().out
    note = http.get("/log/checkpoint").get_data(as_text=True)
    assert parse_and_verify(note, {ORIGIN: KEY.public}, witnesses=witnesses, witness_quorum=1).size == 7
    assert sum(line.startswith("\u2014 " + WITNESS) for line in note.splitlines()) == 1
    assert json.loads(state.read_text())[ORIGIN]["size"] == 7

    # a witness that remembers another history (a split view) refuses to cosign
    forged = json.loads(state.read_text())
    forged[ORIGIN] = {"size": 5, "root": b64url(b"\x00" * 32)}
    state.write_text(json.dumps(forged))
    _append(base, 7)
    capsys.readouterr()
    assert _cosign(base, key_file, state) == 1
    assert "fork" in capsys.readouterr().err
    latest = http.get("/log/checkpoint").get_data(as_text=True)
    with pytest.raises(RegistryError, match="witness cosignatures"):
        parse_and_verify(latest, {ORIGIN: KEY.public}, witnesses=witnesses, witness_quorum=1)


def test_registry_refuses_bad_cosignatures(served: tuple[str, Any, Path]) -> None:
    base, app, key_file = served
    http = app.test_client()
    _append(base, 0)
    note = http.get("/log/checkpoint").get_data(as_text=True)
    stranger = cosign(note, "stranger.example", Ed25519KeyPair.generate(), timestamp=1)
    resp = http.post("/log/checkpoint/cosignatures", data=stranger.encode())
    assert resp.status_code == 400 and "증인" in resp.get_json()["detail"]
    witness = Ed25519KeyPair.from_file(str(key_file))
    # a cosignature over another body (size changed) no longer verifies under the log's key
    good = cosign(note, WITNESS, witness, timestamp=2)
    altered = good.replace(f"{ORIGIN}\n1\n", f"{ORIGIN}\n2\n", 1)
    assert http.post("/log/checkpoint/cosignatures", data=altered.encode()).status_code == 400
    # a checkpoint this log never signed (by another key) is refused
    other = Ed25519KeyPair.generate()
    from agents.checkpoint import parse_body, sign_checkpoint

    body = note.rpartition("\n\n")[0] + "\n"
    foreign = cosign(sign_checkpoint(parse_body(body), ORIGIN, other), WITNESS, witness, timestamp=3)
    assert http.post("/log/checkpoint/cosignatures", data=foreign.encode()).status_code == 400
    assert http.post("/log/checkpoint/cosignatures", data=b"\xff\xfe").status_code == 400
    assert http.post("/log/checkpoint/cosignatures", data=b"x" * 20000).status_code == 400
    # the good one is stored and served
    assert http.post("/log/checkpoint/cosignatures", data=good.encode()).status_code == 200
    served_note = http.get("/log/checkpoint").get_data(as_text=True)
    name, public = parse_verifier_key(verifier_key(WITNESS, witness.public, ALG_COSIGNATURE_V1), ALG_COSIGNATURE_V1)
    assert parse_and_verify(served_note, {ORIGIN: KEY.public}, witnesses={name: public}, witness_quorum=1).size == 1
