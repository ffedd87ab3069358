"""Per-key request limits on the `limits` library: in memory, or in Redis when several replicas
must share one count."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.errors import TooManyRequests

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LimitState:
    limit: int
    remaining: int
    reset_epoch: float

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_epoch)),
        }


class RateLimiter:
    def __init__(self, storage_uri: str) -> None:
        storage = storage_from_string(storage_uri)
        assert isinstance(storage, Storage)
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(self.storage)

    @classmethod
    def from_redis_url(cls, redis_url: str | None) -> RateLimiter:
        return cls(redis_url or "memory://")

    def refuse_if_over(self, rule: str, scope: str, key: str, *, per: str) -> None:
        """429 when `key` has used up `rule` already, without counting this request."""
        item: RateLimitItem = parse(rule)
        try:
            if self._limiter.test(item, "voxparse", scope, key):
                return
            stats = self._limiter.get_window_stats(item, "voxparse", scope, key)
        except Exception as exc:
            logger.warning("rate limit storage unavailable (%s); not limiting", type(exc).__name__)
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Rate limit exceeded: {rule} per {per}. Retry after {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )

    def hit(self, rule: str, scope: str, key: str, *, per: str = "API key") -> LimitState | None:
        """Count one request against `rule` for `key`; raise 429 when it is over.

        Returns None when the storage cannot be reached: limits then fail open rather than
        taking the whole API down with Redis.
        """
        item: RateLimitItem = parse(rule)
        try:
            allowed = self._limiter.hit(item, "voxparse", scope, key)
            stats = self._limiter.get_window_stats(item, "voxparse", scope, key)
        except Exception as exc:  # the storage's own connection errors vary by backend
            logger.warning("rate limit storage unavailable (%s); not limiting", type(exc).__name__)
            return None
        state = LimitState(limit=item.amount, remaining=stats.remaining, reset_epoch=stats.reset_time)
        if not allowed:
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise TooManyRequests(
                f"Rate limit exceeded: {rule} per {per}. Retry after {retry_after} seconds.",
                headers={**state.headers(), "Retry-After": str(retry_after)},
            )
        return state
