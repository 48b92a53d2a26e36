"""did:web: the DID-to-URL mapping, and resolution against a real HTTP server on 127.0.0.1 (with the cache)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from agents.did import Resolver, did_web_url
from agents.errors import FetchError, ResolutionError
from agents.fetcher import Fetcher
from agents.keys import Ed25519KeyPair
from tests.unit.test_fetcher import LocalServer, Route


@pytest.mark.parametrize(
    ("did", "loopback_http", "url"),
    [
        ("did:web:w3c-ccg.github.io", False, "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", False, "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", False, "https://example.com:3000/user/alice/did.json"),
        ("did:web:Example.COM", False, "https://example.com/.well-known/did.json"),
        ("did:web:data.seoul.go.kr:departments:jobs-2027", True, "https://data.seoul.go.kr/departments/jobs-2027/did.json"),
        ("did:web:127.0.0.1%3A8700:issuers:x", True, "http://127.0.0.1:8700/issuers/x/did.json"),
        ("did:web:127.0.0.1%3a8700:issuers:x", True, "http://127.0.0.1:8700/issuers/x/did.json"),
        ("did:web:127.0.0.1%3A8700:issuers:x", False, "https://127.0.0.1:8700/issuers/x/did.json"),
        ("did:web:localhost%3A8701", True, "http://localhost:8701/.well-known/did.json"),
        ("did:web:example.com:a.b_c-d:e", False, "https://example.com/a.b_c-d/e/did.json"),
    ],
)  # fmt: skip
def test_did_web_url_mapping(did: str, loopback_http: bool, url: str) -> None:
    assert did_web_url(did, http_loopback=loopback_http) == url


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("did:web:example.com::x", "path segments must be plain names"),
        ("did:web:example.com:..:etc", "path segments must be plain names"),
        ("did:web:example.com:.", "path segments must be plain names"),
        ("did:web:example.com:a%2Fb", "path segments must be plain names"),
        ("did:web:example.com%2Fevil", "not a host name"),
        ("did:web:example.com%40evil.org", "not a host name"),
        ("did:web:exa_mple.com", "not a host name"),
        ("did:web:-example.com", "not a host name"),
        ("did:web:example..com", "not a host name"),
        ("did:web:127.1", "not a host name"),
        ("did:web:%3A8700", "not a host name"),
        ("did:web:10.0.0.1", "non-loopback IP address"),
        ("did:web:example.com%3A99999", "port is not valid"),
        ("did:web:example.com%3A0", "port is not valid"),
        ("did:web:example.com%3A08080", "port is not valid"),
        ("did:web:example.com%3Ahttp", "port is not valid"),
        ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "not a did:web"),
        ("did:web:example.com#key-1", "without path, query or fragment"),
    ],
)
def test_bad_did_web(did: str, reason: str) -> None:
    with pytest.raises(ResolutionError, match=reason):
        did_web_url(did)


# -- resolution against a real local server ---------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LocalServer]:
    s = LocalServer()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


ISSUER_KEY = Ed25519KeyPair.from_seed(bytes(range(32)))


def issuer_did(server: LocalServer, name: str = "jobs") -> str:
    return f"did:web:127.0.0.1%3A{server.port}:issuers:{name}"


def issuer_document(did: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": "#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": ISSUER_KEY.public.multibase,
            },
            {
                "id": "#jwk-1",
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": ISSUER_KEY.public.to_jwk(),
            },
        ],
        "assertionMethod": ["#key-1", f"{did}#jwk-1"],
    }


def make_resolver(server: LocalServer, **kw: Any) -> Resolver:
    # the fetcher's own cache is off so the resolver's cache is what is tested
    fetcher = Fetcher([server.host], allow_http_loopback=True, cache_entries=0, read_timeout=2.0)
    return Resolver(fetcher=fetcher, **kw)


def test_did_web_document_served(server: LocalServer) -> None:
    did = issuer_did(server)
    server.json("/issuers/jobs/did.json", issuer_document(did), content_type="application/did+json")
    resolver = make_resolver(server)
    vm = resolver.resolve_method(f"{did}#key-1", relationship="assertionMethod")
    assert vm.public_key == ISSUER_KEY.public
    assert vm.controller == did
    jwk = resolver.resolve_method(f"{did}#jwk-1", relationship="assertionMethod")
    assert jwk.public_key == ISSUER_KEY.public and jwk.type == "JsonWebKey"
    message = "근로계약서 digest".encode()
    assert vm.public_key.verify(ISSUER_KEY.sign(message), message)


def test_did_web_well_known(server: LocalServer) -> None:
    did = f"did:web:127.0.0.1%3A{server.port}"
    server.json("/.well-known/did.json", issuer_document(did))
    assert make_resolver(server).resolve(did).id == did


def test_did_web_document_with_another_id_is_rejected(server: LocalServer) -> None:
    did = issuer_did(server)
    # a host serving a document for some other DID must not speak for this one
    server.json("/issuers/jobs/did.json", issuer_document(issuer_did(server, "other")))
    with pytest.raises(ResolutionError, match="does not match the DID"):
        make_resolver(server).resolve(did)


def test_did_web_oversize_response_rejected_while_streaming(server: LocalServer) -> None:
    did = issuer_did(server)
    total = 64 * 1024 * 1024
    server.routes["/issuers/jobs/did.json"] = Route(stream_bytes=total)
    start = time.monotonic()
    with pytest.raises(FetchError, match="cannot resolve did:web:.*larger than 524288 bytes"):
        make_resolver(server).resolve(did)
    assert time.monotonic() - start < 3
    time.sleep(0.2)
    assert server.streamed < total // 4


def test_did_web_slow_server_times_out(server: LocalServer) -> None:
    did = issuer_did(server)
    server.json("/issuers/jobs/did.json", issuer_document(did), delay=3.0)
    resolver = Resolver(fetcher=Fetcher([server.host], allow_http_loopback=True, read_timeout=0.4))
    start = time.monotonic()
    with pytest.raises(FetchError, match="did not answer in time"):
        resolver.resolve(did)
    assert time.monotonic() - start < 1.5


def test_did_web_redirect_to_disallowed_host_refused(server: LocalServer) -> None:
    did = issuer_did(server)
    server.routes["/issuers/jobs/did.json"] = Route(
        status=302, headers={"Location": f"http://localhost:{server.port}/elsewhere/did.json"}
    )
    server.json("/elsewhere/did.json", issuer_document(did))
    with pytest.raises(FetchError, match="redirect from .* refused: host localhost"):
        make_resolver(server).resolve(did)
    assert "/elsewhere/did.json" not in server.hits


def test_did_web_non_loopback_http_refused() -> None:
    # even in development, a non-loopback did:web maps to https, and http to it is refused
    fetcher = Fetcher(["data.seoul.go.kr"], allow_http_loopback=True)
    assert did_web_url("did:web:data.seoul.go.kr", http_loopback=True).startswith("https://")
    with pytest.raises(FetchError, match="plain http is refused"):
        fetcher.get_json("http://data.seoul.go.kr/.well-known/did.json")


def test_did_web_loopback_needs_the_development_setting(server: LocalServer) -> None:
    did = issuer_did(server)
    server.json("/issuers/jobs/did.json", issuer_document(did))
    # without allow_http_loopback the resolver asks for https, which the plain server cannot speak
    resolver = Resolver(fetcher=Fetcher([server.host], connect_timeout=1, read_timeout=1))
    with pytest.raises(FetchError, match="cannot resolve"):
        resolver.resolve(did)


def test_did_web_host_outside_allow_list(server: LocalServer) -> None:
    did = issuer_did(server)
    resolver = Resolver(fetcher=Fetcher(["127.0.0.1:1"], allow_http_loopback=True))
    with pytest.raises(FetchError, match="not in the fetcher's allow-list"):
        resolver.resolve(did)
    assert server.hits == {}


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Route(status=404), "HTTP 404"),
        (Route(body=b"<html/>", content_type="text/html"), "content type text/html"),
        (Route(body=b'{"id": 1}', content_type="application/did+json"), "no id"),
        (Route(body=b"[]"), "not a JSON object"),
    ],
)
def test_did_web_bad_answers(server: LocalServer, route: Route, reason: str) -> None:
    server.routes["/issuers/jobs/did.json"] = route
    with pytest.raises(ResolutionError, match=reason):
        make_resolver(server).resolve(issuer_did(server))


# -- cache ------------------------------------------------------------------------------------------


def test_second_resolve_does_not_hit_the_server(server: LocalServer) -> None:
    did = issuer_did(server)
    server.json("/issuers/jobs/did.json", issuer_document(did))
    resolver = make_resolver(server)
    first = resolver.resolve(did)
    assert resolver.resolve(did) is first
    resolver.resolve_method(f"{did}#key-1")
    assert server.hits == {"/issuers/jobs/did.json": 1}


def test_cache_expires_after_ttl(server: LocalServer) -> None:
    did = issuer_did(server)
    server.json("/issuers/jobs/did.json", issuer_document(did))
    clock = Clock()
    resolver = make_resolver(server, cache_ttl=60, clock=clock)
    resolver.resolve(did)
    clock.now += 59
    resolver.resolve(did)
    assert server.hits["/issuers/jobs/did.json"] == 1
    # a key rotation is seen once the entry expires
    rotated = issuer_document(did)
    rotated["verificationMethod"] = rotated["verificationMethod"][1:]
    rotated["assertionMethod"] = ["#jwk-1"]
    server.json("/issuers/jobs/did.json", rotated)
    clock.now += 2
    with pytest.raises(ResolutionError, match="has no verification method"):
        resolver.resolve_method(f"{did}#key-1")
    assert server.hits["/issuers/jobs/did.json"] == 2


def test_failures_are_not_cached(server: LocalServer) -> None:
    did = issuer_did(server)
    server.routes["/issuers/jobs/did.json"] = Route(status=503)
    resolver = make_resolver(server)
    with pytest.raises(FetchError, match="HTTP 503"):
        resolver.resolve(did)
    server.json("/issuers/jobs/did.json", issuer_document(did))
    assert resolver.resolve(did).id == did


def test_cache_ttl_zero_always_fetches(server: LocalServer) -> None:
    did = issuer_did(server)
    server.json("/issuers/jobs/did.json", issuer_document(did))
    resolver = make_resolver(server, cache_ttl=0)
    resolver.resolve(did)
    resolver.resolve(did)
    assert server.hits["/issuers/jobs/did.json"] == 2


def test_concurrent_resolution_shares_one_cache(server: LocalServer) -> None:
    did = issuer_did(server)
    server.json("/issuers/jobs/did.json", issuer_document(did))
    resolver = make_resolver(server, cache_entries=1)
    others = [Ed25519KeyPair.from_seed(bytes([i]) * 32).public.did_key for i in range(1, 9)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        docs = list(pool.map(resolver.resolve, [did, *others] * 8))
    assert {doc.id for doc in docs} == {did, *others}
