"""The log scan of the test run (tests/pii_logs.py) finds a logged roster value, in any form a roster
writes it, and stays quiet on logs without one."""

from __future__ import annotations

from tests import pii_logs


def test_demo_worker_values_are_watched() -> None:
    values = pii_logs.personal_values()
    assert {"홍길동", "010-0000-1234", "01000001234"} <= values


def test_a_logged_name_or_phone_is_found() -> None:
    values = {"김서울", "010-1234-5678", "01012345678"}
    texts = [("app", "issued contract urn:uuid:1 for 01012345678"), ("app", "verify verdict=valid sha256=ab")]
    assert pii_logs.find_leaks(texts, values) == ["app: '01012345678'"]


def test_clean_logs_pass() -> None:
    assert pii_logs.find_leaks([("app", "offer-all done=20 failed=0")], {"김서울"}) == []
