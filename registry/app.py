"""The registry app: the append-only log API (and the VDR API when its module is present)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from agents.checkpoint import ALG_COSIGNATURE_V1, RetiredKey, parse_verifier_key, retired_keys_setting
from agents.errors import Error, KeyError_
from agents.keys import Ed25519KeyPair, Ed25519PublicMultikey
from web import db, health, metrics
from web.config import RoleConfig
from web.factory import base_app

from .anchoring import Anchoring
from .api_log import bp as log_bp
from .log import DEFAULT_ORIGIN, Log, RegistryContext
from .models import LogCheckpoint
from .pages import bp as pages_bp

DEV_KEY_FILE = "registry-key.json"


def create_app(config: RoleConfig | None = None) -> Flask:
    """Build the registry app; migrates the database and starts the checkpoint timer.

    Settings (`config.extra`, i.e. WORKCRED_REGISTRY_*): KEY (secretKeyMultibase) or KEY_FILE, ORIGIN,
    RETIRED_KEYS (rotated-out checkpoint keys, ``vkey@lastSize``, comma-separated), API_TOKENS
    (comma-separated), CHECKPOINT_EVERY, CHECKPOINT_SECONDS, BACKGROUND ("0" disables the timer),
    EVM_RPC, EVM_CONTRACT, EVM_KEY, EVM_TIMEOUT (anchoring with catch-up, `registry.anchoring`),
    WITNESSES (cosigner verifier keys whose cosignatures the log stores and serves).
    Call `app.extensions["registry"].close()` to stop the timer and release connections.
    """
    config = config or RoleConfig.from_env("registry")
    app = base_app("registry", config)
    url = config.database_url or db.database_url("registry")
    db.migrate("registry", url)
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    extra = config.extra
    origin = extra.get("origin") or DEFAULT_ORIGIN
    anchoring = Anchoring.from_config(config)
    log = Log(
        factory,
        origin=origin,
        signer=load_signing_key(config),
        retired_keys=load_retired_keys(config, origin),
        checkpoint_every=int(extra.get("checkpoint_every") or 256),
        checkpoint_seconds=float(extra.get("checkpoint_seconds") or 2.0),
        # not strict: a chain outage must not stop the log; missed checkpoints are anchored later
        on_checkpoint=anchoring.hook(lambda: log) if anchoring is not None else None,
    )
    tokens = tuple(t.strip() for t in (extra.get("api_tokens") or "").split(",") if t.strip())
    ctx = RegistryContext(engine, factory, log, tokens, load_witnesses(config))
    app.extensions["registry"] = ctx
    health.add_check(app, "database", health.database_check(engine))
    metrics.add_collector(app, "workcred_checkpoint_age_seconds", "Seconds since the latest signed checkpoint", lambda: _checkpoint_age(ctx))
    metrics.add_collector(app, "workcred_log_uncovered_entries", "Log entries no signed checkpoint covers yet", lambda: _uncovered(ctx))
    app.register_blueprint(log_bp)
    app.register_blueprint(pages_bp)
    try:
        from .api_vdr import bp as vdr_bp
    except ModuleNotFoundError as e:
        if e.name != "registry.api_vdr":
            raise
    else:
        from .api_batch import bp as batch_bp

        app.register_blueprint(vdr_bp)
        app.register_blueprint(batch_bp)  # after vdr: /status/<d>/<l>/allocate/batch beside /allocate
    log.checkpoint()  # a signed (possibly empty) checkpoint is always available
    if extra.get("background", "1") != "0":
        log.start_background()
    return app


def _checkpoint_age(ctx: RegistryContext) -> metrics.GaugeSamples:
    with ctx.session_factory() as s:
        at = s.scalar(select(LogCheckpoint.created_at).order_by(LogCheckpoint.size.desc()).limit(1))
    if at is None:
        return []
    at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives naive UTC
    return [({"origin": ctx.log.origin}, max(0.0, (datetime.now(UTC) - at).total_seconds()))]


def _uncovered(ctx: RegistryContext) -> metrics.GaugeSamples:
    with ctx.session_factory() as s:
        done = s.scalar(select(func.max(LogCheckpoint.size))) or 0
    return [({"origin": ctx.log.origin}, float(max(0, ctx.log.size() - done)))]


def load_retired_keys(config: RoleConfig, origin: str) -> tuple[RetiredKey, ...]:
    """WORKCRED_REGISTRY_RETIRED_KEYS: ``<verifier key>@<last tree size>`` per rotated-out key (read by
    `agents.checkpoint.retired_keys_setting`, as a verifier reads its copy of the same value)."""
    return retired_keys_setting(config.extra.get("retired_keys") or "", origin, "WORKCRED_REGISTRY_RETIRED_KEYS")


def load_witnesses(config: RoleConfig) -> dict[str, Ed25519PublicMultikey]:
    """WORKCRED_REGISTRY_WITNESSES: comma-separated cosigner verifier keys (``name+hash+key``, alg 0x04)."""
    out: dict[str, Ed25519PublicMultikey] = {}
    for item in (config.extra.get("witnesses") or "").replace(" ", ",").split(","):
        if item.strip():
            try:
                name, public = parse_verifier_key(item.strip(), ALG_COSIGNATURE_V1)
            except Error as e:
                raise KeyError_(
                    f"WORKCRED_REGISTRY_WITNESSES: {e.message}",
                    message_ko="WORKCRED_REGISTRY_WITNESSES 설정이 잘못되었습니다",
                ) from None
            out[name] = public
    return out


def load_signing_key(config: RoleConfig) -> Ed25519KeyPair:
    """The registry's checkpoint key: KEY, else KEY_FILE, else (dev only) var/registry-key.json made once."""
    secret = config.extra.get("key")
    if secret:
        return Ed25519KeyPair.from_multibase(secret.strip())
    key_file = config.extra.get("key_file")
    if key_file:
        return Ed25519KeyPair.from_file(key_file)
    if not config.dev:
        raise KeyError_(
            "set WORKCRED_REGISTRY_KEY (secretKeyMultibase) or WORKCRED_REGISTRY_KEY_FILE",
            message_ko="WORKCRED_REGISTRY_KEY 또는 WORKCRED_REGISTRY_KEY_FILE을 설정하세요",
        )
    path = Path(db.DEFAULT_DATA_DIR) / DEV_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pair = Ed25519KeyPair.generate()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker created it first
            return Ed25519KeyPair.from_file(str(path))
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(pair.to_json(), f)
        return pair
    return Ed25519KeyPair.from_file(str(path))
