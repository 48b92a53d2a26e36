"""The frozen report: verdict precedence over every failed check, JSON form, VerificationError."""

from __future__ import annotations

import dataclasses
import itertools

import orjson
import pytest

from agents.errors import VerificationError
from agents.report import PRECEDENCE, Check, Outcome, Report, Verdict, failed, passed, skipped, unconfirmed

ORDER = [Verdict.TAMPERED, Verdict.MALFORMED, Verdict.UNTRUSTED_ISSUER, Verdict.REVOKED, Verdict.SUSPENDED, Verdict.EXPIRED, Verdict.NOT_YET_VALID, Verdict.INVALID, Verdict.UNCONFIRMED]


def _fail(verdict: Verdict, id_: str | None = None) -> Check:
    return failed(id_ or verdict.value, "제목", "title", "이유", "reason", verdict)


def test_precedence_is_the_documented_one() -> None:
    assert PRECEDENCE == [*ORDER, Verdict.VALID]


@pytest.mark.parametrize(("worse", "better"), list(itertools.combinations(ORDER, 2)))
def test_every_pair_the_worse_wins_in_any_order(worse: Verdict, better: Verdict) -> None:
    for checks in ((_fail(worse), _fail(better)), (_fail(better), _fail(worse))):
        assert Report("credential", (passed("ok", "t", "t"), *checks)).verdict is worse


def test_tampered_beats_revoked_and_expired() -> None:
    report = Report("credential", (_fail(Verdict.EXPIRED), _fail(Verdict.REVOKED), _fail(Verdict.TAMPERED)))
    assert report.verdict is Verdict.TAMPERED
    assert [c.id for c in report.failures()] == ["expired", "revoked", "tampered"]


def test_untrusted_issuer_beats_revoked() -> None:
    assert Report("credential", (_fail(Verdict.REVOKED), _fail(Verdict.UNTRUSTED_ISSUER))).verdict is Verdict.UNTRUSTED_ISSUER


def test_skips_and_passes_are_valid() -> None:
    report = Report("credential", (passed("a", "t", "t"), skipped("b", "t", "t", "r", "r")))
    assert report.verdict is Verdict.VALID and report.verified and report.failures() == []
    assert report.to_json()["errors"] == []


def test_empty_report_is_valid_only_when_nothing_failed() -> None:
    assert Report("credential", ()).verified


def test_presentation_takes_the_worst_of_its_credentials() -> None:
    inner_revoked = Report("credential", (_fail(Verdict.REVOKED),))
    inner_ok = Report("credential", (passed("a", "t", "t"),))
    vp = Report("presentation", (passed("holder-binding", "t", "t"), _fail(Verdict.INVALID, "replay")), credentials=(inner_ok, inner_revoked))
    assert vp.verdict is Verdict.REVOKED
    data = vp.to_json()
    assert data["verdict"] == "revoked" and data["errors"] == ["replay"]
    assert [c["verdict"] for c in data["credentials"]] == ["valid", "revoked"]


def test_json_form() -> None:
    report = Report("credential", (passed("proof[0]", "서명", "Signature", "맞음", "ok", index=0), _fail(Verdict.EXPIRED, "validity")), {"id": "urn:x"}, checked_at="2026-04-01T00:00:00+00:00")
    data = report.to_json()
    assert data["verified"] is False and data["verdict"] == "expired"
    assert data["summary"] == {"ko": "유효기간이 지났습니다", "en": "Expired"}
    assert data["checks"][0] == {"id": "proof[0]", "outcome": "pass", "title": {"ko": "서명", "en": "Signature"}, "reason": {"ko": "맞음", "en": "ok"}, "details": {"index": 0}}
    assert data["checks"][1]["failsAs"] == "expired"
    assert data["subject"] == {"id": "urn:x"} and data["checkedAt"].startswith("2026-04-01")


def test_report_and_checks_are_frozen() -> None:
    report = Report("credential", (_fail(Verdict.TAMPERED),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.checks = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.checks[0].outcome = "pass"  # type: ignore[misc,assignment]


def test_verification_error_carries_the_report() -> None:
    report = Report("credential", (_fail(Verdict.TAMPERED),))
    e = VerificationError("not verified", message_ko=report.summary("ko"), report=report)
    assert e.report is report
    assert "위·변조" in e.diagnostics("ko")


def test_report_bytes_equal_the_report_json() -> None:
    """The VC-API answers `to_json_bytes()`: the same JSON as `to_json()`, shared checks included."""
    import json

    from agents.report import Report, failed, passed, skipped

    shared = passed("well-formed", "형식", "Well-formed", "좋음", "fine")
    checks = (
        shared,
        passed("proof[0]", "서명", "Signature", "맞음", "matches", verificationMethod="did:key:z6Mk#z6Mk", index=0),
        failed("validity", "유효기간", "Validity", "만료", "expired at 2020", at="2026-01-01T00:00:00+00:00"),
        skipped("profile", "범위", "Scope", "없음", "none", huge=2**70),  # orjson cannot write it: json does
    )
    inner = Report("credential", checks[:2], {"id": "urn:uuid:1"}, checked_at="t1")
    for report in (Report("credential", checks, {"id": "urn:uuid:2", "type": ["VerifiableCredential"]}, checked_at="t2"),
                   Report("presentation", checks[:1], {"holder": "did:key:z"}, (inner, inner), "t3")):
        assert json.loads(report.to_json_bytes()) == report.to_json()
        assert json.loads(report.to_json_bytes()) == report.to_json()  # again, with the shared check cached


def test_could_not_confirm_is_amber_never_green_never_red() -> None:
    amber = unconfirmed("registry.inclusion", "등록소 기록", "Registry inclusion", "영수증이 없습니다", "No receipt", detail=("세부", "detail"))
    report = Report("credential", (passed("proof[0]", "서명", "Signature"), amber))
    assert amber.outcome is Outcome.UNCONFIRMED and not amber.failed
    assert report.verdict is Verdict.UNCONFIRMED and not report.verified
    body = report.to_json()
    assert body["summary"]["ko"] == "서명은 올바르나 등록 여부를 확인하지 못했습니다"
    assert body["errors"] == [] and body["warnings"] == ["registry.inclusion"]
    assert body["checks"][1]["detail"] == {"ko": "세부", "en": "detail"}
    assert orjson.loads(report.to_json_bytes()) == body
    forged = Report("credential", (_fail(Verdict.TAMPERED), amber))
    assert forged.verdict is Verdict.TAMPERED  # a real failure is red whatever could not be confirmed
