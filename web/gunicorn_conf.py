"""gunicorn settings shared by every role (`gunicorn -c python:web.gunicorn_conf ...`).

- the worker class `web.server.Worker` (uvicorn, with deadlines on the request head and body: slow
  clients cost a coroutine, never a worker);
- keep-alive 5 s, heartbeat 30 s, 20 s to finish in-flight requests on SIGTERM;
- JSON logs on stderr (web.logs), no access lines with raw paths;
- Prometheus multiprocess mode: each worker writes its counters under PROMETHEUS_MULTIPROC_DIR
  (a fresh temporary folder unless set), and a scrape of any worker reports them all.

A role's own file adds to this (`verifier/gunicorn_conf.py` pins workers to cores).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from web.logs import LOGGING

worker_class = "web.server.Worker"
keepalive = 5
timeout = 30
graceful_timeout = 20
logconfig_dict = LOGGING
accesslog = None
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): every role on
# the host would share it; none of ours uses it
control_socket_disable = True

def on_starting(server: Any) -> None:
    """In the master, before any worker exists (and imports prometheus_client, so that every metric
    is created in multiprocess mode): the metrics folder, emptied so that an earlier run's workers do
    not add up into this one."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="workcred-metrics-")
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if name.endswith(".db"):
                os.unlink(path)
            elif os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
