"""The four roles under their production commands (README "Production"), for tests that need the
real server: gunicorn with web.gunicorn_conf (verifier: verifier.gunicorn_conf), SQLite files in a
temporary data directory, WORKCRED_DEV=1 for the generated development keys.

    with production_roles(tmp_path) as roles:
        roles["registry"].url    # http://127.0.0.1:<port>
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests import pii_logs

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"

#: role -> (gunicorn config, app)
COMMANDS = {
    "registry": ("python:web.gunicorn_conf", "registry.app:create_app()"),
    "issuer": ("python:web.gunicorn_conf", "issuer.app:create_app()"),
    "wallet": ("python:web.gunicorn_conf", "holder_wallet.app:create_app()"),
    "verifier": ("python:verifier.gunicorn_conf", "verifier.asgi:create_asgi_app()"),
}


@dataclass
class Role:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def production_roles(tmp: Path, roles: tuple[str, ...] = tuple(COMMANDS), workers: int = 2, env: dict[str, str] | None = None) -> Iterator[dict[str, Role]]:
    """Start `roles` under gunicorn on free loopback ports; stop them (SIGTERM) on exit."""
    ports = {role: free_port() for role in COMMANDS}
    base = dict(os.environ)
    base.update({
        "WORKCRED_DEV": "1", "WORKCRED_DATA_DIR": str(tmp / "var"), "WORKCRED_DEMO": "0",
        "WORKCRED_VERIFIER_PIN_WORKERS": "0", "WORKCRED_REGISTRY_BACKGROUND": "1",
    })  # fmt: skip
    for role, port in ports.items():
        base[f"WORKCRED_{role.upper()}_PORT"] = str(port)
        base[f"WORKCRED_{role.upper()}_BASE_URL"] = f"http://127.0.0.1:{port}"
    base.pop("PROMETHEUS_MULTIPROC_DIR", None)
    base.update(env or {})
    (tmp / "var").mkdir(parents=True, exist_ok=True)
    started: dict[str, Role] = {}
    try:
        for role in roles:
            conf, app = COMMANDS[role]
            log = tmp / f"{role}.log"
            pii_logs.watch(log)
            cmd = [str(GUNICORN), "-c", conf, "-w", str(workers), "-b", f"127.0.0.1:{ports[role]}", app]
            with log.open("wb") as out:
                process = subprocess.Popen(cmd, cwd=ROOT, env=base, stdout=out, stderr=subprocess.STDOUT)
            started[role] = Role(role, ports[role], process, log)
        deadline = time.monotonic() + 180  # a loaded CI machine starts 4 roles x 2 workers slowly
        for role in started.values():
            while True:
                try:
                    if httpx.get(role.url + "/healthz", timeout=1, trust_env=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if role.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{role.name} did not start:\n{role.log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)
        yield started
    finally:
        for role in started.values():
            if role.process.poll() is None:
                role.process.send_signal(signal.SIGTERM)
        for role in started.values():
            try:
                role.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                role.process.kill()
                role.process.wait()
