"""The production HTTP server of every role: gunicorn with this uvicorn worker (`web.gunicorn_conf`).

Why not gunicorn's sync or thread workers: they give a whole worker (or thread) to each connection
while it sends its request, so 50 connections that send their headers one byte at a time
(slowloris) took the registry's `gunicorn -w 4` offline, and a body shorter than its
Content-Length held a connection for more than 300 s. Here connections wait on the event loop,
which costs a few kilobytes each, and nothing of the app runs until the whole request is in:

- **head deadline** (`HEAD_TIMEOUT`, 10 s): from the connection (or the first byte of a keep-alive
  request) to the end of the headers; then 408 and the connection is closed;
- **body deadline** (`BODY_IDLE`, 10 s between two reads, `BODY_TIMEOUT`, 60 s in all: a phone on
  slow 3G sends the 2 MB cap in about 40 s): a client that stops short of its Content-Length gets
  408 and the connection is closed (both in `GuardedHttpTools`, a timer per request);
- `Guard` reads the whole body before a Flask role sees the request, so a slow body never holds one
  of its threads;
- idle keep-alive connections close after gunicorn's `keepalive` (5 s in web.gunicorn_conf).

This module and web.gunicorn_conf are loaded by gunicorn's master before `on_starting` names the
metrics folder: neither may import prometheus_client (through web.factory), or the workers would
count in memory, each on its own (`tests/integration/test_health_metrics.py` sums two workers).

A Flask (WSGI) role runs in a thread pool behind a2wsgi; the verifier's ASGI app is wrapped as it
is. Lifespan: at a graceful shutdown (SIGTERM) every extension of a Flask role with a `close()`
runs (the registry's checkpoint timer, connection pools), as `make run` does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

from .config import MAX_BODY_BYTES

log = logging.getLogger("workcred.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEAD_TIMEOUT = 10.0
BODY_TIMEOUT = 60.0
BODY_IDLE = 10.0
#: threads per worker for a Flask role (a2wsgi's pool)
WSGI_THREADS = 16

_TIMEOUT_BODY = (
    '{"type":"about:blank","title":"Request Timeout","status":408,'
    '"detail":"요청이 제시간에 도착하지 않았습니다. 다시 보내 주세요. (The request did not arrive in time: send it again.)"}'
).encode()
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\nconnection: close\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY
)


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines on the request head and body."""

    _head_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None
    _body_deadline = 0.0
    _body_seen = 0.0

    # -- the head: from the connection (or a keep-alive request's first byte) to the end of the headers

    def _arm_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._timed_out)

    def _disarm(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        if any(name in (b"content-length", b"transfer-encoding") and value not in (b"0", b"") for name, value in self.headers):
            now = self.loop.time()
            self._body_deadline, self._body_seen = now + BODY_TIMEOUT, now
            self._body_timer = self.loop.call_later(BODY_IDLE, self._body_check)

    # -- the body: at most BODY_IDLE between two reads, BODY_TIMEOUT in all (one timer per request:
    # a read only notes the time, the timer looks when it fires)

    def on_body(self, body: bytes) -> None:
        self._body_seen = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _body_check(self) -> None:
        now = self.loop.time()
        due = min(self._body_seen + BODY_IDLE, self._body_deadline)
        if now < due:
            self._body_timer = self.loop.call_later(due - now, self._body_check)
        else:
            self._timed_out()

    def _timed_out(self) -> None:
        self._head_timer = self._body_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()  # the app's pending receive() now gets http.disconnect

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class Guard:
    """ASGI middleware: the app sees a request only once its whole body is in (up to the cap).

    A Flask role answers in a thread of a2wsgi's pool; without this, a client that sends its body
    slowly would hold one of those threads until the body deadline. The deadlines themselves are
    the protocol's (`GuardedHttpTools`): a stalled body ends as `http.disconnect` and the app never
    runs. Requests to `direct_paths` (the verifier's VC-API routes, which read their small bodies on
    the event loop themselves) go straight through.
    """

    def __init__(self, app: ASGIApp, *, direct_paths: frozenset[str] = frozenset(), on_shutdown: Callable[[], None] | None = None) -> None:
        self.app = app
        self.direct_paths = direct_paths
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan" and self.on_shutdown is not None:
                await self._lifespan(receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD") or self._direct(scope):
            await self.app(scope, receive, send)
            return
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            # over the cap (or nonsense): the app refuses it from the headers alone, without reading
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size <= MAX_BODY_BYTES:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left, or the body deadline closed the connection
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        await self.app(scope, replay(b"".join(chunks), more, receive), send)

    def _direct(self, scope: Scope) -> bool:
        """A plain machine call to a direct path (a browser's, with a cookie, goes to Flask: buffered)."""
        return (
            scope["path"] in self.direct_paths and scope["method"] == "POST" and not scope.get("query_string")
            and not any(name == b"cookie" for name, _ in scope["headers"])
        )  # fmt: skip

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        assert self.on_shutdown is not None
        await lifespan(receive, send, self.on_shutdown)


async def lifespan(receive: Receive, send: Send, on_shutdown: Callable[[], None]) -> None:
    """Answer the ASGI lifespan protocol; at shutdown run `on_shutdown` (release what the app holds)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                on_shutdown()
            finally:
                await send({"type": "lifespan.shutdown.complete"})
            return


def replay(raw: bytes, more: bool, receive: Receive) -> Receive:
    """A `receive` that hands out the body already read, then whatever the client still sends."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": raw, "more_body": more}
        return await receive()

    return replayed


def guard(app: Any) -> ASGIApp:
    """The role app as the guarded ASGI app the worker serves (Flask apps through a2wsgi)."""
    if hasattr(app, "wsgi_app"):  # a Flask role
        from a2wsgi import WSGIMiddleware

        from .factory import close_app

        return Guard(WSGIMiddleware(app, workers=WSGI_THREADS), on_shutdown=lambda: close_app(app))  # type: ignore[arg-type]
    return Guard(app, direct_paths=frozenset(getattr(app, "direct_paths", ())))


class Worker(UvicornWorker):  # type: ignore[misc]
    """gunicorn worker class of every role (`worker_class` in web.gunicorn_conf)."""

    CONFIG_KWARGS = {"loop": "auto", "http": GuardedHttpTools, "lifespan": "on"}

    async def _serve(self) -> None:
        self.wsgi: Any = guard(self.wsgi)
        await super()._serve()
