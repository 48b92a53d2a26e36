"""Regression: pyld's shared context cache raced under concurrent RDFC verifications (sporadic 500s with
"OrderedDict mutated during iteration", and honest presentations judged tampered). Thousands of mixed
verifications on many threads must give exactly the verdicts one thread gives."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import schemas
from agents import dataintegrity as di
from agents import verify
from agents.did import Resolver
from agents.keys import Ed25519KeyPair

ISSUER = Ed25519KeyPair.from_seed(b"\x21" * 32)
HOLDER = Ed25519KeyPair.from_seed(b"\x22" * 32)
ROUNDS = 2_400


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads every 10 µs (CPython's default is 5 ms), so a race shows in seconds, not hours."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def _documents() -> list[tuple[str, dict[str, Any], str]]:
    career = copy.deepcopy(schemas.example("career-record"))
    career["issuer"] = ISSUER.public.did_key
    career["credentialSubject"]["id"] = HOLDER.public.did_key
    career.pop("credentialStatus")
    alumni = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": ISSUER.public.did_key,
        "credentialSubject": {"id": HOLDER.public.did_key, "alumniOf": "The School of Examples"},
    }
    out: list[tuple[str, dict[str, Any], str]] = []
    for suite in (di.RDFC, di.JCS):
        for doc in (career, alumni):
            vc = di.sign(doc, ISSUER, cryptosuite=suite)
            out.append(("credential", vc, "valid"))
            forged = copy.deepcopy(vc)
            forged["credentialSubject"]["id"] = ISSUER.public.did_key
            out.append(("credential", forged, "tampered"))
        vp = verify.create_presentation([out[-4][1]], HOLDER, challenge="n", domain="d", cryptosuite=suite)
        out.append(("presentation", vp, "valid"))
    return out


def _verdict(kind: str, doc: dict[str, Any], resolver: Resolver) -> str:
    if kind == "presentation":
        return verify.check_presentation(doc, resolve=resolver, challenge="n", domain="d").verdict.value
    return verify.check_credential(doc, resolve=resolver).verdict.value


def test_pyld_context_cache_race_gives_no_wrong_verdict(fast_switching: None) -> None:
    docs = _documents()
    resolver = Resolver()
    assert [_verdict(k, d, resolver) for k, d, _ in docs] == [v for _, _, v in docs]  # one thread: the truth
    work = [docs[i % len(docs)] for i in range(ROUNDS)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda item: (_verdict(item[0], item[1], resolver), item[2]), work))
    wrong = [(expected, verdict) for verdict, expected in got if verdict != expected]
    assert wrong == [], f"{len(wrong)} wrong verdicts of {ROUNDS}"
