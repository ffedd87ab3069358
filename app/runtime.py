"""What one server process holds for its lifetime: settings, database, rate limiter, models."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field

import openai

from app.apex import upstream
from app.config import Settings
from app.db import Database
from app.jobs import runner
from app.jobs.live import StreamSlots
from app.jobs.metering import Meter
from app.jobs.queue import CeleryQueue, InProcessQueue, JobQueue, ThreadPool
from app.ratelimit import RateLimiter
from app.speech.registry import ModelRegistry


def runner_id() -> str:
    """host:pid:boot, unique to this process's lifetime."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Runtime:
    settings: Settings
    db: Database
    limiter: RateLimiter
    models: ModelRegistry
    apex: openai.AsyncOpenAI | None = None
    """The Apex upstream client, when one is configured."""
    meter: Meter = field(init=False)
    """Opens, tracks and settles this process's paid work."""
    transcription_slots: asyncio.Semaphore = field(init=False)
    intake_slots: asyncio.Semaphore = field(init=False)
    queue: JobQueue = field(init=False)
    """Where async jobs go: the broker when one is configured, else this process's workers."""
    webhooks: ThreadPool = field(init=False)
    """Sends the webhooks of jobs this process ended or found due."""
    stream_slots: StreamSlots = field(init=False)
    """The live streams open in this process, per key."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set at shutdown: in-process async jobs go back to the queue at their next stage boundary."""

    def __post_init__(self) -> None:
        self.meter = Meter(self.db, runner_id(), self.settings.credit_expiry_days)
        self.transcription_slots = asyncio.Semaphore(self.settings.max_concurrent_transcriptions)
        self.intake_slots = asyncio.Semaphore(self.settings.max_concurrent_transcriptions)
        self.queue = self._make_queue()
        self.stream_slots = StreamSlots(self.settings.stream_max_per_process, self.settings.stream_max_per_key)
        self.webhooks = ThreadPool("voxparse-webhook", 2, lambda job_id: runner.deliver_webhook(self, job_id))

    def _make_queue(self) -> JobQueue:
        if self.settings.broker_url:
            return CeleryQueue(self.settings)
        return InProcessQueue(self.settings.background_workers, run_job=lambda job_id: runner.run_job(self, job_id))

    @classmethod
    def create(cls, settings: Settings, models: ModelRegistry | None = None) -> Runtime:
        """Models may be shared between runtimes (tests); they are loaded once either way."""
        return cls(
            settings=settings,
            db=Database(settings),
            limiter=RateLimiter.from_redis_url(settings.redis_url),
            models=models or ModelRegistry(settings),
            apex=upstream.make_client(settings),
        )

    @property
    def runner(self) -> str:
        """This process's runner id (host:pid:boot)."""
        return self.meter.runner

    def close(self) -> None:
        self.stopping.set()
        self.queue.close()
        self.webhooks.close()
        self.db.dispose()

    async def aclose(self) -> None:
        if self.apex is not None:
            await self.apex.close()
        self.close()
