"""`voxparse worker`: a Celery worker process that runs async jobs and sends their webhooks.

It loads the models once, then takes `voxparse.run_job` tasks from the broker with a pool of
threads sharing them (CTranslate2 and torch release the GIL). What a task does is
`app.jobs.runner`, the same code as the in-process mode. A background thread (`MaintenanceLoop`) keeps the
heartbeat of this worker's jobs fresh, requeues jobs whose worker died and sends due webhooks.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from app.config import Settings
from app.db import schema_is_current
from app.jobs import maintenance, runner
from app.jobs.queue import RUN_JOB_TASK, celery_app
from app.logs import configure_logging
from app.runtime import Runtime

logger = logging.getLogger(__name__)


def build(settings: Settings, runtime: Runtime) -> Any:
    """The Celery app with this process's tasks bound to `runtime`."""
    app = celery_app(settings)

    @app.task(name=RUN_JOB_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def run_job(job_id: str) -> None:
        runner.run_job(runtime, job_id)

    return app


def run(settings: Settings, *, concurrency: int) -> int:
    if not settings.broker_url:
        print("error: set VOXPARSE_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run workers")
        return 2
    configure_logging(settings.log_level)
    # Workers scale out: none of them migrates (that is `voxparse migrate`'s or the API's job).
    if not schema_is_current(settings.database_url):
        print("error: the database schema is not up to date: run `voxparse migrate` first")
        return 2
    runtime = Runtime.create(settings)
    logger.info("loading models")
    runtime.models.load_all()
    app = build(settings, runtime)
    maintenance.recover(runtime, fail_interrupted_sync_jobs=False)
    loop = maintenance.MaintenanceLoop(runtime)
    loop.start()
    name = f"voxparse-{os.getpid()}@{socket.gethostname()}"
    logger.info("worker %s taking jobs from queue %r, %d at a time", name, settings.celery_queue, concurrency)
    try:
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--queues={settings.celery_queue}",
                f"--hostname={name}",
                f"--loglevel={settings.log_level}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        loop.stop()
        runtime.close()
    return 0
