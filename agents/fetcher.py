"""The one fetcher every remote read of a verifier goes through.

DID documents, status lists, registry proofs and presentations published by a holder are fetched here
and nowhere else, so that one place enforces: an allow-list of hosts, HTTPS (plain HTTP only for
loopback in development), no credentials in URLs, no IP literals outside loopback unless listed,
re-checked redirects (at most 3), connect/read/total timeouts, a size cap enforced while streaming,
content-type checks, and a small TTL cache that honours ``Cache-Control: max-age`` up to a cap.
"""

from __future__ import annotations

import dataclasses
import email.message
import ipaddress
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from . import loader
from .errors import FetchError, InvalidCredential, ResourceLimit

__all__ = ["Fetcher", "HostRule", "TtlCache", "is_loopback_host"]

_REDIRECTS = {301, 302, 303, 307, 308}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DIGITS = re.compile(r"^[0-9]+$")
_JSON_TYPES = ("application/json", "application/*+json")
_MAX_URL = 2048


def _fail(en: str, ko: str, **details: Any) -> FetchError:
    return FetchError(en, message_ko=ko, **details)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1."""
    host = host.lower().strip("[]")
    if host == "localhost":
        return True
    ip = _ip(host)
    return ip is not None and ip.is_loopback


def _check_host_syntax(host: str) -> None:
    """Refuse host names the OS might read as something else (``127.1``, ``0x7f.0.0.1``, empty labels)."""
    if _ip(host) is not None:
        return
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels) or _DIGITS.match(labels[-1]):
        raise _fail(
            f"not a valid host name: {host!r}",
            f"올바른 호스트 이름이 아닙니다: {host!r}",
        )


@dataclass(frozen=True)
class HostRule:
    """One allow-list entry: an exact ``host[:port]`` or a suffix pattern ``*.example.com[:port]``.

    Without a port the rule matches the scheme's default port only (443, or 80 for loopback HTTP).
    A suffix pattern matches sub-domains, never the apex and never an IP literal.
    """

    host: str
    port: int | None
    suffix: bool

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        """Parse ``example.com``, ``example.com:8443``, ``*.seoul.go.kr``, ``127.0.0.1:8700``."""
        bad = _fail(f"bad allow-list entry {entry!r}", f"허용 목록 항목이 잘못되었습니다: {entry!r}")
        if not isinstance(entry, str) or not entry or entry != entry.strip() or "/" in entry or "@" in entry:
            raise bad
        suffix = entry.startswith("*.")
        body = entry[2:] if suffix else entry
        try:
            url = httpx.URL("https://" + body)
        except httpx.InvalidURL:
            raise bad from None
        host = url.raw_host.decode("ascii").lower()
        if not host or "*" in host:
            raise bad
        _check_host_syntax(host)
        if suffix and _ip(host) is not None:
            raise _fail(
                f"a suffix pattern cannot name an IP address: {entry!r}",
                f"접미사 패턴에는 IP 주소를 쓸 수 없습니다: {entry!r}",
            )
        port = url.port
        if port is None and body.endswith(":443"):
            port = 443  # httpx drops the default port; keep what the operator wrote
        return cls(host, port, suffix)

    def matches(self, host: str, port: int | None, default_port: int) -> bool:
        """True when ``host`` (lower-case ASCII) on ``port`` (None: the scheme's default) is covered."""
        if self.port is None and port not in (None, default_port):
            return False
        if self.port is not None and (port or default_port) != self.port:
            return False
        if self.suffix:
            return _ip(host) is None and host.endswith("." + self.host)
        return host == self.host


class TtlCache[K, V]:
    """A small thread-safe LRU map whose entries expire; the clock is injected (monotonic seconds)."""

    def __init__(self, max_entries: int, clock: Callable[[], float]) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if hit[0] <= self._clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: K, value: V, ttl: float) -> None:
        if ttl <= 0 or self.max_entries <= 0:
            return
        with self._lock:
            self._items[key] = (self._clock() + ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Fetcher:
    """GET remote JSON, bytes or text under the house rules; errors are always `FetchError`.

    ``allow`` lists hosts (``host[:port]`` or ``*.suffix[:port]``); nothing else is reachable, loopback
    included. ``allow_http_loopback`` permits plain HTTP to 127.0.0.0/8, ::1 and ``localhost`` (a
    development setting). ``client`` may be passed for tests; it must not follow redirects itself.
    ``clock`` is a monotonic clock in seconds, injected so cache expiry is testable.
    """

    def __init__(
        self,
        allow: Iterable[str] = (),
        *,
        allow_http_loopback: bool = False,
        connect_timeout: float = 3.0,
        read_timeout: float = 5.0,
        total_timeout: float = 15.0,
        max_bytes: int = 512 * 1024,
        max_redirects: int = 3,
        default_ttl: float = 300.0,
        max_ttl: float = 3600.0,
        cache_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
        client: httpx.Client | None = None,
        user_agent: str = "workcred-fetcher/0.1",
    ) -> None:
        self.rules = tuple(HostRule.parse(e) for e in allow)
        self.allow_http_loopback = allow_http_loopback
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self.cache_entries = cache_entries
        self._cache: TtlCache[tuple[str, str], tuple[bytes, str]] = TtlCache(cache_entries, clock)
        self._own_client = client is None
        # trust_env=False: proxies come from configuration, never silently from the environment
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
            ),
            follow_redirects=False,
            trust_env=False,
        )
        self._user_agent = user_agent

    # -- public API -------------------------------------------------------------------------------

    def get_json(self, url: str, accept: str = "application/json") -> dict[str, Any]:
        """GET ``url`` and return its JSON object; the response must be ``application/json`` or ``*+json``."""
        body, _ = self._get(url, accept, _JSON_TYPES)
        try:
            # the one parser of untrusted JSON (duplicate member names, depth, controls), within this cap
            value = loader.parse_json(body, dataclasses.replace(loader.DEFAULT_LIMITS, max_bytes=self.max_bytes))
        except (InvalidCredential, ResourceLimit) as e:
            raise _fail(
                f"the response from {url} is not valid JSON: {e.message}",
                f"{url} 의 응답이 올바른 JSON이 아닙니다: {e.message_ko}",
                url=url,
            ) from None
        if not isinstance(value, dict):
            raise _fail(
                f"the response from {url} is not a JSON object",
                f"{url} 의 응답이 JSON 객체가 아닙니다",
                url=url,
            )
        return value

    def get_bytes(self, url: str, accept: str | Iterable[str]) -> bytes:
        """GET ``url``; the response media type must match one of ``accept`` (``type/*`` allowed)."""
        types = (accept,) if isinstance(accept, str) else tuple(accept)
        if not types:
            raise ValueError("accept must name at least one media type")
        body, _ = self._get(url, ", ".join(types), types)
        return body

    def get_text(self, url: str, accept: str | Iterable[str] = ("text/*",)) -> str:
        """GET ``url`` as text (UTF-8 unless the response names another charset)."""
        types = (accept,) if isinstance(accept, str) else tuple(accept)
        body, content_type = self._get(url, ", ".join(types), types)
        charset = _media_params(content_type).get("charset", "utf-8")
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise _fail(
                f"the response from {url} is not text in {charset}",
                f"{url} 의 응답을 {charset} 텍스트로 읽을 수 없습니다",
                url=url,
            ) from None

    def check_url(self, url: str) -> httpx.URL:
        """Parse ``url`` and apply every rule that does not need the network; return the parsed URL."""
        if not isinstance(url, str) or not url:
            raise _fail("empty URL", "URL이 비어 있습니다")
        if len(url) > _MAX_URL:
            raise _fail("URL too long", "URL이 너무 깁니다")
        if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
            raise _fail(
                "URL contains spaces, control characters or backslashes",
                "URL에 공백, 제어 문자 또는 역슬래시가 있습니다",
            )
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise _fail(f"not a valid URL: {url}", f"올바른 URL이 아닙니다: {url}") from None
        if parsed.scheme not in ("https", "http"):
            raise _fail(
                f"only https URLs are fetched, not {parsed.scheme or 'relative'}: {url}",
                f"https URL만 가져올 수 있습니다: {url}",
            )
        if parsed.userinfo:
            raise _fail(
                "URLs with user names or passwords are refused",
                "사용자 이름이나 비밀번호가 들어 있는 URL은 거부합니다",
            )
        host = parsed.raw_host.decode("ascii").lower()
        if not host:
            raise _fail(f"URL has no host: {url}", f"URL에 호스트가 없습니다: {url}")
        _check_host_syntax(host)
        loopback = is_loopback_host(host)
        if parsed.scheme == "http" and not (loopback and self.allow_http_loopback):
            raise _fail(
                f"plain http is refused (https only; http only for loopback in development): {url}",
                f"http는 허용되지 않습니다(https만 가능, 개발 모드의 루프백만 예외): {url}",
            )
        port, default_port = parsed.port, (443 if parsed.scheme == "https" else 80)
        rules = self.rules
        ip = _ip(host)
        if ip is not None and not loopback:
            # an IP literal is reachable only when listed exactly, never through a suffix pattern
            rules = tuple(r for r in rules if not r.suffix and r.host == host)
            if not rules:
                raise _fail(
                    f"IP address {host} is not allowed; name it in the allow-list to reach it",
                    f"IP 주소 {host} 는 허용 목록에 없어 접근할 수 없습니다",
                )
        shown = f"{host}:{port}" if parsed.port else host
        if not any(r.matches(host, port, default_port) for r in rules):
            raise _fail(
                f"host {shown} is not in the fetcher's allow-list",
                f"호스트 {shown} 는 허용 목록에 없습니다",
                host=shown,
            )
        return parsed

    def clear_cache(self) -> None:
        self._cache.clear()

    def close(self) -> None:
        """Close the HTTP client if this fetcher created it."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- machinery --------------------------------------------------------------------------------

    def _get(self, url: str, accept: str, types: tuple[str, ...]) -> tuple[bytes, str]:
        current = self.check_url(url)
        key = (str(current), accept)
        hit = self._cache.get(key)
        if hit is not None:
            return hit

        deadline = time.monotonic() + self.total_timeout
        for _ in range(self.max_redirects + 1):
            location, body, content_type, ttl = self._request(current, accept, deadline)
            if location is None:
                break
            try:
                target = current.join(location)
            except httpx.InvalidURL:
                raise _fail("a redirect names an invalid URL", "리디렉션 주소가 잘못되었습니다") from None
            try:
                current = self.check_url(str(target))
            except FetchError as e:
                raise _fail(
                    f"redirect from {url} refused: {e.message}",
                    f"{url} 의 리디렉션을 거부했습니다: {e.message_ko}",
                    url=url,
                ) from None
        else:
            raise _fail(
                f"more than {self.max_redirects} redirects from {url}",
                f"{url} 에서 리디렉션이 {self.max_redirects}번을 넘었습니다",
                url=url,
            )

        media = content_type.split(";", 1)[0].strip().lower()
        if not any(_media_matches(media, t) for t in types):
            raise _fail(
                f"{url} answered with content type {media or 'none'}, expected {', '.join(types)}",
                f"{url} 의 응답 형식({media or '없음'})이 기대한 형식({', '.join(types)})이 아닙니다",
                url=url,
            )
        self._cache.put(key, (body, content_type), ttl)
        return body, content_type

    def _request(self, url: httpx.URL, accept: str, deadline: float) -> tuple[str | None, bytes, str, float]:
        """One GET: (redirect location or None, body, content type, cache ttl in seconds)."""
        headers = {"Accept": accept, "Accept-Encoding": "identity", "User-Agent": self._user_agent}
        shown = str(url)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise _fail(
                            f"{shown} redirected without a Location", f"{shown} 의 리디렉션에 주소가 없습니다"
                        )
                    return location, b"", "", 0.0
                if response.status_code != 200:
                    raise _fail(
                        f"{shown} answered HTTP {response.status_code}",
                        f"{shown} 가 HTTP {response.status_code} 로 응답했습니다",
                        url=shown,
                        status=response.status_code,
                    )
                encoding = response.headers.get("content-encoding", "identity").strip().lower()
                if encoding not in ("", "identity"):
                    # decompression would let a small body expand past the cap before we can count it
                    raise _fail(
                        f"{shown} sent a compressed body ({encoding}) although identity was asked for",
                        f"{shown} 가 요청하지 않은 압축({encoding})으로 응답했습니다",
                        url=shown,
                    )
                declared = response.headers.get("content-length")
                if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
                    raise self._too_large(shown)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():  # identity only (checked above), so bytes == raw
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self._too_large(shown)
                    if time.monotonic() > deadline:
                        raise self._timed_out(shown)
                    chunks.append(chunk)
                ttl = self._ttl(response.headers.get("cache-control"))
                return None, b"".join(chunks), response.headers.get("content-type", ""), ttl
        except httpx.TimeoutException:
            raise self._timed_out(shown) from None
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as e:
            raise _fail(
                f"cannot fetch {shown}: {type(e).__name__}",
                f"{shown} 를 가져올 수 없습니다({type(e).__name__})",
                url=shown,
            ) from None

    def _too_large(self, shown: str) -> FetchError:
        return _fail(
            f"the response from {shown} is larger than {self.max_bytes} bytes",
            f"{shown} 의 응답이 {self.max_bytes} 바이트를 넘습니다",
            url=shown,
        )

    def _timed_out(self, shown: str) -> FetchError:
        return _fail(f"{shown} did not answer in time", f"{shown} 가 제시간에 응답하지 않았습니다", url=shown)

    def _ttl(self, cache_control: str | None) -> float:
        """Seconds to keep a response: ``max-age`` capped at ``max_ttl``; 0 for no-store/no-cache."""
        if cache_control is None:
            return min(self.default_ttl, self.max_ttl)
        directives = {}
        for part in cache_control.split(","):
            name, _, value = part.strip().partition("=")
            directives[name.strip().lower()] = value.strip().strip('"')
        if "no-store" in directives or "no-cache" in directives:
            return 0.0
        max_age = directives.get("max-age")
        if max_age is not None:
            return float(min(int(max_age), self.max_ttl)) if max_age.isdigit() else 0.0
        return min(self.default_ttl, self.max_ttl)


def _media_matches(media: str, pattern: str) -> bool:
    """``application/did+json`` matches ``application/*+json``; ``text/plain`` matches ``text/*``."""
    pattern = pattern.split(";", 1)[0].strip().lower()
    if pattern in ("*/*", media):
        return True
    ptype, _, psub = pattern.partition("/")
    mtype, _, msub = media.partition("/")
    if ptype != mtype:
        return False
    if psub == "*":
        return True
    return psub.startswith("*+") and msub.endswith(psub[1:])


def _media_params(content_type: str) -> dict[str, str]:
    msg = email.message.Message()
    msg["content-type"] = content_type or "application/octet-stream"
    return {k.lower(): v for k, v in msg.get_params(failobj=[])[1:]}
