"""Start and stop ACA-Py 1.7 as a sidecar process from `.venv-acapy`, driven over its admin API."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .. import multibase
from .client import AcapyClient, AcapyError

ROOT = Path(__file__).resolve().parent.parent.parent
ARGFILES = Path(__file__).resolve().parent / "argfiles"
DEFAULT_ARGFILE = ARGFILES / "verifier.yml"
API_KEY_ENV = "WORKCRED_ACAPY_API_KEY"


def acapy_venv() -> Path:
    """The ACA-Py virtualenv: $WORKCRED_ACAPY_VENV, else `.venv-acapy` at the repository root."""
    return Path(os.environ.get("WORKCRED_ACAPY_VENV", ROOT / ".venv-acapy"))


def acapy_executable() -> Path:
    return acapy_venv() / "bin" / "aca-py"


def unavailable_reason() -> str | None:
    """None when the sidecar can be started, else why not (for a pytest skip)."""
    exe = acapy_executable()
    if not exe.exists():
        return f"ACA-Py is not installed: {exe} is missing (run `make acapy` or scripts/acapy_venv.sh)"
    return None


def free_loopback_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the agent binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Sidecar:
    """One running ACA-Py agent: its admin URL, a client, its log file; `stop()` ends it."""

    admin_url: str
    log_path: Path
    home: Path
    api_key: str | None
    _process: subprocess.Popen[bytes]
    _log: IO[bytes]
    _owns_home: bool
    client: AcapyClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = AcapyClient(self.admin_url, api_key=self.api_key)

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the agent's log, for an error message or a failed test."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM the agent (its own process group), SIGKILL it after `timeout`; returns its exit code.

        A temp home the sidecar made is removed, log included, unless the agent had crashed.
        """
        self.client.close()
        code: int | None = self._process.poll()
        crashed = code is not None  # it exited before it was asked to
        if code is None:
            try:
                os.killpg(self._process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                code = self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                code = self._process.wait(5)
        self._log.close()
        if self._owns_home:
            # our temp dir goes; after a crash its log stays for inspection (the wallet never does)
            shutil.rmtree(self.home / "wallet" if crashed else self.home, ignore_errors=True)
        return code


def start(
    *,
    argfile: Path = DEFAULT_ARGFILE,
    port: int | None = None,
    home: Path | None = None,
    log_path: Path | None = None,
    api_key: str | None = None,
    insecure: bool | None = None,
    ready_timeout: float = 90.0,
    extra_args: tuple[str, ...] = (),
) -> Sidecar:
    """Start `aca-py start --arg-file ARGFILE` on a loopback admin port and wait until it is ready.

    The admin API listens on 127.0.0.1 only. Without an API key (argument or $WORKCRED_ACAPY_API_KEY)
    it runs with `--admin-insecure-mode`, which is acceptable only because it is loopback and used for
    development and tests; pass `insecure=False` to refuse that. The askar wallet lives in `home`
    (a fresh temp dir by default) under a random raw key given through the environment.
    """
    reason = unavailable_reason()
    if reason:
        raise AcapyError(reason, message_ko="ACA-Py 가상환경(.venv-acapy)이 없습니다: make acapy 를 실행하세요")
    api_key = api_key or os.environ.get(API_KEY_ENV) or None
    if api_key is None and insecure is False:
        raise AcapyError(
            f"an admin API key is required: set {API_KEY_ENV}",
            message_ko=f"관리 API 키가 필요합니다: {API_KEY_ENV}를 설정하세요",
        )
    owns_home = home is None
    home = Path(tempfile.mkdtemp(prefix="workcred-acapy-")) if home is None else home
    home.mkdir(parents=True, exist_ok=True)
    log_path = log_path or home / "acapy.log"
    port = port or free_loopback_port()

    env = {k: v for k, v in os.environ.items() if not k.startswith("ACAPY_")}
    env["ACAPY_HOME"] = str(home)
    # a fresh 32-byte raw wallet key each start: the wallet is throw-away, and env keeps it out of `ps`
    env["ACAPY_WALLET_KEY"] = multibase.encode(secrets.token_bytes(32), "z")[1:]
    args = [str(acapy_executable()), "start", "--arg-file", str(argfile), "--admin", "127.0.0.1", str(port)]
    if api_key:
        env["ACAPY_ADMIN_API_KEY"] = api_key
    else:
        args.append("--admin-insecure-mode")
    args.extend(extra_args)

    log = open(log_path, "ab")  # noqa: SIM115 - closed by Sidecar.stop()
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=home, start_new_session=True
    )
    sidecar = Sidecar(f"http://127.0.0.1:{port}", log_path, home, api_key, process, log, owns_home)
    try:
        sidecar.client.wait_ready(ready_timeout, alive=sidecar.alive)
    except AcapyError as e:
        tail = sidecar.log_tail()
        sidecar.stop()
        raise AcapyError(f"{e.message}; log {log_path}:\n{tail}", message_ko=e.message_ko) from e
    return sidecar


@contextmanager
def running(**kwargs: object) -> Iterator[Sidecar]:
    """`with running() as agent:` start a sidecar (see `start`) and stop it afterwards."""
    sidecar = start(**kwargs)  # type: ignore[arg-type]
    try:
        yield sidecar
    finally:
        sidecar.stop()
