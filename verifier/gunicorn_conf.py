"""gunicorn settings for the verifier (`gunicorn -c python:verifier.gunicorn_conf ...`): web.gunicorn_conf's, and:

One worker per core, each pinned to its own core: a worker that stays on one core keeps its caches
warm between requests, and no request waits for a wake-up on another core. Measured here (2 cores,
BENCHMARKS.md): a verification at concurrency 1 answered in 0.35-0.40 ms pinned against 0.43-0.50 ms
unpinned. `WORKCRED_VERIFIER_PIN_WORKERS=0` turns it off (e.g. when the host pins processes itself).
And once a worker has loaded the app, its long-lived objects are frozen out of the garbage collector.
"""

from __future__ import annotations

import gc
import logging
import os
from collections import Counter
from typing import Any

from web.gunicorn_conf import *  # noqa: F403  (the shared settings: worker class, deadlines, logs, metrics)

log = logging.getLogger("gunicorn.error")

graceful_timeout = 20  # a worker's shutdown writes its queued audit rows (verifier/audit.py)


def _cpus(pid: int) -> set[int]:
    try:
        return set(os.sched_getaffinity(pid))
    except OSError:  # the sibling has just exited
        return set()


def choose_cpu(allowed: set[int], siblings: list[set[int]]) -> int | None:
    """The allowed core with the fewest workers already pinned to it (None: nothing to choose)."""
    if len(allowed) < 2:
        return None
    pinned = Counter(next(iter(s)) for s in siblings if len(s) == 1)
    return min(sorted(allowed), key=lambda cpu: pinned[cpu])


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker: pin it to the least used core (a restarted worker takes its predecessor's)."""
    if os.environ.get("WORKCRED_VERIFIER_PIN_WORKERS", "1").strip() == "0" or not hasattr(os, "sched_setaffinity"):
        return
    allowed = _cpus(0)
    siblings = [_cpus(pid) for pid in list(server.WORKERS) if pid != os.getpid()]
    cpu = choose_cpu(allowed, siblings)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
        log.info("verifier worker %s pinned to CPU %s", os.getpid(), cpu)


def post_worker_init(worker: Any) -> None:
    """The app is loaded: its objects (modules, contexts, schemas, the Flask app) live as long as the
    worker, so keep them out of the collector's walks, and collect a request's short-lived objects in
    larger batches (measured: about 3% more verifications per second at concurrency 1)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 50)
