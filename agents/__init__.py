"""workcred's trust core: what the city, the worker and the employer share.

The public surface, by name (each also importable from its module, e.g. `agents.verify.check_credential`;
loaded on first use, so `import agents` stays cheap):

- the one way in: `parse`, `Submission`, `Credential`, `Presentation` (agents.document); the VCDM 2.0
  data model: `check_credential_model`, `check_presentation_model`, `Violation`, `NonConforming`
  (agents.datamodel)
- verification: `check_credential`, `check_presentation`, `verify_credential`, `verify_presentation`,
  `create_presentation`, `AllOf`, `Policy`, `VerifyContext` (agents.verify); `Report`, `Check`,
  `Outcome`, `Verdict` (agents.report)
- proofs and keys: `sign`, `verify_proofs`, `now_iso`, `JCS`, `RDFC`, `KeyResolver` (agents.dataintegrity);
  `Ed25519KeyPair`, `Signer` (agents.keys); `KeyStore`, `open_keystore`, `EncryptedFileKeyStore`
  (agents.keystore)
- the labor contract: `accept_contract`, `countersign`, `draft_of`, `acceptances`, `verify_acceptance`
  (agents.contract)
- the registry's client side: `RegistryClient` (agents.registry_client), `Receipt`, `refresh`
  (agents.receipts), `document_digest` (agents.merkle), `status_entry`, `status_list_credential`,
  `decode_list_credential` (agents.statuslist), `department_did`, `build_did_document`,
  `sign_did_document`, `KeyRecord` (agents.didhistory), `checkpoint_fetcher`, `consistency_fetcher`
  (agents.policies)
- certificates: `build_certificate_pdf`, `extract_from_pdf` (agents.certificate)
- errors: `Error` and its conditions (agents.errors); Korean particles: `josa` (agents.korean)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, tuple[str, str]] = {
    "parse": ("document", "parse"),
    "Submission": ("document", "Submission"),
    "Credential": ("document", "Credential"),
    "Presentation": ("document", "Presentation"),
    "check_credential_model": ("datamodel", "check_credential"),
    "check_presentation_model": ("datamodel", "check_presentation"),
    "Violation": ("datamodel", "Violation"),
    "NonConforming": ("datamodel", "NonConforming"),
    "check_credential": ("verify", "check_credential"),
    "check_presentation": ("verify", "check_presentation"),
    "verify_credential": ("verify", "verify_credential"),
    "verify_presentation": ("verify", "verify_presentation"),
    "create_presentation": ("verify", "create_presentation"),
    "AllOf": ("verify", "AllOf"),
    "Policy": ("verify", "Policy"),
    "VerifyContext": ("verify", "VerifyContext"),
    "Report": ("report", "Report"),
    "Check": ("report", "Check"),
    "Outcome": ("report", "Outcome"),
    "Verdict": ("report", "Verdict"),
    "sign": ("dataintegrity", "sign"),
    "verify_proofs": ("dataintegrity", "verify_proofs"),
    "now_iso": ("dataintegrity", "now_iso"),
    "JCS": ("dataintegrity", "JCS"),
    "RDFC": ("dataintegrity", "RDFC"),
    "KeyResolver": ("dataintegrity", "KeyResolver"),
    "Ed25519KeyPair": ("keys", "Ed25519KeyPair"),
    "Signer": ("keys", "Signer"),
    "KeyStore": ("keystore", "KeyStore"),
    "open_keystore": ("keystore", "open_keystore"),
    "EncryptedFileKeyStore": ("keystore", "EncryptedFileKeyStore"),
    "accept_contract": ("contract", "accept_contract"),
    "countersign": ("contract", "countersign"),
    "draft_of": ("contract", "draft_of"),
    "acceptances": ("contract", "acceptances"),
    "verify_acceptance": ("contract", "verify_acceptance"),
    "RegistryClient": ("registry_client", "RegistryClient"),
    "Receipt": ("receipts", "Receipt"),
    "refresh": ("receipts", "refresh"),
    "document_digest": ("merkle", "document_digest"),
    "status_entry": ("statuslist", "status_entry"),
    "status_list_credential": ("statuslist", "status_list_credential"),
    "decode_list_credential": ("statuslist", "decode_list_credential"),
    "department_did": ("didhistory", "department_did"),
    "build_did_document": ("didhistory", "build_did_document"),
    "sign_did_document": ("didhistory", "sign_did_document"),
    "KeyRecord": ("didhistory", "KeyRecord"),
    "checkpoint_fetcher": ("policies", "checkpoint_fetcher"),
    "consistency_fetcher": ("policies", "consistency_fetcher"),
    "build_certificate_pdf": ("certificate", "build_certificate_pdf"),
    "extract_from_pdf": ("certificate", "extract_from_pdf"),
    "Error": ("errors", "Error"),
    "josa": ("korean", "josa"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """PEP 562: a public name is loaded from its module on first use."""
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"agents.{target[0]}"), target[1])
    globals()[name] = value
    return value
