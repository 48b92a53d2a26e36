"""DID resolution: did:key, did:web and did:jwk (Ed25519), with pinned documents and a TTL cache.

`Resolver.resolve_method(vm_id)` is what Data Integrity verification calls: it returns the verification
method with its Ed25519 public key and the relationships (assertionMethod, authentication, ...) it
appears in, or raises `ResolutionError` saying why not. Remote documents (did:web) are fetched only
through `agents.fetcher.Fetcher`.
"""

from __future__ import annotations

import copy
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import multibase
from .errors import Error, FetchError, ResolutionError
from .fetcher import Fetcher, TtlCache, is_loopback_host
from .keys import Ed25519PublicMultikey

__all__ = [
    "RELATIONSHIPS",
    "DidDocument",
    "Resolver",
    "VerificationMethod",
    "did_jwk",
    "did_key_document",
    "did_web_url",
    "parse_did",
]

#: the verification relationships of DID Core §5.3
RELATIONSHIPS = (
    "assertionMethod",
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
    "keyAgreement",
)
_DID_KEY_RELATIONSHIPS = frozenset(RELATIONSHIPS[:4])

MAX_DID_LENGTH = 2048
# DID Core §3.1: did:method-name:method-specific-id, idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
_DID = re.compile(
    r"^did:([a-z0-9]+):((?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*(?::(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*)*)$"
)
_FRAGMENT = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@/?%-]+$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")

_CONTEXT_DID = "https://www.w3.org/ns/did/v1"
_CONTEXT_MULTIKEY = "https://w3id.org/security/multikey/v1"
_CONTEXT_JWS = "https://w3id.org/security/suites/jws-2020/v1"

# multicodec prefixes of keys other did:key values carry, named in the refusal
_OTHER_CODECS = {
    b"\x80\x24": "P-256",
    b"\x81\x24": "P-384",
    b"\xe7\x01": "secp256k1",
    b"\xec\x01": "X25519",
    b"\xe7\x03": "BLS12-381 G2",
    b"\x85\x24": "RSA",
}
_JSON_DID_TYPES = (
    "application/did+json",
    "application/did+ld+json",
    "application/json",
    "application/ld+json",
)


def _err(en: str, ko: str, **details: Any) -> ResolutionError:
    return ResolutionError(en, message_ko=ko, **details)


def _show(value: str, limit: int = 80) -> str:
    """A DID cut short for messages, so an over-long input does not flood a log or a page."""
    return value if len(value) <= limit else value[:limit] + "…"


# -- parsing --------------------------------------------------------------------------------------


def parse_did(did: object) -> tuple[str, str]:
    """Check DID syntax and return (method, method-specific id); raise `ResolutionError` if malformed."""
    if not isinstance(did, str) or not did:
        raise _err("empty DID", "DID가 비어 있습니다")
    return _parse_did(did)


@lru_cache(maxsize=4096)  # a verifier sees the same few issuer DIDs again and again; errors are not cached
def _parse_did(did: str) -> tuple[str, str]:
    if len(did) > MAX_DID_LENGTH:
        raise _err(
            f"DID longer than {MAX_DID_LENGTH} characters",
            f"DID가 {MAX_DID_LENGTH}자를 넘습니다",
        )
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in did):
        raise _err(
            "DID contains spaces or control characters",
            "DID에 공백이나 제어 문자가 있습니다",
        )
    if not did.startswith("did:"):
        raise _err(f"not a DID: {_show(did)!r}", f"DID가 아닙니다: {_show(did)!r}")
    if "#" in did or "?" in did or "/" in did:
        raise _err(
            f"expected a DID without path, query or fragment: {_show(did)!r}",
            f"경로, 쿼리, 프래그먼트가 없는 DID여야 합니다: {_show(did)!r}",
        )
    m = _DID.match(did)
    if not m or not m.group(2) or m.group(2).endswith(":"):
        raise _err(f"malformed DID: {_show(did)!r}", f"DID 형식이 잘못되었습니다: {_show(did)!r}")
    return m.group(1), m.group(2)


