"""Bulk jobs: "offer all drafts", "countersign all signed", "complete all ended" for a project.

The queue is the contracts' own state in the database: a job repeatedly takes the next batch of
the project's contracts still in its source state (draft, signed, active and ended), moves them on
and records progress in its `bulk_job` row. No job library serves SQLite and PostgreSQL alike
without a broker, and none is needed: a job is resumable because its work list is re-read from
the contracts, and idempotent because every step is (a state change is conditional on the state,
a credential is signed once and stored before it is logged, the registry's batch append returns
the existing leaf for a digest it already has: see `issuer/service/_bulk.py`).

One runner per job at a time: it holds a lease (`lease_owner`, `lease_until`) renewed after each
batch. A runner that died (kill -9) loses its lease when it expires, or at once when its process
is gone on the same host, and `run_job` again (the CLI, or `resume_unfinished` at app start)
carries on where it stopped.

    job = start_job(svc, "countersign-all", project_id, actor=Actor.staff(7))
    run_job(svc, job.id, on_progress=print)     # or run_in_background(svc, job.id)
    progress(svc, job.id).to_json()             # what the console polls
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from agents import dataintegrity as di
from agents.errors import Conflict, Error, InvalidInput, LegalRuleViolation, NotFound

from . import models
from .service import SYSTEM, Actor, IssuerService

BATCH = 500
LEASE_SECONDS = 60
MAX_ERRORS_KEPT = 1000
QUEUED, RUNNING, DONE, STOPPED = "queued", "running", "done", "stopped"


@dataclass(frozen=True)
class BatchFailure:
    """A contract a batch could not process, and why (ko/en, for the job's failure list)."""

    urn: str
    reason_ko: str
    reason_en: str


@dataclass(frozen=True)
class BatchOutcome:
    done: tuple[str, ...]  # contract urns
    failed: tuple[BatchFailure, ...]


@dataclass(frozen=True)
class Kind:
    """A kind of bulk job: which contracts it takes, and what it does to a batch of them (by urn)."""

    name: str
    source: str  # the state a contract waits in
    label_ko: str
    label_en: str
    step: Callable[[IssuerService, list[str], Actor, dict[str, Any]], BatchOutcome]
    only_ended: bool = False
    logs: bool = True  # its credentials go to the registry log: fetch their receipts at the end


def _issued(result: Any) -> BatchOutcome:
    """The service's IssueResult (issued urns, failures as (urn, ko, en)) as a batch outcome."""
    return BatchOutcome(tuple(result.issued), tuple(BatchFailure(*f) for f in result.failed))


def _offer(svc: IssuerService, urns: list[str], actor: Actor, options: dict[str, Any]) -> BatchOutcome:
    try:
        return BatchOutcome(tuple(r.urn for r in svc.offer_contracts(urns, actor=actor)), ())
    except LegalRuleViolation:
        raise  # the project's template is not lawful: the whole job stops with the reason
    except Error:
        pass  # one bad contract spoils the batch's transaction: offer one by one to name it
    done: list[str] = []
    failed: list[BatchFailure] = []
    for urn in urns:
        try:
            done.extend(r.urn for r in svc.offer_contracts([urn], actor=actor))
        except Error as e:
            failed.append(BatchFailure(urn, e.diagnostics("ko"), e.diagnostics("en")))
    return BatchOutcome(tuple(done), tuple(failed))


def _countersign(svc: IssuerService, urns: list[str], actor: Actor, options: dict[str, Any]) -> BatchOutcome:
    return _issued(svc.countersign(urns, actor=actor, cryptosuite=options.get("cryptosuite", di.JCS)))


def _complete(svc: IssuerService, urns: list[str], actor: Actor, options: dict[str, Any]) -> BatchOutcome:
    return _issued(svc.complete(urns, actor=actor))


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("offer-all", models.DRAFT, "초안 모두 보내기", "Offer all drafts", _offer, logs=False),
        Kind(
            "countersign-all", models.SIGNED, "서명된 계약 모두 발급", "Countersign all signed", _countersign
        ),
        Kind(
            "complete-all",
            models.ACTIVE,
            "끝난 계약 모두 종료",
            "Complete all ended",
            _complete,
            only_ended=True,
        ),
    )
}


