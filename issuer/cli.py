"""`workcred issuer ...`: roster import and the bulk jobs, with a terminal progress bar.

    workcred issuer import-roster --project 3 명단.xlsx [--dry-run] [--json]
    workcred issuer offer-all --project 3
    workcred issuer countersign-all --project 3 [--suite eddsa-rdfc-2022]
    workcred issuer complete-all --project 3
    workcred issuer jobs --project 3 [--json]
    workcred issuer create-admin --login admin --name "홍길동" [--password-stdin]
    workcred issuer client-create --department seoul-jobs [--label "HR system"]   (VC-API client; secret shown once)
    workcred issuer client-disable --client-id seoul-jobs-1a2b3c4d5e6f

The bulk commands run the same job the console's buttons start (issuer/jobs.py): pressing Ctrl-C,
a kill -9 or a lost connection stops it, and the same command again carries on where it stopped.
Settings come from the environment as for the issuer app (WORKCRED_ISSUER_DATABASE_URL, the
master key, the key store, the registry's URL and WORKCRED_REGISTRY_API_TOKEN).
Exit codes: 0 done, 1 done with failures (listed), 2 unusable input or stopped (the reason is shown).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from agents import dataintegrity as di
from agents.errors import Error, InvalidInput
from agents.korean import josa

EXIT_OK, EXIT_FAILURES, EXIT_UNUSABLE = 0, 1, 2


def _lang() -> str:
    return "en" if os.environ.get("WORKCRED_LANG", os.environ.get("LANG", "")).startswith("en") else "ko"


def _service() -> Any:
    from web.config import RoleConfig

    from .service import IssuerService

    return IssuerService.from_config(RoleConfig.from_env("issuer"))


def _text(ko: str, en: str) -> str:
    return en if _lang() == "en" else ko


def cmd_bulk(args: argparse.Namespace, svc: Any = None) -> int:
    """Start (or resume) the project's job of this kind and run it here with a progress bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from . import jobs
    from .service import SYSTEM

    svc = svc or _service()
    options = {"cryptosuite": args.suite} if getattr(args, "suite", None) else None
    job = jobs.start_job(svc, args.command_name, args.project, actor=SYSTEM, options=options)
    console = Console(stderr=True, highlight=False)
    lang = _lang()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f}/s"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[failed]}"),
        console=console,
        disable=args.json,
    ) as bar:
        task = bar.add_task(job.label(lang), total=job.total or None, completed=job.done, rate=0.0, failed="")

        def show(p: jobs.JobProgress) -> None:
            failed = _text(f"실패 {p.failed}", f"failed {p.failed}") if p.failed else ""
            bar.update(task, total=p.total, completed=p.done + p.failed, rate=p.rate, failed=failed)

        final = jobs.run_job(svc, job.id, batch=args.batch, on_progress=show)
        show(final)
    if args.json:
        print(json.dumps(final.to_json(), ensure_ascii=False, indent=2))
    else:
        for e in final.errors:
            reason = e["reason"]["en" if lang == "en" else "ko"]
            console.print(f"  {e['contract'] or '-'}: {reason}", markup=False)
        console.print(
            _text(
                f"{final.label('ko')}: {final.done}건 완료, {final.failed}건 실패 (작업 {final.id}, {final.state})",
                f"{final.label('en')}: {final.done} done, {final.failed} failed (job {final.id}, {final.state})",
            ),
            markup=False,
        )
    if final.state == jobs.STOPPED:
        return EXIT_UNUSABLE
    return EXIT_FAILURES if final.failed else EXIT_OK


def cmd_jobs(args: argparse.Namespace, svc: Any = None) -> int:
    from . import jobs

    svc = svc or _service()
    listed = jobs.jobs(svc, args.project)
    if args.json:
        print(json.dumps([j.to_json() for j in listed], ensure_ascii=False, indent=2))
        return EXIT_OK
    lang = _lang()
    for j in listed:
        print(f"{j.id}\t{j.label(lang)}\t{j.state}\t{j.done}/{j.total}\t{_text('실패', 'failed')} {j.failed}")
    return EXIT_OK


def cmd_import_roster(args: argparse.Namespace, svc: Any = None) -> int:
    """Read and check a roster; unless --dry-run, add its valid rows and draft their contracts."""
    from . import roster

    svc = svc or _service()
    try:
        data = Path(args.file).read_bytes() if Path(args.file).stat().st_size <= roster.MAX_BYTES + 1 else b""
    except OSError as e:
        raise Error(
            f"cannot read {args.file}: {e.strerror}",
            message_ko=f"파일을 읽을 수 없습니다: {args.file} ({e.strerror})",
        ) from None
    if not data:
        data = b"\0" * (roster.MAX_BYTES + 1)  # refused by size, without reading the whole file
    outcome = svc.import_roster(args.project, data, filename=Path(args.file).name, dry_run=args.dry_run)
    report = outcome.report
    lang = _lang()
    if args.json:
        print(json.dumps(outcome.to_json(), ensure_ascii=False, indent=2))
    else:
        for issue in report.issues:
            kind = _text("경고", "warning") if issue.severity == "warning" else _text("오류", "error")
            where = _text(f"{issue.row}행", f"row {issue.row}")
            print(f"{where} [{kind}] {issue.message(lang)}")
        s = outcome.to_json()
        print(
            _text(
                f"읽은 행 {s['totalRows']}, 올바른 행 {s['validRows']}, 오류 행 {s['errorRows']}, 빈 행 {s['emptyRows']}; "
                f"새로 추가 {s['added']}, 이미 있음 {s['existing']}, 계약 초안 {s['drafted']}"
                + (" (시험 실행: 아무것도 만들지 않았습니다)" if args.dry_run else ""),
                f"rows read {s['totalRows']}, valid {s['validRows']}, with errors {s['errorRows']}, empty {s['emptyRows']}; "
                f"added {s['added']}, already there {s['existing']}, drafts {s['drafted']}"
                + (" (dry run: nothing created)" if args.dry_run else ""),
            )
        )
    return EXIT_FAILURES if report.error_rows else EXIT_OK


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_text("비밀번호: ", "password: "))
    if getpass.getpass(_text("비밀번호 한 번 더: ", "password again: ")) != first:
        raise InvalidInput("the two passwords differ", message_ko="두 비밀번호가 다릅니다")
    return first


