"""Roster import into a project and the bulk jobs' bookkeeping (progress, failures, leases, the CLI),
against a real registry over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from agents.errors import Conflict, InvalidInput, NotFound
from issuer import cli, jobs, models
from issuer.service import Actor, IssuerService
from tests.helpers_bulk import roster_csv
from tests.helpers_city import City, start_city
from tests.helpers_issuer import demo_project, issuer_service

CLERK = Actor.staff(3, "198.51.100.7")
DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[tuple[City, IssuerService]]:
    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        yield city, svc


def test_import_roster_checks_adds_and_drafts_once(world: tuple[City, IssuerService]) -> None:
    city, svc = world
    _, project = demo_project(svc, city=city)
    data = (DATA / "roster_cp949.csv").read_bytes()
    preview = svc.import_roster(project.id, data, filename="명단.csv", dry_run=True, actor=CLERK)
    assert preview.to_json()["validRows"] == 4 and preview.added == () and preview.dry_run
    assert svc.contracts(project_id=project.id) == []
    first = svc.import_roster(project.id, data, filename="명단.csv", actor=CLERK)
    assert len(first.added) == 4 and len(first.drafted) == 4 and first.draft_failed == ()
    assert {c.state for c in svc.contracts(project_id=project.id)} == {models.DRAFT}
    # the same file again: nothing new, every valid row counted as already there
    again = svc.import_roster(project.id, data, filename="명단.csv", actor=CLERK)
    assert again.added == () and again.existing == 4 and again.to_json()["alreadyImported"] == 4
    # the same person with another phone number: reported, not added
    changed = data.decode("cp949").replace("010-1234-5678", "010-1111-0000").encode("cp949")
    third = svc.import_roster(project.id, changed, actor=CLERK)
    assert third.added == () and [i.code for i in third.report.issues_for(3)] == ["duplicate-person"]
    details = svc.participant_details([first.added[1]], actor=CLERK, purpose="test")[0]
    assert (details.name, details.birth_date, details.phone) == ("이서연", "1999-04-03", "010-9876-5432")
    with pytest.raises(NotFound):
        svc.import_roster(9999, data)


def test_offer_all_job_progress_and_idempotence(world: tuple[City, IssuerService]) -> None:
    city, svc = world
    _, project = demo_project(svc, city=city)
    svc.import_roster(project.id, roster_csv(45), actor=CLERK)
    job = jobs.start_job(svc, "offer-all", project.id, actor=CLERK)
    assert (job.state, job.total, job.done) == ("queued", 45, 0)
    assert jobs.start_job(svc, "offer-all", project.id, actor=CLERK).id == job.id  # the button pressed twice
    seen: list[jobs.JobProgress] = []
    final = jobs.run_job(svc, job.id, batch=10, on_progress=seen.append)
    assert (final.state, final.done, final.failed, final.total) == ("done", 45, 0, 45)
    assert [p.done for p in seen] == [10, 20, 30, 40, 45]
    assert all(p.rate > 0 for p in seen) and seen[0].seconds_left is not None and seen[0].seconds_left >= 0
    body = final.to_json()
    assert body["percent"] == 100 and body["label"] == {"ko": "초안 모두 보내기", "en": "Offer all drafts"}
    assert {c.state for c in svc.contracts(project_id=project.id)} == {models.OFFERED}
    with svc.tx() as s:
        assert s.scalar(select(func.count()).select_from(models.OutboxMessage)) == 45
    # running a finished job again does nothing; a new job finds nothing to do
    assert jobs.run_job(svc, job.id).done == 45
    again = jobs.start_job(svc, "offer-all", project.id)
    assert again.id != job.id and jobs.run_job(svc, again.id).done == 0


def test_a_job_held_by_a_live_runner_is_not_taken_but_a_dead_one_is(
    world: tuple[City, IssuerService],
) -> None:
    city, svc = world
    _, project = demo_project(svc, city=city)
    svc.import_roster(project.id, roster_csv(5), actor=CLERK)
    job = jobs.start_job(svc, "offer-all", project.id)
    from datetime import UTC, datetime, timedelta

    def hold(owner: str, seconds: float) -> None:
        with svc.tx() as s:
            s.execute(update(models.BulkJob).where(models.BulkJob.id == job.id).values(
                lease_owner=owner, lease_until=datetime.now(UTC) + timedelta(seconds=seconds), state="running"))  # fmt: skip

    hold("another-host:1:abc", 60)
    with pytest.raises(Conflict, match="running elsewhere"):
        jobs.run_job(svc, job.id)
    hold("another-host:1:abc", -1)  # its lease ran out
    assert jobs.run_job(svc, job.id).done == 5
    # a runner of this host whose process is gone (kill -9) gives its lease up at once
    job2 = jobs.start_job(svc, "offer-all", project.id)
    job = job2
    import socket

    hold(f"{socket.gethostname()[:30]}:999999999:dead", 60)
    assert jobs.run_job(svc, job2.id).state == "done"


def test_offer_all_stops_with_the_reason_when_the_template_is_unlawful(
    world: tuple[City, IssuerService],
) -> None:
    city, svc = world
    _, project = demo_project(svc, city=city)
    svc.import_roster(project.id, roster_csv(3), actor=CLERK)
    with svc.tx() as s:  # the template edited below the minimum wage after the drafts were made
        row = s.get_one(models.Project, project.id)
        overrides = json.loads(row.template_overrides)
        overrides["wage.amount"] = 5000
        row.template_overrides = json.dumps(overrides)
    final = jobs.run_job(svc, jobs.start_job(svc, "offer-all", project.id).id)
    assert final.state == "stopped" and final.done == 0
    [error] = final.errors
    assert error["contract"] is None and "최저임금" in error["reason"]["ko"] and error["reason"]["en"]
    assert {c.state for c in svc.contracts(project_id=project.id)} == {models.DRAFT}


def test_bad_job_requests(world: tuple[City, IssuerService]) -> None:
    city, svc = world
    _, project = demo_project(svc, city=city)
    with pytest.raises(InvalidInput, match="unknown bulk job"):
        jobs.start_job(svc, "delete-all", project.id)
    with pytest.raises(InvalidInput, match="unknown job option"):
        jobs.start_job(svc, "countersign-all", project.id, options={"cryptosuite": "rsa"})
    with pytest.raises(NotFound):
        jobs.start_job(svc, "offer-all", 9999)
    with pytest.raises(NotFound):
        jobs.progress(svc, 9999)


def test_cli_import_and_offer_all(
    world: tuple[City, IssuerService], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city, svc = world
    _, project = demo_project(svc, city=city)
    path = tmp_path / "명단.csv"
    path.write_bytes((DATA / "roster_cp949.csv").read_bytes())
    parser = cli_parser()
    assert (
        cli.cmd_import_roster(
            parser.parse_args(
                ["issuer", "import-roster", "--project", str(project.id), "--dry-run", str(path)]
            ),
            svc,
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "8행 [오류] 연도가 두 자리라" in out and "시험 실행" in out
    assert (
        cli.cmd_import_roster(
            parser.parse_args(["issuer", "import-roster", "--project", str(project.id), "--json", str(path)]),
            svc,
        )
        == 1
    )
    assert json.loads(capsys.readouterr().out)["drafted"] == 4
    args = parser.parse_args(["issuer", "offer-all", "--project", str(project.id), "--json"])
    assert cli.cmd_bulk(args, svc) == 0
    assert json.loads(capsys.readouterr().out)["done"] == 4
    assert cli.cmd_jobs(parser.parse_args(["issuer", "jobs", "--project", str(project.id)]), svc) == 0
    assert "초안 모두 보내기\tdone\t4/4" in capsys.readouterr().out


def cli_parser() -> object:
    from workcred.cli import build_parser

    return build_parser()


def test_resume_unfinished_carries_on_a_job_whose_runner_died(world: tuple[City, IssuerService]) -> None:
    import socket
    from datetime import UTC, datetime, timedelta

    city, svc = world
    _, project = demo_project(svc, city=city)
    svc.import_roster(project.id, roster_csv(7), actor=CLERK)
    job = jobs.start_job(svc, "offer-all", project.id)
    with svc.tx() as s:  # a runner of this host that was killed while holding the lease
        s.execute(update(models.BulkJob).where(models.BulkJob.id == job.id).values(
            lease_owner=f"{socket.gethostname()[:30]}:999999999:dead", state="running",
            lease_until=datetime.now(UTC) + timedelta(seconds=60)))  # fmt: skip
    [thread] = jobs.resume_unfinished(svc)
    thread.join(timeout=60)
    assert jobs.progress(svc, job.id).state == "done" and jobs.progress(svc, job.id).done == 7
    assert jobs.resume_unfinished(svc) == []  # nothing left to resume
