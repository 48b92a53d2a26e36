"""Known answers: the W3C vc-di-eddsa test vectors, every intermediate value of every suite."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agents import dataintegrity as di
from agents import multibase
from agents.keys import Ed25519KeyPair
from tests.conftest import vectors_dir

V = vectors_dir()
SUITES = [
    # suite, folder, file suffix
    ("eddsa-rdfc-2022", "eddsa-rdfc-2022", "DataInt"),
    ("eddsa-jcs-2022", "eddsa-jcs-2022", "JCS"),
    ("Ed25519Signature2020", "Ed25519Signature2020", "EdSig"),
]


def _read(folder: str, name: str) -> str:
    return (V / folder / name).read_text(encoding="utf-8")


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def key() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_json(_json(V / "keyPair.json"))


@pytest.fixture(scope="module")
def unsigned() -> dict:
    return _json(V / "unsigned.json")


def _options(folder: str, suffix: str) -> dict:
    config = _json(V / folder / f"proofConfig{suffix}.json")
    config.pop("@context", None)
    return config


def _resolver(key: Ed25519KeyPair):
    return lambda vm: di.ResolvedKey(vm, vm.split("#")[0], key.public, frozenset({"assertionMethod"}))


def test_key_pair_round_trip(key: Ed25519KeyPair) -> None:
    pair = _json(V / "keyPair.json")
    assert key.public.multibase == pair["publicKeyMultibase"]
    assert key.secret_multibase == pair["privateKeyMultibase"]
    assert key.key_id == "did:key:{0}#{0}".format(pair["publicKeyMultibase"])


@pytest.mark.parametrize(("suite", "folder", "suffix"), SUITES)
def test_every_intermediate_value(suite: str, folder: str, suffix: str, key: Ed25519KeyPair, unsigned: dict) -> None:
    signed = _json(V / folder / f"signed{suffix}.json")
    document = {k: v for k, v in signed.items() if k != "proof"}
    # 1. proof configuration, as the vector gives it
    config = di.proof_configuration(signed["proof"], document)
    assert config == _json(V / folder / f"proofConfig{suffix}.json")
    # 2. canonical proof configuration and canonical document
    canon_proof, canon_doc = di.canonical_forms(config, document, suite)
    assert canon_doc.decode() == _read(folder, f"canonDoc{suffix}.txt")
    assert canon_proof.decode() == _read(folder, f"proofCanon{suffix}.txt")
    # 3. both hashes and their concatenation
    proof_hash, doc_hash = hashlib.sha256(canon_proof).digest(), hashlib.sha256(canon_doc).digest()
    assert doc_hash.hex() == _read(folder, f"docHash{suffix}.txt").strip()
    assert proof_hash.hex() == _read(folder, f"proofHash{suffix}.txt").strip()
    assert (proof_hash + doc_hash).hex() == _read(folder, f"combinedHash{suffix}.txt").strip()
    # 4. the signature, hex and base58btc
    signature = key.sign(proof_hash + doc_hash)
    assert signature.hex() == _read(folder, f"sigHex{suffix}.txt").strip()
    assert multibase.encode(signature) == _read(folder, f"sigBTC58{suffix}.txt").strip()


@pytest.mark.parametrize(("suite", "folder", "suffix"), SUITES)
def test_sign_gives_the_signed_vector(suite: str, folder: str, suffix: str, key: Ed25519KeyPair, unsigned: dict) -> None:
    signed = di.sign(unsigned, key, cryptosuite=suite, options=_options(folder, suffix))
    expected = _json(V / folder / f"signed{suffix}.json")
    assert signed == expected
    assert signed["proof"]["proofValue"] == expected["proof"]["proofValue"]


@pytest.mark.parametrize(("suite", "folder", "suffix"), SUITES)
def test_signed_vector_verifies(suite: str, folder: str, suffix: str, key: Ed25519KeyPair) -> None:
    signed = _json(V / folder / f"signed{suffix}.json")
    [outcome] = di.verify_proofs(signed, _resolver(key))
    assert outcome.ok and outcome.signature_ok and outcome.purpose_ok


def _alterations(doc: dict) -> list[tuple[str, dict]]:
    """Every leaf of the signed vector changed, one at a time (proofValue excluded)."""
    out = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, path + [i])
        else:
            yield path

    for path in walk(doc, []):
        if path[-1] == "proofValue" or "@context" in path:
            continue
        copy = json.loads(json.dumps(doc))
        target = copy
        for p in path[:-1]:
            target = target[p]
        old = target[path[-1]]
        target[path[-1]] = old + "x" if isinstance(old, str) else "x"
        out.append(("/".join(map(str, path)), copy))
    return out


@pytest.mark.parametrize(("suite", "folder", "suffix"), SUITES)
def test_each_altered_field_fails(suite: str, folder: str, suffix: str, key: Ed25519KeyPair) -> None:
    signed = _json(V / folder / f"signed{suffix}.json")
    cases = _alterations(signed)
    assert len(cases) >= 10
    for path, altered in cases:
        outcomes = di.verify_proofs(altered, lambda vm: di.ResolvedKey(vm, vm.split("#")[0], key.public, frozenset({"assertionMethod", "assertionMethodx"})))
        assert not any(o.ok for o in outcomes), f"altering {path} was not detected"
