"""Where async jobs wait for a worker: one small interface, two backends.

- `InProcessQueue` (the embedded default): a few daemon threads inside the API server. Nothing else
  to run. Queued jobs live in the database; a restarted server picks them up again.
- `CeleryQueue` (`VOXPARSE_BROKER_URL`): tasks on a Celery broker (Redis), taken by
  `voxparse worker` processes on any machine (`app.worker`).

Either way a delivery only names a job: the job row decides what happens (`jobs.claim_job`), so a
duplicate delivery is harmless.

Webhooks do not go through the broker: a delivery must not wait behind hours of queued audio. Every
process sends them from a small `ThreadPool` of its own; the job row is their outbox
(`webhook_status`, `webhook_next_at`), swept by every process, so none is lost with a process.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from app.config import Settings

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "voxparse.run_job"


class QueueUnavailable(Exception):
    """The job could not be handed to the queue (the broker is down, the server is stopping)."""


class JobQueue(Protocol):
    resumes_queued_jobs: bool
    """True when queued jobs exist only in the database (not in a broker) and must be handed over
    again after a restart."""

    def enqueue_job(self, job_id: str, delay: float = 0.0) -> None: ...

    def close(self) -> None: ...


class ThreadPool:
    """Daemon threads taking job ids, each handed to `handle`, optionally after a delay.

    Daemon threads: a job still running at exit is left `processing` and requeued at the next
    start (its runner is gone), rather than holding the process open.
    """

    def __init__(self, name: str, workers: int, handle: Callable[[str], None]) -> None:
        self._items: queue.Queue[str | None] = queue.Queue()
        self._handle = handle
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True) for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while (job_id := self._items.get()) is not None:
            try:
                self._handle(job_id)
            except Exception:
                logger.exception("background task for job %s failed", job_id)

    def put(self, job_id: str, delay: float = 0.0) -> None:
        with self._lock:
            if self._closed:
                raise QueueUnavailable("the server is shutting down")
            if delay <= 0:
                self._items.put(job_id)
                return
            timer = threading.Timer(delay, self._fire, args=(job_id,))
            timer.daemon = True
            self._timers.add(timer)
            timer.start()

    def _fire(self, job_id: str) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
            if not self._closed:
                self._items.put(job_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for timer in self._timers:
                timer.cancel()
        for _ in self._threads:
            self._items.put(None)


class InProcessQueue:
    resumes_queued_jobs = True

    def __init__(self, workers: int, run_job: Callable[[str], None]) -> None:
        self._pool = ThreadPool("voxparse-job", workers, run_job)

    def enqueue_job(self, job_id: str, delay: float = 0.0) -> None:
        self._pool.put(job_id, delay)

    def close(self) -> None:
        self._pool.close()


def celery_app(settings: Settings) -> Any:
    """The Celery application both sides use: API servers send with it, workers consume with it."""
    from celery import Celery

    app = Celery("voxparse", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.celery_queue,
        # Acknowledged after the task ran: a worker that dies mid-job leaves it to be redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout_seconds},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
    )
    return app


class CeleryQueue:
    resumes_queued_jobs = False

    def __init__(self, settings: Settings) -> None:
        self._app = celery_app(settings)
        self._queue = settings.celery_queue

    def _send(self, task: str, job_id: str, delay: float) -> None:
        try:
            self._app.send_task(task, args=[job_id], countdown=delay if delay > 0 else None, queue=self._queue)
        except Exception as exc:  # kombu's OperationalError and friends: the broker is unreachable
            raise QueueUnavailable(type(exc).__name__) from exc

    def enqueue_job(self, job_id: str, delay: float = 0.0) -> None:
        self._send(RUN_JOB_TASK, job_id, delay)

    def close(self) -> None:
        self._app.close()