@dataclass(frozen=True)
class JobProgress:
    """What the progress bar shows: rows done, rate, time left, failures with reasons."""

    id: int
    kind: str
    project_id: int | None
    state: str
    total: int
    done: int
    failed: int
    rate: float  # rows per second of the current run
    seconds_left: float | None
    errors: tuple[dict[str, Any], ...]
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.state in (DONE, STOPPED)

    def label(self, lang: str) -> str:
        kind = KINDS.get(self.kind)
        return (kind.label_en if lang == "en" else kind.label_ko) if kind else self.kind

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "label": {"ko": self.label("ko"), "en": self.label("en")},
            "projectId": self.project_id, "state": self.state, "total": self.total, "done": self.done,
            "failed": self.failed, "rate": round(self.rate, 1),
            "secondsLeft": None if self.seconds_left is None else round(self.seconds_left),
            "percent": 100 if self.total == 0 else min(100, round(100 * (self.done + self.failed) / self.total)),
            "errors": list(self.errors),
            "startedAt": _iso(self.started_at), "finishedAt": _iso(self.finished_at), "updatedAt": _iso(self.updated_at),
        }  # fmt: skip


def _iso(at: datetime | None) -> str | None:
    return None if at is None else _aware(at).isoformat()


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives naive datetimes back


def _wall() -> datetime:
    # leases use the real clock, not the service's (a test's fixed clock would never expire them)
    return datetime.now(UTC)


def _of(job: models.BulkJob) -> JobProgress:
    left = (job.total - job.done - job.failed) / job.rate if job.rate > 0 and job.state == RUNNING else None
    return JobProgress(job.id, job.kind, job.project_id, job.state, job.total, job.done, job.failed, job.rate,
                       None if left is None else max(0.0, left), tuple(json.loads(job.errors or "[]")),
                       job.started_at, job.finished_at, job.updated_at)  # fmt: skip


def _queue(kind: Kind, project_id: int, today: Any, *columns: Any) -> Any:
    q = select(*(columns or (models.Contract.id,))).where(
        models.Contract.project_id == project_id, models.Contract.state == kind.source
    )
    if kind.only_ended:
        q = q.where(models.Contract.end_date < today)
    return q


def start_job(
    svc: IssuerService,
    kind: str,
    project_id: int,
    *,
    actor: Actor = SYSTEM,
    options: dict[str, Any] | None = None,
) -> JobProgress:
    """The project's unfinished job of this kind, or a new one (pressing the button twice starts one job)."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown bulk job {kind!r}", message_ko=f"알 수 없는 일괄 작업입니다: {kind}")
    if (
        options
        and set(options) - {"cryptosuite"}
        or (options or {}).get("cryptosuite", di.JCS) not in (di.JCS, di.RDFC)
    ):
        raise InvalidInput("unknown job option", message_ko="알 수 없는 작업 옵션입니다")
    with svc.tx() as s:
        project = s.get(models.Project, project_id)
        if project is None:
            raise NotFound("no such project", message_ko="해당 사업이 없습니다")
        job = s.scalar(
            select(models.BulkJob).where(
                models.BulkJob.project_id == project_id, models.BulkJob.kind == kind,
                models.BulkJob.state.in_((QUEUED, RUNNING)),
            )
        )  # fmt: skip
        if job is None:
            total = s.scalar(
                select(func.count()).select_from(_queue(KINDS[kind], project_id, svc.now().date()).subquery())
            )
            now = svc.now()
            job = models.BulkJob(kind=kind, project_id=project_id, created_by=actor.id, total=int(total or 0), done=0,
                                 failed=0, state=QUEUED, errors="[]", created_at=now, updated_at=now,
                                 options=json.dumps(options or {}), rate=0.0)  # fmt: skip
            s.add(job)
            s.flush()
            svc.audit(s, actor, f"bulk.{kind}", "project", project_id, department_id=project.department_id,
                      project_id=project_id, job=job.id, total=job.total)  # fmt: skip
        return _of(job)


def progress(svc: IssuerService, job_id: int) -> JobProgress:
    with svc.tx() as s:
        job = s.get(models.BulkJob, job_id)
        if job is None:
            raise NotFound("no such bulk job", message_ko="해당 일괄 작업이 없습니다")
        return _of(job)


def jobs(svc: IssuerService, project_id: int, limit: int = 20) -> list[JobProgress]:
    """The project's jobs, newest first."""
    with svc.tx() as s:
        rows = s.scalars(select(models.BulkJob).where(models.BulkJob.project_id == project_id)
                         .order_by(models.BulkJob.id.desc()).limit(limit))  # fmt: skip
        return [_of(j) for j in rows]


