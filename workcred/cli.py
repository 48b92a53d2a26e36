"""The `workcred` command: keys, sign, verify, and the registry's subcommands.

Exit codes: 0 success / verified, 1 not verified (the failed checks are named), 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from agents import dataintegrity as di
from agents import loader
from agents.errors import Error, VerificationError
from agents.keys import Ed25519KeyPair
from agents.report import Report

EXIT_OK, EXIT_NOT_VERIFIED, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 70


def _lang() -> str:
    return "en" if os.environ.get("WORKCRED_LANG", os.environ.get("LANG", "")).startswith("en") else "ko"


def _read_bytes(path: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    except OSError as e:
        raise Error(f"cannot read {path}: {e.strerror}", message_ko=f"파일을 읽을 수 없습니다: {path} ({e.strerror})") from None


def _read_json(path: str) -> Any:
    return loader.parse_json(_read_bytes(path))


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_keys_new(args: argparse.Namespace) -> int:
    _print_json(Ed25519KeyPair.generate().to_json())
    return EXIT_OK


def cmd_sign(args: argparse.Namespace) -> int:
    key = Ed25519KeyPair.from_file(args.key)
    doc = _read_json(args.input)
    options = _read_json(args.proof_config) if args.proof_config else {}
    if not isinstance(options, dict):
        raise Error("--proof-config must be a JSON object", message_ko="--proof-config는 JSON 객체여야 합니다")
    options = {k: v for k, v in options.items() if k != "@context" or args.suite == di.JCS}
    for k in ("type", "cryptosuite"):  # the suite flag decides these; the vectors' files carry them too
        options.pop(k, None)
    _print_json(di.sign(doc, key, cryptosuite=args.suite, options=options))
    return EXIT_OK


def make_resolver(args: argparse.Namespace) -> Any:
    from agents.did import Resolver
    from agents.fetcher import Fetcher

    allow = [h for h in (args.allow_host or [])] + [
        h.strip() for h in os.environ.get("WORKCRED_FETCH_ALLOW", "").split(",") if h.strip()
    ]
    dev = os.environ.get("WORKCRED_DEV", "0") in ("1", "true", "yes") or args.allow_http_loopback
    return Resolver(fetcher=Fetcher(allow, allow_http_loopback=dev))


def _print_report(report: Report, as_json: bool) -> None:
    if as_json:
        _print_json(report.to_json())
        return
    lang = _lang()
    mark = {"pass": "✔", "fail": "✘", "skip": "–", "unconfirmed": "?"}
    print(f"{report.summary(lang)} ({report.verdict.value})")
    for r in (report, *report.credentials):
        if r is not report:
            print(f"  credential {r.subject.get('id') or ''}: {r.verdict.value}")
        for c in r.checks:
            title = c.title_ko if lang == "ko" else c.title_en
            reason = c.reason_ko if lang == "ko" else c.reason_en
            print(f"  {mark[c.outcome.value]} {c.id}: {title}" + (f" — {reason}" if reason else ""))
            detail = c.detail_ko if lang == "ko" else c.detail_en
            if detail:
                print(f"      {detail}")


def cmd_verify(args: argparse.Namespace) -> int:
    from agents import document, verify

    got = document.parse(_read_bytes(args.input), wrapper=False)  # the one parse step, as every route
    at = verify.parse_datetime(args.at, "--at") if args.at else None
    resolver = make_resolver(args)
    try:
        if isinstance(got.document, document.Presentation):
            report = verify.verify_presentation(got.document, resolve=resolver, challenge=args.challenge, domain=args.domain, at=at)
        else:
            report = verify.verify_credential(got.document, resolve=resolver, at=at)
    except VerificationError as e:
        _print_report(e.report, args.json)
        return EXIT_NOT_VERIFIED
    _print_report(report, args.json)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workcred", description="workcred: W3C Verifiable Credentials for Seoul public-job contracts")
    sub = parser.add_subparsers(dest="command", required=True)

    keys = sub.add_parser("keys", help="key pairs").add_subparsers(dest="keys_command", required=True)
    new = keys.add_parser("new", help="print a new Ed25519 key pair (did:key) as JSON")
    new.set_defaults(func=cmd_keys_new)

    sign = sub.add_parser("sign", help="add a Data Integrity proof to a JSON document")
    sign.add_argument("--key", required=True, help="key pair JSON (publicKeyMultibase, secretKeyMultibase)")
    sign.add_argument("--suite", choices=di.SUITES, default=di.RDFC)
    sign.add_argument("--proof-config", help="proof options JSON (created, verificationMethod, proofPurpose, id, previousProof, ...)")
    sign.add_argument("input", help="the document (JSON file, or - for standard input)")
    sign.set_defaults(func=cmd_sign)

    ver = sub.add_parser("verify", help="verify a credential or presentation")
    ver.add_argument("input", help="the credential or presentation (JSON file, or -)")
    ver.add_argument("--json", action="store_true", help="print the full report as JSON")
    ver.add_argument("--at", help="verify as of this ISO date-time (default: now)")
    ver.add_argument("--challenge", help="expected presentation challenge")
    ver.add_argument("--domain", help="expected presentation domain")
    ver.add_argument("--allow-host", action="append", help="host[:port] whose did:web documents may be fetched")
    ver.add_argument("--allow-http-loopback", action="store_true", help="development: did:web over plain HTTP on 127.0.0.1")
    ver.set_defaults(func=cmd_verify)

    for module in ("registry.cli", "issuer.cli"):
        try:
            mod = __import__(module, fromlist=["add_subparser"])
        except ImportError:
            continue
        add: Callable[[Any], None] = mod.add_subparser
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except Error as e:
        print(f"workcred: {e.diagnostics(_lang())}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug: say so, and never let it read as "not verified" (exit 1)
        print(f"workcred: internal error, please report it: {type(e).__name__}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
