"""Paid work's one lifecycle, the same for a synchronous transcription, an async job and an Apex
call: open a job with a hold for its worst-case cost, track it while this process runs it, then
settle (the charge replaces the hold, never more than was held) or abandon (the hold released).

Opening is one transaction: a 402 leaves no job behind. Settling and abandoning lock the job row,
so a job taken over by another process (its heartbeat lapsed) is ended by exactly one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.billing import ledger, pricing
from app.db import Database
from app.jobs import records
from app.models import Job, JobStatus

logger = logging.getLogger(__name__)


class JobEnded(Exception):
    """The job was ended elsewhere (its heartbeat lapsed and another process took it over)."""


@dataclass(frozen=True)
class Charge:
    seconds: float
    """The billed length of the audio: its decoded duration, to the millisecond."""
    cents: int


def transcription_charge(seconds: float, price_per_hour_cents: int) -> Charge:
    """The cost rule for audio, used for the hold and for the charge alike."""
    billed = round(seconds, 3)
    return Charge(billed, pricing.transcription_cost_cents(billed, price_per_hour_cents))


@dataclass
class Meter:
    db: Database
    runner: str
    """This process's runner id: the job rows it is running carry it."""
    credit_expiry_days: int
    active: set[str] = field(default_factory=set)
    """Jobs this process is running now; `maintain` refreshes their heartbeats."""

    def open_job(
        self, account_id: str, *, type: str, model: str, hold_cents: int, meta: dict[str, Any] | None = None
    ) -> str:
        """A job running in this process (tracked until settled or abandoned), holding
        `hold_cents` (402 when the balance cannot)."""
        with self.db.transaction() as session:
            job = records.create_job(session, account_id, type=type, model=model, meta=meta)
            self._hold(session, job, hold_cents)
            records.mark_processing(session, job, self.runner)
            job_id = job.id
        self.active.add(job_id)
        return job_id

    def queue_job(self, account_id: str, *, type: str, model: str, hold_cents: int, **fields: Any) -> None:
        """A job for a worker to run (`fields`: its id, audio file, options, callback), holding
        `hold_cents` from now on."""
        with self.db.transaction() as session:
            job = records.create_job(session, account_id, type=type, model=model, is_async=True, **fields)
            self._hold(session, job, hold_cents)

    def extend_hold(self, job_id: str, cents: int) -> None:
        """Hold `cents` more for a job this process runs (a live call going on); 402 when the
        balance cannot."""
        with self.db.transaction() as session:
            job = records.lock_job(session, job_id)
            if not self.owns(job):
                raise JobEnded(f"job {job_id} is no longer running here")
            assert job is not None
            self._hold(session, job, cents)

    def _hold(self, session: Session, job: Job, cents: int) -> None:
        ledger.place_hold(session, job.account_id, job.id, cents, expiry_days=self.credit_expiry_days)

    @contextmanager
    def tracking(self, job_id: str) -> Iterator[None]:
        """While inside, the job counts as running here (its heartbeat is kept fresh)."""
        self.active.add(job_id)
        try:
            yield
        finally:
            self.active.discard(job_id)

    def owns(self, job: Job | None) -> bool:
        return job is not None and job.status == JobStatus.PROCESSING and job.runner == self.runner

    def settle(
        self,
        job_id: str,
        cost_cents: int,
        *,
        duration_seconds: float = 0.0,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        redacted_audio: str | None = None,
    ) -> int | None:
        """Charge `cost_cents` and end the job: completed with `result`, or, with `error`, failed
        but charged for what was used (an Apex stream cut short). Returns the cents charged, or
        None when the job is no longer this process's to end."""
        try:
            return self._settle(
                job_id,
                cost_cents,
                duration_seconds=duration_seconds,
                result=result,
                error=error,
                redacted_audio=redacted_audio,
            )
        finally:
            self.active.discard(job_id)

    def _settle(
        self,
        job_id: str,
        cost_cents: int,
        *,
        duration_seconds: float,
        result: dict[str, Any] | None,
        error: str | None,
        redacted_audio: str | None,
    ) -> int | None:
        with self.db.transaction() as session:
            job = records.lock_job(session, job_id)
            if not self.owns(job):
                return None
            assert job is not None
            holds = ledger.open_holds(session, job_id)
            held = sum(-hold.amount_cents for hold in holds)
            if cost_cents > held:
                # More than the request allowed (an upstream's usage report): not the client's to pay.
                logger.warning(
                    "job %s: cost %d cents exceeds the hold of %d; charging the hold", job_id, cost_cents, held
                )
                cost_cents = held
            remaining = cost_cents
            for hold in holds:
                ledger.settle_hold(session, hold.id, min(remaining, -hold.amount_cents))
                remaining -= min(remaining, -hold.amount_cents)
            if error is None:
                records.complete_job(
                    session,
                    job,
                    duration_seconds=duration_seconds,
                    cost_cents=cost_cents,
                    result=result,
                    redacted_audio=redacted_audio,
                )
            else:
                job.cost_cents = cost_cents
                records.fail_job(session, job, error)
            return cost_cents

    def abandon(self, job_id: str, reason: str) -> bool:
        """End the job failed, nothing charged, its hold released. False when it is no longer
        this process's to end."""
        try:
            with self.db.transaction() as session:
                job = records.lock_job(session, job_id)
                if not self.owns(job):
                    return False
                assert job is not None
                records.fail_job(session, job, reason)
                return True
        finally:
            self.active.discard(job_id)

    def heartbeat(self) -> None:
        if self.active:
            with self.db.transaction() as session:
                records.heartbeat(session, list(self.active))
