"""Regression cases from the review: huge integers, infinities and lone surrogates are clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import schemas
from agents import loader
from agents.errors import InvalidCredential, ResourceLimit
from tests.conftest import ROOT

BAD = [
    (b'{"a": ' + b"1" * 5000 + b"}", "more than 32 digits"),  # int() of 4,300+ digits raises ValueError
    (b'{"a": ' + b"9" * 33 + b"}", "more than 32 digits"),
    (b'{"a": 1e999}', "infinite"),
    (b'{"a": -1e999}', "infinite"),
    (b'{"a": "\\ud800"}', "unpaired surrogates"),  # escaped lone surrogate: not encodable as UTF-8
    (b'{"\\udfff": 1}', "unpaired surrogates"),  # ... in a key
    ('{"a": "\ud800"}', "unpaired surrogates"),  # a str that never was UTF-8
    (b'{"a": "\\u0007"}', "control characters"),
]


@pytest.mark.parametrize(("raw", "match"), BAD)
def test_bad_values_are_clear_errors(raw: bytes | str, match: str) -> None:
    with pytest.raises(InvalidCredential, match=match):
        loader.parse_json(raw)


def test_paired_surrogates_and_long_but_fine_numbers_pass() -> None:
    assert loader.parse_json(b'{"a": "\\ud83d\\ude00", "b": 12345678901234567890}') == {"a": "😀", "b": 12345678901234567890}


def test_deep_nesting_is_a_resource_limit_not_a_crash() -> None:
    with pytest.raises(ResourceLimit, match="nested deeper"):
        loader.parse_json(b"[" * 100_000)


def test_objects_built_in_python_are_checked_too() -> None:
    with pytest.raises(InvalidCredential):
        loader.check_bounds({"a": "\ud800"})
    with pytest.raises(InvalidCredential):
        loader.check_bounds({"a": 10**40})


def test_a_real_credential_parses() -> None:
    doc = schemas.example("labor-contract-part-time")
    assert loader.parse_json(json.dumps(doc, ensure_ascii=False).encode()) == doc
    assert loader.parse_json(json.dumps(doc)) == doc  # \\u escapes take the scanning path


@pytest.mark.parametrize("body", ['{"type": 5}', '{"a": ' + "1" * 5000 + "}", '{"a": "\\ud800"}'])
def test_cli_exit_2_on_unusable_input(tmp_path, body: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(body, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "workcred", "verify", str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and out.stderr.startswith("workcred: ")


@pytest.mark.parametrize(
    "context",
    [
        {"@base": ""},
        {"@base": "", "@vocab": "x"},
        {"@vocab": 5},
        {"@base": "relative/path"},
    ],
)
def test_malformed_inline_contexts_are_invalid_credentials(context: dict) -> None:
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2", context], "id": "x", "type": ["VerifiableCredential"], "credentialSubject": {"id": "rel"}}
    with pytest.raises(InvalidCredential):
        loader.canonize(doc)
