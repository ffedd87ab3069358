"""Jobs: the record of every piece of billable work, and its stored result."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Job, JobResult, JobStatus, utcnow
from app.services import ledger

RESULT_IN_DATABASE = "db:job_results"
RESTART_FAILURE = "The server stopped while this job was processing."


def create_job(session: Session, account_id: str, *, type: str, model: str) -> Job:
    job = Job(account_id=account_id, type=type, model=model, status=JobStatus.QUEUED)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, account_id: str, job_id: str) -> Job:
    """A job of this account; another account's job is reported as not found."""
    job = session.get(Job, job_id)
    if job is None or job.account_id != account_id:
        raise NotFound("Job not found.")
    return job


def list_jobs(session: Session, account_id: str, *, limit: int, offset: int) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(Job.account_id == account_id)
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def get_result(session: Session, account_id: str, job_id: str) -> dict[str, Any]:
    job = get_job(session, account_id, job_id)
    if job.status != JobStatus.COMPLETED:
        raise NotFound(f"Result not available: the job is {job.status.value}.")
    result = session.get(JobResult, job.id)
    if result is None:
        raise NotFound("Result not found.")
    return result.body


def mark_processing(session: Session, job: Job, runner: str) -> None:
    job.status = JobStatus.PROCESSING
    job.started_at = job.heartbeat_at = utcnow()
    job.runner = runner
    session.flush()


def heartbeat(session: Session, job_ids: list[str]) -> None:
    if job_ids:
        session.execute(
            update(Job).where(Job.id.in_(job_ids), Job.status == JobStatus.PROCESSING).values(heartbeat_at=utcnow())
        )


def complete_job(
    session: Session, job: Job, *, duration_seconds: float, cost_cents: int, result: dict[str, Any] | None
) -> None:
    job.status = JobStatus.COMPLETED
    job.duration_seconds = duration_seconds
    job.cost_cents = cost_cents
    job.completed_at = utcnow()
    if result is not None:
        session.add(JobResult(job_id=job.id, body=result))
        job.result_location = RESULT_IN_DATABASE
    session.flush()


def fail_job(session: Session, job: Job, reason: str) -> None:
    """Mark a job failed and release whatever it still holds."""
    job.status = JobStatus.FAILED
    job.error = reason
    job.completed_at = utcnow()
    for hold in ledger.open_holds(session, job.id):
        ledger.release_hold(session, hold.id, reason=reason)
    session.flush()


def _process_is_gone(runner: str | None, host: str, my_pid: int) -> bool:
    """True when `runner` names a process on this host that no longer runs (or was an earlier
    incarnation of this very pid, as after a container restart)."""
    if not runner:
        return True
    runner_host, _, rest = runner.partition(":")
    if runner_host != host:
        return False
    pid_text = rest.split(":", 1)[0]
    if not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == my_pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_interrupted_jobs(session: Session, *, runner: str, stale_after: timedelta) -> int:
    """Fail jobs whose process died and release their holds.

    Called at start-up, before this process runs any job: a job is orphaned when its runner was a
    process on this host that is gone, or when its heartbeat is older than `stale_after` (a dead
    replica on another host).
    """
    host, _, rest = runner.partition(":")
    my_pid = int(rest.split(":", 1)[0])
    stale_before = utcnow() - stale_after
    candidates = session.scalars(
        select(Job).where(Job.status == JobStatus.PROCESSING).with_for_update(skip_locked=True)
    ).all()
    failed = 0
    for job in candidates:
        stale = job.heartbeat_at is None or job.heartbeat_at < stale_before
        if stale or _process_is_gone(job.runner, host, my_pid):
            fail_job(session, job, RESTART_FAILURE)
            failed += 1
    return failed
