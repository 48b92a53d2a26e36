"""The `make run` supervisor: every role app on 127.0.0.1, one line per role, Ctrl-C stops them all.

    WORKCRED_DEV=1 .venv/bin/python -m workcred.run [--roles registry,issuer]

Each role is `<package>/app.py: create_app(config)`, served by werkzeug's threaded server in a
thread of this process (production runs one gunicorn per role instead: see README.md). Databases
default to SQLite files in $WORKCRED_DATA_DIR (./var); each app migrates its own on start. Ports
come from WORKCRED_<ROLE>_PORT (defaults 8700-8703), and every role learns every other role's
public URL through WORKCRED_<ROLE>_BASE_URL, which this script sets when it is not set already.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from web.config import DEFAULT_PORTS, RoleConfig
from web.db import DEFAULT_DATA_DIR
from web.factory import close_app

from . import demo

#: role -> Python package holding `app.py`; the order is the start (and seeding) order
ROLES: dict[str, str] = {
    "registry": "registry",
    "issuer": "issuer",
    "wallet": "holder_wallet",
    "verifier": "verifier",
}


@dataclass
class Running:
    role: str
    package: str
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread


def say(line: str) -> None:
    print(line, flush=True)


def export_base_urls(roles: list[str]) -> None:
    """Set WORKCRED_<ROLE>_BASE_URL for every role so each app can link to the others."""
    for role in roles:
        prefix = f"WORKCRED_{role.upper()}_"
        port = os.environ.get(prefix + "PORT") or str(DEFAULT_PORTS[role])
        host = os.environ.get(prefix + "HOST") or "127.0.0.1"
        # browsers refuse an IP address as a passkey relying party: the wallet's and the staff console's
        # pages are served by name
        name = "localhost" if role in ("wallet", "issuer") and host == "127.0.0.1" else host
        os.environ.setdefault(prefix + "BASE_URL", f"http://{name}:{port}")


def start_role(role: str, package: str) -> Running | str:
    """Build and serve one role; a string says why it did not start."""
    try:
        module = importlib.import_module(f"{package}.app")
        create_app: Callable[[RoleConfig], Flask] = module.create_app
    except Exception as e:  # a role still being written must not stop the others
        return f"not started ({package}/app.py: {type(e).__name__}: {e})"
    try:
        config = RoleConfig.from_env(role)
        app = create_app(config)
    except Exception as e:
        return f"not started (create_app failed: {type(e).__name__}: {e})"
    try:
        # bind here: werkzeug's own bind failure calls sys.exit, which would end every role
        sock = socket.create_server((config.host, config.port))
    except OSError as e:
        close_app(app)
        return f"not started ({config.host}:{config.port}: {os.strerror(e.errno) if e.errno else e})"
    with sock:
        server = make_server(config.host, config.port, app, threaded=True, fd=sock.fileno())
    thread = threading.Thread(target=server.serve_forever, name=f"workcred-{role}", daemon=True)
    thread.start()
    return Running(role, package, app, server, thread)


def where_to_start(running: list[Running]) -> list[str]:
    """Development only: where a newcomer starts as each of the three users (the journey by hand)."""
    urls = {r.role: r.app.config["WORKCRED"].base_url for r in running}
    issuer = next((r for r in running if r.role == "issuer"), None)
    if issuer is None or not issuer.app.config["WORKCRED"].dev:
        return []
    from issuer.demo import CLERK, STAFF

    admin = STAFF[0]
    lines = [
        f"clerk: {urls['issuer']}/console/login ({CLERK[0]} / {CLERK[3]}; new projects and the outbox: {admin[0]} / {admin[3]})",
        f"worker: {urls['issuer']}/console/outbox (signed in as {admin[0]}): open an invitation link there, "
        "then enter the worker's name, birth date and the code sent next",
    ]
    if "verifier" in urls:
        lines.append(f"employer: {urls['verifier']}/ (upload a certificate PDF, scan a QR, or ask for records)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every workcred role on 127.0.0.1")
    parser.add_argument("--roles", default=",".join(ROLES), help="comma-separated subset of " + ", ".join(ROLES))
    args = parser.parse_args(argv)
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        parser.error("unknown role: " + ", ".join(unknown))
    if not os.environ.get("WORKCRED_ACCESS_LOG"):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # keep the terminal to one line per role
    export_base_urls(list(ROLES))
    Path(DEFAULT_DATA_DIR).mkdir(parents=True, exist_ok=True)
    demo.prepare(Path(DEFAULT_DATA_DIR))  # dev: the registry API token the city's demo seed uses

    running: list[Running] = []
    for role in roles:
        result = start_role(role, ROLES[role])
        if isinstance(result, str):
            say(f"{role}: {result}")
            continue
        running.append(result)
        say(f"{role}: {result.app.config['WORKCRED'].base_url}")
    if not running:
        return 1

    def log_err(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    demo.seed_all(((r.role, r.package, r.app) for r in running), Path(DEFAULT_DATA_DIR), log_err)
    for line in where_to_start(running):
        say(line)

    stop = threading.Event()

    def _stop(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while not stop.wait(0.5):
        dead = [r.role for r in running if not r.thread.is_alive()]
        if dead:
            log_err("stopped unexpectedly: " + ", ".join(dead))
            break
    # shut the servers down together: each shutdown waits for its serve loop's next poll
    stoppers = [threading.Thread(target=r.server.shutdown) for r in running]
    for t in stoppers:
        t.start()
    for t in stoppers:
        t.join(timeout=5)
    for r in running:
        r.server.server_close()
        r.thread.join(timeout=5)
        close_app(r.app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
