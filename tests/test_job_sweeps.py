"""What every server and worker does each heartbeat period (`runner.maintain`): requeue async
jobs whose worker died, hand over again queued jobs that nobody took, send due webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.jobs import records, runner
from app.models import Job, JobStatus, utcnow
from app.runtime import Runtime
from app.speech.registry import ModelRegistry
from tests.support.factories import make_account, settings_for


class RecordingQueue:
    resumes_queued_jobs = False

    def __init__(self) -> None:
        self.sent: list[str] = []

    def enqueue_job(self, job_id: str, delay: float = 0.0) -> None:
        self.sent.append(job_id)

    def close(self) -> None:
        pass


@pytest.fixture
def sweeper(database_url: str, models: ModelRegistry) -> Iterator[tuple[Runtime, RecordingQueue]]:
    runtime = Runtime.create(settings_for(database_url, job_resend_after_seconds=600, job_stale_seconds=60), models)
    runtime.queue.close()
    recorder = RecordingQueue()
    runtime.queue = recorder
    yield runtime, recorder
    runtime.close()


def _job(runtime: Runtime, account_id: str, **fields: Any) -> str:
    with runtime.db.transaction() as session:
        job = records.create_job(session, account_id, type="transcribe", model="test", **fields)
        return job.id


def test_queued_jobs_nobody_took_are_sent_again_once(sweeper: tuple[Runtime, RecordingQueue]) -> None:
    runtime, queue = sweeper
    owner = make_account(runtime)
    long_ago = utcnow() - timedelta(hours=2)
    lost = _job(runtime, owner.account_id, is_async=True, enqueued_at=long_ago)
    recent = _job(runtime, owner.account_id, is_async=True, enqueued_at=utcnow())
    sync = _job(runtime, owner.account_id, enqueued_at=long_ago)

    runner.maintain(runtime)
    assert lost in queue.sent
    assert recent not in queue.sent
    assert sync not in queue.sent
    # Handed over again now: the next sweeps leave it alone until it is overdue again.
    queue.sent.clear()
    runner.maintain(runtime)
    assert lost not in queue.sent


def test_async_jobs_of_a_dead_worker_are_queued_again(sweeper: tuple[Runtime, RecordingQueue]) -> None:
    runtime, queue = sweeper
    owner = make_account(runtime)
    dead = _job(runtime, owner.account_id, is_async=True, enqueued_at=utcnow())
    alive = _job(runtime, owner.account_id, is_async=True, enqueued_at=utcnow())
    with runtime.db.transaction() as session:
        for job_id, beat in ((dead, utcnow() - timedelta(minutes=5)), (alive, utcnow())):
            job = session.get(Job, job_id)
            assert job is not None
            records.mark_processing(session, job, "another-host:4242:cafe")
            job.attempts = 1
            job.heartbeat_at = beat

    runner.maintain(runtime)
    assert queue.sent == [dead]
    with runtime.db.transaction(read_only=True) as session:
        requeued, running = session.get(Job, dead), session.get(Job, alive)
        assert requeued is not None
        assert running is not None
        assert requeued.status == JobStatus.QUEUED
        assert requeued.attempts == 1  # counted when the next worker claims it
        assert running.status == JobStatus.PROCESSING
