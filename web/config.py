"""Configuration from the environment; every role reads its own prefix."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: the largest request body any role reads (web.factory's MAX_CONTENT_LENGTH, web.server's Guard)
MAX_BODY_BYTES = 2 * 1024 * 1024
#: the shortest session secret a production role starts with (e.g. secrets.token_urlsafe(48) gives 64)
MIN_SECRET_CHARS = 32
DEFAULT_PORTS = {"registry": 8700, "issuer": 8701, "wallet": 8702, "verifier": 8703}


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


@dataclass
class RoleConfig:
    """What one role app needs to start; tests build it directly, `from_env` reads WORKCRED_*."""

    role: str
    host: str = "127.0.0.1"
    port: int = 0
    base_url: str = ""
    database_url: str = ""
    secret_key: str = ""
    dev: bool = False  # allows http:// did:web for loopback hosts and non-secure cookies
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, role: str) -> RoleConfig:
        from .db import database_url

        prefix = f"WORKCRED_{role.upper()}_"
        port = int(env(prefix + "PORT") or DEFAULT_PORTS.get(role, 0))
        host = env(prefix + "HOST") or "127.0.0.1"
        base = env(prefix + "BASE_URL") or f"http://{host}:{port}"
        secret = env(prefix + "SECRET_KEY") or env("WORKCRED_SECRET_KEY") or ""
        dev = (env("WORKCRED_DEV") or "0") in ("1", "true", "yes")
        if not secret:
            if not dev:
                raise RuntimeError(f"set {prefix}SECRET_KEY or WORKCRED_SECRET_KEY (or WORKCRED_DEV=1 for development)")
            secret = "dev-only-" + role
        elif not dev and len(secret) < MIN_SECRET_CHARS:
            # a short or placeholder secret lets anyone forge session cookies: refuse to start with it
            raise RuntimeError(f"{prefix}SECRET_KEY / WORKCRED_SECRET_KEY is too short: use at least {MIN_SECRET_CHARS} random characters")
        extra = {k[len(prefix) :].lower(): v for k, v in os.environ.items() if k.startswith(prefix)}
        return cls(role, host, port, base.rstrip("/"), database_url(role), secret, dev, extra)


def peer_url(config: RoleConfig, role: str) -> str:
    """Public base URL of another role: WORKCRED_<SELF>_<ROLE>_URL, else WORKCRED_<ROLE>_BASE_URL, else local."""
    own = config.extra.get(f"{role}_url")
    if own:
        return own.rstrip("/")
    base = env(f"WORKCRED_{role.upper()}_BASE_URL")
    if base:
        return base.rstrip("/")
    port = int(env(f"WORKCRED_{role.upper()}_PORT") or DEFAULT_PORTS[role])
    return f"http://127.0.0.1:{port}"
