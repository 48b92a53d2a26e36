"""The W3C VCDM 2.0 data model (§4): what a conforming credential or presentation must hold.

One function for both sides: the issuer refuses to sign what `check_credential` finds fault with, and
the verifier refuses to judge it (a malformed document, VCDM 2.0 §7.1 MALFORMED_VALUE_ERROR). Each
`Violation` names its rule (the spec section), the JSON path of the offending value, and says what is
wrong in Korean and English. VCDM 1.1 documents (the Ed25519Signature2020 profile) are held to the
rules the two versions share, with `issuanceDate` for `validFrom`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import InvalidCredential

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_TYPE = "VerifiableCredential"
VP_TYPE = "VerifiablePresentation"
ENVELOPED_VC = "EnvelopedVerifiableCredential"

# an absolute URL (RFC 3986 scheme ":" ...) with nothing a URL cannot hold
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
# xsd:dateTimeStamp: a date-time with a time zone (VCDM 2.0 §4.9)
_DATETIME_STAMP = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$"
)
# objects that VCDM 2.0 says MUST carry a type (§4.10, §4.11, §5.4, §5.5, §5.6, §5.8 and the render hints)
_TYPED = ("credentialStatus", "credentialSchema", "termsOfUse", "evidence", "refreshService", "renderMethod", "confidenceMethod")


@dataclass(frozen=True)
class Violation:
    """One broken MUST: the rule (VCDM 2.0 section and name), where (a JSON path), and why in both languages."""

    rule: str
    path: str
    message_ko: str
    message_en: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "path": self.path, "message": {"ko": self.message_ko, "en": self.message_en}}


class NonConforming(InvalidCredential):
    """A document that breaks VCDM 2.0 §4; `violations` lists every rule it breaks (the problem type stays
    `invalid-credential`: the violations are in `details["violations"]`)."""

    def __init__(self, violations: list[Violation]) -> None:
        first = violations[0]
        more_en = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        more_ko = f" 외 {len(violations) - 1}건" if len(violations) > 1 else ""
        super().__init__(
            f"not a conforming W3C credential: {first.message_en} at {first.path}{more_en}",
            message_ko=f"W3C 자격증명 형식에 맞지 않습니다: {first.message_ko} ({first.path}){more_ko}",
            violations=[v.to_json() for v in violations],
        )
        self.violations = violations


def is_url(value: Any) -> bool:
    """An absolute URL as VCDM 2.0 means it (a scheme, then no spaces): `did:`, `urn:`, `https:` ..."""
    return type(value) is str and _URL.match(value) is not None


def check_credential(doc: Any) -> list[Violation]:
    """Every VCDM 2.0 §4 MUST that `doc` (a parsed credential) breaks; an empty list if it conforms."""
    return list(_credential(doc, "$"))


def check_presentation(doc: Any, *, credentials: bool = True) -> list[Violation]:
    """Every VCDM 2.0 §4 MUST that `doc` (a parsed presentation) breaks, the credentials inside included
    unless `credentials` is False (a verifier judges each credential on its own report)."""
    return list(_presentation(doc, "$", credentials))


def require_credential(doc: Any) -> None:
    """`check_credential`, raising `NonConforming` (a 400) with every violation when there is one."""
    found = check_credential(doc)
    if found:
        raise NonConforming(found)


def require_presentation(doc: Any, *, credentials: bool = True) -> None:
    """`check_presentation`, raising `NonConforming` (a 400) with every violation when there is one."""
    found = check_presentation(doc, credentials=credentials)
    if found:
        raise NonConforming(found)


# --- the rules -------------------------------------------------------------------------------------


def _v(rule: str, path: str, ko: str, en: str) -> Violation:
    return Violation(rule, path, ko, en)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _contexts(doc: Mapping[str, Any], path: str) -> Iterator[Violation]:
    """§4.3: `@context` is present, begins with the VCDM context, then URLs or objects."""
    ctx = doc.get("@context")
    if ctx is None:
        yield _v("4.3-context", f"{path}.@context", "@context가 없습니다", "@context is missing")
        return
    items = _list(ctx)
    if not items or items[0] not in (VC_V2, VC_V1):
        yield _v(
            "4.3-context-first", f"{path}.@context[0]",
            f"첫 번째 @context는 {VC_V2}여야 합니다", f"the first @context must be {VC_V2}",
        )  # fmt: skip
    for i, c in enumerate(items[1:], 1):
        if not (is_url(c) or isinstance(c, dict)):
            yield _v("4.3-context-item", f"{path}.@context[{i}]", "@context 항목은 URL이나 객체여야 합니다", "each @context item must be a URL or an object")


def _types(doc: Mapping[str, Any], path: str, required: str | None) -> Iterator[Violation]:
    """§4.5: `type` is present, a string or list of strings, and holds `required`."""
    t = doc.get("type")
    if t is None:
        yield _v("4.5-type", f"{path}.type", "type이 없습니다", "type is missing")
        return
    items = _list(t)
    if not items or not all(type(x) is str and x for x in items):
        yield _v("4.5-type-value", f"{path}.type", "type은 하나 이상의 문자열이어야 합니다", "type must be one or more strings")
    elif required and required not in items:
        yield _v("4.5-type-required", f"{path}.type", f"type에 {required} 값이 있어야 합니다", f"type must include {required}")


def _id(doc: Mapping[str, Any], path: str) -> Iterator[Violation]:
    """§4.4: an `id`, when present, is one URL."""
    if "id" in doc and not is_url(doc["id"]):
        yield _v("4.4-id", f"{path}.id", "id는 하나의 URL이어야 합니다", "id must be a single URL")


def _names(doc: Mapping[str, Any], path: str) -> Iterator[Violation]:
    """§4.6: `name` and `description` are strings or language value objects."""
    for key in ("name", "description"):
        if key not in doc:
            continue
        for i, value in enumerate(_list(doc[key])):
            if type(value) is str:
                continue
            if isinstance(value, dict) and type(value.get("@value")) is str and set(value) <= {"@value", "@language", "@direction"}:
                continue
            where = f"{path}.{key}" if not isinstance(doc[key], list) else f"{path}.{key}[{i}]"
            yield _v("4.6-name", where, f"{key} 값은 문자열이나 언어별 값(@value)이어야 합니다", f"{key} must be a string or a language value object")


def _url_or_object_with_id(value: Any, rule: str, path: str, what: str) -> Iterator[Violation]:
    if is_url(value):
        return
    if isinstance(value, dict) and is_url(value.get("id")):
        yield from _names(value, path)
        return
    yield _v(rule, path, f"{what} 값은 URL이거나 URL인 id를 가진 객체여야 합니다", f"{what} must be a URL or an object whose id is a URL")


def _datetime(doc: Mapping[str, Any], key: str, path: str) -> Iterator[Violation]:
    """§4.9: validity dates are xsd:dateTimeStamp (a time zone is required)."""
    if key in doc and not (type(doc[key]) is str and _DATETIME_STAMP.match(doc[key])):
        yield _v(
            "4.9-datetime", f"{path}.{key}",
            f"{key} 값은 시간대가 있는 날짜·시각이어야 합니다 (예: 2027-03-01T00:00:00Z)",
            f"{key} must be a date-time with a time zone (e.g. 2027-03-01T00:00:00Z)",
        )  # fmt: skip


def _parse_stamp(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # a leap second or a year past 9999: the order is not judged here
        return None


def _typed_objects(doc: Mapping[str, Any], path: str) -> Iterator[Violation]:
    """§4.10, §4.11, §5.4-5.6: status, schema, terms of use, evidence and refresh entries are typed objects."""
    for key in _TYPED:
        if key not in doc:
            continue
        value = doc[key]
        for i, item in enumerate(_list(value)):
            where = f"{path}.{key}[{i}]" if isinstance(value, list) else f"{path}.{key}"
            if not isinstance(item, dict):
                yield _v(f"4-{key}", where, f"{key} 항목은 객체여야 합니다", f"each {key} entry must be an object")
                continue
            if "type" not in item:
                yield _v(f"4-{key}-type", f"{where}.type", f"{key} 항목에 type이 없습니다", f"each {key} entry must have a type")
            else:
                yield from _types(item, where, None)
            if "id" in item:
                yield from _id(item, where)
            elif key == "credentialSchema":  # §4.11: a schema is named by its URL
                yield _v("4.11-credentialSchema-id", f"{where}.id", "credentialSchema 항목에 id(URL)가 없습니다", "each credentialSchema entry must have an id (a URL)")


def _related(doc: Mapping[str, Any], path: str) -> Iterator[Violation]:
    """§5.3: each related resource names a URL and its digest."""
    if "relatedResource" not in doc:
        return
    for i, item in enumerate(_list(doc["relatedResource"])):
        where = f"{path}.relatedResource[{i}]"
        if not isinstance(item, dict) or not is_url(item.get("id")):
            yield _v("5.3-relatedResource-id", where, "relatedResource 항목에는 URL인 id가 있어야 합니다", "each relatedResource entry must have an id that is a URL")
        elif not ({"digestSRI", "digestMultibase"} & set(item)):
            yield _v("5.3-relatedResource-digest", where, "relatedResource 항목에 digestSRI나 digestMultibase가 없습니다", "each relatedResource entry must have digestSRI or digestMultibase")


def _credential(doc: Any, path: str) -> Iterator[Violation]:
    if not isinstance(doc, dict):
        yield _v("4-credential", path, "자격증명은 JSON 객체여야 합니다", "a credential must be a JSON object")
        return
    yield from _contexts(doc, path)
    v1 = _list(doc.get("@context"))[:1] == [VC_V1]
    yield from _id(doc, path)
    yield from _types(doc, path, VC_TYPE)
    yield from _names(doc, path)
    # §4.7 issuer
    if "issuer" not in doc:
        yield _v("4.7-issuer", f"{path}.issuer", "발급자(issuer)가 없습니다", "issuer is missing")
    else:
        yield from _url_or_object_with_id(doc["issuer"], "4.7-issuer-value", f"{path}.issuer", "issuer")
    # §4.8 credential subject: one or more objects, each making at least one claim
    subjects = doc.get("credentialSubject")
    if subjects is None:
        yield _v("4.8-credentialSubject", f"{path}.credentialSubject", "credentialSubject가 없습니다", "credentialSubject is missing")
    else:
        items = _list(subjects)
        if not items:
            yield _v("4.8-credentialSubject", f"{path}.credentialSubject", "credentialSubject가 비어 있습니다", "credentialSubject is empty")
        for i, s in enumerate(items):
            where = f"{path}.credentialSubject[{i}]" if isinstance(subjects, list) else f"{path}.credentialSubject"
            if not isinstance(s, dict) or not s:
                yield _v("4.8-credentialSubject-value", where, "credentialSubject는 내용이 있는 객체여야 합니다", "each credentialSubject must be an object with at least one claim")
            elif "id" in s:
                yield from _id(s, where)
    # §4.9 validity period
    if v1:
        if "issuanceDate" not in doc:
            yield _v("4.9-issuanceDate", f"{path}.issuanceDate", "VCDM 1.1 자격증명에 issuanceDate가 없습니다", "a VCDM 1.1 credential must have issuanceDate")
        yield from _datetime(doc, "issuanceDate", path)
        yield from _datetime(doc, "expirationDate", path)
    else:
        yield from _datetime(doc, "validFrom", path)
        yield from _datetime(doc, "validUntil", path)
        start, end = doc.get("validFrom"), doc.get("validUntil")
        if type(start) is str and type(end) is str and _DATETIME_STAMP.match(start) and _DATETIME_STAMP.match(end):
            a, b = _parse_stamp(start), _parse_stamp(end)
            if a is not None and b is not None and a > b:
                yield _v("4.9-order", f"{path}.validUntil", "validUntil이 validFrom보다 앞섭니다", "validUntil is earlier than validFrom")
    yield from _typed_objects(doc, path)
    yield from _related(doc, path)


def _presentation(doc: Any, path: str, credentials: bool) -> Iterator[Violation]:
    if not isinstance(doc, dict):
        yield _v("4.13-presentation", path, "프레젠테이션은 JSON 객체여야 합니다", "a presentation must be a JSON object")
        return
    yield from _contexts(doc, path)
    yield from _id(doc, path)
    yield from _types(doc, path, VP_TYPE)
    yield from _names(doc, path)
    if "holder" in doc:
        yield from _url_or_object_with_id(doc["holder"], "4.13-holder", f"{path}.holder", "holder")
    yield from _typed_objects(doc, path)
    # §4.13: verifiableCredential is optional; each entry is a credential (secured or enveloped)
    if credentials and "verifiableCredential" in doc:
        value = doc["verifiableCredential"]
        for i, vc in enumerate(_list(value)):
            where = f"{path}.verifiableCredential[{i}]" if isinstance(value, list) else f"{path}.verifiableCredential"
            if isinstance(vc, dict) and ENVELOPED_VC in _list(vc.get("type")):
                yield from _enveloped(vc, where)
            else:
                yield from _credential(vc, where)


def _enveloped(vc: Mapping[str, Any], path: str) -> Iterator[Violation]:
    """§4.13.1: an enveloped credential carries it in a `data:` URL id."""
    yield from _contexts(vc, path)
    value = vc.get("id")
    if not (type(value) is str and value.startswith("data:")):
        yield _v("4.13.1-enveloped-id", f"{path}.id", "EnvelopedVerifiableCredential의 id는 data: URL이어야 합니다", "an EnvelopedVerifiableCredential's id must be a data: URL")
