"""Bulk actions of a project (offer all drafts, countersign all signed, complete all ended) run as
background jobs (issuer/jobs.py); their page polls the JSON progress for the live bar."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from .. import jobs
from ._projects import visible_project
from ._web import actor, back, me, service, signed_in

bp = Blueprint("console_jobs", __name__, url_prefix="/console")


def visible_job(job_id: int) -> jobs.JobProgress:
    job = jobs.progress(service(), job_id)
    if job.project_id is None:
        me().require(me().is_admin())
    else:
        visible_project(job.project_id)
    return job


@bp.post("/projects/<int:project_id>/jobs/<kind>")
@signed_in
def start(project_id: int, kind: str) -> Any:
    project = visible_project(project_id)
    if kind not in jobs.KINDS:
        abort(404)
    job = jobs.start_job(service(), kind, project.id, actor=actor())
    if not job.finished:
        jobs.run_in_background(service(), job.id)
    return back(".job", job_id=job.id)


@bp.get("/jobs/<int:job_id>")
@signed_in
def job(job_id: int) -> str:
    progress = visible_job(job_id)
    project = visible_project(progress.project_id) if progress.project_id is not None else None
    return render_template("console/job.html", job=progress, project=project,
                           history=jobs.jobs(service(), project.id) if project else [])  # fmt: skip


@bp.get("/jobs/<int:job_id>/progress")
@signed_in
def job_progress(job_id: int) -> dict[str, Any]:
    return visible_job(job_id).to_json()
