"""Offline JSON-LD: bundled contexts, a loader that never fetches, bounded parsing and RDFC-1.0.

Every context a credential may use is bundled in this package (agents/contexts, vendored from the
W3C/Digital Bazaar npm packages) or registered by our own `schemas` package. An unknown context is
an `UnknownContext` error, never a network request. Hostile documents are bounded before any
JSON-LD work starts (size, depth, members, control characters) and during canonicalisation
(blank nodes and the work of the N-degree hashing step), so a verifier answers in bounded time.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from pyld import jsonld
from pyld.canon import URDNA2015

from .errors import DroppedProperty, InvalidCredential, ResourceLimit, UnknownContext

CONTEXT_DIR = Path(__file__).parent / "contexts"


@dataclass(frozen=True)
class Limits:
    """What one document may cost; the defaults fit a multi-proof presentation of a few contracts."""

    max_bytes: int = 256 * 1024
    max_depth: int = 32
    max_members: int = 20_000  # object members + array items, all levels
    max_string: int = 64 * 1024
    max_blank_nodes: int = 512
    max_blank_node_refs: int = 256  # "_:" identifiers written in the JSON; credentials use none
    max_ndegree_calls: int = 2_000  # Hash N-Degree Quads invocations (RDFC-1.0 §4.8)
    max_ndegree_group: int = 6  # blank nodes sharing one related hash: 6! permutations at most


DEFAULT_LIMITS = Limits()


# --- the bundled contexts ------------------------------------------------------------------------


@cache
def _bundled() -> dict[str, dict[str, Any]]:
    index = json.loads((CONTEXT_DIR / "index.json").read_text(encoding="utf-8"))
    out: dict[str, dict[str, Any]] = {}
    for url, entry in index.items():
        out[url] = json.loads((CONTEXT_DIR / entry["file"]).read_text(encoding="utf-8"))
    try:  # our own vocabulary, shipped by the schemas package
        import schemas

        out.update(schemas.context_documents())
    except (ImportError, AttributeError):
        pass
    return out


_extra: dict[str, dict[str, Any]] = {}
_extra_lock = threading.Lock()


def register_context(url: str, document: dict[str, Any]) -> None:
    """Add a context (tests, the W3C test suites); it is served like a bundled one."""
    with _extra_lock:
        _extra[url] = document


def known_contexts() -> list[str]:
    return sorted(set(_bundled()) | set(_extra))


def context_document(url: str) -> dict[str, Any]:
    doc = _extra.get(url) or _bundled().get(url)
    if doc is None:
        raise UnknownContext(
            f"unknown JSON-LD context {url!r}: contexts are bundled and never fetched",
            message_ko=f"알 수 없는 JSON-LD 컨텍스트입니다: {url} (컨텍스트는 내려받지 않습니다)",
            context=url,
        )
    return doc


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader that serves only bundled contexts."""
    remote: dict[str, Any] = {
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(context_document(url)),
    }
    if url not in _extra:
        # bundled contexts never change: the tag lets pyld keep the processed context in its shared
        # cache across calls (untagged, it re-processes every context on every expansion)
        remote["tag"] = "static"
    return remote


def inline_contexts(ctx: Any) -> Any:
    """An `@context` value with every bundled context URL replaced by that context's own `@context`
    (scoped contexts too), for a JSON-LD processor that would otherwise fetch them (pyoxigraph, ACA-Py)."""
    if isinstance(ctx, str):
        return inline_contexts(context_document(ctx)["@context"])
    if isinstance(ctx, list):
        out: list[Any] = []
        for c in ctx:
            r = inline_contexts(c)
            out.extend(r if isinstance(r, list) else [r])
        return out
    if isinstance(ctx, dict):
        return {k: inline_contexts(v) if k == "@context" else _inline_scoped(v) for k, v in ctx.items()}
    return ctx


