"""The one error root of workcred and its named conditions."""

from __future__ import annotations

from typing import Any


class Error(Exception):
    """Root of every error workcred raises on purpose; `diagnostics()` is the user-facing text."""

    #: short machine code, stable across versions (used in problem-details `type` and CLI output)
    code = "error"
    #: HTTP status the web edge maps this error to
    http_status = 400

    def __init__(self, message: str, *, message_ko: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.message_ko = message_ko or message
        self.details = details

    def diagnostics(self, lang: str = "en") -> str:
        return self.message_ko if lang == "ko" else self.message


class InvalidInput(Error):
    """Input that cannot be used at all (not JSON, too large, too deep, bad encoding)."""

    code = "invalid-input"


class InvalidCredential(InvalidInput):
    """A credential or presentation that does not parse into a well-formed document."""

    code = "invalid-credential"


class UnknownContext(InvalidCredential):
    """A JSON-LD context that is not bundled; contexts are never fetched."""

    code = "unknown-context"


class DroppedProperty(InvalidCredential):
    """A property JSON-LD expansion would drop, so it would not be covered by the signature."""

    code = "dropped-property"


class ResourceLimit(InvalidInput):
    """A hostile or oversized document exceeded a bound (size, depth, blank nodes)."""

    code = "resource-limit"
    http_status = 413


class KeyError_(Error):
    """A key that cannot be decoded or used."""

    code = "invalid-key"


class ResolutionError(Error):
    """A DID or verification method that cannot be resolved."""

    code = "resolution-error"


class FetchError(ResolutionError):
    """A remote resource that the fetcher refused or could not get."""

    code = "fetch-error"


class VerificationError(Error):
    """A verification whose verdict is not "valid"; carries the full report."""

    code = "verification-failed"

    def __init__(self, message: str, *, report: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.report = report


class RegistryError(Error):
    """A registry operation or proof that failed."""

    code = "registry-error"


class LegalRuleViolation(Error):
    """A contract that breaks a Korean labor-law rule."""

    code = "legal-rule-violation"
    http_status = 422


class NotFound(Error):
    code = "not-found"
    http_status = 404


class Conflict(Error):
    code = "conflict"
    http_status = 409


class Unauthorized(Error):
    code = "unauthorized"
    http_status = 401


class Unavailable(Error):
    """A dependency the answer needs (a database, a peer) is down: try again later."""

    code = "unavailable"
    http_status = 503
