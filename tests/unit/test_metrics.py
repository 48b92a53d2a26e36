"""web.metrics: the buffered tally writes exactly what plain prometheus observe()/inc() calls write
(the fast path held to its plain twin), and a role's scrape-time gauges appear in the exposition."""

from __future__ import annotations

import random

from flask import Flask
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

from web import metrics


def _lines(text: bytes, prefix: str) -> list[str]:
    return sorted(line for line in text.decode().splitlines() if line.startswith(prefix) and "_created" not in line)


def test_tally_equals_plain_observe() -> None:
    plain = CollectorRegistry()
    requests = Counter("workcred_http_requests_total", "x", ["role", "route", "method", "status"], registry=plain)
    latency = Histogram("workcred_http_request_duration_seconds", "x", ["role", "route", "method"], buckets=metrics._BUCKETS, registry=plain)
    rng = random.Random(7)
    before = generate_latest(REGISTRY)
    samples = [(rng.choice(["/a", "/b/<int:n>"]), rng.choice([200, 404]), rng.choice([0.0004, 0.001, 0.003, 0.2, 7.0, 30.0, rng.random()])) for _ in range(500)]
    for route, status, seconds in samples:
        metrics.observe_request("test-tally", route, "GET", status, seconds)
        requests.labels("test-tally", route, "GET", str(status)).inc()
        latency.labels("test-tally", route, "GET").observe(seconds)
    metrics._tally.flush()
    ours = generate_latest(REGISTRY)
    assert ours != before
    for name in ("workcred_http_requests_total{", "workcred_http_request_duration_seconds_bucket{", "workcred_http_request_duration_seconds_count{"):
        mine = [line for line in _lines(ours, name) if 'role="test-tally"' in line]
        theirs = _lines(generate_latest(plain), name)
        assert mine == theirs
    [mine_sum] = [line for line in _lines(ours, "workcred_http_request_duration_seconds_sum{") if 'role="test-tally"' in line and 'route="/a"' in line]
    [their_sum] = [line for line in _lines(generate_latest(plain), "workcred_http_request_duration_seconds_sum{") if 'route="/a"' in line]
    assert abs(float(mine_sum.rsplit(" ", 1)[1]) - float(their_sum.rsplit(" ", 1)[1])) < 1e-9


def test_scrape_time_gauges() -> None:
    app = Flask("t")
    metrics.add_collector(app, "workcred_job_queue_depth", "rows waiting", lambda: [({"kind": "offer"}, 3.0), ({"kind": "countersign"}, 0.0)])
    text = metrics.exposition(app).decode()
    assert 'workcred_job_queue_depth{kind="offer"} 3.0' in text
    assert 'workcred_job_queue_depth{kind="countersign"} 0.0' in text


def test_gunicorn_master_imports_leave_prometheus_alone() -> None:
    """gunicorn's master loads the config and the worker class before `on_starting` names the metrics
    folder: if either imported prometheus_client, every worker would count on its own."""
    import subprocess
    import sys

    code = "import web.gunicorn_conf, verifier.gunicorn_conf, web.server, sys; print('prometheus_client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
