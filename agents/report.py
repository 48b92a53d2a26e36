"""The frozen verification report: every check's outcome, and one verdict by a fixed precedence."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not applicable, or not configured (said so in the reason)
    #: could not be checked for want of something outside the document (no receipt came with it, the
    #: registry or a status list unreachable): amber, never green, never the red of a forgery
    UNCONFIRMED = "unconfirmed"


class Verdict(StrEnum):
    """The one-line answer; earlier members win (STYLE §3 precedence)."""

    TAMPERED = "tampered"
    MALFORMED = "malformed"
    UNTRUSTED_ISSUER = "untrusted-issuer"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    INVALID = "invalid"
    #: every check that could run passed, but one could not run (see Outcome.UNCONFIRMED)
    UNCONFIRMED = "unconfirmed"
    VALID = "valid"


PRECEDENCE = list(Verdict)
_FAIL = Outcome.FAIL
_UNCONFIRMED = Outcome.UNCONFIRMED

VERDICT_TEXT = {
    Verdict.VALID: ("유효합니다", "Valid"),
    Verdict.TAMPERED: ("유효하지 않습니다: 위·변조되었습니다", "Not valid: tampered"),
    Verdict.MALFORMED: ("유효하지 않습니다: 형식이 잘못되었습니다", "Not valid: malformed"),
    Verdict.UNTRUSTED_ISSUER: ("발급기관이 인증된 서울시 기관이 아닙니다", "Issuer not accredited"),
    Verdict.REVOKED: ("폐기된 증명서입니다", "Revoked"),
    Verdict.SUSPENDED: ("효력이 정지된 증명서입니다", "Suspended"),
    Verdict.EXPIRED: ("유효기간이 지났습니다", "Expired"),
    Verdict.NOT_YET_VALID: ("아직 유효기간이 시작되지 않았습니다", "Not yet valid"),
    Verdict.INVALID: ("유효하지 않습니다", "Not valid"),
    Verdict.UNCONFIRMED: (
        "서명은 올바르나 등록 여부를 확인하지 못했습니다",
        "The signature is correct, but its registration could not be confirmed",
    ),
}


@dataclass(frozen=True)
class Check:
    """One check: a stable id, its outcome, the verdict a failure implies, and why."""

    id: str
    outcome: Outcome
    title_ko: str
    title_en: str
    reason_ko: str = ""
    reason_en: str = ""
    fails_as: Verdict = Verdict.INVALID
    details: dict[str, Any] = field(default_factory=dict)
    #: the technical detail under the plain reason (DIDs, sizes, the spec's words), folded on the page
    detail_ko: str = ""
    detail_en: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome is _FAIL

    def _head(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "outcome": self.outcome.value,
            "title": {"ko": self.title_ko, "en": self.title_en},
            "reason": {"ko": self.reason_ko, "en": self.reason_en},
        }
        if self.detail_ko or self.detail_en:
            out["detail"] = {"ko": self.detail_ko, "en": self.detail_en}
        if self.outcome is _FAIL:
            out["failsAs"] = self.fails_as.value
        return out

    def to_json(self) -> dict[str, Any]:
        out = self._head()
        if self.details:
            out["details"] = _json_copy(self.details)  # the report stays frozen whatever the caller does
        return out

    def json_fragment(self) -> orjson.Fragment | dict[str, Any]:
        """What `to_json()` gives, for serialising at once: a check without details (the ones shared by every
        report among them) is serialised once and kept; one with details is written as it is, uncopied."""
        if self.details:
            out = self._head()
            out["details"] = self.details  # written as it is, uncopied
            return out
        cached = self.__dict__.get("_fragment")
        if cached is None:
            cached = orjson.Fragment(_dumps(self.to_json()))
            object.__setattr__(self, "_fragment", cached)  # a cache of derived data: the check stays frozen
        return cached


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars): what `copy.deepcopy` does, at a fraction of its cost."""
    t = type(value)
    if t is dict:
        return {k: v if type(v) in _SCALARS else _json_copy(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [v if type(v) in _SCALARS else _json_copy(v) for v in value]
    if t in _SCALARS:
        return value
    return copy.deepcopy(value)


def passed(id_: str, title_ko: str, title_en: str, reason_ko: str = "", reason_en: str = "", **details: Any) -> Check:
    return Check(id_, Outcome.PASS, title_ko, title_en, reason_ko, reason_en, details=details)


def failed(
    id_: str, title_ko: str, title_en: str, reason_ko: str, reason_en: str, fails_as: Verdict = Verdict.INVALID,
    *, detail: tuple[str, str] = ("", ""), **details: Any,
) -> Check:
    """A failed check: `reason` in plain words, `detail` the technical words folded under it."""
    return Check(id_, Outcome.FAIL, title_ko, title_en, reason_ko, reason_en, fails_as, details, detail[0], detail[1])


def skipped(id_: str, title_ko: str, title_en: str, reason_ko: str, reason_en: str, **details: Any) -> Check:
    return Check(id_, Outcome.SKIP, title_ko, title_en, reason_ko, reason_en, details=details)


def unconfirmed(
    id_: str, title_ko: str, title_en: str, reason_ko: str, reason_en: str, *, detail: tuple[str, str] = ("", ""), **details: Any
) -> Check:
    """A check that could not run for want of something outside the document: the verdict turns amber
    (`Verdict.UNCONFIRMED`) unless another check failed. `reason` says in plain words what to do."""
    return Check(id_, Outcome.UNCONFIRMED, title_ko, title_en, reason_ko, reason_en, Verdict.UNCONFIRMED, details, detail[0], detail[1])


@dataclass(frozen=True)
class Report:
    """Everything one verification found; `verdict` is derived, never stored."""

    kind: str  # "credential" or "presentation"
    checks: tuple[Check, ...]
    subject: dict[str, Any] = field(default_factory=dict)  # id, type, issuer: no personal data
    credentials: tuple[Report, ...] = ()
    checked_at: str = ""

    @property
    def verdict(self) -> Verdict:
        found = [c.fails_as for c in self.checks if c.outcome is _FAIL] + [r.verdict for r in self.credentials]
        if any(c.outcome is _UNCONFIRMED for c in self.checks):
            found.append(Verdict.UNCONFIRMED)
        if not found:
            return Verdict.VALID
        return min(found, key=PRECEDENCE.index)

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VALID

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.failed]

    def check(self, id_: str) -> Check | None:
        return next((c for c in self.checks if c.id == id_), None)

    def summary(self, lang: str = "ko") -> str:
        ko, en = VERDICT_TEXT[self.verdict]
        return ko if lang == "ko" else en

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict
        ko, en = VERDICT_TEXT[verdict]
        out: dict[str, Any] = {
            "kind": self.kind,
            "verified": verdict is Verdict.VALID,
            "verdict": verdict.value,
            "summary": {"ko": ko, "en": en},
            "checkedAt": self.checked_at,
            "subject": _json_copy(self.subject),
            "checks": [c.to_json() for c in self.checks],
            # VC-API shape: the ids of what passed and what failed
            "errors": [c.id for c in self.checks if c.outcome is _FAIL],
            "warnings": [c.id for c in self.checks if c.outcome is _UNCONFIRMED],
        }
        if self.credentials:
            out["credentials"] = [r.to_json() for r in self.credentials]
        return out

    def to_json_bytes(self) -> bytes:
        """`to_json()` as UTF-8 JSON bytes (what the VC-API answers), with each check serialised once."""
        verdict = self.verdict
        ko, en = VERDICT_TEXT[verdict]
        out: dict[str, Any] = {
            "kind": self.kind,
            "verified": verdict is Verdict.VALID,
            "verdict": verdict.value,
            "summary": {"ko": ko, "en": en},
            "checkedAt": self.checked_at,
            "subject": self.subject,
            "checks": [c.json_fragment() for c in self.checks],
            "errors": [c.id for c in self.checks if c.outcome is _FAIL],
            "warnings": [c.id for c in self.checks if c.outcome is _UNCONFIRMED],
        }
        if self.credentials:
            out["credentials"] = [orjson.Fragment(r.to_json_bytes()) for r in self.credentials]
        try:
            return orjson.dumps(out)
        except orjson.JSONEncodeError:  # e.g. an integer past 64 bits in some check's details
            return _dumps(self.to_json())


def _dumps(value: Any) -> bytes:
    """UTF-8 JSON: orjson, or json for what orjson cannot write (integers past 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
