"""The one way in: bytes (or a value built in code) to a typed, bounded `Credential` or `Presentation`.

Every route reaches verification through `parse` (STYLE §14): the VC-API, the pages' paste, upload and
QR link, OpenID4VP, the certificate PDF and the CLI. It parses once within the loader's limits (one
bounds walk at most; none when the bytes alone show the bounds), refuses duplicate member names, holds
the document to VCDM 2.0 §4 (`agents.datamodel`, the rules the issuer signs by) and requires every
`@context` URL to be bundled. What it refuses is an `agents.errors.Error` with its 4xx; what it returns
cannot be malformed, so `agents.verify` takes only these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import datamodel, loader
from .errors import Error, InvalidCredential, InvalidInput

VC_V2 = datamodel.VC_V2
VC_V1 = datamodel.VC_V1
VC_TYPE = datamodel.VC_TYPE
VP_TYPE = datamodel.VP_TYPE
#: a presentation's receipts envelope, added by the holder after signing (see agents.oid4vp)
RECEIPTS = "workcredReceipts"
#: the VC-API body members
VC_MEMBER, VP_MEMBER = "verifiableCredential", "verifiablePresentation"


def as_list(value: Any) -> list[Any]:
    """A JSON-LD member that may be one value or many, as a list (absent: empty)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def parse_datetime(value: str, what: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise InvalidCredential(f"{what} is not a date-time: {value!r}", message_ko=f"{what} 날짜 형식이 잘못되었습니다") from None
    if dt.tzinfo is None:
        raise InvalidCredential(f"{what} has no time zone", message_ko=f"{what} 값에 시간대가 없습니다")
    return dt


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _bundled_contexts(doc: Mapping[str, Any]) -> None:
    """Contexts are never fetched: a context URL that is not bundled makes the input unusable (4xx)."""
    for ctx in as_list(doc.get("@context")):
        if isinstance(ctx, str):
            loader.context_document(ctx)  # raises UnknownContext


@dataclass(frozen=True)
class Credential:
    """A well-formed credential (VCDM 2.0 or 1.1); `raw` is the exact JSON that was signed."""

    raw: dict[str, Any]
    id: str | None
    types: tuple[str, ...]
    issuer: str
    valid_from: datetime | None
    valid_until: datetime | None
    subject_ids: tuple[str, ...]
    status: tuple[dict[str, Any], ...]
    version: int

    @classmethod
    def parse(cls, doc: Any) -> Credential:
        """A credential from a JSON value already within the loader's bounds (see `parse` for bytes)."""
        if isinstance(doc, dict):
            _bundled_contexts(doc)  # first: without its contexts nothing in the document can be read
        datamodel.require_credential(doc)  # VCDM 2.0 §4, the same rules the issuer signs by
        version = 2 if as_list(doc["@context"])[0] == VC_V2 else 1
        if version == 2:
            vf, vu = doc.get("validFrom"), doc.get("validUntil")
        else:
            vf, vu = doc.get("issuanceDate"), doc.get("expirationDate")
        return cls(
            raw=doc,
            id=doc.get("id"),
            types=tuple(as_list(doc["type"])),
            issuer=str(_id_of(doc["issuer"])),
            valid_from=parse_datetime(vf, "validFrom") if vf is not None else None,
            valid_until=parse_datetime(vu, "validUntil") if vu is not None else None,
            subject_ids=tuple(s["id"] for s in as_list(doc["credentialSubject"]) if isinstance(s.get("id"), str)),
            status=tuple(as_list(doc.get("credentialStatus"))),
            version=version,
        )

    def summary(self) -> dict[str, Any]:
        """What a report may say about the credential: identifiers and types, no personal data."""
        return {"id": self.id, "type": list(self.types), "issuer": self.issuer}


@dataclass(frozen=True)
class Presentation:
    """A well-formed presentation; `raw` is what the holder signed (the receipts envelope taken off).

    Each entry of `credentials` is the parsed `Credential`, or the `Error` that says why it is not one
    (a presentation is judged credential by credential: a malformed one gets its own report)."""

    raw: dict[str, Any]
    id: str | None
    holder: str | None
    credentials: tuple[Credential | Error, ...]
    #: the raw JSON of each entry of `verifiableCredential`, in order
    credential_documents: tuple[Any, ...] = ()

    @classmethod
    def parse(cls, doc: Any) -> Presentation:
        """A presentation from a JSON value already within the loader's bounds (see `parse` for bytes)."""
        if isinstance(doc, dict):
            _bundled_contexts(doc)
        datamodel.require_presentation(doc, credentials=False)  # each credential is judged on its own
        inner = as_list(doc.get("verifiableCredential"))
        if not all(isinstance(vc, dict) for vc in inner):
            raise InvalidCredential("verifiableCredential must hold credential objects", message_ko="verifiableCredential 형식이 잘못되었습니다")
        for vc in inner:
            _bundled_contexts(vc)  # an unknown context anywhere makes the whole input unusable
        parsed: list[Credential | Error] = []
        for vc in inner:
            try:
                parsed.append(Credential.parse(vc))
            except Error as e:
                parsed.append(e)
        holder = _id_of(doc.get("holder"))
        return cls(raw=doc, id=doc.get("id"), holder=holder, credentials=tuple(parsed), credential_documents=tuple(inner))

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "holder": self.holder}


