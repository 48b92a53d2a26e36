"""Slow and broken clients against every role's production command (issue 12 item 3).

For 20 s, 50 connections per role send their request head a byte at a time (slowloris: a closed one
is opened again at once) and 5 more announce a body they never finish (shorter than its
Content-Length), while a probe asks `/healthz` every second: every probe must be answered. The
server, not the attacker, must end the attack's connections: the head deadline closes the slow
heads (408), the body deadline answers the short bodies 408.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.helpers_prod import Role, production_roles
from web import server

pytestmark = pytest.mark.slow

ATTACK_SECONDS = 20
SLOW_HEADS = 50
SHORT_BODIES = 5


@dataclass
class Outcome:
    probes: list[str] = field(default_factory=list)
    heads_closed_by_server: int = 0
    bodies_refused_408: int = 0


def _open(port: int, first: bytes) -> socket.socket | None:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(first)
        return s
    except OSError:
        return None


def _attack(role: Role, stop: threading.Event, outcome: Outcome) -> None:
    heads: list[socket.socket | None] = [_open(role.port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n") for _ in range(SLOW_HEADS)]
    body = b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"a\":"
    bodies: list[socket.socket | None] = [_open(role.port, body) for _ in range(SHORT_BODIES)]
    for s in [*heads, *bodies]:
        if s is not None:
            s.setblocking(False)
    while not stop.wait(1.0):
        for i, s in enumerate(heads):
            try:
                assert s is not None
                s.sendall(b"X")  # one more byte of a header line that never ends
                if s.recv(64, socket.MSG_PEEK).startswith(b"HTTP/1.1 408"):
                    raise ConnectionError
            except BlockingIOError:
                continue
            except (OSError, AssertionError):
                if s is not None:
                    outcome.heads_closed_by_server += 1
                    s.close()
                heads[i] = _open(role.port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
                if heads[i] is not None:
                    heads[i].setblocking(False)  # type: ignore[union-attr]
        for i, s in enumerate(bodies):
            try:
                assert s is not None
                if s.recv(64).startswith(b"HTTP/1.1 408"):
                    outcome.bodies_refused_408 += 1
                raise ConnectionError
            except BlockingIOError:
                continue
            except (OSError, AssertionError):
                if s is not None:
                    s.close()
                bodies[i] = _open(role.port, body)
                if bodies[i] is not None:
                    bodies[i].setblocking(False)  # type: ignore[union-attr]
    for s in [*heads, *bodies]:
        if s is not None:
            s.close()


def _probe(role: Role, stop: threading.Event, outcome: Outcome) -> None:
    with httpx.Client(timeout=2, trust_env=False) as http:
        while not stop.wait(1.0):
            try:
                resp = http.get(role.url + "/healthz", headers={"Connection": "close"})
                outcome.probes.append("ok" if resp.status_code == 200 else f"HTTP {resp.status_code}")
            except httpx.HTTPError as e:
                outcome.probes.append(f"{type(e).__name__}")


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Role]]:
    with production_roles(tmp_path_factory.mktemp("prod")) as started:
        yield started


def test_every_role_survives_slow_and_short_requests(roles: dict[str, Role]) -> None:
    if True:
        stop = threading.Event()
        outcomes = {name: Outcome() for name in roles}
        threads = [threading.Thread(target=fn, args=(role, stop, outcomes[name]), daemon=True) for name, role in roles.items() for fn in (_attack, _probe)]
        for t in threads:
            t.start()
        time.sleep(ATTACK_SECONDS)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        for name, outcome in outcomes.items():
            assert len(outcome.probes) >= ATTACK_SECONDS - 2, (name, outcome.probes)
            assert outcome.probes == ["ok"] * len(outcome.probes), (name, outcome.probes)
            # the server ended the attack's connections by its deadlines (10 s head, 10 s body idle)
            assert ATTACK_SECONDS > server.HEAD_TIMEOUT and ATTACK_SECONDS > server.BODY_IDLE
            assert outcome.heads_closed_by_server >= SLOW_HEADS, (name, outcome)
            assert outcome.bodies_refused_408 >= 1, (name, outcome)


def _trickle(role: Role, path: str, body: bytes, pieces: int, gap: float) -> bytes:
    """POST `body` in `pieces`, `gap` seconds apart; the whole answer."""
    with socket.create_connection(("127.0.0.1", role.port), timeout=30) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        step = -(-len(body) // pieces)
        for i in range(0, len(body), step):
            time.sleep(gap)
            s.sendall(body[i : i + step])
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        return answer


def test_a_slow_but_steady_body_is_answered(roles: dict[str, Role]) -> None:
    """A phone on a slow network: 12 s for the body, never 10 s without a byte, gets its real answer
    (the registry's 401 for a missing token; the verifier's problem for a body that is not a credential),
    through the buffered path (a Flask role) and the verifier's direct one."""
    body = b'{"padding": "' + b"x" * 24_000 + b'"}'
    targets = {"registry": "/log/entries", "verifier": "/credentials/verify"}
    answers: dict[str, bytes] = {}

    def send(name: str) -> None:
        answers[name] = _trickle(roles[name], targets[name], body, pieces=24, gap=0.5)

    threads = [threading.Thread(target=send, args=(name,)) for name in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for name, answer in answers.items():
        status = int(answer.split(b" ", 2)[1])
        assert status != 408 and 400 <= status < 500, (name, answer[:300])
    assert set(answers) == set(targets)
