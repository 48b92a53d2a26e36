"""workcred schemas: the JSON-LD context, JSON Schemas, contract templates, legal rules, labels, examples.

Everything here is bundled package data; nothing is fetched. This package imports nothing else of
workcred, so every other package may use it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator

from ._data import UnknownEntry, load_copy, names
from .rules import Violation, check_contract, minimum_wage

__all__ = [
    "CONTEXT_URL",
    "CREDENTIAL_TYPES",
    "VARIANTS",
    "VOCAB",
    "UnknownEntry",
    "Violation",
    "check_contract",
    "context_documents",
    "example",
    "labels",
    "load_schema",
    "minimum_wage",
    "schema_errors",
    "template",
]

#: the URL of the workcred JSON-LD context, listed after https://www.w3.org/ns/credentials/v2
CONTEXT_URL = "https://w3id.org/workcred/v1"
#: the vocabulary every workcred term expands into
VOCAB = "https://w3id.org/workcred#"
#: the credential types this package has schemas for
CREDENTIAL_TYPES = ("LaborContractCredential", "CareerRecordCredential", "CareerCertificateCredential")
#: the labor-contract template variants (credentialSubject.contractType values)
VARIANTS = ("regular", "fixed-term", "part-time", "minor")

_CONTEXT_FILES = {CONTEXT_URL: ("contexts", "workcred-v1.jsonld")}


def context_documents() -> dict[str, dict[str, Any]]:
    """URL -> JSON-LD document of the contexts this package defines (only ours, not the W3C ones)."""
    return {url: load_copy(*parts) for url, parts in _CONTEXT_FILES.items()}


def load_schema(credential_type: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole credential of `credential_type`."""
    if credential_type not in CREDENTIAL_TYPES:
        raise UnknownEntry(
            f"no schema for credential type {credential_type!r}; known: {', '.join(CREDENTIAL_TYPES)}",
            f"{credential_type!r} 형식의 스키마가 없습니다. 사용 가능한 형식: {', '.join(CREDENTIAL_TYPES)}",
        )
    schema: dict[str, Any] = load_copy("json", f"{credential_type}.json")
    return schema


@cache
def _validator(credential_type: str) -> Draft202012Validator:
    """The reference validator (built once per type): it words the error messages."""
    return Draft202012Validator(
        load_schema(credential_type), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def _fast_validator(credential_type: str) -> jsonschema_rs.Draft202012Validator:
    """A compiled (Rust) validator of the same schema, for the common case of a valid credential.

    The pure-Python validator took ~2 ms per contract (most of an eddsa-jcs-2022 verification);
    this one takes ~0.01 ms. It checks every format (the Python one only those whose optional
    packages are installed) and its `$` does not accept a trailing newline, so it is at least as
    strict: when it finds no error there is none, and otherwise the reference validator words them.
    """
    return jsonschema_rs.Draft202012Validator(load_schema(credential_type), validate_formats=True)


def schema_errors(credential: Any) -> list[str]:
    """Schema violations of a credential, as "<JSON path>: <message>", [] when it is valid.

    The schema is chosen by the credential's `type`; a credential that is not one of
    CREDENTIAL_TYPES is reported as an error, never raised.
    """
    if not isinstance(credential, dict):
        return ["$: a credential must be a JSON object"]
    types = credential.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    chosen = next((t for t in CREDENTIAL_TYPES if t in types), None)
    if chosen is None:
        return [f"$.type: must contain one of {', '.join(CREDENTIAL_TYPES)}"]
    if _fast_validator(chosen).is_valid(credential):
        return []
    errors = sorted(_validator(chosen).iter_errors(credential), key=lambda e: (e.json_path, e.message))
    return [f"{e.json_path}: {e.message}" for e in errors]


def template(variant: str) -> dict[str, Any]:
    """The MOEL standard-form template of a contract variant (defaults, project/participant fields, sections)."""
    if variant not in VARIANTS:
        raise UnknownEntry(
            f"no contract template {variant!r}; known: {', '.join(VARIANTS)}",
            f"{variant!r} 근로계약서 양식이 없습니다. 사용 가능한 양식: {', '.join(VARIANTS)}",
        )
    data: dict[str, Any] = load_copy("templates", f"{variant}.json")
    return data


def labels(lang: str = "ko") -> dict[str, str]:
    """Display labels keyed by field path ("wage.amount") and enum value ("wage.type.hourly")."""
    if lang not in ("ko", "en"):
        raise UnknownEntry(
            f"no labels for language {lang!r}; known: ko, en",
            f"{lang!r} 언어의 표시명이 없습니다. 사용 가능한 언어: ko, en",
        )
    data: dict[str, str] = load_copy("labels", f"{lang}.json")
    return data


def example(name: str) -> dict[str, Any]:
    """A bundled example credential by name ("labor-contract-part-time", "career-record", ...)."""
    name = name.removesuffix(".json")
    known = names("examples")
    if name not in known:
        raise UnknownEntry(
            f"no example {name!r}; known: {', '.join(known)}",
            f"{name!r} 예시가 없습니다. 사용 가능한 예시: {', '.join(known)}",
        )
    data: dict[str, Any] = load_copy("examples", f"{name}.json")
    return data
