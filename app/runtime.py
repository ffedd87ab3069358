"""What one server process holds for its lifetime: settings, database, rate limiter, models."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field

from app.config import Settings
from app.db import Database
from app.services.ratelimit import RateLimiter


def runner_id() -> str:
    """host:pid:boot, unique to this process's lifetime."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Runtime:
    settings: Settings
    db: Database
    limiter: RateLimiter
    runner: str = field(default_factory=runner_id)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings, db=Database(settings), limiter=RateLimiter.from_redis_url(settings.redis_url)
        )

    def model_status(self) -> dict[str, str]:
        return {}

    def close(self) -> None:
        self.db.dispose()
