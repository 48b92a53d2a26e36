"""agents.policies with real parts and no network: a signed trust list, a signed status list served by a
fetch function, a real (SQLite) log for receipts, and a remembered checkpoint that forks."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import schemas
from agents import dataintegrity as di
from agents import merkle, statuslist
from agents.checkpoint import Checkpoint
from agents.did import Resolver
from agents.errors import FetchError
from agents.keys import Ed25519KeyPair
from agents.policies import AnchoredInRegistry, OnChain, StatusNotRevoked, TrustedIssuers
from agents.receipts import InMemoryCheckpointMemory, Receipt, RegistryView
from agents.report import Outcome, Verdict
from agents.verify import Credential, VerifyContext
from registry.log import Log
from web import db

AT = datetime(2026, 12, 2, tzinfo=UTC)
ISSUER = Ed25519KeyPair.from_seed(b"\x21" * 32)
REGISTRY = Ed25519KeyPair.from_seed(b"\x22" * 32)
LIST_URL = "https://registry.example/status/dept/rev-1"


def _credential(status_index: int | None = None) -> dict[str, Any]:
    vc = copy.deepcopy(schemas.example("career-record"))
    vc["issuer"] = ISSUER.public.did_key
    if status_index is None:
        vc.pop("credentialStatus")
    else:
        vc["credentialStatus"] = statuslist.status_entry(LIST_URL, status_index, "revocation")
    return di.sign(vc, ISSUER, cryptosuite=di.JCS, at=AT)


def _ctx(**options: Any) -> VerifyContext:
    return VerifyContext(AT, (), options)


def _trust_list(issuers: list[dict[str, Any]], key: Ed25519KeyPair = REGISTRY) -> dict[str, Any]:
    doc = {"id": "https://registry.example/trust-list", "type": "WorkcredTrustList", "issuer": key.public.did_key,
           "version": 1, "updated": "2026-12-01T00:00:00Z", "issuers": issuers}  # fmt: skip
    return di.sign(doc, key, cryptosuite=di.JCS, at=AT)


def test_trusted_issuers() -> None:
    c = Credential.parse(_credential())
    listed = _trust_list([{"department": "dept", "did": ISSUER.public.did_key, "name": {"ko": "부서", "en": "Dept"}}])
    [ok] = TrustedIssuers(listed, REGISTRY.public).checks(c, _ctx())
    assert ok.outcome is Outcome.PASS and ok.reason_ko.endswith("부서")
    [absent] = TrustedIssuers(_trust_list([]), REGISTRY.public).checks(c, _ctx())
    assert absent.failed and absent.fails_as is Verdict.UNTRUSTED_ISSUER
    forged = listed | {"issuers": listed["issuers"] + [{"department": "x", "did": "did:key:z6Mkattacker"}]}
    [bad] = TrustedIssuers(forged, REGISTRY.public).checks(c, _ctx())
    assert bad.failed and "does not verify" in bad.reason_en
    [other] = TrustedIssuers(_trust_list(listed["issuers"], Ed25519KeyPair.generate()), REGISTRY.public).checks(c, _ctx())
    assert other.failed and other.fails_as is Verdict.UNTRUSTED_ISSUER


def _status_list(bits: statuslist.Bitstring, signer: Ed25519KeyPair = ISSUER) -> dict[str, Any]:
    vc = statuslist.status_list_credential(LIST_URL, signer.public.did_key, "revocation", bits, AT)
    return di.sign(vc, signer, at=AT)


def test_status_revoked_and_clear() -> None:
    bits = statuslist.Bitstring()
    bits.set(42)
    served = {LIST_URL: _status_list(bits)}
    policy = StatusNotRevoked(lambda url: served[url], Resolver())
    [revoked] = policy.checks(Credential.parse(_credential(42)), _ctx())
    assert revoked.failed and revoked.fails_as is Verdict.REVOKED
    [clear] = policy.checks(Credential.parse(_credential(7)), _ctx())
    assert clear.outcome is Outcome.PASS
    [none] = policy.checks(Credential.parse(_credential()), _ctx())
    assert none.outcome is Outcome.SKIP


def test_status_list_by_someone_else_or_unreachable() -> None:
    mallory = Ed25519KeyPair.generate()
    forged = _status_list(statuslist.Bitstring(), mallory)
    [wrong] = StatusNotRevoked(lambda url: forged, Resolver()).checks(Credential.parse(_credential(42)), _ctx())
    assert wrong.failed and wrong.fails_as is Verdict.INVALID and "not issued by" in wrong.reason_en
    forged["issuer"] = ISSUER.public.did_key  # claims the issuer, signed by another key
    [claimed] = StatusNotRevoked(lambda url: forged, Resolver()).checks(Credential.parse(_credential(42)), _ctx())
    assert claimed.failed and "does not verify" in claimed.reason_en

    def unreachable(url: str) -> dict[str, Any]:
        raise FetchError("refused", message_ko="거부")

    [unknown] = StatusNotRevoked(unreachable, Resolver()).checks(Credential.parse(_credential(42)), _ctx())
    # status unknown is never "good": an unreachable list is amber (could not confirm), not red and not green
    assert unknown.outcome is Outcome.UNCONFIRMED and unknown.fails_as is Verdict.UNCONFIRMED


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Log]:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    db.migrate("registry", url)
    engine = db.make_engine(url)
    yield Log(db.session_factory(engine), origin="registry.example/log", signer=REGISTRY)
    engine.dispose()


def _logged(log: Log, vc: dict[str, Any]) -> Receipt:
    with db.transaction(log._sf) as s:
        index = log.append(s, "credential", merkle.document_digest(vc)).index
    log.checkpoint()
    receipt = log.receipt(index)
    assert receipt is not None
    return receipt


def test_anchored_in_registry_and_split_view(log: Log) -> None:
    vc = _credential()
    receipt = _logged(log, vc)
    keys = {log.origin: REGISTRY.public}
    c = Credential.parse(vc)
    memory = InMemoryCheckpointMemory()
    inclusion, consistency = AnchoredInRegistry(keys, _view(log, memory)).checks(c, _ctx(receipts={c.id: receipt.to_json()}))
    assert inclusion.outcome is Outcome.PASS and consistency.outcome is Outcome.PASS
    # this verifier was shown another history of the same size before: a fork
    forked = InMemoryCheckpointMemory()
    forked.put(Checkpoint(log.origin, receipt_size(receipt, keys), b"\x99" * 32))
    _, split = AnchoredInRegistry(keys, _view(log, forked)).checks(c, _ctx(receipts={c.id: receipt.to_json()}))
    assert split.failed and split.fails_as is Verdict.TAMPERED and "fork" in split.reason_en
    # a receipt for another document proves nothing about this one
    other = _logged(log, _credential(3))
    [wrong] = AnchoredInRegistry(keys, None).checks(c, _ctx(receipts={c.id: other.to_json()}))
    assert wrong.failed and wrong.fails_as is Verdict.TAMPERED
    [missing] = AnchoredInRegistry(keys, None).checks(c, _ctx())
    # an honest credential pasted without its receipt is amber ("could not confirm"), never the red of a forgery
    assert missing.outcome is Outcome.UNCONFIRMED and "No registry receipt" in missing.reason_en
    [garbled] = AnchoredInRegistry(keys, None).checks(c, _ctx(receipts={c.id: {"index": "x"}}))
    assert garbled.failed and garbled.fails_as is Verdict.MALFORMED


def _view(log: Log, memory: InMemoryCheckpointMemory) -> RegistryView:
    """The verifier's own view of the real log: its latest checkpoint and proofs between sizes it chose."""

    def latest(origin: str) -> str:
        note = log.latest_note()
        assert note is not None and origin == log.origin
        return note

    return RegistryView({log.origin: REGISTRY.public}, memory, latest, lambda _o, a, b: log.consistency_proof(a, b))


