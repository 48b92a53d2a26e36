"""`workcred registry ...`: verify the whole log, sign a checkpoint (VDR commands are added by vdr_cli)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from agents.checkpoint import (
    ALG_COSIGNATURE_V1,
    RetiredKey,
    cosign,
    format_retired_key,
    parse_and_verify,
    parse_verifier_keys,
    verifier_key,
)
from agents.errors import Error, KeyError_
from agents.keys import Ed25519KeyPair
from agents.policies import consistency_fetcher
from agents.receipts import FileCheckpointMemory
from web import db
from web.config import RoleConfig

from .app import load_retired_keys, load_signing_key
from .log import DEFAULT_ORIGIN, Log
from .vdr_models import TrustListVersion
from .vdr_trust import update_trust_list


def add_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `registry` with `verify` and `checkpoint` (and the VDR engineer's commands when present)."""
    parser: argparse.ArgumentParser = subparsers.add_parser("registry", help="the tamper-evident registry")
    sub = parser.add_subparsers(dest="registry_command", required=True)

    verify = sub.add_parser("verify", help="re-verify the whole log from entry 0 (exit 1 at the first bad entry)")
    verify.add_argument("--database-url", help="default: WORKCRED_REGISTRY_DATABASE_URL or var/registry.sqlite3")
    verify.add_argument(
        "--checkpoint", action="append", default=[], metavar="FILE",
        help="a signed checkpoint seen elsewhere (receipt, witness, chain) that the log must match; repeatable",
    )
    verify.set_defaults(func=cmd_verify)

    checkpoint = sub.add_parser("checkpoint", help="sign a checkpoint of the current tree now")
    checkpoint.add_argument("--database-url")
    checkpoint.set_defaults(func=cmd_checkpoint)

    rotate = sub.add_parser(
        "rotate-key",
        help="hand the checkpoint key over to a new key (run with the registry stopped; prints the new settings)",
    )
    rotate.add_argument("--new-key-file", required=True, help="the new key (JSON); created if it does not exist")
    rotate.add_argument("--database-url")
    rotate.set_defaults(func=cmd_rotate_key)

    anchor = sub.add_parser("anchor", help="anchor checkpoints on the EVM chain (WORKCRED_REGISTRY_EVM_*)")
    anchor.add_argument("--catch-up", action="store_true", help="anchor every checkpoint not anchored yet")
    anchor.add_argument("--database-url")
    anchor.set_defaults(func=cmd_anchor)

    witness = sub.add_parser("witness", help="an independent witness: check consistency, then cosign")
    wsub = witness.add_subparsers(dest="witness_command", required=True)
    wkey = wsub.add_parser("key", help="create the witness key if needed and print its verifier key")
    wkey.add_argument("--name", required=True, help="the witness's key name, e.g. witness.example.org")
    wkey.add_argument("--key-file", required=True)
    wkey.set_defaults(func=cmd_witness_key)
    cosign_p = wsub.add_parser(
        "cosign", help="verify the latest checkpoint against the last one seen, cosign it, send it back"
    )
    cosign_p.add_argument("--name", required=True)
    cosign_p.add_argument("--key-file", required=True)
    cosign_p.add_argument("--state", required=True, help="file remembering the last checkpoint seen per log")
    cosign_p.add_argument("--log-key", required=True, action="append", help="the log's verifier key(s); repeatable")
    cosign_p.add_argument("--registry-url", default=os.environ.get("WORKCRED_REGISTRY_URL", "http://127.0.0.1:8700"))
    cosign_p.set_defaults(func=cmd_witness_cosign)

    try:
        from .vdr_cli import add_commands
    except ModuleNotFoundError as e:
        if e.name != "registry.vdr_cli":
            raise
    else:
        add_commands(sub)
    return parser


