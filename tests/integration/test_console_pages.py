"""Console pages that reach the service: roster import (report before anything exists, then confirm),
offering a contract (invitation link + QR, the reading of personal data recorded), a bulk job with
its JSON progress, and the audit export's neutralised cells."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from sqlalchemy import func, select

from issuer import models
from tests.helpers_console import CSRF, console_site, sign_in

ROSTER = (
    "성명,생년월일,주소,연락처,근무장소,업무내용,이메일\r\n"
    "박한글,1992-02-03,서울시 종로구 1,010-5555-6666,서울시청,자료 정리,park@example.kr\r\n"
    "최오류,1993-13-40,서울시 종로구 2,010-7777-8888,서울시청,자료 정리,\r\n"
)


def participants(site: object, project_id: int) -> int:
    with site.service.tx() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(func.count()).select_from(models.Participant).where(models.Participant.project_id == project_id)))


def test_roster_report_first_then_confirm(tmp_path: Path, sqlite_url: str) -> None:
    with console_site(tmp_path, sqlite_url, ROSTER_UPLOAD_DIR=str(tmp_path / "uploads")) as site:
        client = site.app.test_client()
        sign_in(client, site.staff["clerk_b"])
        project = site.projects["B"]
        before = participants(site, project)
        data = {"csrf_token": CSRF, "file": (io.BytesIO(ROSTER.encode("cp949")), "명단.csv")}
        report = client.post(f"/console/projects/{project}/roster/", data=data, content_type="multipart/form-data")
        html = report.get_data(as_text=True)
        assert report.status_code == 200 and "cp949" in html and "올바른 1줄 가져오기" in html
        assert "최오류" not in html  # the report names rows by number, not by the person
        assert participants(site, project) == before  # nothing created before the confirmation
        stored = list((tmp_path / "uploads").iterdir())
        assert len(stored) == 1 and "박한글".encode("cp949") not in stored[0].read_bytes()  # sealed at rest
        done = client.post(f"/console/projects/{project}/roster/confirm", data={"csrf_token": CSRF, "filename": "명단.csv"})
        assert done.status_code == 200 and "새 근로자 1명" in done.get_data(as_text=True)
        assert participants(site, project) == before + 1 and list((tmp_path / "uploads").iterdir()) == []
        again = client.post(f"/console/projects/{project}/roster/confirm", data={"csrf_token": CSRF})
        assert again.status_code == 400 and "다시 올리세요" in again.get_data(as_text=True)


def test_offer_shows_link_and_qr_and_records_the_reading(tmp_path: Path, sqlite_url: str) -> None:
    with console_site(tmp_path, sqlite_url) as site:
        client = site.app.test_client()
        sign_in(client, site.staff["clerk_a"])
        page = client.get(f"/console/contracts/{site.contract_a}")
        assert page.status_code == 200 and "김서울" in page.get_data(as_text=True)
        offered = client.post(f"/console/contracts/{site.contract_a}/offer", data={"csrf_token": CSRF})
        html = offered.get_data(as_text=True)
        assert offered.status_code == 200 and "/invite/" in html and 'src="data:image/svg+xml' in html
        assert site.service.contract(site.contract_a).state == "offered"
        trail = site.service.audit_trail(target=site.contract_a)
        reads = [e for e in trail if e.action == "personal-data.read"]
        assert reads and all(e.actor == f"staff:{site.staff['clerk_a']}" and e.personal_data for e in reads)
        # the search by phone goes through the blind index and finds the one worker
        found = client.get(f"/console/contracts?project={site.projects['A']}&phone=010 1234 5678")
        assert found.get_data(as_text=True).count("/console/contracts/urn:") == 1


def test_bulk_offer_runs_with_json_progress(tmp_path: Path, sqlite_url: str) -> None:
    with console_site(tmp_path, sqlite_url) as site:
        client = site.app.test_client()
        sign_in(client, site.staff["manager_x"])
        started = client.post(f"/console/projects/{site.projects['A']}/jobs/offer-all", data={"csrf_token": CSRF})
        assert started.status_code == 303 and started.headers["Location"].endswith(f"/console/jobs/{site.job_a}")
        assert 'data-progress-url="/console/jobs/' in client.get(started.headers["Location"]).get_data(as_text=True)
        deadline = time.monotonic() + 60
        while True:
            progress = client.get(f"/console/jobs/{site.job_a}/progress").get_json()
            if progress["state"] in ("done", "stopped") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert progress["state"] == "done" and progress["done"] == 2 and progress["percent"] == 100


def test_audit_export_neutralises_formula_cells(tmp_path: Path, sqlite_url: str) -> None:
    with console_site(tmp_path, sqlite_url) as site:
        client = site.app.test_client()
        sign_in(client, site.staff["clerk_a"])
        # an address that a spreadsheet would run as a formula, recorded as the audit event's "from"
        client.get(f"/console/contracts/{site.contract_a}", environ_base={"REMOTE_ADDR": "=HYPERLINK(\"x\")"})
        resp = client.get(f"/console/audit/export.csv?project={site.projects['A']}")
        assert resp.status_code == 200 and resp.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
        ips = [r[4] for r in rows[1:] if r[4]]
        assert "'=HYPERLINK(\"x\")" in ips and not any(ip.startswith("=") for ip in ips)
        xlsx = client.get(f"/console/audit/export.xlsx?project={site.projects['A']}")
        assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
        # a clerk's export covers their project only; another project's is refused
        assert client.get(f"/console/audit/export.csv?project={site.projects['B']}").status_code == 403