def _split_vm_id(vm_id: object) -> tuple[str, str]:
    """Split a DID URL ``did:...#fragment`` into the DID and the fragment."""
    if not isinstance(vm_id, str) or not vm_id:
        raise _err("empty verification method id", "검증 방법 ID가 비어 있습니다")
    if len(vm_id) > MAX_DID_LENGTH:
        raise _err(
            f"verification method id longer than {MAX_DID_LENGTH} characters",
            f"검증 방법 ID가 {MAX_DID_LENGTH}자를 넘습니다",
        )
    did, sep, fragment = vm_id.partition("#")
    if not sep or not fragment or not _FRAGMENT.match(fragment):
        raise _err(
            f"a verification method id is a DID URL with a fragment (did:...#key): {_show(vm_id)!r}",
            f"검증 방법 ID는 프래그먼트가 있는 DID URL이어야 합니다: {_show(vm_id)!r}",
        )
    parse_did(did)
    return did, fragment


@dataclass(frozen=True)
class VerificationMethod:
    """One Ed25519 verification method of a DID document and the relationships it appears in."""

    id: str
    type: str
    controller: str
    public_key: Ed25519PublicMultikey
    relationships: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        """The method as it would appear in a DID document (Multikey form unless it was a JWK)."""
        out: dict[str, Any] = {"id": self.id, "type": self.type, "controller": self.controller}
        if self.type in ("JsonWebKey", "JsonWebKey2020"):
            out["publicKeyJwk"] = self.public_key.to_jwk()
        elif self.type == "Ed25519VerificationKey2018":
            out["publicKeyBase58"] = multibase.b58encode(self.public_key.raw)
        else:
            out["publicKeyMultibase"] = self.public_key.multibase
        return out


def _absolute(ref: str, doc_id: str) -> str:
    return doc_id + ref if ref.startswith("#") else ref


def _public_key(vm: Mapping[str, Any], vm_id: str) -> Ed25519PublicMultikey:
    """Decode the Ed25519 key of a method; raise `Error` (key or input) naming what is wrong."""
    vm_type = vm.get("type")
    if vm_type in ("Multikey", "Ed25519VerificationKey2020"):
        value = vm.get("publicKeyMultibase")
        if not isinstance(value, str):
            raise _err(
                f"{vm_id}: {vm_type} without publicKeyMultibase", f"{vm_id}: publicKeyMultibase가 없습니다"
            )
        return Ed25519PublicMultikey.from_multibase(value)
    if vm_type == "Ed25519VerificationKey2018":
        value = vm.get("publicKeyBase58")
        if not isinstance(value, str):
            raise _err(f"{vm_id}: {vm_type} without publicKeyBase58", f"{vm_id}: publicKeyBase58이 없습니다")
        return Ed25519PublicMultikey(multibase.b58decode(value))
    if vm_type in ("JsonWebKey", "JsonWebKey2020"):
        return _jwk_public_key(vm.get("publicKeyJwk"), vm_id)
    raise _err(
        f"{vm_id}: verification method type {vm_type!r} is not supported (Multikey, "
        "Ed25519VerificationKey2020, JsonWebKey with an Ed25519 key)",
        f"{vm_id}: 지원하지 않는 검증 방법 형식입니다: {vm_type!r}",
    )


def _jwk_public_key(jwk: object, where: str) -> Ed25519PublicMultikey:
    if not isinstance(jwk, Mapping):
        raise _err(f"{where}: publicKeyJwk is missing or not an object", f"{where}: publicKeyJwk가 없습니다")
    if "d" in jwk:
        raise _err(
            f"{where}: the JWK contains a private key ('d'); refusing it",
            f"{where}: JWK에 비밀키('d')가 들어 있어 거부합니다",
        )
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise _err(
            f"{where}: only OKP Ed25519 JWKs are supported (kty={jwk.get('kty')!r}, crv={jwk.get('crv')!r})",
            f"{where}: OKP Ed25519 JWK만 지원합니다",
        )
    x = jwk["x"]
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", x):
        raise _err(
            f"{where}: JWK 'x' is not a 32-byte base64url value", f"{where}: JWK 'x' 값이 잘못되었습니다"
        )
    return Ed25519PublicMultikey(multibase.b64url_decode(x))


