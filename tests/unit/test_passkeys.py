"""web/passkeys.py without a browser: the relying party, the challenge stores, custom challenges."""

from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import MetaData

from web import passkeys
from web.config import RoleConfig
from web.db import make_engine, session_factory
from web.factory import base_app


def test_relying_party_from_base_url() -> None:
    rp = passkeys.RelyingParty.from_base_url("https://issuer.seoul.go.kr/console", "x")
    assert (rp.id, rp.origin) == ("issuer.seoul.go.kr", "https://issuer.seoul.go.kr")
    rp = passkeys.RelyingParty.from_base_url("http://localhost:8701", "x")
    assert (rp.id, rp.origin) == ("localhost", "http://localhost:8701")
    with pytest.raises(ValueError, match="http"):
        passkeys.RelyingParty.from_base_url("ftp://example.org", "x")


def test_sql_store_is_single_use(db_url: str) -> None:
    metadata = MetaData()
    table = passkeys.challenge_table(metadata)
    engine = make_engine(db_url)
    try:
        metadata.create_all(engine)
        store = passkeys.SqlChallengeStore(session_factory(engine), table)
        store.put("h1", b"c" * 32, time.time() + 60)
        store.put("old", b"o" * 32, time.time() - 1)
        assert store.take("h1") == (b"c" * 32, pytest.approx(time.time() + 60, abs=5))
        assert store.take("h1") is None
        store.put("h2", b"d" * 32, time.time() + 60)  # putting prunes the expired one
        assert store.take("old") is None
        with engine.connect() as conn:
            handles = [row.handle for row in conn.execute(table.select())]
        assert handles == [hashlib.sha256(b"h2").hexdigest()]  # the session's handle is never stored
    finally:
        engine.dispose()


def refusal(response: dict[str, str], purpose: str) -> str:
    """The logged reason of a refused answer (users see one generic message)."""
    with pytest.raises(passkeys.PasskeyError, match="could not be confirmed") as refused:
        passkeys.verify_authentication(response, lambda _: None, purpose=purpose)
    return str(refused.value.details["reason"])


def test_own_challenge_is_bound_to_its_purpose() -> None:
    config = RoleConfig("wallet", secret_key="k", dev=True, base_url="http://localhost:8702")
    app = base_app(__name__, config)
    digest = hashlib.sha256(b"draft").digest()
    with app.test_request_context("/"):
        options = app.json.loads(
            app.json.dumps(passkeys.authentication_options(challenge=digest, purpose="sign:1"))
        )
        assert options["challenge"] == passkeys.b64url(digest) and options["rpId"] == "localhost"
        assert refusal({"id": "AA"}, "login") == "no pending challenge for 'login'"
        assert refusal({"id": "AA", "rawId": "AA"}, "sign:1") == "unknown credential"
        # the failed answer used the challenge up
        assert refusal({"id": "AA", "rawId": "AA"}, "sign:1") == "no pending challenge for 'sign:1'"
        with pytest.raises(ValueError, match="16 to 64"):
            passkeys.authentication_options(challenge=b"short")
