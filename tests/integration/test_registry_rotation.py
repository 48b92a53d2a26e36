"""Key rotation end to end over HTTP: a department's key (status lists re-signed, revocation still seen)
and the registry's own checkpoint key (retired keys bounded by their hand-over size)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

import schemas
from agents import didhistory, merkle, statuslist
from agents.checkpoint import RetiredKey, parse_and_verify, parse_verifier_keys, sign_checkpoint, verifier_key
from agents.did import Resolver
from agents.errors import KeyError_, RegistryError
from agents.fetcher import Fetcher
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from agents.policies import StatusNotRevoked
from agents.receipts import verify_receipt
from agents.registry_client import RegistryClient, in_force_at, verify_trust_list
from agents.report import Outcome, Verdict
from agents.verify import Credential, VerifyContext
from registry.app import create_app, load_retired_keys
from registry.log import Log
from registry.models import LogCheckpoint
from web import db
from web.config import RoleConfig
from web.db import transaction
from workcred.cli import main

OLD = Ed25519KeyPair.from_seed(b"\x61" * 32)
TOKEN = "tok-rotation"
ORIGIN = "registry.workcred.test/log"
AT = datetime(2027, 3, 2, tzinfo=UTC)


class Server:
    def __init__(self, base: str, port: int) -> None:
        self.base, self.port = base, port
        self.app: Any = None
        self.httpd: Any = None

    def start(self) -> None:
        self.app = create_app(RoleConfig.from_env("registry"))
        self.httpd = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.app.extensions["registry"].close()


@pytest.fixture
def server(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    probe = make_server("127.0.0.1", 0, None)  # type: ignore[arg-type]
    port = probe.server_port
    probe.server_close()
    base = f"http://127.0.0.1:{port}"
    env = {
        "WORKCRED_REGISTRY_DATABASE_URL": db_url,
        "WORKCRED_REGISTRY_KEY": OLD.secret_multibase,
        "WORKCRED_REGISTRY_ORIGIN": ORIGIN,
        "WORKCRED_REGISTRY_API_TOKENS": TOKEN,
        "WORKCRED_REGISTRY_BASE_URL": base,
        "WORKCRED_REGISTRY_PORT": str(port),
        "WORKCRED_REGISTRY_BACKGROUND": "0",
        "WORKCRED_REGISTRY_CHECKPOINT_EVERY": "1",
        "WORKCRED_REGISTRY_URL": base,
        "WORKCRED_KEYSTORE_DIR": str(tmp_path / "keys"),
        "WORKCRED_KEYSTORE_SECRET": b64url(b"\x08" * 32),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    srv = Server(base, port)
    srv.start()
    yield srv
    srv.stop()


def _credential(issuer: str, entry: dict[str, Any]) -> Credential:
    vc = copy.deepcopy(schemas.example("career-record"))
    vc["issuer"] = issuer
    vc["credentialStatus"] = entry
    return Credential.parse(vc)


def test_department_rotation_keeps_revocation_visible(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    dept = "seoul-jobs"
    assert main(["registry", "department", "create", dept]) == 0
    capsys.readouterr()
    assert main(["registry", "status", "allocate", dept, "rev-2027"]) == 0
    allocated = json.loads(capsys.readouterr().out)
    index = allocated["index"]
    assert main(["registry", "status", "allocate", dept, "sus-2027", "--purpose", "suspension"]) == 0
    assert main(["registry", "status", "revoke", dept, "rev-2027", str(index)]) == 0

    did = didhistory.department_did(server.base, dept)
    client = RegistryClient(server.base, TOKEN)
    policy = _status_policy(server)
    entry = statuslist.status_entry(allocated["statusListCredential"], index, "revocation")
    ctx = VerifyContext(AT, ())
    [before] = policy.checks(_credential(did, entry), ctx)
    assert before.failed and before.fails_as is Verdict.REVOKED

    capsys.readouterr()
    assert main(["registry", "department", "rotate-key", dept]) == 0
    out = capsys.readouterr().out
    assert "re-signed status list rev-2027" in out and "re-signed status list sus-2027" in out
    assert client.status_lists(dept) == ["rev-2027", "sus-2027"]
    served = client.get_status_list(dept, "rev-2027")
    assert served["proof"]["verificationMethod"] == did + "#key-2"
    # a fresh verifier (no cached list or DID document) still sees the revocation
    policy = _status_policy(server)
    [after] = policy.checks(_credential(did, entry), ctx)
    assert after.failed and after.fails_as is Verdict.REVOKED, after.reason_en
    other = statuslist.status_entry(allocated["statusListCredential"], (index + 1) % statuslist.MIN_ENTRIES, "revocation")
    [clear] = policy.checks(_credential(did, other), ctx)
    assert clear.outcome is Outcome.PASS

    # the version history shows each version with its log index and a receipt that proves it
    keys = {ORIGIN: OLD.public}
    history = client.status_list_history(dept, "rev-2027", keys)
    assert [v.version for v in history] == [1, 2, 3]
    assert [v.document["proof"]["verificationMethod"] for v in history] == [did + "#key-1"] * 2 + [did + "#key-2"]
    for v in history:
        assert v.receipt is not None and v.receipt.index == v.log_index
    # what the list said when entry `history[1].log_index + 1` was logged: the revoked version
    said = in_force_at(history, history[1].log_index + 1)
    assert said is not None and said.version == 2
    assert statuslist.check_status(entry, said.document) is True
    assert statuslist.check_status(entry, history[0].document) is False
    assert in_force_at(history, history[0].log_index) is None
    # without the re-signing the revoked list (signed by the retired key-1) would no longer count
    stale = StatusNotRevoked(lambda url: history[1].document, _status_policy(server)._resolve)
    [unusable] = stale.checks(_credential(did, entry), ctx)
    assert unusable.failed and unusable.fails_as is not Verdict.REVOKED and "does not verify" in unusable.reason_en


def _status_policy(server: Server) -> StatusNotRevoked:
    fetcher = Fetcher([server.base.removeprefix("http://")], allow_http_loopback=True)
    return StatusNotRevoked(fetcher.get_json, Resolver(fetcher=fetcher))


def test_history_endpoints_page_and_refuse(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    dept = "seoul-care"
    assert main(["registry", "department", "create", dept]) == 0
    assert main(["registry", "trust", "add", dept, "--label-ko", "돌봄정책과"]) == 0
    client = RegistryClient(server.base, TOKEN)
    trust = client.trust_list_history({ORIGIN: OLD.public})
    assert [v.version for v in trust] == [1, 2]
    assert trust[1].document["previousDigest"]
    http = server.app.test_client()
    assert http.get("/trust-list/history?since=1").get_json()["versions"][0]["version"] == 2
    assert http.get("/trust-list/history?since=2").get_json() == {"versions": [], "next": None}
    assert http.get("/trust-list/history?since=-1").status_code == 400
    assert http.get("/status/seoul-care/none/history").status_code == 404
    assert http.get("/status/Bad_Dept/none/history").status_code == 400
    assert http.get("/status/seoul-care").get_json() == {"department": dept, "lists": []}
    # a receipt checked against another registry key is refused
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        client.trust_list_history({ORIGIN: Ed25519KeyPair.generate().public})


def test_registry_key_rotation(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["registry", "department", "create", "seoul-jobs"]) == 0  # a trust list signed by OLD
    client = RegistryClient(server.base, TOKEN)
    doc = {"n": 1}
    digest = merkle.document_digest(doc)
    first = client.append("credential", digest)
    receipt = client.receipt(first["index"])
    assert receipt is not None
    server.stop()  # rotation is done with the registry stopped

    new_file = tmp_path / "registry-key-2.json"
    capsys.readouterr()
    assert main(["registry", "rotate-key", "--new-key-file", str(new_file)]) == 0
    out = capsys.readouterr().out
    retired_setting = next(line for line in out.splitlines() if "WORKCRED_REGISTRY_RETIRED_KEYS=" in line)
    retired_value = retired_setting.split("=", 1)[1].strip()
    new = Ed25519KeyPair.from_file(str(new_file))
    monkeypatch.delenv("WORKCRED_REGISTRY_KEY")
    monkeypatch.setenv("WORKCRED_REGISTRY_KEY_FILE", str(new_file))
    monkeypatch.setenv("WORKCRED_REGISTRY_RETIRED_KEYS", retired_value)
    server.start()

    key_doc = client._request("GET", "/log/key")[1]
    assert key_doc["publicKeyMultibase"] == new.public.multibase
    [retired] = key_doc["retiredKeys"]
    assert retired["publicKeyMultibase"] == OLD.public.multibase
    handover = retired["lastSize"]
    assert key_doc["verifierKeys"] == [verifier_key(ORIGIN, new.public), retired_value]
    # the hand-over checkpoint is signed by both keys: clients with either key accept it
    note = server.app.test_client().get("/log/checkpoint").get_data(as_text=True)
    assert parse_and_verify(note, {ORIGIN: OLD.public}).size == handover
    assert parse_and_verify(note, {ORIGIN: new.public}).size == handover
    # the trust list was re-signed by the new key (verifiers pin one registry key for both)
    assert verify_trust_list(client.trust_list(), new.public)

    second = client.append("credential", merkle.document_digest({"n": 2}))
    newer = client.receipt(second["index"])
    assert newer is not None
    configured = client.log_verifiers()
    assert configured == parse_verifier_keys(",".join(key_doc["verifierKeys"]))
    # the old receipt (checkpoint by the retired key) and the new one both verify with the configured keys
    assert verify_receipt(receipt, doc, configured, memory=None).size <= handover
    assert verify_receipt(newer, {"n": 2}, configured, memory=None).size > handover
    # a client that pins only the new key refuses the old receipt; an unknown key is refused too
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        verify_receipt(receipt, doc, {ORIGIN: new.public}, memory=None)
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        verify_receipt(newer, {"n": 2}, {ORIGIN: Ed25519KeyPair.generate().public}, memory=None)

    ctx = server.app.extensions["registry"]
    log: Log = ctx.log
    assert log.verify_all().ok, log.verify_all().problems
    # a leaked retired key signing a checkpoint beyond its hand-over size is caught
    cp = log.latest_checkpoint()
    assert cp is not None and cp.size > handover
    forged = sign_checkpoint(cp, ORIGIN, OLD)
    with pytest.raises(RegistryError, match="retired before that size"):
        parse_and_verify(forged, configured)
    result = log.verify_all([forged])
    assert not result.ok and any("retired before that size" in p for p in result.problems)
    with transaction(ctx.session_factory) as s:
        s.get(LogCheckpoint, cp.size).note = forged
    result = log.verify_all()
    assert not result.ok and any("retired before that size" in p for p in result.problems)
    # a checkpoint by an unknown key is a failure as well
    with transaction(ctx.session_factory) as s:
        s.get(LogCheckpoint, cp.size).note = sign_checkpoint(cp, ORIGIN, Ed25519KeyPair.generate())
    result = log.verify_all()
    assert not result.ok and any("not signed by a trusted registry key" in p for p in result.problems)


def test_retired_keys_configuration_is_checked(db_url: str) -> None:
    db.migrate("registry", db_url)
    engine = db.make_engine(db_url)
    try:
        with pytest.raises(KeyError_, match="retired"):
            Log(db.session_factory(engine), origin=ORIGIN, signer=OLD, retired_keys=[RetiredKey(OLD.public, 3)])
    finally:
        engine.dispose()
    cfg = RoleConfig("registry", extra={"retired_keys": verifier_key(ORIGIN, OLD.public)})
    with pytest.raises(KeyError_, match="last tree size"):
        load_retired_keys(cfg, ORIGIN)
    cfg = RoleConfig("registry", extra={"retired_keys": verifier_key("other.origin/log", OLD.public) + "@4"})
    with pytest.raises(KeyError_, match="last tree size"):
        load_retired_keys(cfg, ORIGIN)
    cfg = RoleConfig("registry", extra={"retired_keys": "garbage@1"})
    with pytest.raises(KeyError_, match="RETIRED_KEYS"):
        load_retired_keys(cfg, ORIGIN)
    cfg = RoleConfig("registry", extra={"retired_keys": verifier_key(ORIGIN, OLD.public) + "@4"})
    assert load_retired_keys(cfg, ORIGIN) == (RetiredKey(OLD.public, 4),)