def _inline_scoped(value: Any) -> Any:
    if isinstance(value, dict) and "@context" in value:
        return {k: inline_contexts(v) if k == "@context" else v for k, v in value.items()}
    return value


# --- bounded parsing -----------------------------------------------------------------------------

# C0 controls but tab, newline and return; DEL; lone UTF-16 surrogates (not encodable as UTF-8)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def parse_json(raw: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse untrusted JSON within `limits` (one bounds walk at most; none when the bytes show the bounds).

    Credentials and presentations come in through `agents.document.parse`, which calls this."""
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > limits.max_bytes:
        raise ResourceLimit(
            f"the document is {size} bytes; the limit is {limits.max_bytes}",
            message_ko=f"문서가 너무 큽니다 ({size}바이트, 최대 {limits.max_bytes}바이트)",
        )
    decoded_from_str = isinstance(raw, str)
    if isinstance(raw, bytes):
        # orjson reads the same values as json.loads in a third of the time (floats too: both round
        # correctly), except integers past 64 bits, which it turns into floats: a document with a run
        # of 19 digits, one with a member name twice, and anything orjson refuses take the json.loads
        # path below, which also says precisely what is wrong
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if _NINETEEN_DIGITS not in raw.translate(_DIGITS_AS_ZERO) and _no_duplicates_by_count(raw, value):
                scan = b"\\" in raw or b"\x7f" in raw  # controls come only escaped (\u0008, but also \b, \f)
                if scan or not _within_by_its_bytes(raw, limits):
                    _check_bounds(value, limits, scan)
                return value
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidCredential("the document is not UTF-8", message_ko="문서가 UTF-8 형식이 아닙니다") from None
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_int=_bounded_int, object_pairs_hook=_object_once)
    except RecursionError:
        raise _too_deep(limits) from None
    except ValueError as e:  # JSONDecodeError, and int() refusing a huge literal
        raise InvalidCredential(
            f"the document is not valid JSON: {e}", message_ko="문서가 올바른 JSON이 아닙니다"
        ) from None
    # raw C0 controls are refused by json.loads, but a raw DEL is not; decoded controls and lone
    # surrogates can only come from escapes (\u0008, and the short \b and \f too) or from a str that
    # was never UTF-8: skip the scan otherwise
    check_bounds(value, limits, scan_strings=decoded_from_str or "\\" in raw or "\x7f" in raw)
    return value


_SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')


def _no_duplicates_by_count(raw: bytes, value: Any) -> bool:
    """True when the text names no member twice, shown by counting (no walk): without a backslash no string
    holds a quote, so every `":` ends a member name; orjson keeps one member per name, so the text has as
    many `":` as the value written back only if no name came twice. Otherwise (escapes, a space before a
    colon, a mismatch) the caller parses again with `_object_once`, which names the duplicate."""
    if b"\\" in raw or _SPACED_COLON.search(raw):
        return False
    return raw.count(b'":') == orjson.dumps(value).count(b'":')


def _object_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """RFC 8785 and I-JSON (RFC 7493) forbid a member name twice in one object: a reader keeping the first
    would see another value than the signature covers (JCS) or than the verifier judged."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        name = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise InvalidCredential(
            f"the member {name!r} appears twice in one object (RFC 8785, RFC 7493)",
            message_ko=f"같은 이름의 항목({name})이 한 객체 안에 두 번 나옵니다. 서명된 값과 다른 값을 보여 줄 수 있어 받지 않습니다",
            member=name,
        )
    return out


_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= i <= 0x39 else 0x78 for i in range(256))
_NINETEEN_DIGITS = b"0" * 19


def _within_by_its_bytes(raw: bytes, limits: Limits) -> bool:
    """True when the bytes alone show the document is within `limits` (no walk needed).

    Upper bounds, counted in C: nesting depth <= containers + 1 ('{' and '['), members <= commas +
    containers, any string <= the whole text. A brace or a comma inside a string only over-counts;
    when a bound is not met the caller walks the parsed value (`_check_bounds`), as before.
    """
    containers = raw.count(b"{") + raw.count(b"[")
    return (
        len(raw) <= limits.max_string
        and containers < limits.max_depth
        and containers + raw.count(b",") <= limits.max_members
    )


