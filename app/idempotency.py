"""`Idempotency-Key` (Stripe's semantics) for the requests that spend or take money: the same key
from the same account with the same request gets the first answer again, not a second job or a
second charge. Keys live in the database (unique per account and key), so every replica sees them.

- First use: the key is claimed (a row, in progress) before any work starts.
- Same key, same request, answered: that answer again (`Replay`).
- Same key, same request, still running: 409, to be retried later (never a second run).
- Same key, another request (another endpoint, other fields or another file): 422.
- The work failed on our side (5xx) or never ran: the key is forgotten, so a retry runs afresh.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.errors import BadRequest, Conflict, Unprocessable
from app.models import IdempotencyKey, utcnow

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any] | None
    job_id: str | None


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(f"'{HEADER}' must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return key


def fingerprint(endpoint: str, fields: dict[str, Any], file: IO[bytes] | None = None) -> str:
    """What makes two requests the same: the endpoint, the fields and the file's bytes."""
    digest = hashlib.sha256(endpoint.encode() + b"\0" + json.dumps(fields, sort_keys=True, default=str).encode())
    if file is not None:
        file.seek(0)
        while chunk := file.read(1 << 20):
            digest.update(chunk)
        file.seek(0)
    return digest.hexdigest()


def begin(
    db: Database, account_id: str, key: str, print_: str, *, ttl_hours: float, in_progress_seconds: float
) -> Replay | None:
    """Claim `key` for this request, or say what its first use answered."""
    now = utcnow()
    for _ in range(2):
        try:
            with db.transaction() as session:
                row = session.scalars(
                    select(IdempotencyKey)
                    .where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == key)
                    .with_for_update()
                ).one_or_none()
                abandoned = (
                    row is not None
                    and not row.completed
                    and row.created_at < now - timedelta(seconds=in_progress_seconds)
                )
                if row is not None and (row.expires_at <= now or abandoned):
                    session.delete(row)
                    session.flush()
                    row = None
                if row is None:
                    session.add(
                        IdempotencyKey(
                            account_id=account_id,
                            key=key,
                            fingerprint=print_,
                            created_at=now,
                            expires_at=now + timedelta(hours=ttl_hours),
                        )
                    )
                    return None
                if row.fingerprint != print_:
                    raise Unprocessable(
                        f"This {HEADER} was used with a different request; use a new key for a new request."
                    )
                if not row.completed or row.response_status is None:
                    raise Conflict(
                        f"A request with this {HEADER} is still being processed; retry it later.",
                        headers={"Retry-After": "5"},
                    )
                return Replay(row.response_status, row.response_body, row.job_id)
        except IntegrityError:
            continue  # another request claimed it between our read and our insert: read it again
    raise Conflict(f"A request with this {HEADER} is still being processed; retry it later.")


def finish(
    db: Database, account_id: str, key: str, status: int, body: dict[str, Any] | None = None, job_id: str | None = None
) -> None:
    """Record the answer that later uses of `key` replay."""
    with db.transaction() as session:
        row = session.scalars(
            select(IdempotencyKey).where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == key)
        ).one_or_none()
        if row is not None:
            row.completed, row.response_status, row.response_body, row.job_id = True, status, body, job_id


def forget(db: Database, account_id: str, key: str) -> None:
    """The request did not do its work (it failed on our side, or never ran): free the key."""
    with db.transaction() as session:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.account_id == account_id,
                IdempotencyKey.key == key,
                IdempotencyKey.completed.is_(False),
            )
        )


def sweep(db: Database) -> int:
    """Delete expired keys (the maintenance loop)."""
    with db.transaction() as session:
        result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow()))
        return int(getattr(result, "rowcount", 0) or 0)
