"""The web side of `Idempotency-Key` (`app.idempotency` keeps the keys): claim a key before the
work, then record the answer where the work ends, which may be a thread that outlives a client
who went away. Only that answer is replayed; a request that never did its work frees the key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Annotated, Any, TypeVar

from fastapi import Header

from app import idempotency
from app.api.errors import ErrorBody, ErrorDetail
from app.billing.accounts import Principal
from app.config import Settings
from app.db import Database
from app.errors import ApiError

T = TypeVar("T")

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="Send a request again with the same key and get its first answer, never a second "
        "job or charge (kept 24 h). The same key with a different request is a 422; while the first "
        "is still running, a 409.",
    ),
]


@dataclass
class KeyedRequest:
    db: Database
    account_id: str
    key: str
    taken: bool = False
    """Set by the code that does the work: from then on it records the outcome."""

    def take(self) -> None:
        self.taken = True

    def answered(self, status: int, body: dict[str, Any] | None = None, job_id: str | None = None) -> None:
        idempotency.finish(self.db, self.account_id, self.key, status, body, job_id)

    def failed(self, exc: BaseException) -> None:
        """A refusal is an answer (replayed); a failure of ours frees the key for a retry."""
        if isinstance(exc, ApiError) and exc.status_code < 500:
            body = ErrorBody(error=ErrorDetail(message=exc.message, code=exc.status_code)).model_dump()
            self.answered(exc.status_code, body)
        else:
            idempotency.forget(self.db, self.account_id, self.key)

    def abandoned(self) -> None:
        """The request ended before its work began (the client went away): free the key."""
        if not self.taken:
            idempotency.forget(self.db, self.account_id, self.key)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | None = None
    job_id: str | None = None


def recorded(keyed: KeyedRequest | None, work: Callable[[], T], answer: Callable[[T], Answer]) -> T:
    """Run `work` (blocking) and record its outcome under the key, if the request has one: the
    answer made of its result, or its refusal (a failure of ours frees the key)."""
    if keyed is None:
        return work()
    keyed.take()
    try:
        outcome = work()
    except BaseException as exc:
        keyed.failed(exc)
        raise
    done = answer(outcome)
    keyed.answered(done.status, done.body, done.job_id)
    return outcome


def claim(
    db: Database,
    settings: Settings,
    principal: Principal,
    key: str | None,
    endpoint: str,
    fields: dict[str, Any],
    file: IO[bytes] | None = None,
) -> tuple[KeyedRequest | None, idempotency.Replay | None]:
    """Blocking (it may hash a 25 MB file). No key: (None, None)."""
    if key is None:
        return None, None
    key = idempotency.check_key(key)
    replay = idempotency.begin(
        db,
        principal.account_id,
        key,
        idempotency.fingerprint(endpoint, fields, file),
        ttl_hours=settings.idempotency_key_hours,
        in_progress_seconds=settings.idempotency_in_progress_seconds,
    )
    return (None, replay) if replay is not None else (KeyedRequest(db, principal.account_id, key), None)
