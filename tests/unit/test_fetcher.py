"""Fetcher: allow-list, schemes, credentials, IP literals, redirects, size cap, timeouts, content types, cache.

Network behaviour is tested against a real `http.server` on 127.0.0.1 started here in a thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from agents.errors import FetchError, ResolutionError
from agents.fetcher import Fetcher, HostRule, is_loopback_host


@dataclass
class Route:
    body: bytes = b"{}"
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: stream this many bytes in 64 KiB chunks without a Content-Length (ignores body)
    stream_bytes: int = 0


class LocalServer:
    """A real HTTP server on 127.0.0.1 with programmable routes and per-path hit counts."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self.streamed = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                try:
                    if route.delay:
                        time.sleep(route.delay)
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    if route.stream_bytes:
                        self.end_headers()  # HTTP/1.0, no length: the body ends when the connection closes
                        chunk = b" " * 65536
                        while server.streamed < route.stream_bytes:
                            self.wfile.write(chunk)
                            self.wfile.flush()
                            server.streamed += len(chunk)
                        return
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up, as the size cap and timeouts make it do

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def json(self, path: str, doc: object, **kw: object) -> None:
        self.routes[path] = Route(body=json.dumps(doc).encode(), **kw)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    s = LocalServer()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()


@pytest.fixture
def fetcher(server: LocalServer) -> Iterator[Fetcher]:
    f = Fetcher([server.host], allow_http_loopback=True, read_timeout=2.0)
    yield f
    f.close()


# -- URL rules (no network needed) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://data.seoul.go.kr/x",
        "https://a.b.seoul.go.kr/status/1",
        "https://DATA.Seoul.go.kr/x",
        "https://registry.example.org:8443/log",
        "https://10.1.2.3/listed-ip",
    ],
)
def test_allowed_urls(url: str) -> None:
    f = Fetcher(["*.seoul.go.kr", "registry.example.org:8443", "10.1.2.3"])
    assert f.check_url(url).scheme == "https"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://seoul.go.kr/x", "not in the fetcher's allow-list"),  # a suffix pattern is not the apex
        ("https://evilseoul.go.kr/x", "not in the fetcher's allow-list"),
        ("https://data.seoul.go.kr:8443/x", "not in the fetcher's allow-list"),  # other port
        ("https://registry.example.org/log", "not in the fetcher's allow-list"),  # listed with a port only
        ("https://user:pw@data.seoul.go.kr/x", "user names or passwords"),
        ("https://user@data.seoul.go.kr/x", "user names or passwords"),
        ("ftp://data.seoul.go.kr/x", "only https"),
        ("file:///etc/passwd", "only https"),
        ("/relative/path", "only https"),
        ("http://data.seoul.go.kr/x", "plain http is refused"),
        ("https://10.0.0.5/x", "IP address 10.0.0.5 is not allowed"),
        ("https://[fd00::1]/x", "IP address fd00::1 is not allowed"),
        ("https://127.1/x", "not a valid host name"),
        ("https://0x7f.0.0.1/x", "not a valid host name"),
        ("https://data.seoul.go.kr/a b", "spaces, control characters"),
        ("https://data.seoul.go.kr/\x00", "spaces, control characters"),
        ("https://data.seoul.go.kr\\@evil.com/", "backslashes"),
        ("", "empty URL"),
        ("https://data.seoul.go.kr/" + "a" * 3000, "too long"),
    ],
)
def test_refused_urls(url: str, reason: str) -> None:
    f = Fetcher(["*.seoul.go.kr", "registry.example.org:8443", "10.1.2.3"], allow_http_loopback=True)
    with pytest.raises(FetchError, match=reason) as info:
        f.check_url(url)
    assert info.value.diagnostics("ko") != info.value.diagnostics("en")  # a Korean message too


def test_loopback_http_only_in_development_and_only_when_listed() -> None:
    assert Fetcher(["127.0.0.1:8700"], allow_http_loopback=True).check_url("http://127.0.0.1:8700/x")
    with pytest.raises(FetchError, match="plain http is refused"):
        Fetcher(["127.0.0.1:8700"]).check_url("http://127.0.0.1:8700/x")
    with pytest.raises(FetchError, match="allow-list"):
        Fetcher(["127.0.0.1:8700"], allow_http_loopback=True).check_url("http://localhost:8700/x")
    assert Fetcher(["[::1]:8700"], allow_http_loopback=True).check_url("http://[::1]:8700/x")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["localhost.example.com", "128.0.0.1", "10.0.0.1", "::2", "example.com"])