def cmd_create_admin(args: argparse.Namespace, svc: Any = None) -> int:
    """The first system administrator of the staff console (more only with --another)."""
    from .console import ADMIN, Accounts
    from .service import SYSTEM

    owned = svc is None
    svc = svc or _service()
    try:
        accounts = Accounts(svc)
        if accounts.count_admins() and not args.another:
            raise InvalidInput(
                "an administrator exists already; add --another to create one more (or use the console)",
                message_ko="관리자가 이미 있습니다. 한 명 더 만들려면 --another를 붙이거나 콘솔에서 추가하세요",
            )
        staff = accounts.create_staff(args.login, args.name, ADMIN, password=_password(args), actor=SYSTEM)
    finally:
        if owned:
            svc.session_factory.kw["bind"].dispose()
    print(_text(f"관리자 {josa(repr(staff.login), '을')} 만들었습니다. 처음 로그인한 뒤 패스키를 등록하세요.",
                f"Created administrator {staff.login!r}. Register a passkey after the first sign-in."))  # fmt: skip
    return EXIT_OK


def cmd_client(args: argparse.Namespace, svc: Any = None) -> int:
    """Create or disable an OAuth client of a department's VC-API (issuer/oauth.py)."""
    from sqlalchemy import select

    from . import models, oauth
    from .protocol_models import OAuthClient

    owned = svc is None
    svc = svc or _service()
    try:
        with svc.tx() as s:
            if args.issuer_command == "client-create":
                dept = s.scalar(select(models.Department).where(models.Department.slug == args.department))
                if dept is None:
                    raise InvalidInput(f"no department {args.department!r}", message_ko=f"{args.department!r} 부서가 없습니다")
                client_id, secret = oauth.create_client(s, dept, args.label or "")
                out = {"client_id": client_id, "client_secret": secret, "scope": oauth.SCOPE_PREFIX + dept.slug,
                       "token_endpoint": svc.issuer_url + "/oid4vci/token"}  # fmt: skip
            else:
                row = s.scalar(select(OAuthClient).where(OAuthClient.client_id == args.client_id))
                if row is None:
                    raise InvalidInput(f"no client {args.client_id!r}", message_ko=f"{args.client_id!r} 클라이언트가 없습니다")
                row.disabled_at = svc.now()
                out = {"client_id": row.client_id, "disabled": True}
    finally:
        if owned:
            svc.session_factory.kw["bind"].dispose()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.issuer_command == "client-create":
        print(_text("비밀값은 지금 한 번만 보입니다. 안전한 곳에 보관하세요.", "The secret is shown this once: keep it safe."), file=sys.stderr)
    return EXIT_OK


def add_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `issuer` and its subcommands (the console adds its own, e.g. create-admin, to `issuer_sub`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser("issuer", help="the city's issuing service")
    sub = parser.add_subparsers(dest="issuer_command", required=True)
    for name, help_text in (
        ("offer-all", "offer every draft of a project (invitations through the outbox)"),
        ("countersign-all", "countersign, log and issue every contract the workers signed"),
        ("complete-all", "complete every active contract whose end date has passed (career records)"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--project", type=int, required=True, help="project id")
        p.add_argument("--batch", type=int, default=500, help="contracts per batch (default 500)")
        p.add_argument("--json", action="store_true", help="print the final progress as JSON, no bar")
        if name == "countersign-all":
            p.add_argument(
                "--suite", choices=(di.JCS, di.RDFC), help=f"the city's proof suite (default {di.JCS})"
            )
        p.set_defaults(func=cmd_bulk, command_name=name)
    jobs = sub.add_parser("jobs", help="a project's bulk jobs, newest first")
    jobs.add_argument("--project", type=int, required=True)
    jobs.add_argument("--json", action="store_true")
    jobs.set_defaults(func=cmd_jobs)
    imp = sub.add_parser(
        "import-roster", help="check a CSV/XLSX roster, add its rows and draft their contracts"
    )
    imp.add_argument("--project", type=int, required=True)
    imp.add_argument("--dry-run", action="store_true", help="only check and report; create nothing")
    imp.add_argument("--json", action="store_true")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import_roster)
    admin = sub.add_parser("create-admin", help="create the first system administrator of the staff console")
    admin.add_argument("--login", required=True, help="sign-in name (3-64 of a-z 0-9 . - _)")
    admin.add_argument("--name", required=True, help="the person's name as the console shows it")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.add_argument("--another", action="store_true", help="allow it although an administrator exists")
    admin.set_defaults(func=cmd_create_admin)
    client = sub.add_parser("client-create", help="a VC-API client of a department (client credentials; the secret is shown once)")
    client.add_argument("--department", required=True, help="the department's slug (the client's scope)")
    client.add_argument("--label", help="what the client is, for the audit")
    client.set_defaults(func=cmd_client)
    off = sub.add_parser("client-disable", help="disable a VC-API client at once")
    off.add_argument("--client-id", required=True)
    off.set_defaults(func=cmd_client)
    parser.set_defaults(issuer_sub=sub)
    return parser


if __name__ == "__main__":  # pragma: no cover
    from workcred.cli import main

    sys.exit(main(["issuer", *sys.argv[1:]]))
