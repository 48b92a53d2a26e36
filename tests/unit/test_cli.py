"""The `workcred` command, run as a subprocess: keys new, sign (reproducing the W3C vectors), verify."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agents import dataintegrity as di
from agents.did import Resolver
from agents.keys import Ed25519KeyPair
from tests.conftest import ROOT, vectors_dir

V = vectors_dir()
VECTORS = [("eddsa-rdfc-2022", "DataInt"), ("eddsa-jcs-2022", "JCS"), ("Ed25519Signature2020", "EdSig")]


def workcred(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workcred", *map(str, args)],
        input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60, env=_env(),
    )  # fmt: skip


def _env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKCRED_")}
    return env | {"WORKCRED_LANG": "en"}


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = workcred("keys", "new")
    assert out.returncode == 0, out.stderr
    return _write(tmp_path_factory.mktemp("keys") / "key.json", json.loads(out.stdout))


@pytest.fixture
def credential(tmp_path: Path, key_file: Path) -> Path:
    """A VCDM 2.0 credential issued by the key's own did:key, signed by the CLI."""
    key = Ed25519KeyPair.from_file(str(key_file))
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:6f1c0d2e-0000-4000-8000-00000000c11a",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": key.public.did_key,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alumna", "alumniOf": "Seoul"},
    }
    out = workcred("sign", "--key", key_file, "--suite", "eddsa-rdfc-2022", _write(tmp_path / "in.json", doc))
    assert out.returncode == 0, out.stderr
    return _write(tmp_path / "signed.json", json.loads(out.stdout))


def test_keys_new_prints_a_key_pair_that_loads(key_file: Path) -> None:
    pair = _json(key_file)
    assert set(pair) >= {"id", "publicKeyMultibase", "secretKeyMultibase"}
    assert pair["publicKeyMultibase"].startswith("z6Mk") and pair["secretKeyMultibase"].startswith("z3u2")
    key = Ed25519KeyPair.from_json(pair)
    assert pair["id"] == key.public.did_key_vm
    assert key.public.verify(key.sign(b"m"), b"m")


def test_keys_new_is_fresh_each_time() -> None:
    a, b = (json.loads(workcred("keys", "new").stdout) for _ in range(2))
    assert a["publicKeyMultibase"] != b["publicKeyMultibase"]


@pytest.mark.parametrize(("suite", "suffix"), VECTORS)
def test_sign_reproduces_the_vector(suite: str, suffix: str) -> None:
    out = workcred("sign", "--key", V / "keyPair.json", "--suite", suite, "--proof-config", V / suite / f"proofConfig{suffix}.json", V / "unsigned.json")
    assert out.returncode == 0, out.stderr
    signed, expected = json.loads(out.stdout), _json(V / suite / f"signed{suffix}.json")
    assert signed == expected
    assert signed["proof"]["proofValue"] == expected["proof"]["proofValue"]


def test_sign_from_stdin() -> None:
    out = workcred("sign", "--key", V / "keyPair.json", "--suite", "eddsa-rdfc-2022", "--proof-config", V / "eddsa-rdfc-2022" / "proofConfigDataInt.json", "-",
                   stdin=(V / "unsigned.json").read_text())  # fmt: skip
    assert json.loads(out.stdout) == _json(V / "eddsa-rdfc-2022" / "signedDataInt.json")


def test_signing_a_signed_document_adds_to_the_proof_set(tmp_path: Path, key_file: Path, credential: Path) -> None:
    out = workcred("sign", "--key", key_file, "--suite", "eddsa-jcs-2022", credential)
    assert out.returncode == 0, out.stderr
    twice = json.loads(out.stdout)
    first = _json(credential)["proof"]
    assert isinstance(twice["proof"], list) and len(twice["proof"]) == 2
    assert twice["proof"][0] == first and twice["proof"][1]["cryptosuite"] == "eddsa-jcs-2022"
    outcomes = di.verify_proofs(twice, lambda vm: di.resolved_key_from(Resolver().resolve_method(vm)))
    assert [o.ok for o in outcomes] == [True, True]
    assert workcred("verify", _write(tmp_path / "twice.json", twice), "--at", "2026-06-01T00:00:00Z").returncode == 0


