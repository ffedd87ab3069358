"""Accounts and API keys. A key is shown once at creation; only its SHA-256 hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import NotFound, Unauthorized
from app.models import Account, ApiKey, StreamToken, utcnow

KEY_PREFIX = "vxp_live_"
KEY_RANDOM_BYTES = 32  # 43 URL-safe characters
STREAM_TOKEN_PREFIX = "vxp_stream_"  # noqa: S105 (a prefix, not a secret)
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 6
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from the API key, detached from any database session."""

    account_id: str
    key_id: str


@dataclass(frozen=True)
class CreatedKey:
    account_id: str
    key_id: str
    plaintext: str
    prefix: str


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def looks_like_key(candidate: str) -> bool:
    return (
        candidate.startswith(KEY_PREFIX)
        and len(KEY_PREFIX) + 32 <= len(candidate) <= MAX_KEY_LENGTH
        and candidate.isascii()
        and all(c.isalnum() or c in "-_" for c in candidate)
    )


def create_account(session: Session, name: str) -> Account:
    account = Account(name=name)
    session.add(account)
    session.flush()
    return account


def create_key(session: Session, account: Account, name: str) -> CreatedKey:
    plaintext = KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)
    key = ApiKey(
        account_id=account.id,
        name=name,
        prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
        key_hash=hash_key(plaintext),
    )
    session.add(key)
    session.flush()
    return CreatedKey(account_id=account.id, key_id=key.id, plaintext=plaintext, prefix=key.prefix)


def authenticate(session: Session, presented: str | None) -> Principal:
    if not presented:
        raise Unauthorized("Missing API key. Send it as 'X-API-Key: KEY' or 'Authorization: Bearer KEY'.")
    if not looks_like_key(presented):
        raise Unauthorized("Invalid API key.")
    digest = hash_key(presented)
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).one_or_none()
    # The lookup is by hash; compare again in constant time so no timing depends on the stored value.
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        raise Unauthorized("Invalid API key.")
    if key.revoked_at is not None:
        raise Unauthorized("This API key has been revoked.")
    return Principal(account_id=key.account_id, key_id=key.id)


def issue_stream_token(session: Session, principal: Principal, seconds: int) -> str:
    """A token that opens one live stream as `principal`, within `seconds` (never the key itself in
    a URL). Only its hash is stored."""
    plaintext = STREAM_TOKEN_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)
    session.add(
        StreamToken(
            token_hash=hash_key(plaintext), key_id=principal.key_id, expires_at=utcnow() + timedelta(seconds=seconds)
        )
    )
    return plaintext


def redeem_stream_token(session: Session, presented: str | None) -> Principal:
    """The principal a stream token was issued to, once: a used, expired or unknown token (or one
    whose key was revoked since) is refused the same way."""
    refused = Unauthorized("Invalid or expired stream token: ask POST /v1/stream/tokens for a new one.")
    if not presented or not presented.startswith(STREAM_TOKEN_PREFIX) or len(presented) > MAX_KEY_LENGTH:
        raise refused
    now = utcnow()
    # One UPDATE that only an unused, unexpired token matches: two redemptions race, one wins.
    used = session.execute(
        update(StreamToken)
        .where(
            StreamToken.token_hash == hash_key(presented), StreamToken.used_at.is_(None), StreamToken.expires_at > now
        )
        .values(used_at=now)
        .returning(StreamToken.key_id)
    ).scalar_one_or_none()
    key = session.get(ApiKey, used) if used is not None else None
    if key is None or key.revoked_at is not None:
        raise refused
    return Principal(account_id=key.account_id, key_id=key.id)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, id_or_prefix: str, now: datetime | None = None) -> ApiKey:
    keys = list(session.scalars(select(ApiKey).where((ApiKey.id == id_or_prefix) | (ApiKey.prefix == id_or_prefix))))
    if len(keys) != 1:
        raise NotFound(f"No single key matches {id_or_prefix!r}.")
    key = keys[0]
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
    return key


def get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"No account {account_id!r}.")
    return account


def has_accounts(session: Session) -> bool:
    return session.scalars(select(Account.id).limit(1)).first() is not None
