"""Signed job webhooks: the account's secret, the callback URL check, the signature, one delivery.

A delivery is `POST callback_url` with the JSON body and
`VoxParse-Signature: t=TIMESTAMP,v1=HEX`, HEX being HMAC-SHA256(secret, f"{TIMESTAMP}.{BODY}").
Retries with backoff are the job runner's concern (`app.jobs.runner.deliver_webhook`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session

from app.billing.ledger import lock_account
from app.errors import BadRequest
from app.models import Account, utcnow

SIGNATURE_HEADER = "VoxParse-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
MAX_CALLBACK_URL = 2000


class InvalidCallbackUrl(BadRequest):
    pass


@dataclass(frozen=True)
class WebhookSecret:
    secret: str
    created_at: datetime
    previous_valid_until: datetime | None = None
    """Set after a rotation: until then webhooks are signed with the previous secret as well."""


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _view(account: Account) -> WebhookSecret:
    assert account.webhook_secret is not None
    assert account.webhook_secret_created_at is not None
    until = account.webhook_secret_previous_until
    return WebhookSecret(
        account.webhook_secret, account.webhook_secret_created_at, until if until and until > utcnow() else None
    )


def get_secret(session: Session, account_id: str) -> WebhookSecret:
    """The account's signing secret, created on first use."""
    account = lock_account(session, account_id)
    if account.webhook_secret is None or account.webhook_secret_created_at is None:
        account.webhook_secret = _new_secret()
        account.webhook_secret_created_at = utcnow()
        session.flush()
    return _view(account)


def rotate_secret(session: Session, account_id: str, *, overlap: timedelta) -> WebhookSecret:
    """Replace the secret. For `overlap`, webhooks are signed with the old one as well."""
    account = lock_account(session, account_id)
    now = utcnow()
    if account.webhook_secret is not None and overlap > timedelta(0):
        account.webhook_secret_previous = account.webhook_secret
        account.webhook_secret_previous_until = now + overlap
    else:
        account.webhook_secret_previous = account.webhook_secret_previous_until = None
    account.webhook_secret = _new_secret()
    account.webhook_secret_created_at = now
    session.flush()
    return _view(account)


def signing_secrets(session: Session, account_id: str) -> list[str]:
    """The secrets a webhook is signed with now: the current one, and the previous one during the
    overlap after a rotation."""
    current = get_secret(session, account_id)
    account = session.get(Account, account_id)
    previous = account.webhook_secret_previous if account and current.previous_valid_until else None
    return [current.secret, previous] if previous else [current.secret]


def sign(secret: str | list[str], body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for `body`: one `v1=` per secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    keys = [secret] if isinstance(secret, str) else secret
    digests = [hmac.new(key.encode(), signed, hashlib.sha256).hexdigest() for key in keys]
    return ",".join([f"t={timestamp}", *(f"v1={d}" for d in digests)])


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Target:
    """A checked callback URL and the address it resolved to (the one connected to)."""

    url: str
    host: str
    address: str


def resolve_callback(url: str, *, allow_private: bool, ports: frozenset[int] = frozenset({80, 443})) -> Target:
    """Refuse anything but an http(s) URL on an allowed port whose host resolves only to public
    addresses (with `allow_private`, for development, any port and address)."""
    if len(url) > MAX_CALLBACK_URL:
        raise InvalidCallbackUrl(f"'callback_url' is limited to {MAX_CALLBACK_URL} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidCallbackUrl("'callback_url' is not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidCallbackUrl("'callback_url' must be an http:// or https:// URL.")
    if parts.username or parts.password:
        raise InvalidCallbackUrl("'callback_url' must not contain credentials.")
    if not allow_private and port not in ports:
        allowed = ", ".join(str(p) for p in sorted(ports))
        raise InvalidCallbackUrl(f"'callback_url' must use an allowed port ({allowed}).")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidCallbackUrl(f"'callback_url' host '{parts.hostname}' does not resolve.") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private and not all(_is_public(a) for a in addresses):
        raise InvalidCallbackUrl(
            "'callback_url' resolves to a loopback, link-local or private address, which is not allowed."
        )
    return Target(url=url, host=parts.hostname, address=addresses[0])


@dataclass(frozen=True)
class DeliveryResult:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(target: Target, body: bytes, signature: str, *, timeout: float) -> DeliveryResult:
    """One POST to the address that was checked (not a fresh lookup, which could now answer a
    private address), without following redirects."""
    parts = urlsplit(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    netloc = address if parts.port is None else f"{address}:{parts.port}"
    pinned = parts._replace(netloc=netloc).geturl()
    host_header = parts.netloc.rpartition("@")[2]
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "VoxParse-Webhooks/1",
        "Host": host_header,
        SIGNATURE_HEADER: signature,
    }
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(pinned, content=body, headers=headers, extensions={"sni_hostname": target.host})
        code: int | None = response.status_code
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        code, error = None, f"{type(exc).__name__}: {exc}"[:500]
    return DeliveryResult(code, error, int((time.perf_counter() - started) * 1000))