@dataclass(frozen=True)
class Submission:
    """What came in: the document, the VC-API `options`, and the receipts that travelled with it."""

    document: Credential | Presentation
    options: Mapping[str, Any] = field(default_factory=dict)
    receipts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "presentation" if isinstance(self.document, Presentation) else "credential"


def parse(data: bytes | str | Mapping[str, Any], *, expect: str | None = None, wrapper: bool = True, limits: loader.Limits = loader.DEFAULT_LIMITS) -> Submission:
    """The one parse step: untrusted input to a typed document, or an `Error` with its 4xx.

    `data` is the bytes (or text) as received, or a value built in code (walked once for the bounds).
    `expect` ("credential" / "presentation") refuses the other kind. `wrapper` accepts the VC-API body
    `{"verifiableCredential" | "verifiablePresentation": ..., "options": {...}}` and the published form
    `{"verifiablePresentation": ..., "receipts": {...}}` (with `expect` too, as the VC-API, it requires
    it). A presentation's `workcredReceipts` member is taken off before its proof is checked (the holder
    adds it after signing).
    """
    if isinstance(data, bytes | str):
        value = loader.parse_json(data, limits)
    else:
        loader.check_bounds(data, limits)
        value = data
    return _submission(value, expect=expect, wrapper=wrapper)


def from_parsed(value: Any, *, expect: str | None = None, wrapper: bool = False) -> Submission:
    """`parse` for part of a document that `loader.parse_json` already parsed within its bounds (the
    presentations of an OpenID4VP `vp_token`): the same checks, without walking it a second time."""
    return _submission(value, expect=expect, wrapper=wrapper)


def _submission(value: Any, *, expect: str | None, wrapper: bool) -> Submission:
    if not isinstance(value, dict):
        raise InvalidCredential("expected a JSON object (a credential or a presentation)", message_ko="JSON 객체(자격증명 또는 제출)가 필요합니다")
    options: Mapping[str, Any] = {}
    receipts: dict[str, Any] = {}
    if wrapper and (expect is not None or "type" not in value) and (VC_MEMBER in value or VP_MEMBER in value):
        member = VP_MEMBER if expect == "presentation" or (expect is None and VP_MEMBER in value) else VC_MEMBER
        if member not in value:
            raise InvalidInput(f"the body is a JSON object with {member!r} (and optional 'options')", message_ko=f"요청 본문은 {member}를 담은 JSON 객체여야 합니다")
        raw_options = value.get("options", {})
        if not isinstance(raw_options, dict):
            raise InvalidInput("options must be a JSON object", message_ko="options는 JSON 객체여야 합니다")
        options = raw_options
        carried = value.get("receipts")
        if isinstance(carried, dict):
            receipts.update(carried)
        value = value[member]
        if not isinstance(value, dict):
            raise InvalidCredential(f"{member} must be a JSON object", message_ko=f"{member}는 JSON 객체여야 합니다")
    elif expect is not None and wrapper:  # the VC-API: the body is the wrapper
        member = VP_MEMBER if expect == "presentation" else VC_MEMBER
        raise InvalidInput(f"the body is a JSON object with {member!r} (and optional 'options')", message_ko=f"요청 본문은 {member}를 담은 JSON 객체여야 합니다")
    types = as_list(value.get("type"))
    if VP_TYPE in types and expect != "credential":
        if RECEIPTS in value:
            carried = value[RECEIPTS]
            if not isinstance(carried, dict):
                raise InvalidInput(f"{RECEIPTS} must be an object keyed by credential id", message_ko="등록 영수증 묶음 형식이 잘못되었습니다")
            receipts.update(carried)
            value = {k: v for k, v in value.items() if k != RECEIPTS}
        return Submission(Presentation.parse(value), options, receipts)
    if VC_TYPE in types and expect != "presentation":
        return Submission(Credential.parse(value), options, receipts)
    if expect == "credential":
        return Submission(Credential.parse(value), options, receipts)  # says precisely what is missing
    if expect == "presentation":
        return Submission(Presentation.parse(value), options, receipts)
    raise InvalidCredential(
        "this JSON is neither a verifiable credential nor a verifiable presentation",
        message_ko="이 JSON은 검증 가능한 자격증명(VC)이나 제출(VP)이 아닙니다",
    )