@dataclass(frozen=True)
class DidDocument:
    """A DID document parsed and checked at the boundary.

    ``methods`` holds the Ed25519 methods workcred can use, each knowing its relationships;
    ``unsupported`` maps the ids of other methods (say X25519 or P-256) to why they cannot be used,
    so that asking for one gives a clear reason instead of "not found".
    """

    id: str
    methods: tuple[VerificationMethod, ...]
    unsupported: Mapping[str, str] = field(default_factory=dict, compare=False)
    controller: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, doc: object, *, expected_id: str | None = None) -> DidDocument:
        """Parse a DID document (JSON object); relationships may reference methods or embed them."""
        if not isinstance(doc, Mapping):
            raise _err("a DID document is a JSON object", "DID 문서는 JSON 객체여야 합니다")
        doc_id = doc.get("id")
        if not isinstance(doc_id, str):
            raise _err("the DID document has no id", "DID 문서에 id가 없습니다")
        parse_did(doc_id)
        if expected_id is not None and doc_id != expected_id:
            raise _err(
                f"the DID document id {_show(doc_id)!r} does not match the DID {_show(expected_id)!r}",
                f"DID 문서의 id({_show(doc_id)})가 DID({_show(expected_id)})와 다릅니다",
            )
        controller = doc.get("controller", ())
        controllers = (controller,) if isinstance(controller, str) else controller
        if not isinstance(controllers, list | tuple) or not all(isinstance(c, str) for c in controllers):
            raise _err(
                f"{doc_id}: controller must be a DID or a list of DIDs",
                f"{doc_id}: controller가 잘못되었습니다",
            )

        # 1. collect the methods: verificationMethod entries and methods embedded in relationships
        bodies: dict[str, Mapping[str, Any]] = {}
        rels: dict[str, set[str]] = {}

        def add_method(vm: object, where: str) -> str:
            if not isinstance(vm, Mapping) or not isinstance(vm.get("id"), str) or not vm["id"]:
                raise _err(
                    f"{doc_id}: a method in {where} has no id",
                    f"{doc_id}: {where}의 검증 방법에 id가 없습니다",
                )
            vm_id = _absolute(vm["id"], doc_id)
            if vm_id in bodies:
                raise _err(
                    f"{doc_id}: method id {vm_id} appears twice",
                    f"{doc_id}: 검증 방법 ID {vm_id}가 중복됩니다",
                )
            if not isinstance(vm.get("controller"), str) or not isinstance(vm.get("type"), str):
                raise _err(
                    f"{vm_id}: a verification method needs a type and a controller",
                    f"{vm_id}: 검증 방법에 type과 controller가 필요합니다",
                )
            bodies[vm_id] = vm
            rels[vm_id] = set()
            return vm_id

        listed = doc.get("verificationMethod", [])
        if not isinstance(listed, list):
            raise _err(
                f"{doc_id}: verificationMethod must be a list",
                f"{doc_id}: verificationMethod는 목록이어야 합니다",
            )
        for vm in listed:
            add_method(vm, "verificationMethod")

        # 2. each relationship: a reference (relative "#key-1" or absolute) or an embedded method
        references: list[tuple[str, str]] = []
        for rel in RELATIONSHIPS:
            entries = doc.get(rel, [])
            if not isinstance(entries, list):
                raise _err(f"{doc_id}: {rel} must be a list", f"{doc_id}: {rel}는 목록이어야 합니다")
            for entry in entries:
                if isinstance(entry, str):
                    references.append((rel, _absolute(entry, doc_id)))
                else:
                    rels[add_method(entry, rel)].add(rel)
        for rel, ref in references:
            if ref in rels:
                rels[ref].add(rel)
            elif ref.split("#", 1)[0] == doc_id:
                raise _err(
                    f"{doc_id}: {rel} references {ref}, which the document does not define",
                    f"{doc_id}: {rel}가 문서에 없는 검증 방법 {ref}를 가리킵니다",
                )
            # a reference into another DID's document is not followed: it never authorises this DID

        # 3. decode the keys; keep unusable ones aside with the reason
        methods: list[VerificationMethod] = []
        unsupported: dict[str, str] = {}
        for vm_id, vm in bodies.items():
            try:
                key = _public_key(vm, vm_id)
            except Error as e:
                unsupported[vm_id] = e.message
                continue
            methods.append(
                VerificationMethod(vm_id, vm["type"], vm["controller"], key, frozenset(rels[vm_id]))
            )
        return cls(doc_id, tuple(methods), unsupported, tuple(controllers), copy.deepcopy(dict(doc)))

    def method(self, vm_id: str) -> VerificationMethod:
        """The usable method ``vm_id`` (absolute, or relative ``#key-1``); `ResolutionError` if none."""
        vm_id = _absolute(vm_id, self.id)
        for vm in self.methods:
            if vm.id == vm_id:
                return vm
        if vm_id in self.unsupported:
            raise _err(
                f"{vm_id} cannot be used: {self.unsupported[vm_id]}",
                f"{vm_id} 는 사용할 수 없는 검증 방법입니다: {self.unsupported[vm_id]}",
            )
        raise _err(
            f"the DID document of {_show(self.id)} has no verification method {_show(vm_id, 160)}",
            f"{_show(self.id)} 의 DID 문서에 검증 방법 {_show(vm_id, 160)} 가 없습니다",
        )

    def methods_for(self, relationship: str) -> tuple[VerificationMethod, ...]:
        """The usable methods in one relationship, e.g. ``assertionMethod``."""
        return tuple(vm for vm in self.methods if relationship in vm.relationships)

    def to_json(self) -> dict[str, Any]:
        """The document as it was parsed (a copy)."""
        return copy.deepcopy(dict(self.raw))


