"""A production role refuses a short or placeholder session secret (anyone could forge its cookies)."""

from __future__ import annotations

import pytest

from web.config import MIN_SECRET_CHARS, RoleConfig


def test_production_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKCRED_DEV", "0")
    monkeypatch.setenv("WORKCRED_SECRET_KEY", "change-me")
    with pytest.raises(RuntimeError, match="too short"):
        RoleConfig.from_env("issuer")
    monkeypatch.setenv("WORKCRED_SECRET_KEY", "s" * MIN_SECRET_CHARS)
    assert RoleConfig.from_env("issuer").secret_key == "s" * MIN_SECRET_CHARS


def test_development_generates_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKCRED_DEV", "1")
    monkeypatch.delenv("WORKCRED_SECRET_KEY", raising=False)
    monkeypatch.delenv("WORKCRED_ISSUER_SECRET_KEY", raising=False)
    assert RoleConfig.from_env("issuer").secret_key == "dev-only-issuer"