def _too_deep(limits: Limits) -> ResourceLimit:
    return ResourceLimit(
        f"the document is nested deeper than {limits.max_depth} levels",
        message_ko=f"문서의 중첩이 너무 깊습니다 (최대 {limits.max_depth}단계)",
    )


_MAX_INT_DIGITS = 32  # far beyond any amount or size in a credential; int() of 4,300+ digits raises


def _bounded_int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        raise InvalidCredential(
            f"a number has more than {_MAX_INT_DIGITS} digits", message_ko=f"숫자가 너무 깁니다 (최대 {_MAX_INT_DIGITS}자리)"
        )
    return int(text)


def _reject_constant(name: str) -> Any:
    raise InvalidCredential(f"{name} is not allowed in JSON", message_ko=f"JSON에 {name} 값은 쓸 수 없습니다")


def check_bounds(value: Any, limits: Limits = DEFAULT_LIMITS, *, scan_strings: bool = True) -> None:
    """Refuse documents that are too deep, too wide, or carry control characters or lone surrogates.

    One pass per nesting level; the strings are gathered and scanned by one regular-expression search
    (a call per string cost more than the rest of the walk).
    """
    _check_bounds(value, limits, scan_strings)


def _check_bounds(value: Any, limits: Limits, scan_strings: bool) -> bool:
    """`check_bounds`; True when the document holds a float."""
    floats = False
    members = 0
    strings: list[str] = []
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > limits.max_depth:
            raise _too_deep(limits)
        below: list[Any] = []
        for node in level:
            t = type(node)
            if t is str:
                strings.append(node)
            elif t is dict:
                members += len(node)
                strings.extend(node)
                below.extend(node.values())
            elif t is list:
                members += len(node)
                below.extend(node)
            elif t is int:
                if not -_INT_BOUND < node < _INT_BOUND:
                    raise InvalidCredential(f"a number has more than {_MAX_INT_DIGITS} digits", message_ko="숫자가 너무 깁니다")
            elif t is float:
                floats = True
                if not math.isfinite(node):  # NaN, or 1e999 read as infinity
                    raise InvalidCredential("NaN and infinite numbers are not allowed", message_ko="NaN이나 무한대 값은 쓸 수 없습니다")
            elif node is None or t is bool:
                pass
            else:
                _check_other(node, strings, below)
        if members > limits.max_members:
            raise ResourceLimit(
                f"the document has more than {limits.max_members} members",
                message_ko=f"문서의 항목이 너무 많습니다 (최대 {limits.max_members}개)",
            )
        level = below
    _check_strings(strings, limits, scan_strings)
    return floats


_INT_BOUND = 10**_MAX_INT_DIGITS


def _check_other(node: Any, strings: list[str], below: list[Any]) -> None:
    """Subclasses of the JSON types (built in code, not parsed) are walked like their base type."""
    if isinstance(node, str):
        strings.append(node)
    elif isinstance(node, dict):
        strings.extend(node)
        below.extend(node.values())
    elif isinstance(node, list | tuple):
        below.extend(node)
    elif isinstance(node, float) and not math.isfinite(node):
        raise InvalidCredential("NaN and infinite numbers are not allowed", message_ko="NaN이나 무한대 값은 쓸 수 없습니다")
    elif isinstance(node, int) and not isinstance(node, bool) and abs(node) >= _INT_BOUND:
        raise InvalidCredential(f"a number has more than {_MAX_INT_DIGITS} digits", message_ko="숫자가 너무 깁니다")


