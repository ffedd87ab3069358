"""Jobs: the record of every piece of billable work, and its stored result."""

from __future__ import annotations

import enum
import os
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.billing import ledger
from app.errors import Conflict, NotFound
from app.models import Job, JobCategory, JobResult, JobStage, JobStatus, WebhookStatus, utcnow

RESULT_IN_DATABASE = "db:job_results"
RESTART_FAILURE = "The server stopped while this job was processing."
CANCELLED = "Cancelled by request."
ENDED = (JobStatus.COMPLETED, JobStatus.FAILED)


class JobCancelled(Conflict):
    default_message = CANCELLED


class JobAlreadyEnded(Conflict):
    pass


def create_job(
    session: Session,
    account_id: str,
    *,
    type: str,
    model: str,
    job_id: str | None = None,
    meta: dict[str, Any] | None = None,
    **async_fields: Any,
) -> Job:
    """A new queued job. `async_fields` (audio_file, options, callback_url, duration_seconds,
    is_async) describe a job that a background worker will run."""
    job = Job(
        account_id=account_id,
        type=type,
        model=model,
        status=JobStatus.QUEUED,
        progress_stage=JobStage.QUEUED,
        meta=meta,
        **async_fields,
    )
    if job_id is not None:
        job.id = job_id
    session.add(job)
    session.flush()
    return job


def lock_job(session: Session, job_id: str) -> Job | None:
    return session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one_or_none()


def get_job(session: Session, account_id: str, job_id: str) -> Job:
    """A job of this account; another account's job is reported as not found."""
    job = session.get(Job, job_id)
    if job is None or job.account_id != account_id:
        raise NotFound("Job not found.")
    return job


def list_jobs(session: Session, account_id: str, *, limit: int, offset: int, category: str | None = None) -> list[Job]:
    """Newest first; with `category`, only jobs whose call matched the category of that name
    (when it was last categorized)."""
    query = select(Job).where(Job.account_id == account_id)
    if category is not None:
        query = query.where(
            select(JobCategory.job_id).where(JobCategory.job_id == Job.id, JobCategory.name == category).exists()
        )
    return list(session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit).offset(offset)))


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


def _ended(job: Job) -> None:
    job.completed_at = utcnow()
    if job.callback_url:
        job.webhook_status = WebhookStatus.PENDING
        job.webhook_next_at = job.completed_at


def complete_job(
    session: Session,
    job: Job,
    *,
    duration_seconds: float,
    cost_cents: int,
    result: dict[str, Any] | None,
    redacted_audio: str | None = None,
) -> None:
    job.status = JobStatus.COMPLETED
    job.redacted_audio = redacted_audio
    job.duration_seconds = duration_seconds
    job.cost_cents = cost_cents
    job.progress_stage = JobStage.DONE
    job.progress_percent = 100.0
    _ended(job)
    if result is not None:
        session.add(JobResult(job_id=job.id, body=result))
        job.result_location = RESULT_IN_DATABASE
        add_categories(session, job.id, [c["name"] for c in result.get("categories") or []])
    session.flush()


def add_categories(session: Session, job_id: str, names: list[str]) -> None:
    """What `list_jobs(category=...)` finds the job by."""
    for name in dict.fromkeys(names):
        session.add(JobCategory(job_id=job_id, name=name))


def fail_job(session: Session, job: Job, reason: str) -> None:
    """Mark a job failed and release whatever it still holds."""
    job.status = JobStatus.FAILED
    job.error = reason
    _ended(job)
    for hold in ledger.open_holds(session, job.id):
        ledger.release_hold(session, hold.id, reason=reason)
    session.flush()


def request_cancel(session: Session, account_id: str, job_id: str) -> Job:
    """Cancel a queued job now (failed, hold released); ask a running one to stop at its next
    stage boundary. An ended job cannot be cancelled."""
    get_job(session, account_id, job_id)
    job = lock_job(session, job_id)
    assert job is not None
    if job.status in ENDED:
        raise JobAlreadyEnded(f"The job has already {job.status.value}; there is nothing to cancel.")
    job.cancel_requested = True
    if job.status == JobStatus.QUEUED:
        fail_job(session, job, CANCELLED)
    session.flush()
    return job


def record_progress(session: Session, job_id: str, stage: JobStage | None, percent: float | None) -> bool:
    """Store the job's stage and/or percent; returns whether it was asked to stop (cancel)."""
    values: dict[str, Any] = {}
    if stage is not None:
        values["progress_stage"] = stage
    if percent is not None:
        values["progress_percent"] = round(percent, 1)
    if values:
        session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.PROCESSING).values(**values))
    return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


