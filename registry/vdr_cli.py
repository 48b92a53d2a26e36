"""`workcred registry department|status|trust ...`: the issuing side's VDR commands (until the Issuer app).

Department and status commands hold the department keys (the key store, `--keystore`) and talk to
the registry over HTTP (`--registry-url`, bearer token from WORKCRED_REGISTRY_API_TOKEN or the first
of WORKCRED_REGISTRY_API_TOKENS). Trust-list edits are the registry administrator's: they act on the
registry database directly and are signed with the registry's own key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agents import didhistory
from agents.errors import Error
from agents.keystore import KeyStore, open_keystore
from agents.registry_client import RegistryClient
from web import db
from web.config import RoleConfig

from .app import load_signing_key
from .log import DEFAULT_ORIGIN, Log
from .vdr_trust import accredit, latest_trust_list, update_trust_list, withdraw

DEFAULT_REGISTRY_URL = "http://127.0.0.1:8700"


def add_commands(sub: Any) -> None:
    """Add `department`, `status` and `trust` under `workcred registry`."""
    dept = sub.add_parser("department", help="departments: key, did:web document, trust list")
    dsub = dept.add_subparsers(dest="department_command", required=True)
    create = dsub.add_parser("create", help="create the key, publish the DID document, accredit")
    create.add_argument("name")
    create.add_argument("--label-ko", default="")
    create.add_argument("--label-en", default="")
    _client_args(create)
    create.add_argument("--database-url", help="registry database for the trust list (default: from env)")
    create.set_defaults(func=_guard(cmd_department_create))
    rotate = dsub.add_parser(
        "rotate-key", help="new key; the new DID version is signed by old and new; status lists re-signed"
    )
    rotate.add_argument("name")
    _client_args(rotate)
    rotate.set_defaults(func=_guard(cmd_department_rotate))

    status = sub.add_parser("status", help="status lists: allocate an index, revoke, suspend, reinstate")
    ssub = status.add_subparsers(dest="status_command", required=True)
    alloc = ssub.add_parser("allocate", help="a fresh random index (creates the list if needed)")
    alloc.add_argument("department")
    alloc.add_argument("list_id")
    alloc.add_argument("--purpose", choices=("revocation", "suspension"), default="revocation")
    _client_args(alloc)
    alloc.set_defaults(func=_guard(cmd_status_allocate))
    for action, help_text in (
        ("revoke", "set the bit in a revocation list (final)"),
        ("suspend", "set the bit in a suspension list"),
        ("reinstate", "clear the bit in a suspension list"),
    ):
        p = ssub.add_parser(action, help=help_text)
        p.add_argument("department")
        p.add_argument("list_id")
        p.add_argument("index", type=int)
        _client_args(p)
        p.set_defaults(func=_guard(cmd_status_change), action=action)

    trust = sub.add_parser("trust", help="the trust list of accredited issuers (registry database)")
    tsub = trust.add_subparsers(dest="trust_command", required=True)
    show = tsub.add_parser("list", help="print the current trust list")
    show.add_argument("--database-url")
    show.set_defaults(func=_guard(cmd_trust_list))
    add = tsub.add_parser("add", help="accredit a department")
    add.add_argument("department")
    add.add_argument("--did", help="default: the department's did:web on this registry")
    add.add_argument("--label-ko", default="")
    add.add_argument("--label-en", default="")
    add.add_argument("--database-url")
    add.set_defaults(func=_guard(cmd_trust_add))
    remove = tsub.add_parser("remove", help="withdraw a department's accreditation")
    remove.add_argument("department")
    remove.add_argument("--database-url")
    remove.set_defaults(func=_guard(cmd_trust_remove))


def _client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry-url", default=os.environ.get("WORKCRED_REGISTRY_URL", DEFAULT_REGISTRY_URL))
    p.add_argument("--keystore", help="key store directory (default: $WORKCRED_KEYSTORE_DIR or var/keystore)")


def _guard(cmd: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print a workcred error (Korean and English) and exit 2; bugs still raise."""

    def run(args: argparse.Namespace) -> int:
        try:
            return cmd(args)
        except Error as e:
            print(f"오류: {e.diagnostics('ko')}\nerror: {e.diagnostics('en')}", file=sys.stderr)
            return 2

    return run


def _token() -> str | None:
    token = os.environ.get("WORKCRED_REGISTRY_API_TOKEN")
    if token:
        return token
    tokens = [t.strip() for t in os.environ.get("WORKCRED_REGISTRY_API_TOKENS", "").split(",") if t.strip()]
    return tokens[0] if tokens else None


def _client(args: argparse.Namespace) -> RegistryClient:
    return RegistryClient(args.registry_url, _token())


def _keystore(args: argparse.Namespace) -> KeyStore:
    directory = (
        args.keystore
        or os.environ.get("WORKCRED_KEYSTORE_DIR")
        or str(Path(db.DEFAULT_DATA_DIR) / "keystore")
    )
    dev = os.environ.get("WORKCRED_DEV", "0") in ("1", "true", "yes")
    return open_keystore(directory, dev=dev)


