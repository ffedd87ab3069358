"""Asynchronous jobs from the worker's side: claim, run, settle or retry, and the end actions
(delete the queued audio, send the webhook). The same code runs in the API server's in-process
pool and in `voxparse worker` processes; `app.jobs.queue` is how jobs reach it.

A job's attempt ends one of four ways:
- completed: the hold is settled (release + charge) once; the result is stored.
- failed with attempts left: back to `queued`, handed to the queue again after a backoff.
- failed for good (out of attempts, bad input, cancelled): `failed`, the hold released.
- the worker is stopping: back to `queued`, the attempt not counted.
A worker that dies mid-job leaves it `processing` with a stale heartbeat; `maintain` (run by every
server and worker) puts it back in the queue, and the next claim counts the attempt.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
import traceback
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app import idempotency
from app.db import Database
from app.errors import ApiError
from app.jobs import audio_store, categorization, records, redacted_audio, webhooks
from app.jobs.context import JobContext
from app.jobs.documents import JobDetailOut, job_detail_out
from app.jobs.metering import Charge, transcription_charge
from app.jobs.queue import QueueUnavailable
from app.models import Job, JobStage, JobStatus, WebhookAttempt, WebhookStatus, utcnow
from app.speech import audio, metrics, pipeline
from app.speech.diarization import SpeakerCount
from app.speech.pipeline import TranscriptionOptions
from app.speech.result import TranscriptionResult

logger = logging.getLogger(__name__)

PERCENT_WRITE_INTERVAL = 2.0
WEBHOOK_LEASE_MARGIN = 30.0
INTERNAL_FAILURE = "Processing failed: an internal error occurred."


class WorkerStopping(Exception):
    """The process is shutting down: leave the job for another worker."""


class JobProgress:
    """Writes a running job's stage and percent to its row; at each stage boundary, stops the run
    if the job was cancelled (or this worker is stopping)."""

    def __init__(self, db: Database, job_id: str, *, stopping: threading.Event | None = None) -> None:
        self._db = db
        self._job_id = job_id
        self._stopping = stopping
        self._last_write = 0.0

    def stage(self, stage: pipeline.Stage, percent: float) -> None:
        if self._stopping is not None and self._stopping.is_set():
            raise WorkerStopping
        with self._db.transaction() as session:
            cancel = records.record_progress(session, self._job_id, JobStage(stage), percent)
        self._last_write = time.monotonic()
        if cancel:
            raise records.JobCancelled

    def percent(self, percent: float) -> None:
        if time.monotonic() - self._last_write < PERCENT_WRITE_INTERVAL:
            return
        self._last_write = time.monotonic()
        try:
            with self._db.transaction() as session:
                records.record_progress(session, self._job_id, None, percent)
        except Exception as exc:  # progress is informative; a failed write must not fail the job
            logger.warning("progress of job %s not recorded: %s", self._job_id, type(exc).__name__)


def complete_transcription(
    ctx: JobContext,
    job_id: str,
    decoded: audio.DecodedAudio,
    result: TranscriptionResult,
    options: TranscriptionOptions,
    charge: Charge,
) -> tuple[int | None, TranscriptionResult]:
    """Categorize the call, store what the job asked to keep (its redacted audio) and settle it:
    the cents charged, or None when another process ended it meanwhile (then nothing of this run
    is kept), and the result as stored."""
    result = categorization.apply(ctx.db, ctx.settings, job_id, result)
    kept = None
    if options.redact_audio:
        kept = redacted_audio.save(ctx.settings, job_id, decoded, result, options.redact_audio_mode)
    try:
        charged = ctx.meter.settle(
            job_id,
            charge.cents,
            duration_seconds=charge.seconds,
            result=result.model_dump(mode="json"),
            redacted_audio=kept,
        )
    except BaseException:
        redacted_audio.delete(ctx.settings, kept)
        raise
    if charged is None:
        redacted_audio.delete(ctx.settings, kept)
    return charged, result


def options_to_json(options: TranscriptionOptions) -> dict[str, Any]:
    return dataclasses.asdict(options)


def options_from_json(data: dict[str, Any]) -> TranscriptionOptions:
    data = dict(data)
    speakers = data.pop("speakers", None)
    if isinstance(speakers, int):  # stored before min/max existed, when the number was a ceiling
        count = SpeakerCount(max=speakers, min=min(1, speakers))
    else:
        count = SpeakerCount(**speakers) if isinstance(speakers, dict) else SpeakerCount()
    return TranscriptionOptions(**data, speakers=count)


@dataclasses.dataclass(frozen=True)
class _Claimed:
    audio_file: str
    options: TranscriptionOptions
    attempts: int


def run_job(ctx: JobContext, job_id: str) -> None:
    """Run one delivery of an async job. Blocking; safe to call for any job id, any number of times."""
    settings = ctx.settings
    if job_id in ctx.meter.active:
        return  # a redelivery to the process already running it (its heartbeat may have lapsed)
    stale_before = utcnow() - timedelta(seconds=settings.job_stale_seconds)
    with ctx.db.transaction() as session:
        claim, job = records.claim_job(
            session, job_id, runner=ctx.meter.runner, max_attempts=settings.job_max_attempts, stale_before=stale_before
        )
        claimed = (
            _Claimed(job.audio_file or "", options_from_json(job.options or {}), job.attempts)
            if claim == records.Claim.RUN and job is not None
            else None
        )
    if claim == records.Claim.ENDED:
        after_end(ctx, job_id)
    if claimed is None:
        state = "not found" if job is None else job.status.value
        logger.info("job %s: nothing to run (%s)", job_id, state)
        return
    logger.info("job %s: attempt %d started", job_id, claimed.attempts)
    with ctx.meter.tracking(job_id):
        _run_claimed(ctx, job_id, claimed)


def _run_claimed(ctx: JobContext, job_id: str, claimed: _Claimed) -> None:
    settings = ctx.settings
    progress = JobProgress(ctx.db, job_id, stopping=ctx.stopping)
    try:
        with audio_store.open_stored(settings, claimed.audio_file) as stored:
            decoded = audio.decode(stored, max_seconds=settings.max_audio_seconds)
        diarizer = pipeline.choose_diarizer(ctx.models, decoded, claimed.options.channels)
        result = pipeline.run(
            ctx.models, decoded, claimed.options, None, diarizer, progress, metrics.Thresholds.of(settings)
        )
    except WorkerStopping:
        with ctx.db.transaction() as session:
            job = records.lock_job(session, job_id)
            if ctx.meter.owns(job):
                assert job is not None
                records.return_to_queue(session, job, error=None, count_attempt=False)
        logger.info("job %s: returned to the queue (worker stopping)", job_id)
        return
    except Exception as exc:
        _attempt_failed(ctx, job_id, exc)
        return

    charge = transcription_charge(decoded.duration, settings.price_per_hour_cents)
    try:
        charged, _ = complete_transcription(ctx, job_id, decoded, result, claimed.options, charge)
    except Exception as exc:
        _attempt_failed(ctx, job_id, exc)
        return
    if charged is None:
        # Taken for dead and run elsewhere meanwhile: that run settles it, not this one.
        logger.warning("job %s: finished after being taken over; this result is discarded", job_id)
        return
    logger.info("job %s: completed (%.1f s of audio, %d cents)", job_id, charge.seconds, charged)
    after_end(ctx, job_id)


def _attempt_failed(ctx: JobContext, job_id: str, exc: Exception) -> None:
    settings = ctx.settings
    cancelled = isinstance(exc, records.JobCancelled)
    # Bad input (4xx) fails the same way every time; anything else may be transient.
    permanent = cancelled or (isinstance(exc, ApiError) and exc.status_code < 500)
    reason = exc.message if isinstance(exc, ApiError) else INTERNAL_FAILURE
    if not cancelled:
        # Where it failed, but not the exception's message: that may quote call content.
        where = "" if isinstance(exc, ApiError) else "\n" + "".join(traceback.format_tb(exc.__traceback__))
        logger.error("job %s: attempt failed: %s%s", job_id, type(exc).__name__, where)
    retry_in: float | None = None
    with ctx.db.transaction() as session:
        job = records.lock_job(session, job_id)
        if not ctx.meter.owns(job):
            return
        assert job is not None
        if permanent or job.attempts >= settings.job_max_attempts:
            if not permanent:
                reason = f"Processing failed {job.attempts} times; giving up. Last error: {reason}"
            records.fail_job(session, job, reason)
        else:
            retry_in = settings.job_retry_backoff_seconds * 2 ** (job.attempts - 1)
            records.return_to_queue(session, job, error=reason, delay_seconds=retry_in)
    if retry_in is None:
        after_end(ctx, job_id)
        return
    logger.info("job %s: retrying in %.0f s", job_id, retry_in)
    try:
        ctx.queue.enqueue_job(job_id, retry_in)
    except QueueUnavailable:
        logger.warning("job %s: could not requeue now; the stale-job sweep will", job_id)


def after_end(ctx: JobContext, job_id: str) -> None:
    """Once a job has ended (committed): delete its queued audio, send its webhook."""
    with ctx.db.transaction(read_only=True) as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        audio_file, webhook_pending = job.audio_file, job.webhook_status == WebhookStatus.PENDING
    audio_store.delete(ctx.settings, audio_file)
    if webhook_pending:
        # Shutting down (QueueUnavailable): the outbox sweep of another or the next process sends it.
        with contextlib.suppress(QueueUnavailable):
            ctx.webhooks.put(job_id)


def cancel(ctx: JobContext, account_id: str, job_id: str) -> JobDetailOut:
    with ctx.db.transaction() as session:
        job = records.request_cancel(session, account_id, job_id)
        ended = job.status == JobStatus.FAILED
    if ended:
        logger.info("job %s: cancelled while queued", job_id)
        after_end(ctx, job_id)
    return job_detail(ctx, account_id, job_id)


def job_detail(ctx: JobContext, account_id: str, job_id: str) -> JobDetailOut:
    with ctx.db.transaction(read_only=True) as session:
        job = records.get_job(session, account_id, job_id)
        attempts = list(session.scalars(select(WebhookAttempt).where(WebhookAttempt.job_id == job_id)))
        return job_detail_out(job, attempts)


def webhook_payload(job: Job, public_base_url: str | None) -> dict[str, Any]:
    detail = job_detail_out(job).model_dump(mode="json", exclude={"webhook"})
    base = (public_base_url or "").rstrip("/")
    return {
        "event": "job.completed" if job.status == JobStatus.COMPLETED else "job.failed",
        "job_url": f"{base}/v1/jobs/{job.id}",
        "result_url": f"{base}{detail['result_url']}" if detail["result_url"] else None,
        "job": detail,
    }


def _take_webhook(ctx: JobContext, job_id: str) -> tuple[str, list[str], bytes] | None:
    """Lease a due webhook to this process: url, signing secrets and body, or None when not due here."""
    settings = ctx.settings
    now = utcnow()
    with ctx.db.transaction() as session:
        job = records.lock_job(session, job_id)
        if job is None or job.webhook_status != WebhookStatus.PENDING or not job.callback_url:
            return None
        if job.webhook_next_at is not None and job.webhook_next_at > now:
            return None
        # Long enough for one attempt; should this process die meanwhile, the sweep takes it over.
        job.webhook_next_at = now + timedelta(seconds=settings.webhook_timeout_seconds + WEBHOOK_LEASE_MARGIN)
        keys = webhooks.signing_secrets(session, job.account_id)
        body = json.dumps(webhook_payload(job, settings.public_base_url), separators=(",", ":")).encode()
        return job.callback_url, keys, body


def deliver_webhook(ctx: JobContext, job_id: str) -> None:
    """One delivery attempt, recorded on the job; schedules the next one after a failure."""
    settings = ctx.settings
    taken = _take_webhook(ctx, job_id)
    if taken is None:
        return
    url, keys, body = taken
    try:
        # Resolved and checked again now: the name may point somewhere else than at submission.
        target = webhooks.resolve_callback(
            url, allow_private=settings.webhook_allow_private, ports=frozenset(settings.webhook_allowed_ports)
        )
        result = webhooks.post(target, body, webhooks.sign(keys, body), timeout=settings.webhook_timeout_seconds)
    except webhooks.InvalidCallbackUrl as exc:
        result = webhooks.DeliveryResult(None, exc.message, 0)

    retry_in: float | None = None
    with ctx.db.transaction() as session:
        job = records.lock_job(session, job_id)
        if job is None or job.webhook_status != WebhookStatus.PENDING:
            return
        session.add(
            WebhookAttempt(
                job_id=job_id, status_code=result.status_code, error=result.error, duration_ms=result.duration_ms
            )
        )
        session.flush()
        made = len(session.scalars(select(WebhookAttempt.id).where(WebhookAttempt.job_id == job_id)).all())
        if result.ok:
            job.webhook_status, job.webhook_next_at = WebhookStatus.DELIVERED, None
        elif made >= settings.webhook_max_attempts:
            job.webhook_status, job.webhook_next_at = WebhookStatus.FAILED, None
        else:
            retry_in = settings.webhook_backoff_seconds * 2 ** (made - 1)
            job.webhook_next_at = utcnow() + timedelta(seconds=retry_in)
    logger.info(
        "job %s: webhook attempt %d -> %s%s",
        job_id,
        made,
        result.status_code or result.error,
        f", next in {retry_in:.1f} s" if retry_in is not None else "",
    )
    if retry_in is not None:
        with contextlib.suppress(QueueUnavailable):
            ctx.webhooks.put(job_id, retry_in)


def _requeue_orphans(ctx: JobContext) -> list[str]:
    with ctx.db.transaction() as session:
        requeued = records.requeue_orphaned_async_jobs(
            session, runner=ctx.meter.runner, stale_after=timedelta(seconds=ctx.settings.job_stale_seconds)
        )
    for job_id in requeued:
        logger.warning("job %s: its worker stopped responding; queued again", job_id)
    return requeued


def maintain(ctx: JobContext) -> None:
    """Every heartbeat period: refresh the heartbeat of this process's jobs, put async jobs whose
    worker died back in the queue, hand over again queued jobs nobody took (a lost broker
    message), send the webhooks that are due, and forget expired idempotency keys."""
    ctx.meter.heartbeat()
    for job_id in _requeue_orphans(ctx):
        ctx.queue.enqueue_job(job_id)
    resend_before = utcnow() - timedelta(seconds=ctx.settings.job_resend_after_seconds)
    with ctx.db.transaction() as session:
        overdue = records.overdue_queued_jobs(session, queued_before=resend_before)
    for job_id in overdue:
        logger.warning("job %s: queued long ago and never taken; handed to the queue again", job_id)
        ctx.queue.enqueue_job(job_id)
    with ctx.db.transaction(read_only=True) as session:
        due = records.due_webhooks(session, utcnow())
    for job_id in due:
        ctx.webhooks.put(job_id)
    idempotency.sweep(ctx.db)
    redacted_audio.sweep(ctx.db, ctx.settings)


def resume(ctx: JobContext) -> None:
    """At start-up: requeue orphans; with an in-process queue, also hand over the jobs that were
    waiting when the server stopped (a broker keeps its own). Webhooks are swept by `maintain`."""
    requeued = _requeue_orphans(ctx)
    if not ctx.queue.resumes_queued_jobs:
        for job_id in requeued:
            ctx.queue.enqueue_job(job_id)
        return
    with ctx.db.transaction(read_only=True) as session:
        queued = records.queued_async_jobs(session)
    for job_id in queued:
        ctx.queue.enqueue_job(job_id)
    if queued:
        logger.info("resumed %d queued job(s)", len(queued))
