"""schema_errors answers "valid" from the compiled (Rust) validator: it must never call an invalid
credential valid, so every mutation of the examples gets the reference (pure-Python) errors."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from schemas import example, load_schema, schema_errors

EXAMPLES = {"labor-contract-part-time": "LaborContractCredential", "career-record": "CareerRecordCredential", "career-certificate": "CareerCertificateCredential"}
REPLACEMENTS: tuple[Any, ...] = (None, -1, 1.5, True, "x", "2024-02-30", "2024-01-01\n", [])


@cache
def _reference_validator(credential_type: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(credential_type), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _reference(doc: dict[str, Any], credential_type: str) -> list[str]:
    validator = _reference_validator(credential_type)
    return sorted(f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield path + (k,)
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield path + (i,)
            yield from _paths(v, path + (i,))


def _mutants(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in _paths(doc):
        for value in (*REPLACEMENTS, "<delete>"):
            out = copy.deepcopy(doc)
            parent = out
            for step in path[:-1]:
                parent = parent[step]
            if value == "<delete>":
                if isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    parent.pop(path[-1])
            else:
                parent[path[-1]] = value
            yield out


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_fast_path_agrees_with_reference_validator(name: str) -> None:
    doc = example(name)
    doc.pop("proof", None)
    assert schema_errors(doc) == _reference(doc, EXAMPLES[name]) == []
    n_invalid = 0
    for mutant in _mutants(doc):
        types = mutant.get("type")
        if not isinstance(types, list) or EXAMPLES[name] not in types:
            continue  # schema_errors does not pick this schema (tested in test_schemas_api)
        expected = _reference(mutant, EXAMPLES[name])
        assert sorted(schema_errors(mutant)) == expected, mutant
        n_invalid += bool(expected)
    assert n_invalid > 100  # the mutations do reach the schema's constraints
