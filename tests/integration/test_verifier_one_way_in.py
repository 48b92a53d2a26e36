"""One way in, each check once: a labor contract (with its floats) through the VC-API is parsed once, walked
for its bounds at most once, and its receipt is verified once, so a second path cannot creep back."""

from __future__ import annotations

import copy
import json
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import schemas
from agents import dataintegrity, document, loader
from agents.keys import Ed25519KeyPair
from verifier.api import answer
from verifier.app import create_app
from web.config import RoleConfig

ISSUER = Ed25519KeyPair.from_seed(b"\x13" * 32)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("verifier")
    config = RoleConfig("verifier", base_url="http://127.0.0.1", database_url=f"sqlite:///{tmp / 'v.sqlite3'}",
                        secret_key="t", dev=True, extra={"profile": "core", "background": "0"})  # fmt: skip
    app = create_app(config)
    yield app.extensions["verifier"]
    app.extensions["verifier"].close()


def _contract() -> dict[str, Any]:
    vc = copy.deepcopy(schemas.example("labor-contract-part-time"))
    vc["issuer"] = ISSUER.public.did_key
    vc["credentialSubject"]["employer"]["id"] = ISSUER.public.did_key
    vc.pop("credentialStatus")
    return dataintegrity.sign(vc, ISSUER, cryptosuite=dataintegrity.JCS)


def _counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls: list[int] = []
    real: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_a_labor_contract_is_parsed_once_on_one_path(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    vc = _contract()
    assert any(isinstance(v, float) for v in _leaves(vc)), "a labor contract carries a float (overtimeRate)"
    body = orjson.dumps({"verifiableCredential": vc, "options": {}})
    answer(service, "credential", body)  # warm: the bundled contexts are read once per process
    parses = _counting(monkeypatch, loader, "parse_json")
    walks = _counting(monkeypatch, loader, "_check_bounds")
    slow: list[int] = []  # the loader's json.loads path (duplicates, big integers, escapes)
    monkeypatch.setattr(loader, "json", types.SimpleNamespace(loads=lambda *a, **kw: slow.append(1) or json.loads(*a, **kw)))
    typed = _counting(monkeypatch, document.Credential, "parse")
    status, report = answer(service, "credential", body)
    assert status in (200, 400) and orjson.loads(report)["kind"] == "credential"
    assert len(parses) == 1  # one parse of the body
    assert len(walks) <= 1  # at most one bounds walk (none when the bytes show the bounds)
    assert slow == []  # the float does not send it down a second parser
    assert len(typed) == 1  # one typed Credential, made at the boundary


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def test_the_checked_marker_is_gone() -> None:
    assert not hasattr(loader, "Checked") and not hasattr(loader, "parse_checked")


def test_every_way_in_is_the_parse_step(tmp_path: Path) -> None:
    """The paste page, a JSON file, the CLI and the VC-API take the same document to the same type."""
    from verifier import intake

    vc = _contract()
    raw = orjson.dumps(vc)
    assert isinstance(intake.from_paste(raw).submission.document, document.Credential)
    wrapped = orjson.dumps({"verifiableCredential": vc})
    assert isinstance(document.parse(wrapped, expect="credential").document, document.Credential)
    with pytest.raises(document.InvalidInput):
        document.parse(raw, expect="credential")  # the VC-API body is the wrapper


def test_an_openid4vp_presentation_is_not_walked_again() -> None:
    """The vp_token is parsed (and walked) once; its presentations go through the same checks without a second walk."""
    from agents.verify import create_presentation

    holder = Ed25519KeyPair.from_seed(b"\x14" * 32)
    vp = create_presentation([_contract()], holder, challenge="n", domain="d")
    token = loader.parse_json(orjson.dumps({"q": [vp]}))
    walks: list[int] = []
    real = loader._check_bounds
    loader._check_bounds = lambda *a, **kw: walks.append(1) or real(*a, **kw)  # type: ignore[assignment]
    try:
        got = document.from_parsed(token["q"][0], expect="presentation")
    finally:
        loader._check_bounds = real  # type: ignore[assignment]
    assert isinstance(got.document, document.Presentation) and walks == []