def receipt_size(receipt: Receipt, keys: dict[str, Any]) -> int:
    from agents.checkpoint import parse_and_verify

    return parse_and_verify(receipt.checkpoint, keys).size


class _Chain:
    def __init__(self, roots: dict[int, bytes]) -> None:
        self.roots = roots

    def verify_checkpoint_on_chain(self, origin: str, tree_size: int, root: bytes) -> None:
        from agents.errors import RegistryError

        if self.roots.get(tree_size) != root:
            raise RegistryError("not anchored", message_ko="앵커 없음")


def test_on_chain(log: Log) -> None:
    vc = _credential()
    receipt = _logged(log, vc)
    keys = {log.origin: REGISTRY.public}
    c = Credential.parse(vc)
    ctx = _ctx(receipts={c.id: receipt.to_json()})
    [skip] = OnChain(None, keys).checks(c, ctx)
    assert skip.outcome is Outcome.SKIP
    from agents.checkpoint import parse_and_verify

    cp = parse_and_verify(receipt.checkpoint, keys)
    [ok] = OnChain(_Chain({cp.size: cp.root}), keys).checks(c, ctx)
    assert ok.outcome is Outcome.PASS
    [bad] = OnChain(_Chain({cp.size: b"\x00" * 32}), keys).checks(c, ctx)
    assert bad.failed and bad.fails_as is Verdict.TAMPERED


