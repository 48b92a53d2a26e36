"""The trust core's public surface: every name `agents` exports resolves, from its documented module."""

from __future__ import annotations

import importlib

import agents


def test_every_exported_name_resolves_to_its_module() -> None:
    for name in agents.__all__:
        value = getattr(agents, name)
        module, attr = agents._EXPORTS[name]
        assert value is getattr(importlib.import_module(f"agents.{module}"), attr), name


def test_the_names_the_apps_build_on_are_exported() -> None:
    for name in ("parse", "Credential", "Presentation", "check_credential", "check_presentation", "sign", "verify_proofs",
                 "accept_contract", "countersign", "RegistryClient", "Receipt", "document_digest", "build_certificate_pdf"):  # fmt: skip
        assert name in agents.__all__
    from agents import dataintegrity, verify

    assert verify.Credential is agents.Credential and dataintegrity.sign is agents.sign  # the old paths still work
