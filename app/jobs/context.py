"""What job code needs of the process it runs in. `app.runtime.Runtime` provides it; the jobs
package names only this, so it never depends on the composition root above it."""

from __future__ import annotations

import threading
from typing import Protocol

from app.config import Settings
from app.db import Database
from app.jobs.metering import Meter
from app.jobs.queue import JobQueue, ThreadPool
from app.speech.registry import ModelRegistry


class JobContext(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def models(self) -> ModelRegistry: ...

    @property
    def meter(self) -> Meter: ...

    @property
    def queue(self) -> JobQueue:
        """Where async jobs go: the broker when one is configured, else this process's workers."""
        ...

    @property
    def webhooks(self) -> ThreadPool:
        """Sends the webhooks of jobs this process ended or found due."""
        ...

    @property
    def stopping(self) -> threading.Event:
        """Set at shutdown: running async jobs go back to the queue at their next stage boundary."""
        ...
