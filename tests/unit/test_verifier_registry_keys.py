"""WORKCRED_VERIFIER_REGISTRY_KEY / _REGISTRY_RETIRED_KEYS: the forms `workcred registry rotate-key` prints,
and a clear startup error (Korean and English) for anything else."""

from __future__ import annotations

import pytest

from agents.checkpoint import RetiredKey, format_retired_key, verifier_key
from agents.errors import KeyError_
from agents.keys import Ed25519KeyPair
from verifier.service import DEFAULT_ORIGIN, VerifierService, VerifierSettings
from web.config import RoleConfig

ORIGIN = "registry.workcred.test/log"
CURRENT = Ed25519KeyPair.from_seed(b"\x11" * 32)
OLD = Ed25519KeyPair.from_seed(b"\x12" * 32)
OLDER = Ed25519KeyPair.from_seed(b"\x13" * 32)


def _settings(dev: bool = False, **extra: str) -> VerifierSettings:
    extra.setdefault("registry_url", "http://127.0.0.1:8700")
    return VerifierSettings.from_config(RoleConfig("verifier", base_url="http://verifier.test", dev=dev, extra=extra))


def _error(**extra: str) -> KeyError_:
    with pytest.raises(KeyError_) as info:
        _settings(False, **extra)
    return info.value


def test_retired_keys_in_the_registrys_own_form() -> None:
    retired = ",".join(format_retired_key(ORIGIN, k) for k in (RetiredKey(OLDER.public, 3), RetiredKey(OLD.public, 17)))
    s = _settings(registry_key=CURRENT.public.multibase, registry_origin=ORIGIN, registry_retired_keys=retired)
    assert s.registry_keys == {ORIGIN: CURRENT.public}
    assert s.retired_registry_keys == {ORIGIN: (RetiredKey(OLDER.public, 3), RetiredKey(OLD.public, 17))}
    # spaces and newlines separate as well; no setting, no retired keys
    spaced = _settings(registry_key=CURRENT.public.multibase, registry_origin=ORIGIN, registry_retired_keys=f" {retired.replace(',', chr(10))} ")
    assert spaced.retired_registry_keys == s.retired_registry_keys
    assert _settings(registry_key=CURRENT.public.multibase, registry_origin=ORIGIN).retired_registry_keys == {}


def test_the_registry_key_may_be_the_printed_verifier_key() -> None:
    vkey = verifier_key(ORIGIN, CURRENT.public)
    retired = format_retired_key(ORIGIN, RetiredKey(OLD.public, 9))
    s = _settings(registry_key=vkey, registry_retired_keys=retired)  # the origin comes from the key's name
    assert s.registry_keys == {ORIGIN: CURRENT.public}
    assert s.retired_registry_keys == {ORIGIN: (RetiredKey(OLD.public, 9),)}
    assert _settings(registry_key=vkey, registry_origin=ORIGIN).registry_keys == {ORIGIN: CURRENT.public}
    # a bare publicKeyMultibase keeps its old meaning: the configured origin, else the city's default
    assert _settings(registry_key=CURRENT.public.multibase).registry_keys == {DEFAULT_ORIGIN: CURRENT.public}
    e = _error(registry_key=vkey, registry_origin="other.example/log")
    assert "REGISTRY_ORIGIN" in e.message and "REGISTRY_ORIGIN" in (e.message_ko or "")
    e = _error(registry_key=vkey[:-4] + "AAAA")
    assert "WORKCRED_VERIFIER_REGISTRY_KEY" in e.message and "설정이 잘못되었습니다" in (e.message_ko or "")


@pytest.mark.parametrize(
    ("value", "english"),
    [
        (verifier_key(ORIGIN, OLD.public), "without @<last tree size>"),  # a current key, not a retired one
        (verifier_key("other.example/log", OLD.public) + "@4", "a key of log 'other.example/log'"),
        (OLD.public.multibase + "@4", "each entry is <verifier key of"),  # publicKeyMultibase: not this form
        ("garbage@1", "each entry is <verifier key of"),
        (verifier_key(ORIGIN, OLD.public) + "@-1", "each entry is <verifier key of"),
        (verifier_key(ORIGIN, OLD.public) + "@x", "each entry is <verifier key of"),
        (format_retired_key(ORIGIN, RetiredKey(CURRENT.public, 4)), "is the current registry key"),
        (",".join(format_retired_key(ORIGIN, RetiredKey(OLD.public, n)) for n in (4, 5)), "listed twice"),
    ],
)
def test_bad_retired_keys_stop_the_start(value: str, english: str) -> None:
    e = _error(registry_key=CURRENT.public.multibase, registry_origin=ORIGIN, registry_retired_keys=value)
    assert e.message.startswith("WORKCRED_VERIFIER_REGISTRY_RETIRED_KEYS"), e.message
    assert english in e.message, e.message
    assert e.message_ko and "WORKCRED_VERIFIER_REGISTRY_RETIRED_KEYS" in e.message_ko
    assert any("\uac00" <= c <= "\ud7a3" for c in e.message_ko)  # said in Korean too


def test_retired_keys_need_the_current_key() -> None:
    retired = format_retired_key(ORIGIN, RetiredKey(OLD.public, 4))
    for dev in (False, True):  # not even in development, where the current key could be fetched
        with pytest.raises(KeyError_, match="needs the current key") as info:
            _settings(dev=dev, registry_origin=ORIGIN, registry_retired_keys=retired)
        assert "현재 키" in (info.value.message_ko or "")


def test_the_service_checks_checkpoints_with_both_and_the_trust_list_with_the_current_key() -> None:
    retired = format_retired_key(ORIGIN, RetiredKey(OLD.public, 4))
    s = _settings(registry_key=verifier_key(ORIGIN, CURRENT.public), registry_retired_keys=retired)
    svc = VerifierService(s)
    try:
        assert svc.registry_keys() == {ORIGIN: CURRENT.public}
        assert svc.checkpoint_keys() == {ORIGIN: (CURRENT.public, RetiredKey(OLD.public, 4))}
    finally:
        svc.close()