def _open_log(args: argparse.Namespace, *, manual: bool = False) -> tuple[Log, Any]:
    """The log over the configured database; `manual` keeps appends from signing checkpoints by themselves."""
    config = RoleConfig.from_env("registry")
    url = args.database_url or config.database_url
    db.migrate("registry", url)
    engine = db.make_engine(url)
    origin = config.extra.get("origin") or DEFAULT_ORIGIN
    log = Log(
        db.session_factory(engine),
        origin=origin,
        signer=load_signing_key(config),
        retired_keys=load_retired_keys(config, origin),
        checkpoint_every=2**62 if manual else 256,
        checkpoint_seconds=math.inf if manual else 2.0,
    )
    return log, engine


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        notes = []
        for path in args.checkpoint:
            with open(path, encoding="utf-8") as f:
                notes.append(f.read(64 * 1024))
        log, engine = _open_log(args)
        try:
            result = log.verify_all(notes)
        finally:
            engine.dispose()
    except (Error, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result.uncovered:
        # a signature covers only what a checkpoint covers: entries after it could be rewritten unseen
        print(f"note: {result.uncovered} entries after the last checkpoint (size {result.covered}) are not yet "
              f"covered by a signed checkpoint; run `workcred registry checkpoint`")
    if result.ok:
        print(f"ok: {result.size} entries, {result.nodes_checked} subtree hashes, "
              f"{result.checkpoints_checked} checkpoints verified")
        return 0
    print(f"FAILED: first bad entry index {result.first_bad_index}")
    for problem in result.problems:
        print(f"  - {problem}")
    return 1


def cmd_checkpoint(args: argparse.Namespace) -> int:
    try:
        log, engine = _open_log(args)
        try:
            log.checkpoint()
            note = log.latest_note()
        finally:
            engine.dispose()
    except Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(note, end="")
    return 0


def _new_key(path: str) -> Ed25519KeyPair:
    """Load the new key, or create it (mode 0600) when the file does not exist yet."""
    if os.path.exists(path):
        return Ed25519KeyPair.from_file(path)
    pair = Ed25519KeyPair.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(pair.to_json(), f)
    return pair


def cmd_rotate_key(args: argparse.Namespace) -> int:
    """Hand over: re-sign the trust list with the new key, then a checkpoint signed by old and new key."""
    try:
        config = RoleConfig.from_env("registry")
        new = _new_key(args.new_key_file)
        log, engine = _open_log(args, manual=True)
        try:
            if new.public == log.public_key or any(k.public == new.public for k in log.retired_keys):
                raise KeyError_(
                    "the new key is the current or a retired registry key",
                    message_ko="새 키가 현재 키이거나 이미 폐기된 등록소 키입니다",
                )
            with log.session_factory() as s:
                has_trust_list = s.scalar(select(TrustListVersion.version).limit(1)) is not None
            if has_trust_list:  # verifiers pin the new key for the trust list too
                update_trust_list(
                    log.session_factory, log, new, config.base_url, lambda issuers: issuers, at=datetime.now(UTC)
                )
            cp = log.checkpoint()
            log.countersign_latest(new)
            retired = [*log.retired_keys, RetiredKey(log.public_key, cp.size)]
        finally:
            engine.dispose()
    except (Error, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"hand-over checkpoint: size {cp.size}, signed by the old and the new key")
    print("restart the registry with:")
    print(f"  WORKCRED_REGISTRY_KEY_FILE={os.path.abspath(args.new_key_file)}  (and unset WORKCRED_REGISTRY_KEY)")
    print("  WORKCRED_REGISTRY_RETIRED_KEYS=" + ",".join(format_retired_key(log.key_name, k) for k in retired))
    print("verifiers add:")
    print(f"  new key: {verifier_key(log.key_name, new.public)}")
    print(f"  retired: {format_retired_key(log.key_name, retired[-1])}")
    return 0


def cmd_anchor(args: argparse.Namespace) -> int:
    """Anchor the latest checkpoint, or with --catch-up every checkpoint not anchored yet."""
    from .anchoring import Anchoring

    try:
        config = RoleConfig.from_env("registry")
        anchoring = Anchoring.from_config(config)
        if anchoring is None:
            raise KeyError_(
                "EVM anchoring is not configured (WORKCRED_REGISTRY_EVM_RPC, _CONTRACT, _KEY)",
                message_ko="EVM 앵커링이 설정되지 않았습니다 (WORKCRED_REGISTRY_EVM_RPC, _CONTRACT, _KEY)",
            )
        log, engine = _open_log(args, manual=True)
        try:
            done = anchoring.catch_up(log, strict=True, only_latest=not args.catch_up)
            missing = anchoring.unanchored_sizes(log)
        finally:
            engine.dispose()
    except Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for size, tx in done:
        print(f"anchored tree size {size}: {tx}")
    if not done:
        print("nothing to anchor")
    if missing and args.catch_up:
        print(f"still not anchored: {len(missing)} checkpoints", file=sys.stderr)
        return 1
    return 0


def cmd_witness_key(args: argparse.Namespace) -> int:
    try:
        pair = _new_key(args.key_file)
        print(verifier_key(args.name, pair.public, ALG_COSIGNATURE_V1))
    except (Error, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def cmd_witness_cosign(args: argparse.Namespace) -> int:
    """C2SP tlog-witness duty: never cosign a checkpoint that does not extend the last one seen."""
    import httpx

    from agents.fetcher import Fetcher

    try:
        pair = Ed25519KeyPair.from_file(args.key_file)
        log_keys = parse_verifier_keys(",".join(args.log_key))
        base = args.registry_url.rstrip("/")
        host = base.split("://", 1)[-1].split("/", 1)[0]
        fetcher = Fetcher([host], allow_http_loopback=True)
        try:
            note = fetcher.get_text(f"{base}/log/checkpoint")
            # 1. the checkpoint is signed by the log (pinned keys)
            cp = parse_and_verify(note, log_keys)
            # 2. it extends the last checkpoint this witness cosigned (a consistency proof), else a fork
            memory = FileCheckpointMemory(args.state)
            memory.observe(cp, consistency_fetcher(fetcher.get_json, {cp.origin: base}))
            # 3. cosign and hand the cosignature to the log
            cosigned = cosign(note, args.name, pair, timestamp=int(datetime.now(UTC).timestamp()))
            resp = httpx.post(f"{base}/log/checkpoint/cosignatures", content=cosigned.encode(), timeout=10.0,
                              headers={"Content-Type": "text/plain; charset=utf-8"})
        finally:
            fetcher.close()
        if resp.status_code != 200:
            print(f"error: the registry refused the cosignature ({resp.status_code}): {resp.text[:300]}", file=sys.stderr)
            return 2
    except (Error, OSError, httpx.HTTPError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1 if "fork" in str(e) else 2
    print(f"cosigned {cp.origin} at size {cp.size}")
    return 0