# -- did:key ----------------------------------------------------------------------------------------


def did_key_document(did: str) -> dict[str, Any]:
    """The did:key document for an Ed25519 ``did:key:z6Mk…`` (did:key spec, Multikey form)."""
    method, msid = parse_did(did)
    if method != "key":
        raise _err(f"not a did:key: {_show(did)!r}", f"did:key가 아닙니다: {_show(did)!r}")
    if not msid.startswith("z"):
        raise _err(
            "did:key values are multibase base58btc ('z…'); versioned or other encodings are not supported",
            "did:key 값은 base58btc multibase('z…')여야 합니다",
        )
    try:
        data = multibase.decode(msid)
    except Error:
        raise _err(
            f"did:key value is not valid base58btc: {_show(did)!r}", "did:key 값이 base58btc가 아닙니다"
        ) from None
    if data[:2] != multibase.ED25519_PUB:
        name = _OTHER_CODECS.get(data[:2], f"multicodec 0x{data[:2].hex()}")
        raise _err(
            f"did:key with a {name} key is not supported; only Ed25519 (z6Mk…) is",
            f"did:key의 {name} 키는 지원하지 않습니다. Ed25519(z6Mk…)만 지원합니다",
        )
    if len(data) != 34:
        raise _err("did:key Ed25519 key is not 32 bytes", "did:key의 Ed25519 키 길이가 잘못되었습니다")
    vm_id = f"{did}#{msid}"
    return {
        "@context": [_CONTEXT_DID, _CONTEXT_MULTIKEY],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": msid}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }


# -- did:jwk ----------------------------------------------------------------------------------------


def did_jwk(public_key: Ed25519PublicMultikey) -> str:
    """The did:jwk for an Ed25519 public key (JCS-style compact JSON, base64url)."""
    jwk = public_key.to_jwk()
    compact = json.dumps(dict(sorted(jwk.items())), separators=(",", ":"))
    return "did:jwk:" + multibase.b64url(compact.encode("utf-8"))


def _did_jwk_document(did: str, msid: str) -> dict[str, Any]:
    """The did:jwk document (did:jwk spec §2.3 Read): method ``#0``, relationships by the JWK ``use``."""
    try:
        jwk = json.loads(multibase.b64url_decode(msid).decode("utf-8"))
    except (Error, UnicodeDecodeError, ValueError, RecursionError):
        raise _err(
            "did:jwk value is not base64url-encoded JSON", "did:jwk 값이 base64url JSON이 아닙니다"
        ) from None
    _jwk_public_key(jwk, did[:40] + "…")
    vm_id = f"{did}#0"
    use = jwk.get("use")
    rels = (
        ["keyAgreement"]
        if use == "enc"
        else list(RELATIONSHIPS[:4]) + ([] if use == "sig" else ["keyAgreement"])
    )
    doc: dict[str, Any] = {
        "@context": [_CONTEXT_DID, _CONTEXT_JWS],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
        ],
    }
    doc.update({rel: [vm_id] for rel in rels})
    return doc