class Claim(enum.StrEnum):
    """What a worker may do with a job it was given."""

    RUN = "run"
    SKIP = "skip"
    """Ended already, or running in a live worker: nothing to do (a duplicate delivery)."""
    ENDED = "ended"
    """The worker ended it just now (cancelled while queued, out of attempts): run its end actions."""


def claim_job(
    session: Session, job_id: str, *, runner: str, max_attempts: int, stale_before: datetime
) -> tuple[Claim, Job | None]:
    """Take a queued async job (or one whose worker died) for this runner, counting the attempt.

    The job row decides, under its lock: duplicate deliveries of one job, from the broker or from
    a requeue, find it running or ended and skip it.
    """
    job = lock_job(session, job_id)
    if job is None or job.status in ENDED or not job.is_async:
        return Claim.SKIP, job
    if job.status == JobStatus.PROCESSING and job.heartbeat_at is not None and job.heartbeat_at >= stale_before:
        return Claim.SKIP, job
    if job.cancel_requested:
        fail_job(session, job, CANCELLED)
        return Claim.ENDED, job
    if job.attempts >= max_attempts:
        last = f" Last error: {job.error}" if job.error else ""
        fail_job(session, job, f"Processing failed {job.attempts} times; giving up.{last}")
        return Claim.ENDED, job
    job.attempts += 1
    mark_processing(session, job, runner)
    job.progress_stage, job.progress_percent = JobStage.DECODING, 0.0
    session.flush()
    return Claim.RUN, job


def return_to_queue(
    session: Session, job: Job, *, error: str | None, count_attempt: bool = True, delay_seconds: float = 0.0
) -> None:
    """Put a job back in the queue (a failed attempt with attempts left, or a worker stopping)."""
    job.status = JobStatus.QUEUED
    job.enqueued_at = utcnow() + timedelta(seconds=delay_seconds)
    job.runner = None
    job.heartbeat_at = None
    job.progress_stage, job.progress_percent = JobStage.QUEUED, None
    if error is not None:
        job.error = error
    if not count_attempt:
        job.attempts = max(0, job.attempts - 1)
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
        if not job.is_async and (stale or _process_is_gone(job.runner, host, my_pid)):
            fail_job(session, job, RESTART_FAILURE)
            failed += 1
    return failed


def requeue_orphaned_async_jobs(session: Session, *, runner: str, stale_after: timedelta) -> list[str]:
    """Async jobs whose worker died go back to the queue (their attempt stays counted). Dead means
    a stale heartbeat, or, for this host's processes, a pid that is gone."""
    host, _, rest = runner.partition(":")
    my_pid = int(rest.split(":", 1)[0])
    stale_before = utcnow() - stale_after
    candidates = session.scalars(
        select(Job).where(Job.status == JobStatus.PROCESSING, Job.is_async.is_(True)).with_for_update(skip_locked=True)
    ).all()
    requeued = []
    for job in candidates:
        if job.runner == runner:
            continue
        stale = job.heartbeat_at is None or job.heartbeat_at < stale_before
        if stale or _process_is_gone(job.runner, host, my_pid):
            return_to_queue(session, job, error=RESTART_FAILURE.replace("server", "worker"))
            requeued.append(job.id)
    return requeued


def queued_async_jobs(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED, Job.is_async.is_(True))
            .order_by(Job.created_at, Job.id)
        )
    )


def overdue_queued_jobs(session: Session, *, queued_before: datetime, limit: int = 500) -> list[str]:
    """Queued async jobs handed to the queue before `queued_before` and never taken since; their
    hand-over time is reset, so that only one process sends each again."""
    overdue = list(
        session.scalars(
            select(Job)
            .where(Job.status == JobStatus.QUEUED, Job.is_async.is_(True), Job.enqueued_at < queued_before)
            .order_by(Job.enqueued_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    now = utcnow()
    for job in overdue:
        job.enqueued_at = now
    return [job.id for job in overdue]


def due_webhooks(session: Session, now: datetime) -> list[str]:
    """Jobs whose webhook is due: never tried, a retry whose time has come, or a sender's lease
    that ran out (the process died mid-delivery)."""
    return list(
        session.scalars(
            select(Job.id).where(Job.webhook_status == WebhookStatus.PENDING, Job.webhook_next_at <= now).limit(500)
        )
    )