def new_owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(owner: str | None) -> bool:
    """True when the lease holder is a process of this host that no longer exists."""
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:30] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return int(pid) == os.getpid() and owner not in _LIVE_OWNERS  # our own pid, but a runner that is gone


_LIVE_OWNERS: set[str] = set()


def _claim(svc: IssuerService, job_id: int, owner: str) -> bool:
    now = _wall()
    with svc.tx() as s:
        job = s.get(models.BulkJob, job_id)
        if job is None:
            raise NotFound("no such bulk job", message_ko="해당 일괄 작업이 없습니다")
        if job.state not in (QUEUED, RUNNING):
            return False
        free = (
            job.lease_owner is None
            or job.lease_until is None
            or _aware(job.lease_until) < now
            or _gone(job.lease_owner)
        )
        if not free and job.lease_owner != owner:
            return False
        claimed = s.execute(
            update(models.BulkJob)
            .where(models.BulkJob.id == job_id,
                   or_(models.BulkJob.lease_owner.is_(None), models.BulkJob.lease_owner == job.lease_owner))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=LEASE_SECONDS), state=RUNNING,
                    started_at=job.started_at or svc.now(), updated_at=svc.now())
        ).rowcount  # fmt: skip
        return bool(claimed)


def _record(
    svc: IssuerService, job_id: int, owner: str, outcome: BatchOutcome, rate: float, left: int
) -> bool:
    """Add a batch's outcome and renew the lease; False when the lease was lost to another runner."""
    with svc.tx() as s:
        job = s.get(models.BulkJob, job_id)
        if job is None or job.lease_owner != owner:
            return False
        errors = json.loads(job.errors or "[]")
        seen = {e.get("contract") for e in errors}
        new = [f for f in outcome.failed if f.urn not in seen]
        errors.extend({"contract": f.urn, "reason": {"ko": f.reason_ko, "en": f.reason_en}} for f in new)
        job.errors = json.dumps(errors[:MAX_ERRORS_KEPT], ensure_ascii=False)
        job.done += len(outcome.done)
        job.failed += len(new)
        job.total = max(job.total, job.done + job.failed + left)
        job.rate = rate
        job.lease_until = _wall() + timedelta(seconds=LEASE_SECONDS)
        job.updated_at = svc.now()
        return True


def _finish(svc: IssuerService, job_id: int, owner: str, state: str, error: Error | None = None) -> None:
    with svc.tx() as s:
        job = s.get(models.BulkJob, job_id)
        if job is None or job.lease_owner != owner:
            return
        if error is not None:
            errors = json.loads(job.errors or "[]")
            errors.append(
                {"contract": None, "reason": {"ko": error.diagnostics("ko"), "en": error.diagnostics("en")}}
            )
            job.errors = json.dumps(errors[-MAX_ERRORS_KEPT:], ensure_ascii=False)
        if state == DONE:
            # nothing is left in the queue: every row was done or failed, including those a killed runner
            # committed before it could count them (its batch and its count are two transactions)
            job.done = max(job.done, job.total - job.failed)
        job.state, job.lease_owner, job.lease_until = state, None, None
        job.rate = 0.0 if state == STOPPED else job.rate
        job.finished_at = job.updated_at = svc.now()
        svc.audit(s, SYSTEM, f"bulk.{job.kind}.{state}", "project", job.project_id or 0, project_id=job.project_id,
                  job=job.id, done=job.done, failed=job.failed)  # fmt: skip


