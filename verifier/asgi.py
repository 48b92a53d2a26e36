"""The verifier as an ASGI app, the way production serves it:

    gunicorn -w 2 -k uvicorn_worker.UvicornWorker 'verifier.asgi:create_asgi_app()'

The two VC-API verification routes (`POST /credentials/verify`, `POST /presentations/verify`) are
answered here, without Flask's request machinery: that machinery cost more than the verification
itself (BENCHMARKS.md). They run the very code the Flask routes run (`verifier.api.answer`), so both
answer alike, byte for byte. Everything else (the employer's pages, OpenID4VP, the OpenAPI document,
and any request that is not a plain machine call: a query string, a cookie, a body over the cap,
a browser) goes to the Flask app through a2wsgi, in a thread pool. Unusable input is answered here with
the problem-details body Flask's handler writes (`web.problems.problem_json`), never run twice.

A verification is CPU work of a few milliseconds at most (the loader's limits bound it), so the core
profile runs it on the worker's event loop, one at a time per worker like a sync worker. The city
profile may have to fetch (status lists, the trust list, checkpoints), so it runs in a thread instead
and never stalls the loop on the network.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from a2wsgi import WSGIMiddleware
from flask import Flask

from agents.errors import Error
from web import metrics
from web.config import MAX_BODY_BYTES, RoleConfig
from web.factory import security_headers
from web.i18n import DEFAULT_LANG
from web.problems import problem_json
from web.server import lifespan, replay

from .api import ROUTES, answer
from .app import create_app
from .service import VerifierService

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: threads for Flask's routes (pages, OpenID4VP) per worker
WSGI_THREADS = 8


class VerifierASGI:
    """The ASGI application: the VC-API fast path, and the Flask app for everything else."""

    def __init__(self, flask_app: Flask, *, wsgi_threads: int = WSGI_THREADS) -> None:
        self.flask = flask_app
        self.service: VerifierService = flask_app.extensions["verifier"]
        self._wsgi = WSGIMiddleware(flask_app, workers=wsgi_threads)  # type: ignore[arg-type]
        config: RoleConfig = flask_app.config["WORKCRED"]
        self._headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in security_headers(config)]
        # what Flask's after-request hooks add to the same answer (web.i18n: no cookie and no ?lang=, so Korean)
        common = [(b"cache-control", b"no-store"), (b"vary", b"Cookie"), (b"content-language", DEFAULT_LANG.encode())]
        self._problem_headers = [*self._headers, *common, (b"content-type", b"application/problem+json")]
        self._headers += [*common, (b"content-type", b"application/json")]
        self._routes = dict(ROUTES)
        #: read on the event loop by `_verify` itself: web.server.Guard passes them through unbuffered
        self.direct_paths = frozenset(ROUTES)
        self._inline = self.service.settings.profile == "core"
        self._pool: ThreadPoolExecutor | None = None if self._inline else ThreadPoolExecutor(4, thread_name_prefix="verify")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self._routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is not None and scope["method"] == "POST" and not scope.get("query_string"):
            await self._verify(kind, scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._wsgi(scope, receive, send)  # type: ignore[arg-type]

    async def _verify(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        for name, value in scope["headers"]:
            # a body over the cap: Flask answers 413; a cookie (a browser: language, session): Flask's hooks apply
            # a browser (Accept: text/html) gets Flask's HTML error page should its input be unusable
            if (name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY_BYTES)) or name == b"cookie" or (name == b"accept" and b"text/html" in value):
                await self._wsgi(scope, receive, send)  # type: ignore[arg-type]
                return
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size <= MAX_BODY_BYTES:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        if more:  # over the cap without a Content-Length: Flask refuses it with the usual problem
            await self._wsgi(scope, replay(raw, True, receive), send)  # type: ignore[arg-type]
            return
        try:
            if self._inline:
                status, body = answer(self.service, kind, raw)
            else:
                loop = asyncio.get_running_loop()
                status, body = await loop.run_in_executor(self._pool, answer, self.service, kind, raw)
        except Error as e:
            # unusable input: answered here, once, with the body Flask's handler writes (the request
            # carries no cookie and no ?lang=, so Korean); a bug is not caught: it must not look like a 4xx
            status, body = e.http_status, orjson.dumps(problem_json(e, DEFAULT_LANG))
            headers = [*self._problem_headers, (b"content-length", str(len(body)).encode("ascii"))]
            retry_after = e.details.get("retry_after")
            if isinstance(retry_after, int):
                headers.append((b"retry-after", str(retry_after).encode("ascii")))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            metrics.observe_request("verifier", scope["path"], "POST", status, time.perf_counter() - started)
            return
        headers = [*self._headers, (b"content-length", str(len(body)).encode("ascii"))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        metrics.observe_request("verifier", scope["path"], "POST", status, time.perf_counter() - started)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await lifespan(receive, send, self.close)

    def close(self) -> None:
        """Write the queued audit rows and release connections (a worker's graceful shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.service.close()


def create_asgi_app(config: RoleConfig | None = None, **service_options: Any) -> VerifierASGI:
    """The production entry point (see the module docstring); settings as for `verifier.app.create_app`."""
    return VerifierASGI(create_app(config, **service_options))
