"""In-memory sliding-window rate limits keyed by client and route (login, one-time codes).

One process only: with several gunicorn workers each worker counts on its own, so a limit of N
per worker allows up to N x workers; put a shared limit at the reverse proxy for production.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request

from agents.errors import Error

EXTENSION = "workcred.ratelimit"


class RateLimited(Error):
    """Too many attempts from one client on one route within the window."""

    code = "rate-limited"
    http_status = 429

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(
            f"Too many attempts. Try again in {seconds} seconds.",
            message_ko=f"시도 횟수가 너무 많습니다. {seconds}초 뒤에 다시 시도하세요.",
            retry_after=seconds,
        )
        self.retry_after = seconds


class SlidingWindowLimiter:
    """At most `limit` hits per `window` seconds for each key; the clock is passed in for tests."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Record a hit; 0.0 when allowed, else the seconds until the next hit would be allowed."""
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._prune(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0

    def reset(self, key: str) -> None:
        """Forget a key (e.g. after a successful login)."""
        with self._lock:
            self._hits.pop(key, None)

    def _prune(self, now: float) -> None:
        # keeps memory bounded under a flood of distinct clients: drop idle keys, then the oldest
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
        while len(self._hits) >= self.max_keys:
            del self._hits[next(iter(self._hits))]


def client_key() -> str:
    """The client's address (set WORKCRED_<ROLE>_TRUSTED_PROXIES so ProxyFix gives the real one)."""
    return request.remote_addr or "unknown"


def limiter_for(app: Flask, name: str, limit: int, window: float) -> SlidingWindowLimiter:
    """The app's limiter called `name`; `app.config["RATE_LIMITS"][name] = (limit, window)` overrides."""
    limiters: dict[str, SlidingWindowLimiter] = app.extensions.setdefault(EXTENSION, {})
    if name not in limiters:
        limit, window = app.config.get("RATE_LIMITS", {}).get(name, (limit, window))
        limiters[name] = SlidingWindowLimiter(int(limit), float(window))
    return limiters[name]


def rate_limit[F: Callable[..., Any]](
    limit: int, per: float, *, name: str | None = None, key: Callable[[], str] = client_key
) -> Callable[[F], F]:
    """Limit a view to `limit` requests per `per` seconds per client; over it, a 429 problem.

    `name` (default: the view's endpoint) selects the limiter, so routes can share one; set
    `app.config["RATE_LIMITS_ENABLED"] = False` to switch every limit off (load tests).
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            if app.config.get("RATE_LIMITS_ENABLED", True):
                scope = name or request.endpoint or view.__name__
                wait = limiter_for(app, scope, limit, per).hit(f"{key()}|{scope}")
                if wait > 0:
                    raise RateLimited(wait)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
