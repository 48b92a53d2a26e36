"""`workcred registry ...`: verify the whole log, sign a checkpoint (VDR commands are added by vdr_cli)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agents.errors import Error
from web import db
from web.config import RoleConfig

from .app import load_signing_key
from .log import DEFAULT_ORIGIN, Log


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

    try:
        from .vdr_cli import add_commands
    except ModuleNotFoundError as e:
        if e.name != "registry.vdr_cli":
            raise
    else:
        add_commands(sub)
    return parser


def _open_log(args: argparse.Namespace) -> tuple[Log, Any]:
    config = RoleConfig.from_env("registry")
    url = args.database_url or config.database_url
    db.migrate("registry", url)
    engine = db.make_engine(url)
    log = Log(
        db.session_factory(engine),
        origin=config.extra.get("origin") or DEFAULT_ORIGIN,
        signer=load_signing_key(config),
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