# -- did:web ----------------------------------------------------------------------------------------


def did_web_url(did: str, *, http_loopback: bool = False) -> str:
    """Map a did:web to the URL of its did.json (did:web spec §3.2 Read).

    ``did:web:example.com`` → ``https://example.com/.well-known/did.json``;
    ``did:web:example.com:user:alice`` → ``https://example.com/user/alice/did.json``;
    ``did:web:127.0.0.1%3A8700:issuers:x`` → ``https://127.0.0.1:8700/issuers/x/did.json``
    (``http://`` when ``http_loopback`` and the host is loopback).
    """
    method, msid = parse_did(did)
    if method != "web":
        raise _err(f"not a did:web: {_show(did)!r}", f"did:web이 아닙니다: {_show(did)!r}")
    # 1. split on ":"; the first part is the domain, with an optional percent-encoded port
    domain, *path = msid.split(":")
    host, _, port = urllib.parse.unquote(domain).partition(":")
    host = host.lower()
    bad_domain = _err(
        f"did:web domain is not a host name with an optional %3A port: {_show(did)!r}",
        f"did:web의 도메인이 올바른 호스트 이름이 아닙니다: {_show(did)!r}",
    )
    labels = host.split(".")
    if not host or not all(_HOST_LABEL.match(label) for label in labels) or len(host) > 253:
        raise bad_domain
    if labels[-1].isdigit() and not _is_ipv4(host):
        raise bad_domain
    if _is_ipv4(host) and not is_loopback_host(host):
        # an IP literal names no one; the domain is what did:web binds the DID to
        raise _err(
            f"did:web with a non-loopback IP address is not supported: {_show(did)!r}",
            f"루프백이 아닌 IP 주소의 did:web은 지원하지 않습니다: {_show(did)!r}",
        )
    if port and (not port.isdigit() or not 0 < int(port) < 65536 or port.startswith("0")):
        raise _err(
            f"did:web port is not valid: {_show(did)!r}", f"did:web의 포트가 잘못되었습니다: {_show(did)!r}"
        )
    if "%" in ":".join(path) or any(not _PATH_SEGMENT.match(s) or s in (".", "..") for s in path):
        raise _err(
            f"did:web path segments must be plain names (no empty, '.', '..' or percent-encoded parts): "
            f"{_show(did)!r}",
            f"did:web 경로가 잘못되었습니다(빈 부분, '.', '..', 퍼센트 인코딩 불가): {_show(did)!r}",
        )
    # 2. no path: /.well-known; 3. append /did.json
    scheme = "http" if http_loopback and is_loopback_host(host) else "https"
    authority = f"{host}:{port}" if port else host
    return f"{scheme}://{authority}/{'/'.join(path) if path else '.well-known'}/did.json"


def _is_ipv4(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and str(int(p)) == p and int(p) < 256 for p in parts)


# -- resolver ---------------------------------------------------------------------------------------