def run_job(
    svc: IssuerService,
    job_id: int,
    *,
    owner: str | None = None,
    batch: int = BATCH,
    on_progress: Callable[[JobProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> JobProgress:
    """Work the job to its end (or until `stop` is set, or its lease is lost); safe to call again."""
    owner = owner or new_owner()
    if not _claim(svc, job_id, owner):
        current = progress(svc, job_id)
        if current.finished:
            return current
        raise Conflict(
            "this bulk job is running elsewhere", message_ko="이 일괄 작업은 다른 곳에서 실행 중입니다"
        )
    _LIVE_OWNERS.add(owner)
    try:
        return _work(svc, job_id, owner, batch, on_progress, stop)
    finally:
        _LIVE_OWNERS.discard(owner)


def _work(svc: IssuerService, job_id: int, owner: str, batch: int,
          on_progress: Callable[[JobProgress], None] | None, stop: threading.Event | None) -> JobProgress:  # fmt: skip
    with svc.tx() as s:
        job = s.get_one(models.BulkJob, job_id)
        kind, project_id, options = KINDS[job.kind], int(job.project_id or 0), json.loads(job.options or "{}")
        actor = Actor(job.created_by or SYSTEM.id)
    # failures stay in their state: skip them by id within this run (a new run tries them once more)
    after = 0
    started, processed = time.monotonic(), 0
    while stop is None or not stop.is_set():
        with svc.tx() as s:
            q = _queue(kind, project_id, svc.now().date(), models.Contract.id, models.Contract.urn)
            rows = list(
                s.execute(q.where(models.Contract.id > after).order_by(models.Contract.id).limit(batch))
            )
        if not rows:
            try:
                while kind.logs and svc.collect_receipts() > 0:
                    pass  # 500 a call; those no checkpoint covers yet are fetched when the wallet asks
            except Error:
                pass  # receipts come later (the wallet asks again); the credentials are issued
            _finish(svc, job_id, owner, DONE)
            break
        ids, urns = [i for i, _ in rows], [u for _, u in rows]
        try:
            outcome = kind.step(svc, urns, actor, options)
        except Error as e:  # the registry down, a template no longer lawful: stop, keep what is done
            _finish(svc, job_id, owner, STOPPED, e)
            break
        after = ids[-1]
        processed += len(outcome.done) + len(outcome.failed)
        rate = processed / max(time.monotonic() - started, 1e-6)
        with svc.tx() as s:
            left = s.scalar(select(func.count()).select_from(
                _queue(kind, project_id, svc.now().date()).where(models.Contract.id > after).subquery()))  # fmt: skip
        if not _record(svc, job_id, owner, outcome, rate, int(left or 0)):
            break  # another runner took over (our lease ran out): it carries on
        if on_progress is not None:
            on_progress(progress(svc, job_id))
    return progress(svc, job_id)


def run_in_background(svc: IssuerService, job_id: int) -> threading.Thread:
    """Run the job in a daemon thread of this process (the console's button)."""

    def target() -> None:
        try:
            run_job(svc, job_id)
        except Error:
            pass  # running elsewhere, or finished: the page shows the job's own state

    thread = threading.Thread(target=target, name=f"bulk-job-{job_id}", daemon=True)
    thread.start()
    return thread


def resume_unfinished(svc: IssuerService) -> list[threading.Thread]:
    """At app start: carry on every queued or running job whose runner is gone."""
    with svc.tx() as s:
        ids = list(s.scalars(select(models.BulkJob.id).where(models.BulkJob.state.in_((QUEUED, RUNNING)))))
    threads = []
    for job_id in ids:
        with svc.tx() as s:
            job = s.get_one(models.BulkJob, job_id)
            free = job.lease_until is None or _aware(job.lease_until) < _wall() or _gone(job.lease_owner)
        if free:
            threads.append(run_in_background(svc, job_id))
    return threads


def queue_depth(svc: IssuerService) -> list[tuple[dict[str, str], float]]:
    """Rows still waiting in queued or running jobs, by kind (the `workcred_job_queue_depth` gauge)."""
    waiting = func.sum(models.BulkJob.total - models.BulkJob.done - models.BulkJob.failed)
    with svc.session_factory() as s:
        rows = s.execute(select(models.BulkJob.kind, waiting).where(models.BulkJob.state.in_(("queued", "running"))).group_by(models.BulkJob.kind)).all()
    depth = dict.fromkeys(KINDS, 0.0)
    depth.update({str(kind): float(max(0, n or 0)) for kind, n in rows})
    return [({"kind": kind}, n) for kind, n in sorted(depth.items())]