def _records(ks: KeyStore, name: str) -> list[didhistory.KeyRecord]:
    return [didhistory.KeyRecord(k.key_id, k.public, k.current) for k in ks.public_keys(name)]


def _trust_edit(args: argparse.Namespace, change: Any) -> dict[str, Any]:
    config = RoleConfig.from_env("registry")
    url = args.database_url or config.database_url
    db.migrate("registry", url)
    engine = db.make_engine(url)
    try:
        signer = load_signing_key(config)
        factory = db.session_factory(engine)
        log = Log(factory, origin=config.extra.get("origin") or DEFAULT_ORIGIN, signer=signer)
        signed = update_trust_list(factory, log, signer, config.base_url, change, at=datetime.now(UTC))
        log.checkpoint()  # the new version is provable (has a receipt) at once
        return signed
    finally:
        engine.dispose()


def cmd_department_create(args: argparse.Namespace) -> int:
    ks, client = _keystore(args), _client(args)
    did = didhistory.department_did(args.registry_url, args.name)
    if args.name not in ks.names():
        ks.create(args.name, controller=did)
    if client.did_document(args.name) is None:
        doc = didhistory.build_did_document(did, _records(ks, args.name))
        result = client.publish_did_document(
            args.name, didhistory.sign_did_document(doc, [ks.signer(args.name)])
        )
        print(f"published {did} version {result['versionId']} (log index {result['logIndex']})")
    else:
        print(f"{did} is already published")
    _trust_edit(
        args, accredit(args.name, did, label_ko=args.label_ko, label_en=args.label_en, at=datetime.now(UTC))
    )
    print(f"accredited {args.name} on the trust list")
    return 0


def cmd_department_rotate(args: argparse.Namespace) -> int:
    ks, client = _keystore(args), _client(args)
    did = didhistory.department_did(args.registry_url, args.name)
    previous = client.did_document(args.name)
    if previous is None:
        print(f"{did} has no published document; run `department create` first", file=sys.stderr)
        return 2
    old = ks.signer(args.name)
    new_id = ks.rotate(args.name)
    doc = didhistory.build_did_document(did, _records(ks, args.name), previous=previous)
    result = client.publish_did_document(
        args.name, didhistory.sign_did_document(doc, [ks.signer(args.name), old])
    )
    print(f"rotated {args.name}: {old.verification_method} -> {new_id}; version {result['versionId']}")
    # verifiers accept a status list only when signed by a key in the current assertionMethod
    for list_id in client.resign_status_lists(args.name, ks.signer(args.name)):
        print(f"re-signed status list {list_id} with {new_id}")
    return 0


def cmd_status_allocate(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        client.get_status_list(args.department, args.list_id)
    except Error as e:
        if e.http_status != 404:
            raise
        ks = _keystore(args)
        did = didhistory.department_did(args.registry_url, args.department)
        client.create_status_list(
            args.department, args.list_id, args.purpose, ks.signer(args.department), issuer=did
        )
    index = client.allocate_status(args.department, args.list_id)
    print(
        json.dumps(
            {"statusListCredential": client.status_list_url(args.department, args.list_id), "index": index}
        )
    )
    return 0


_ACTIONS = {
    "revoke": ("revocation", True),
    "suspend": ("suspension", True),
    "reinstate": ("suspension", False),
}


def cmd_status_change(args: argparse.Namespace) -> int:
    from agents.statuslist import decode_list_credential

    purpose, value = _ACTIONS[args.action]
    client, ks = _client(args), _keystore(args)
    current_purpose, _ = decode_list_credential(client.get_status_list(args.department, args.list_id))
    if current_purpose != purpose:
        print(
            f"{args.list_id} is a {current_purpose} list; `{args.action}` needs a {purpose} list",
            file=sys.stderr,
        )
        return 2
    client.set_status(args.department, args.list_id, args.index, value, ks.signer(args.department))
    print(f"{args.action}: {args.department}/{args.list_id} index {args.index}")
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    config = RoleConfig.from_env("registry")
    url = args.database_url or config.database_url
    db.migrate("registry", url)
    engine = db.make_engine(url)
    try:
        doc = latest_trust_list(db.session_factory(engine))
    finally:
        engine.dispose()
    print(json.dumps(doc, ensure_ascii=False, indent=2))
    return 0


def cmd_trust_add(args: argparse.Namespace) -> int:
    config = RoleConfig.from_env("registry")
    did = args.did or didhistory.department_did(config.base_url, args.department)
    doc = _trust_edit(
        args,
        accredit(args.department, did, label_ko=args.label_ko, label_en=args.label_en, at=datetime.now(UTC)),
    )
    print(f"trust list version {doc['version']}: accredited {args.department} ({did})")
    return 0


def cmd_trust_remove(args: argparse.Namespace) -> int:
    doc = _trust_edit(args, withdraw(args.department))
    print(f"trust list version {doc['version']}: withdrew {args.department}")
    return 0
