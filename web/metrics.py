"""Prometheus metrics of every role, defined once here (prometheus-client).

Series (what a city's monitoring scrapes from `GET /metrics` of each role):

| name | type | labels | what |
|---|---|---|---|
| `workcred_http_requests_total` | counter | role, route, method, status | answered requests, by URL rule (never the raw path: it may hold a token) |
| `workcred_http_request_duration_seconds` | histogram | role, route, method | time to answer |
| `workcred_issuances_total` | counter | kind | credentials issued (contract, career-record, certificate, vc-api, status-list, ...) |
| `workcred_verifications_total` | counter | kind, verdict | verifications answered (credential / presentation / oid4vp) by verdict |
| `workcred_job_queue_depth` | gauge | kind | rows waiting in bulk jobs (the issuer's collector, read at scrape time) |
| `workcred_checkpoint_age_seconds` | gauge | origin | seconds since the registry signed its latest checkpoint (read at scrape time) |

Request and verification counts are added up in the process and written once a second (`_Tally`):
cheap enough for the verifier's fast path. Under gunicorn
(`web.gunicorn_conf`) every worker writes its counters to files in `PROMETHEUS_MULTIPROC_DIR` and a
scrape of any worker sums them all; `make run` (one process) keeps them in memory.

Values that live in a database (queue depth, checkpoint age) are not pushed by whoever changes them:
the role registers a collector (`add_collector(app, fn)`) that reads them when scraped, so every
worker answers the same and nothing goes stale.
"""

from __future__ import annotations

import atexit
import hmac
import os
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, abort, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

#: what a role's collector returns: (labels, value) pairs of one gauge
GaugeSamples = Iterable[tuple[dict[str, str], float]]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("workcred_http_requests_total", "HTTP requests answered", ["role", "route", "method", "status"])
LATENCY = Histogram(
    "workcred_http_request_duration_seconds", "Time to answer an HTTP request", ["role", "route", "method"], buckets=_BUCKETS
)
ISSUANCES = Counter("workcred_issuances_total", "Credentials issued", ["kind"])
VERIFICATIONS = Counter("workcred_verifications_total", "Verifications answered", ["kind", "verdict"])

# label children looked up once per label set (labels() takes a lock and builds a key each call)
_children: dict[tuple[Any, ...], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


class _Tally:
    """Requests and verifications counted in plain Python and written to the metrics once a second.

    A multiprocess metric update takes a lock and writes a memory-mapped file (about 11 µs for a
    request's count and latency here): a tenth of a verification on the verifier's fast path.
    Adding to a dictionary costs about 1 µs; a daemon thread (one per worker, started on first use)
    moves the sums into the metrics every `FLUSH_SECONDS`, and a scrape or the process's exit
    flushes first. `tests/unit/test_metrics.py` holds the result to plain `observe()`/`inc()` calls.
    """

    FLUSH_SECONDS = 1.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str, str], int] = defaultdict(int)
        self._latency: dict[tuple[str, str, str], list[Any]] = {}
        self._verifications: dict[tuple[str, str], int] = defaultdict(int)
        self._pid = 0
        self._bounds: list[float] = list(LATENCY._upper_bounds)  # the buckets' bounds, +Inf last

    def request(self, role: str, route: str, method: str, status: int, seconds: float) -> None:
        bucket = bisect_left(self._bounds, seconds)
        with self._lock:
            self._requests[(role, route, method, str(status))] += 1
            entry = self._latency.get((role, route, method))
            if entry is None:
                entry = self._latency[(role, route, method)] = [0.0, [0] * len(self._bounds)]
            entry[0] += seconds
            entry[1][bucket] += 1
        self._started()

    def verification(self, kind: str, verdict: str) -> None:
        with self._lock:
            self._verifications[(kind, verdict)] += 1
        self._started()

    def _started(self) -> None:
        if self._pid != os.getpid():  # first use in this process (a gunicorn worker forks after import)
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="metrics-flush", daemon=True).start()
            atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        with self._lock:
            requests, self._requests = self._requests, defaultdict(int)
            latency, self._latency = self._latency, {}
            verifications, self._verifications = self._verifications, defaultdict(int)
        for request_labels, n in requests.items():
            _child(REQUESTS, *request_labels).inc(n)
        for latency_labels, (total, counts) in latency.items():
            child = _child(LATENCY, *latency_labels)
            child._sum.inc(total)
            for i, count in enumerate(counts):
                if count:
                    child._buckets[i].inc(count)
        for verification_labels, n in verifications.items():
            _child(VERIFICATIONS, *verification_labels).inc(n)


_tally = _Tally()


def issued(kind: str, n: int = 1) -> None:
    """Count `n` credentials of `kind` issued (the issuer calls this once per committed batch)."""
    _child(ISSUANCES, kind).inc(n)


def verified(kind: str, verdict: str) -> None:
    """Count one verification answered with `verdict` (`valid`, `revoked`, `tampered`, ...)."""
    _tally.verification(kind, verdict)


def observe_request(role: str, route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency (the Flask hooks below and the ASGI fast paths)."""
    _tally.request(role, route, method, status, seconds)


def add_collector(app: Flask, name: str, help_text: str, fn: Callable[[], GaugeSamples]) -> None:
    """A gauge read at scrape time from the role's own state (e.g. the database)."""
    app.extensions.setdefault("workcred_collectors", []).append((name, help_text, fn))


class _Collected:
    """The role's scrape-time gauges as a prometheus collector."""

    def __init__(self, gauges: list[tuple[str, str, Callable[[], GaugeSamples]]]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterable[Metric]:
        for name, help_text, fn in self.gauges:
            samples = list(fn())
            labels = sorted({k for sample_labels, _ in samples for k in sample_labels})
            family = GaugeMetricFamily(name, help_text, labels=labels)
            for sample_labels, value in samples:
                family.add_metric([sample_labels.get(k, "") for k in labels], value)
            yield family


def exposition(app: Flask) -> bytes:
    """Every series of this role: all workers' counters (multiprocess) or this process's, then the
    role's scrape-time gauges."""
    _tally.flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
        out = generate_latest(counted)
    else:
        from prometheus_client import REGISTRY

        out = generate_latest(REGISTRY)
    gauges = app.extensions.get("workcred_collectors", [])
    if gauges:
        scraped = CollectorRegistry()
        scraped.register(_Collected(gauges))
        out += generate_latest(scraped)
    return out


def install(app: Flask, role: str, token: str | None = None) -> None:
    """`GET /metrics` (bearer `token` when set) and per-request counting for a Flask role app."""

    @app.before_request
    def _start() -> None:
        g.workcred_started = time.perf_counter()

    @app.after_request
    def _count(resp: Response) -> Response:
        started = g.pop("workcred_started", None)
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
            observe_request(role, rule, request.method, resp.status_code, time.perf_counter() - started)
        return resp

    @app.get("/metrics")
    def _metrics() -> Response:
        if token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                abort(401)
        return Response(exposition(app), mimetype=CONTENT_TYPE_LATEST)