def _check_strings(strings: list[str], limits: Limits, scan: bool) -> None:
    if not strings:
        return
    try:
        joined = "\n".join(strings)  # also refuses a key that is not a string (a dict built in code)
    except TypeError:
        raise InvalidCredential("object keys must be strings", message_ko="객체의 키는 문자열이어야 합니다") from None
    if max(map(len, strings)) > limits.max_string:
        raise ResourceLimit(
            f"a string is longer than {limits.max_string} characters",
            message_ko=f"문자열이 너무 깁니다 (최대 {limits.max_string}자)",
        )
    # joined with a newline (allowed), so a pair of surrogates split across two strings still shows as lone
    if scan and _BAD_CHARS.search(joined):
        raise InvalidCredential(
            "the document contains control characters or unpaired surrogates",
            message_ko="문서에 허용되지 않는 문자(제어 문자 등)가 있습니다",
        )


# --- JSON-LD expansion and RDFC-1.0 ----------------------------------------------------------------


_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")

# pyld keeps processed contexts in module-level caches (cachetools LRUCache, not thread-safe): two threads
# expanding at once corrupted them (a 500 "OrderedDict mutated during iteration", or an honest credential
# judged tampered). Expansion runs under this lock; canonicalisation (the costly part) does not need it.
_JSONLD_LOCK = threading.Lock()


class _StrictProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld, refusing what it would silently leave out of the RDF dataset (and so out of the signature):
    properties no context defines, values where an IRI is expected that are not absolute IRIs
    (`"termsOfUse": "2099-01-01T00:00:00Z"`), and `@included` (VCDM 2.0 requires URLs where `@id` is)."""

    def __init__(self, dropped: list[str | None]) -> None:
        super().__init__(on_property_dropped=dropped.append)
        self._dropped = dropped

    def expand(self, input_: Any, options: Any) -> Any:
        with _JSONLD_LOCK:
            expanded = super().expand(input_, options)
        _unsigned_values(expanded, self._dropped)
        return expanded


def _unsigned_values(expanded: Any, dropped: list[str | None]) -> None:
    """Record every expanded value RDF would drop: a relative `@id` or `@type`, an `@included` block."""
    stack = [expanded]
    while stack:
        node = stack.pop()
        if type(node) is list:
            stack.extend(node)
        elif type(node) is dict:
            for key, value in node.items():
                if key == "@id":
                    if type(value) is str and not value.startswith("_:") and not _ABSOLUTE_IRI.match(value):
                        dropped.append(f"{value!r} (not an absolute URL)")
                elif key == "@type":
                    for t in value if type(value) is list else [value]:
                        if type(t) is str and not t.startswith("_:") and not _ABSOLUTE_IRI.match(t) and t != "@json":
                            dropped.append(f"type {t!r} (not an absolute URL)")
                elif key == "@included":
                    dropped.append("@included")
                elif key != "@value":  # a literal's value is data, not a node: @json literals are kept as they are
                    stack.append(value)


def _strict_processor() -> Any:
    dropped: list[str | None] = []
    return _StrictProcessor(dropped), dropped


def _options(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "documentLoader": document_loader,
        "processingMode": "json-ld-1.1",
        "base": "",
    }
    if extra:
        opts.update(extra)
    return opts


def _jsonld_call(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except jsonld.JsonLdError as e:
        cause: BaseException | None = e
        while cause is not None:
            if isinstance(cause, InvalidCredential | ResourceLimit):
                raise cause from None
            details = getattr(cause, "details", None)
            if isinstance(details, dict) and isinstance(details.get("cause"), BaseException):
                inner = details["cause"]
                if isinstance(inner, InvalidCredential | ResourceLimit):
                    raise inner from None
            cause = cause.__cause__
        raise InvalidCredential(
            f"the document is not valid JSON-LD: {_jsonld_message(e)}",
            message_ko="문서가 올바른 JSON-LD가 아닙니다",
        ) from None
    except RecursionError:
        raise ResourceLimit("the document is too complex", message_ko="문서가 너무 복잡합니다") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        # pyld lets some malformed input escape as plain exceptions (e.g. `"@base": ""` -> ValueError);
        # at this boundary they mean one thing: the document is not usable JSON-LD
        raise InvalidCredential(
            f"the document is not valid JSON-LD ({type(e).__name__})", message_ko="문서가 올바른 JSON-LD가 아닙니다"
        ) from None


def _jsonld_message(e: Exception) -> str:
    msgs: list[str] = []
    cur: BaseException | None = e
    while cur is not None and len(msgs) < 4:
        msgs.append(str(cur).splitlines()[0])
        cur = cur.__cause__
    return " / ".join(msgs)


def _raise_dropped(dropped: list[str | None]) -> None:
    if dropped:
        names = ", ".join(sorted({str(d) for d in dropped}))
        raise DroppedProperty(
            f"properties not defined by any @context would be dropped and left unsigned: {names}",
            message_ko=f"@context에 정의되지 않아 서명에서 빠지는 속성이 있습니다: {names}",
            properties=names,
        )


def expand(document: dict[str, Any]) -> list[Any]:
    """Expand with the bundled contexts; a property JSON-LD would drop is an error."""
    proc, dropped = _strict_processor()
    out = _jsonld_call(lambda: proc.expand(document, _options()))
    _raise_dropped(dropped)
    return list(out)


class _BoundedRdfc(URDNA2015):  # type: ignore[misc]
    """RDFC-1.0 (URDNA2015) with a work budget on the N-degree step, which is exponential."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self._limits = limits
        self._calls = 0

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        self._calls += 1
        if self._calls > self._limits.max_ndegree_calls:
            raise ResourceLimit(
                "canonicalisation exceeded its work budget (blank-node structure too complex)",
                message_ko="정규화 작업량 한도를 넘었습니다 (빈 노드 구조가 너무 복잡합니다)",
            )
        related = super().create_hash_to_related(id_, issuer)
        if any(len(group) > self._limits.max_ndegree_group for group in related.values()):
            raise ResourceLimit(
                "canonicalisation refused: too many indistinguishable blank nodes",
                message_ko="정규화를 거부했습니다: 구별할 수 없는 빈 노드가 너무 많습니다",
            )
        return related


