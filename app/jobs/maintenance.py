"""What every server and worker process does besides its requests and jobs: recover the jobs of
processes that died, at start-up, then keep the job table healthy every heartbeat period."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from app.jobs import records, runner
from app.jobs.context import JobContext

logger = logging.getLogger(__name__)


def recover(ctx: JobContext, *, fail_interrupted_sync_jobs: bool) -> None:
    """At start-up, before this process runs any job. Synchronous jobs whose process died are
    failed (their client is gone; a server does this, not a worker); async ones are queued again."""
    if fail_interrupted_sync_jobs:
        stale_after = timedelta(seconds=ctx.settings.job_stale_seconds)
        with ctx.db.transaction() as session:
            failed = records.fail_interrupted_jobs(session, runner=ctx.meter.runner, stale_after=stale_after)
        if failed:
            logger.warning("marked %d interrupted job(s) failed and released their holds", failed)
    runner.resume(ctx)


class MaintenanceLoop:
    """`runner.maintain` every `job_heartbeat_seconds`, in a daemon thread, until `stop`."""

    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voxparse-maintenance", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._ctx.settings.job_heartbeat_seconds):
            try:
                runner.maintain(self._ctx)
            except Exception as exc:  # a database or broker blip must not end the loop
                logger.warning("job heartbeat failed: %s", type(exc).__name__)
