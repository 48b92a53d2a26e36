"""The workcred JSON-LD context: it expands every example property, is protected, and every term has labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

import schemas
from schemas import CONTEXT_URL, VOCAB, context_documents, example, labels

V2_URL = "https://www.w3.org/ns/credentials/v2"
V2_FILE = (
    Path(__file__).resolve().parents[2] / "node_modules/@digitalbazaar/credentials-context/contexts/v2.jsonld"
)
EXAMPLES = ["labor-contract-part-time", "career-record", "career-certificate"]


def loader_for(documents: dict[str, Any]) -> Any:
    def load(url: str, options: Any = None) -> dict[str, Any]:
        if url not in documents:  # contexts are never fetched
            raise KeyError(f"context {url} is not bundled")
        return {"contextUrl": None, "documentUrl": url, "document": documents[url]}

    return load


@pytest.fixture(scope="module")
def loader() -> Any:
    if not V2_FILE.exists():
        pytest.skip(f"{V2_FILE} is missing: run npm ci")
    return loader_for({V2_URL: json.loads(V2_FILE.read_text("utf-8")), **context_documents()})


def expand(doc: dict[str, Any], loader: Any) -> tuple[list[Any], list[str | None]]:
    dropped: list[str | None] = []
    out = jsonld.expand(doc, {"documentLoader": loader}, on_property_dropped=dropped.append)
    return out, dropped


def walk(node: Any) -> Any:
    """Every (key, value) pair in an expanded document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def count_leaves(node: Any) -> int:
    if isinstance(node, dict):
        if "@value" in node or list(node) == ["@id"]:  # a literal, or a reference (issuer, contract)
            return 1
        return sum(count_leaves(v) for k, v in node.items() if k not in ("@id", "@type"))
    if isinstance(node, list):
        return sum(count_leaves(v) for v in node)
    return 0


def compact_leaves(node: Any) -> int:
    if isinstance(node, dict):
        return sum(compact_leaves(v) for k, v in node.items() if k not in ("@context", "id", "type"))
    if isinstance(node, list):
        return sum(compact_leaves(v) for v in node)
    return 1


def test_context_document_shape() -> None:
    docs = context_documents()
    assert list(docs) == [CONTEXT_URL] == [schemas.CONTEXT_URL]
    ctx = docs[CONTEXT_URL]["@context"]
    assert ctx["@version"] == 1.1 and ctx["@protected"] is True
    assert "@vocab" not in ctx  # an undefined term must be dropped (and caught), not silently minted
    for term, definition in ctx.items():
        if not term.startswith("@"):
            assert definition["@id"].startswith(VOCAB), term
    for date_term in ("birthDate", "startDate", "endDate", "consentDate"):
        assert ctx[date_term]["@type"] == "http://www.w3.org/2001/XMLSchema#date"


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_expand_without_dropping_anything(name: str, loader: Any) -> None:
    doc = example(name)
    out, dropped = expand(doc, loader)
    assert dropped == []
    # every JSON leaf of the example survives as an expanded value (ids and types aside)
    assert count_leaves(out) == compact_leaves(doc)
    for key, value in walk(out):
        if key == "@type" and isinstance(value, list):
            assert all(t.startswith(("https://", "http://")) for t in value), value
        elif not key.startswith("@"):
            assert key.startswith(("https://", "http://")), key


def test_labor_contract_expansion_types(loader: Any) -> None:
    out, _ = expand(example("labor-contract-part-time"), loader)
    subject = out[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert subject["@type"] == [VOCAB + "LaborContract"]
    period = subject[VOCAB + "contractPeriod"][0]
    assert period[VOCAB + "startDate"] == [
        {"@type": "http://www.w3.org/2001/XMLSchema#date", "@value": "2026-03-02"}
    ]
    wage = subject[VOCAB + "wage"][0]
    assert wage["@type"] == [VOCAB + "HourlyWage"]
    assert wage[VOCAB + "amount"] == [{"@value": 12121}]  # a native JSON number, not a string
    assert subject[VOCAB + "employer"][0]["@id"] == "did:web:127.0.0.1%3A8700:issuers:seoul-digital-policy"
    assert len(subject[VOCAB + "dailySchedule"]) == 5


def test_a_typo_is_dropped_and_reported(loader: Any) -> None:
    doc = example("labor-contract-part-time")
    doc["credentialSubject"]["wage"]["amout"] = 1
    _, dropped = expand(doc, loader)
    assert dropped == ["amout"]


def test_protected_terms_cannot_be_redefined(loader: Any) -> None:
    doc = example("career-record")
    doc["@context"].append({"wage": "https://evil.example/wage"})
    with pytest.raises(jsonld.JsonLdError, match="protected term"):
        expand(doc, loader)


def test_rdf_has_every_statement(loader: Any) -> None:
    """The signed form (RDF) keeps the wage amount typed as an integer and the dates as xsd:date."""
    nquads = jsonld.to_rdf(
        example("labor-contract-part-time"), {"documentLoader": loader, "format": "application/n-quads"}
    )
    assert f'<{VOCAB}amount> "12121"^^<http://www.w3.org/2001/XMLSchema#integer>' in nquads
    assert f'<{VOCAB}birthDate> "1998-04-12"^^<http://www.w3.org/2001/XMLSchema#date>' in nquads
    assert f'<{VOCAB}overtimeRate> "1.5E0"^^<http://www.w3.org/2001/XMLSchema#double>' in nquads


def test_labels_cover_every_term_and_enum() -> None:
    ko, en = labels("ko"), labels("en")
    assert ko.keys() == en.keys()
    assert all(v.strip() for v in [*ko.values(), *en.values()])
    ctx = context_documents()[CONTEXT_URL]["@context"]
    last_segments = {k.split(".")[-1] for k in ko} | set(ko)
    for term in ctx:
        if term.startswith("@"):
            continue
        assert term in last_segments, term
    for term in ("hourly", "daily", "monthly"):
        assert f"wage.type.{term}" in ko
    for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU"):
        assert ko[f"workingDays.weeklyHoliday.{day}"].endswith("요일")
        assert f"dailySchedule.day.{day}" in en
    for variant in schemas.VARIANTS:
        assert f"contractType.{variant}" in ko


def enums(schema: Any, path: str = "") -> Any:
    """(field path, enum value) pairs of a JSON Schema, following local $refs."""
    root = schema

    def visit(node: Any, path: str, seen: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                target = root
                for part in ref.removeprefix("#/").split("/"):
                    target = target[part]
                yield from visit(target, path, seen | {ref})
            for value in node.get("enum", []):
                yield path, value
            for key, sub in node.get("properties", {}).items():
                if key in ("@context", "type", "credentialStatus", "proof"):
                    continue
                yield from visit(sub, f"{path}.{key}" if path else key, seen)
            if isinstance(node.get("items"), dict):
                yield from visit(node["items"], path, seen)

    yield from visit(schema["properties"]["credentialSubject"], "", frozenset())


@pytest.mark.parametrize("credential_type", schemas.CREDENTIAL_TYPES)
def test_labels_cover_every_schema_field_and_enum(credential_type: str) -> None:
    ko = labels("ko")
    schema = schemas.load_schema(credential_type)
    for path, value in enums(schema):
        path = path.removeprefix("records.")
        assert f"{path}.{value}" in ko, (path, value)
    assert credential_type in ko