def test_not_loopback_hosts(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize("entry", ["", "*.10.0.0.1", "https://x.org", "a@b.org", " x.org", "x.org/path", "*"])
def test_bad_allow_list_entries(entry: str) -> None:
    with pytest.raises(FetchError, match="allow-list entry|suffix pattern"):
        HostRule.parse(entry)


def test_fetch_error_is_a_resolution_error_never_an_httpx_error(
    server: LocalServer, fetcher: Fetcher
) -> None:
    server.httpd.shutdown()
    server.httpd.server_close()
    with pytest.raises(FetchError, match="cannot fetch") as info:
        fetcher.get_json(server.base + "/gone")
    assert isinstance(info.value, ResolutionError)
    assert not isinstance(info.value.__cause__, httpx.HTTPError)


# -- against the real local server ---------------------------------------------------------------


def test_get_json_text_and_bytes(server: LocalServer, fetcher: Fetcher) -> None:
    server.json("/doc.json", {"id": "x", "n": [1, 2]}, content_type="application/did+json")
    server.routes["/note.txt"] = Route(body="근로계약".encode(), content_type="text/plain; charset=utf-8")
    server.routes["/list"] = Route(body=b"\x1f\x8b raw", content_type="application/statuslist+jwt")
    assert fetcher.get_json(server.base + "/doc.json") == {"id": "x", "n": [1, 2]}
    assert fetcher.get_text(server.base + "/note.txt") == "근로계약"
    assert fetcher.get_bytes(server.base + "/list", "application/statuslist+jwt") == b"\x1f\x8b raw"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Route(body=b"<html></html>", content_type="text/html"), "content type text/html"),
        (Route(body=b"[1, 2]"), "not a JSON object"),
        (Route(body=b"{'a': 1}"), "not valid JSON"),
        (Route(body=b'{"a": NaN}'), "not valid JSON"),
        (Route(body=b"\xff\xfe{}"), "not valid JSON"),
        (Route(body=b"[" * 100_000 + b"]" * 100_000), "not valid JSON|not a JSON object|larger than"),
        (Route(status=404), "HTTP 404"),
        (Route(status=500), "HTTP 500"),
        (Route(headers={"Content-Encoding": "gzip"}), "compressed"),
    ],
)
def test_bad_json_responses(server: LocalServer, fetcher: Fetcher, route: Route, reason: str) -> None:
    server.routes["/bad"] = route
    with pytest.raises(FetchError, match=reason):
        fetcher.get_json(server.base + "/bad")