def test_sign_with_a_chain_from_the_proof_config(tmp_path: Path, key_file: Path, credential: Path) -> None:
    first = _json(credential)
    first["proof"]["id"] = "urn:uuid:first"  # added after signing: the id is part of the proof configuration...
    out = workcred("sign", "--key", key_file, "--proof-config", _write(tmp_path / "p.json", {"previousProof": "urn:uuid:first", "id": "urn:uuid:second"}), _write(tmp_path / "c.json", first))
    chained = json.loads(out.stdout)
    assert chained["proof"][1]["previousProof"] == "urn:uuid:first"
    # ...so the altered first proof fails while the second, made over it as it is now, holds
    outcomes = di.verify_proofs(chained, lambda vm: di.resolved_key_from(Resolver().resolve_method(vm)))
    assert [o.ok for o in outcomes] == [False, True]


def test_verify_exit_0(credential: Path) -> None:
    out = workcred("verify", credential, "--at", "2026-06-01T00:00:00Z")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("Valid (valid)")


def test_verify_json_prints_the_report(credential: Path) -> None:
    out = workcred("verify", credential, "--json", "--at", "2026-06-01T00:00:00Z")
    report = json.loads(out.stdout)
    assert report["verified"] is True and report["verdict"] == "valid" and report["errors"] == []
    assert {c["id"] for c in report["checks"]} >= {"well-formed", "context", "proof[0]", "issuer-signature", "validity"}
    assert report["checkedAt"].startswith("2026-06-01")


@pytest.mark.parametrize(("at", "code", "verdict"), [("2026-06-01T00:00:00Z", 0, "valid"), ("2025-12-31T23:59:59Z", 1, "not-yet-valid"), ("2027-01-01T00:00:01Z", 1, "expired")])
def test_verify_at_changes_the_validity_outcome(credential: Path, at: str, code: int, verdict: str) -> None:
    out = workcred("verify", credential, "--json", "--at", at)
    assert out.returncode == code
    assert json.loads(out.stdout)["verdict"] == verdict


def test_verify_exit_1_names_the_failed_check(tmp_path: Path, credential: Path) -> None:
    doc = _json(credential)
    doc["credentialSubject"]["alumniOf"] = "Busan"
    out = workcred("verify", _write(tmp_path / "bad.json", doc), "--at", "2026-06-01T00:00:00Z")
    assert out.returncode == 1
    assert "(tampered)" in out.stdout
    assert "✘ proof[0]" in out.stdout and "✘ issuer-signature" in out.stdout
    report = json.loads(workcred("verify", tmp_path / "bad.json", "--json", "--at", "2026-06-01T00:00:00Z").stdout)
    assert report["errors"] == ["proof[0]", "issuer-signature"]


def test_verify_w3c_vector_fails_on_the_issuer_check() -> None:
    """The vector's issuer is https://vc.example, not the did:key that signed: the signature holds, issuance does not."""
    out = workcred("verify", V / "eddsa-rdfc-2022" / "signedDataInt.json", "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 1 and report["errors"] == ["issuer-signature"]


def test_verify_exit_2_not_json(tmp_path: Path) -> None:
    (tmp_path / "y.json").write_text("{not json")
    out = workcred("verify", tmp_path / "y.json")
    assert out.returncode == 2 and "not valid JSON" in out.stderr


def test_verify_exit_2_missing_file(tmp_path: Path) -> None:
    out = workcred("verify", tmp_path / "absent.json")
    assert out.returncode == 2 and "cannot read" in out.stderr


def test_verify_exit_2_unknown_context(tmp_path: Path, credential: Path) -> None:
    doc = _json(credential)
    doc["@context"].append("https://example.com/unknown/v1")
    out = workcred("verify", _write(tmp_path / "u.json", doc))
    assert out.returncode == 2
    assert "https://example.com/unknown/v1" in out.stderr and "never fetched" in out.stderr


def test_verify_exit_2_hostile(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 10_000 + "]" * 10_000)
    out = workcred("verify", tmp_path / "deep.json")
    assert out.returncode == 2 and "nested deeper" in out.stderr


def test_korean_by_default(tmp_path: Path) -> None:
    (tmp_path / "y.json").write_text("{not json")
    proc = subprocess.run([sys.executable, "-m", "workcred", "verify", str(tmp_path / "y.json")], capture_output=True, text=True, cwd=ROOT,
                          env={k: v for k, v in _env().items() if k not in ("WORKCRED_LANG", "LANG")})  # fmt: skip
    assert proc.returncode == 2 and "JSON이 아닙니다" in proc.stderr