class Resolver:
    """Resolve DIDs to `DidDocument`s and DID URLs to `VerificationMethod`s, with a TTL cache.

    ``static`` pins documents (``{did: document JSON}``) and wins over every method; ``fetcher`` is
    needed for did:web only; ``methods`` limits the DID methods accepted; ``clock`` (monotonic
    seconds) is injected so expiry is testable.
    """

    def __init__(
        self,
        *,
        fetcher: Fetcher | None = None,
        static: Mapping[str, Mapping[str, Any]] | None = None,
        methods: Iterable[str] = ("key", "web", "jwk"),
        cache_ttl: float = 300.0,
        cache_entries: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetcher = fetcher
        self.methods = frozenset(methods)
        self.cache_ttl = cache_ttl
        self.cache_entries = cache_entries
        self._cache: TtlCache[str, DidDocument] = TtlCache(cache_entries, clock)
        self._did_key_methods: dict[str, VerificationMethod] = {}  # did:key methods resolved (they never change)
        # pinned documents are parsed now, so a bad pin fails at start-up, not at the first check
        self._static = {
            did: DidDocument.from_json(doc, expected_id=did) for did, doc in (static or {}).items()
        }

    def resolve(self, did: str) -> DidDocument:
        """The DID document of ``did``; `ResolutionError` (or `FetchError`) says why when it cannot."""
        method, msid = parse_did(did)
        if did in self._static:
            return self._static[did]
        hit = self._cache.get(did)
        if hit is not None:
            return hit
        if method not in self.methods or method not in ("key", "web", "jwk"):
            raise _err(
                f"DID method did:{method} is not supported (supported: "
                f"{', '.join('did:' + m for m in sorted(self.methods & {'key', 'web', 'jwk'}))})",
                f"did:{method} 방식은 지원하지 않습니다",
            )
        if method == "key":
            doc = DidDocument.from_json(did_key_document(did), expected_id=did)
        elif method == "jwk":
            doc = DidDocument.from_json(_did_jwk_document(did, msid), expected_id=did)
        else:
            doc = self._resolve_web(did)
        self._cache.put(did, doc, self.cache_ttl)
        return doc

    def resolve_method(self, vm_id: str, *, relationship: str | None = None) -> VerificationMethod:
        """The verification method ``did:…#fragment``, checked against its document.

        Raises `ResolutionError` when the DID cannot be resolved, the method is absent or not an
        Ed25519 key, its controller is not the document's DID, or (when ``relationship`` is given,
        e.g. ``assertionMethod``) the method is not authorised for that relationship.
        """
        if relationship is None and vm_id.startswith("did:key:"):
            # a did:key method is the key itself: nothing to fetch, nothing that can change
            known = self._did_key_methods.get(vm_id)
            if known is not None:
                return known
        did, _ = _split_vm_id(vm_id)
        doc = self.resolve(did)
        vm = doc.method(vm_id)
        if vm.controller != doc.id:
            raise _err(
                f"{_show(vm_id, 160)}: its controller {_show(vm.controller)} is not the DID {_show(doc.id)}",
                f"{_show(vm_id, 160)}: 검증 방법의 controller({_show(vm.controller)})가 DID({_show(doc.id)})와 다릅니다",
            )
        if relationship is not None and relationship not in vm.relationships:
            raise _err(
                f"{_show(vm_id, 160)} is not authorised for {relationship}",
                f"{_show(vm_id, 160)} 는 {relationship} 용도로 등록되어 있지 않습니다",
            )
        if did.startswith("did:key:") and did not in self._static:
            if len(self._did_key_methods) >= 4096:
                self._did_key_methods.clear()
            self._did_key_methods[vm_id] = vm
        return vm

    def clear_cache(self) -> None:
        self._cache.clear()
        self._did_key_methods.clear()

    def _resolve_web(self, did: str) -> DidDocument:
        if self.fetcher is None:
            raise _err(
                "did:web resolution needs a fetcher (none configured)",
                "did:web을 해석하려면 fetcher가 필요합니다(설정되지 않음)",
            )
        url = did_web_url(did, http_loopback=self.fetcher.allow_http_loopback)
        try:
            raw = self.fetcher.get_json(url, accept=", ".join(_JSON_DID_TYPES))
        except FetchError as e:
            raise FetchError(
                f"cannot resolve {_show(did)}: {e.message}",
                message_ko=f"{_show(did)} 를 해석할 수 없습니다: {e.message_ko}",
                **e.details,
            ) from None
        # the document must name the DID it was fetched for, or any host could speak for another
        return DidDocument.from_json(raw, expected_id=did)