def test_each_check_once_one_receipt_verification_per_credential(log: Log, monkeypatch: pytest.MonkeyPatch) -> None:
    """A receipt is read and verified once per credential and shared by every registry policy."""
    from agents import policies
    from agents.checkpoint import parse_and_verify
    from agents.verify import AllOf

    vc = _credential()
    receipt = _logged(log, vc)
    keys = {log.origin: REGISTRY.public}
    cp = parse_and_verify(receipt.checkpoint, keys)
    calls: list[int] = []
    real = policies.verify_receipt
    monkeypatch.setattr(policies, "verify_receipt", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    c = Credential.parse(vc)
    policy = AllOf([AnchoredInRegistry(keys, None), OnChain(_Chain({cp.size: cp.root}), keys)])
    checks = policy.checks(c, _ctx(receipts={c.id: receipt.to_json()}))
    assert [ch.outcome for ch in checks] == [Outcome.PASS, Outcome.SKIP, Outcome.PASS]
    assert len(calls) == 1
    policy.checks(c, _ctx(receipts={c.id: receipt.to_json()}))  # the next verification verifies its own receipt
    assert len(calls) == 2


def test_trust_and_status_lists_are_verified_once_per_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verified trust lists and status lists are cached by their digest until they change."""
    from agents import policies

    trust_calls: list[int] = []
    real_trust = policies.verify_trust_list
    monkeypatch.setattr(policies, "verify_trust_list", lambda *a, **kw: trust_calls.append(1) or real_trust(*a, **kw))
    entry = {"department": "dept", "did": ISSUER.public.did_key, "name": {"ko": "부서", "en": "Dept"}}
    current = {"list": _trust_list([entry])}
    trusted = TrustedIssuers(lambda: current["list"], REGISTRY.public)
    c = Credential.parse(_credential())
    for _ in range(3):
        assert trusted.checks(c, _ctx())[0].outcome is Outcome.PASS
    assert len(trust_calls) == 1
    current["list"] = _trust_list([])  # a new version: verified again, and it says what it says
    assert trusted.checks(c, _ctx())[0].failed and len(trust_calls) == 2

    proof_calls: list[int] = []
    real_proofs = di.verify_proofs
    monkeypatch.setattr(policies.dataintegrity, "verify_proofs", lambda *a, **kw: proof_calls.append(1) or real_proofs(*a, **kw))
    listed = _status_list(statuslist.Bitstring(), ISSUER)
    status = StatusNotRevoked(lambda url: copy.deepcopy(listed), Resolver())
    for _ in range(3):
        assert status.checks(Credential.parse(_credential(42)), _ctx())[0].outcome is Outcome.PASS
    assert len(proof_calls) == 1
