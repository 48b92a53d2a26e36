"""The two signatures of a labor contract: the worker's acceptance, then the city's issuance.

The worker signs the final draft `D` (every field fixed: id, issuer, validFrom, credentialStatus)
with the wallet's did:key, `proofPurpose: authentication`. That proof travels inside the contract
as an `evidence` entry of type `ContractAcceptance` (`acceptanceProof`), and the department then
signs the whole contract, evidence included, with its did:web key (`assertionMethod`). So:

- the city's signature covers the worker's, which proves the order;
- the worker's signature covers `D`, which is the contract minus `proof` and `evidence`: nobody
  can change a field after the worker signed without breaking it;
- the credential has exactly one proof, the issuer's, so standard verifiers that require the
  `assertionMethod` signer to be the `issuer` (Digital Bazaar's vc, ACA-Py) accept it as it is.

A W3C proof chain (the city's proof with `previousProof` naming the worker's) would say the same,
but ACA-Py 1.7 ignores `previousProof` and rejects the city's proof (measured: see
docs/acapy.md); our verifier still accepts that form too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import dataintegrity as di
from .errors import InvalidCredential
from .keys import Signer

ACCEPTANCE_TYPE = "ContractAcceptance"


def draft_of(contract: Mapping[str, Any]) -> dict[str, Any]:
    """The document the worker signs: the contract without `proof` and `evidence` (a shallow copy)."""
    return {k: v for k, v in contract.items() if k not in ("proof", "evidence")}


def accept_contract(
    draft: Mapping[str, Any],
    worker: Signer,
    *,
    cryptosuite: str = di.JCS,
    at: datetime | None = None,
    passkey_assertion: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The worker's signed acceptance of `draft`, as an `evidence` entry."""
    if "proof" in draft or "evidence" in draft:
        raise InvalidCredential("the worker signs the draft before any proof or evidence", message_ko="근로자는 서명·증빙이 붙기 전의 계약서에 서명합니다")
    subject = draft.get("credentialSubject")
    worker_did = worker.verification_method.split("#", 1)[0]
    if not isinstance(subject, Mapping) or subject.get("id") != worker_did:
        raise InvalidCredential("the contract is not about this worker (credentialSubject.id)", message_ko="계약서의 근로자(credentialSubject.id)가 서명자와 다릅니다")
    proof_id = f"urn:uuid:{uuid.uuid4()}"
    signed = di.sign(draft, worker, cryptosuite=cryptosuite, options={"id": proof_id, "proofPurpose": "authentication"}, at=at)
    entry: dict[str, Any] = {
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": [ACCEPTANCE_TYPE],
        "acceptedAt": signed["proof"]["created"],
        "acceptanceProof": signed["proof"],
    }
    if passkey_assertion is not None:
        entry["passkeyAssertion"] = dict(passkey_assertion)
    return entry


def countersign(
    draft: Mapping[str, Any],
    acceptance: Mapping[str, Any],
    issuer: Signer,
    *,
    cryptosuite: str = di.JCS,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The issued LaborContractCredential: the draft, the worker's acceptance, the city's proof."""
    contract = draft_of(draft)
    contract["evidence"] = [dict(acceptance)]
    return di.sign(contract, issuer, cryptosuite=cryptosuite, options={"proofPurpose": "assertionMethod"}, at=at)


def acceptances(contract: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ContractAcceptance entries of a contract's evidence."""
    ev = contract.get("evidence")
    items = ev if isinstance(ev, list) else [ev] if isinstance(ev, dict) else []
    out = []
    for item in items:
        types = item.get("type") if isinstance(item, dict) else None
        types = types if isinstance(types, list) else [types]
        if ACCEPTANCE_TYPE in types and isinstance(item.get("acceptanceProof"), dict):
            out.append(item)
    return out


def verify_acceptance(contract: Mapping[str, Any], entry: Mapping[str, Any], resolve: di.KeyResolver) -> di.ProofOutcome:
    """Verify the worker's acceptance proof against the draft it covers."""
    proof = entry["acceptanceProof"]
    if "previousProof" in proof:
        raise InvalidCredential("an acceptance proof cannot chain to another proof", message_ko="근로자 동의 서명은 다른 서명에 이어질 수 없습니다")
    [outcome] = di.verify_proofs(draft_of(contract) | {"proof": proof}, resolve)
    return outcome