def _check_blank_node_refs(document: Any, limits: Limits) -> None:
    """Refuse a web of explicit blank-node references before JSON-LD spends any time on it."""
    refs = 0
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node.startswith("_:"):
            refs += 1
            if refs > limits.max_blank_node_refs:
                raise ResourceLimit(
                    f"the document names blank nodes more than {limits.max_blank_node_refs} times",
                    message_ko=f"빈 노드 참조가 너무 많습니다 (최대 {limits.max_blank_node_refs}개)",
                )


def to_dataset(document: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """JSON-LD to an RDF dataset (pyld form), with the dropped-property and blank-node checks."""
    _check_blank_node_refs(document, limits)
    proc, dropped = _strict_processor()
    dataset = _jsonld_call(lambda: proc.to_rdf(document, _options()))
    _raise_dropped(dropped)
    blanks: set[str] = set()
    for triples in dataset.values():
        for t in triples:
            for pos in ("subject", "object"):
                if t[pos]["type"] == "blank node":
                    blanks.add(t[pos]["value"])
    if len(blanks) > limits.max_blank_nodes:
        raise ResourceLimit(
            f"the document has {len(blanks)} blank nodes; the limit is {limits.max_blank_nodes}",
            message_ko=f"빈 노드가 너무 많습니다 ({len(blanks)}개, 최대 {limits.max_blank_nodes}개)",
        )
    return dict(dataset)


def canonize(document: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, offline and bounded."""
    dataset = to_dataset(document, limits)
    rdfc = _BoundedRdfc(limits)
    return str(_jsonld_call(lambda: rdfc.main(dataset, {"format": "application/n-quads"})))