def test_content_type_mismatch_for_bytes(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/x"] = Route(body=b"{}", content_type="application/json")
    with pytest.raises(FetchError, match="expected application/vc"):
        fetcher.get_bytes(server.base + "/x", "application/vc")


def test_declared_oversize_refused(server: LocalServer) -> None:
    server.routes["/big"] = Route(body=b"x" * 2048)
    with Fetcher([server.host], allow_http_loopback=True, max_bytes=1024) as f:
        with pytest.raises(FetchError, match="larger than 1024 bytes"):
            f.get_json(server.base + "/big")


def test_oversize_stream_is_cut_while_streaming(server: LocalServer) -> None:
    total = 64 * 1024 * 1024
    server.routes["/endless"] = Route(stream_bytes=total)
    with Fetcher([server.host], allow_http_loopback=True, max_bytes=256 * 1024) as f:
        start = time.monotonic()
        with pytest.raises(FetchError, match="larger than 262144 bytes"):
            f.get_json(server.base + "/endless")
        assert time.monotonic() - start < 3
    # the client hung up long before the server could send it all
    time.sleep(0.2)
    assert server.streamed < total // 4


def test_slow_server_times_out_within_the_read_timeout(server: LocalServer) -> None:
    server.json("/slow", {"late": True}, delay=3.0)
    with Fetcher([server.host], allow_http_loopback=True, read_timeout=0.4) as f:
        start = time.monotonic()
        with pytest.raises(FetchError, match="did not answer in time"):
            f.get_json(server.base + "/slow")
        assert time.monotonic() - start < 1.5


def test_redirect_within_allow_list_is_followed(server: LocalServer, fetcher: Fetcher) -> None:
    server.json("/final", {"ok": 1})
    server.routes["/a"] = Route(status=302, headers={"Location": "/b"})
    server.routes["/b"] = Route(status=301, headers={"Location": server.base + "/final"})
    assert fetcher.get_json(server.base + "/a") == {"ok": 1}


def test_redirect_to_a_disallowed_host_is_refused(server: LocalServer, fetcher: Fetcher) -> None:
    # localhost is the same machine, but not what the allow-list names
    server.routes["/r"] = Route(status=302, headers={"Location": f"http://localhost:{server.port}/final"})
    server.json("/final", {"ok": 1})
    with pytest.raises(
        FetchError, match="redirect from .* refused: host localhost:.* not in the .*allow-list"
    ):
        fetcher.get_json(server.base + "/r")
    assert "/final" not in server.hits


@pytest.mark.parametrize(
    "location",
    ["https://evil.example/x", "ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "http://10.0.0.1/x"],
)
def test_redirect_rules_are_rechecked(server: LocalServer, fetcher: Fetcher, location: str) -> None:
    server.routes["/r"] = Route(status=307, headers={"Location": location})
    with pytest.raises(FetchError, match="redirect from .* refused"):
        fetcher.get_json(server.base + "/r")


def test_at_most_three_redirects(server: LocalServer, fetcher: Fetcher) -> None:
    for i in range(5):
        server.routes[f"/r{i}"] = Route(status=302, headers={"Location": f"/r{i + 1}"})
    server.json("/r5", {"ok": 1})
    server.json("/r2", {"ok": 2})
    server.routes["/s0"] = Route(status=302, headers={"Location": "/s1"})
    server.routes["/s1"] = Route(status=302, headers={"Location": "/s2"})
    server.routes["/s2"] = Route(status=302, headers={"Location": "/s3"})
    server.json("/s3", {"ok": 3})
    assert fetcher.get_json(server.base + "/s0") == {"ok": 3}  # three redirects: fine
    server.routes["/r2"] = Route(status=302, headers={"Location": "/r3"})
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetcher.get_json(server.base + "/r0")
    assert "/r5" not in server.hits


# -- cache ------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_honours_max_age(server: LocalServer) -> None:
    clock = Clock()
    server.json("/d", {"v": 1}, headers={"Cache-Control": "public, max-age=60"})
    with Fetcher([server.host], allow_http_loopback=True, clock=clock) as f:
        url = server.base + "/d"
        assert f.get_json(url) == {"v": 1}
        clock.now += 59
        assert f.get_json(url) == {"v": 1}
        assert server.hits["/d"] == 1
        clock.now += 2
        server.json("/d", {"v": 2})
        assert f.get_json(url) == {"v": 2}
        assert server.hits["/d"] == 2


def test_cache_caps_max_age_and_respects_no_store(server: LocalServer) -> None:
    clock = Clock()
    server.json("/long", {"v": 1}, headers={"Cache-Control": "max-age=31536000"})
    server.json("/never", {"v": 1}, headers={"Cache-Control": "no-store"})
    with Fetcher([server.host], allow_http_loopback=True, clock=clock, max_ttl=100) as f:
        f.get_json(server.base + "/long")
        f.get_json(server.base + "/never")
        f.get_json(server.base + "/never")
        assert server.hits["/never"] == 2
        clock.now += 101
        f.get_json(server.base + "/long")
        assert server.hits["/long"] == 2


def test_cache_keeps_at_most_max_entries(server: LocalServer) -> None:
    for name in "abc":
        server.json(f"/{name}", {"n": name})
    with Fetcher([server.host], allow_http_loopback=True, cache_entries=2) as f:
        for name in "abc":
            f.get_json(f"{server.base}/{name}")
        f.get_json(f"{server.base}/c")
        f.get_json(f"{server.base}/b")
        f.get_json(f"{server.base}/a")  # evicted as the oldest
        assert server.hits == {"/a": 2, "/b": 1, "/c": 1}


def test_injected_client_with_transport() -> None:
    """A caller-supplied client (here an httpx transport) goes through the same checks."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept-encoding"] == "identity"
        return httpx.Response(
            200, json={"via": request.url.host}, headers={"Content-Type": "application/json"}
        )

    client = httpx.Client(transport=httpx.MockTransport(handler))
    f = Fetcher(["*.seoul.go.kr"], client=client)
    assert f.get_json("https://data.seoul.go.kr/x") == {"via": "data.seoul.go.kr"}
    with pytest.raises(FetchError, match="allow-list"):
        f.get_json("https://example.com/x")
    client.close()
