"""RDFC-1.0 cross-check: agents.loader.canonize against pyoxigraph, a fully independent implementation.

pyoxigraph parses the JSON-LD itself (its Rust JSON-LD parser, with the bundled contexts inlined so
it never fetches) and canonicalises with its own RDFC-1.0; nothing of pyld is on that path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from agents import dataintegrity as di
from agents import loader
from agents.loader import inline_contexts
from tests.conftest import ROOT, vectors_dir

V = vectors_dir()
EXAMPLES = sorted((ROOT / "schemas" / "examples").glob("*.json"))
VC2 = "https://www.w3.org/ns/credentials/v2"
VOCAB = {"@vocab": "https://example.org/vocab#"}


def oxigraph_rdfc(document: dict[str, Any]) -> str:
    """Canonical N-Quads by pyoxigraph alone: its JSON-LD parser, then its RDFC-1.0."""
    doc = dict(document)
    if "@context" in doc:
        doc["@context"] = inline_contexts(doc["@context"])
    dataset = ox.Dataset(ox.parse(json.dumps(doc).encode(), format=ox.RdfFormat.JSON_LD))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    nquads = ox.serialize(dataset, format=ox.RdfFormat.N_QUADS).decode()
    return "".join(sorted(line + "\n" for line in nquads.splitlines() if line))


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _documents() -> list[tuple[str, dict[str, Any]]]:
    docs: list[tuple[str, dict[str, Any]]] = [("w3c-unsigned", _json(V / "unsigned.json"))]
    for folder, suffix in (("eddsa-rdfc-2022", "DataInt"), ("Ed25519Signature2020", "EdSig")):
        signed = _json(V / folder / f"signed{suffix}.json")
        docs.append((f"w3c-signed-{suffix}", signed))  # the proof is a named graph with a blank node
        unsecured = {k: v for k, v in signed.items() if k != "proof"}
        docs.append((f"w3c-proof-config-{suffix}", di.proof_configuration(signed["proof"], unsecured)))
    docs += [(f"example-{p.stem}", _json(p)) for p in EXAMPLES]
    docs += [
        ("blank-nodes", {
            "@context": [VC2, VOCAB],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {
                "knows": [{"name": "A", "knows": {"name": "B"}}, {"name": "A", "knows": {"name": "B"}}],
                "sibling": [{"age": 1}, {"age": 1}, {"age": 2}],
            },
        }),
        ("blank-node-ring", {
            "@context": VOCAB,
            "@graph": [
                {"@id": "_:a", "next": {"@id": "_:b"}},
                {"@id": "_:b", "next": {"@id": "_:c"}},
                {"@id": "_:c", "next": {"@id": "_:a"}},
                {"@id": "_:d", "next": {"@id": "_:e"}},
                {"@id": "_:e", "next": {"@id": "_:d"}},
            ],
        }),
        ("lists", {
            "@context": [VC2, VOCAB, {"steps": {"@container": "@list"}, "empty": {"@container": "@list"}}],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {
                "id": "did:example:s",
                "steps": ["one", 2, {"name": "three"}, ["nested"]],
                "empty": [],
            },
        }),
        ("language-tags", {
            "@context": [VC2, VOCAB, {"@language": "ko", "plain": {"@id": "https://example.org/vocab#plain", "@language": None}}],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {
                "id": "did:example:s",
                "label": "근로계약서",
                "title": [{"@value": "Labour contract", "@language": "en-GB"}, {"@value": "근로 계약", "@language": "ko-KR"}],
                "plain": "no tag",
            },
        }),
        ("numbers", {
            "@context": [VC2, VOCAB],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {
                "id": "did:example:s",
                "int": 25, "negative": -3, "zero": 0, "big": 9007199254740993,
                "double": 5.5, "whole-double": 1.0, "tiny": 0.000001, "huge": 1e21, "neg-double": -0.5,
                "yes": True, "no": False,
                "decimal": {"@value": "10030.50", "@type": "http://www.w3.org/2001/XMLSchema#decimal"},
                "wage": {"@value": 10030, "@type": "http://www.w3.org/2001/XMLSchema#integer"},
            },
        }),
        ("strings", {
            "@context": [VC2, VOCAB],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {
                "id": "did:example:s",
                "quote": 'say "hi" \\ back',
                "lines": "one\ntwo\r\nthree\tfour",
                "unicode": "홍길동 ✓ 𝄞 é",
                "json": {"@value": {"b": [1, 2.5], "a": "x"}, "@type": "@json"},
            },
        }),
    ]  # fmt: skip
    return docs


DOCS = _documents()


def test_the_documents_cover_what_was_asked() -> None:
    names = {n for n, _ in DOCS}
    assert {"w3c-unsigned", "blank-nodes", "lists", "language-tags", "numbers"} <= names
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize(("name", "document"), DOCS, ids=[n for n, _ in DOCS])
def test_rdfc_equals_pyoxigraph(name: str, document: dict[str, Any]) -> None:
    ours = loader.canonize(document)
    assert ours.strip(), "the document produced no quads"
    assert ours == oxigraph_rdfc(document)


def test_w3c_vector_canonical_document_from_pyoxigraph_too() -> None:
    """pyoxigraph alone reproduces the vector's canonical document: the cross-check is meaningful."""
    expected = (V / "eddsa-rdfc-2022" / "canonDocDataInt.txt").read_text(encoding="utf-8")
    assert oxigraph_rdfc(_json(V / "unsigned.json")) == expected


def test_blank_node_labels_are_canonical() -> None:
    ours = loader.canonize(dict(DOCS)["blank-node-ring"])
    assert "_:c14n0" in ours and "_:a" not in ours
