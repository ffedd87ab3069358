"""The prepaid balance: an append-only ledger of cent amounts.

The balance is the SUM of an account's entries. Spending goes hold -> (release + charge): a hold
reserves the estimated cost before work starts, and settling it writes a release that reverses the
hold and a charge for the actual cost. Every function here only flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound, PaymentRequired
from app.models import Account, EntryKind, LedgerEntry, utcnow

# A charge or a top-up counts as activity; credits expire after a long time without either.
ACTIVITY_KINDS = (EntryKind.TOPUP, EntryKind.CHARGE)


class InsufficientBalance(PaymentRequired):
    pass


class CreditsExpired(PaymentRequired):
    pass


@dataclass(frozen=True)
class Topup:
    amount_cents: int
    bonus_cents: int
    created_at: datetime


def lock_account(session: Session, account_id: str) -> Account:
    """Serialise money movements of one account until the transaction ends.

    PostgreSQL takes a row lock; on SQLite the transaction already holds the write lock
    (BEGIN IMMEDIATE, see app.db) and FOR UPDATE is dropped by the dialect.
    """
    account = session.scalars(select(Account).where(Account.id == account_id).with_for_update()).one_or_none()
    if account is None:
        raise NotFound("Account not found.")
    return account


def balance_cents(session: Session, account_id: str) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(LedgerEntry.account_id == account_id)
    )
    return int(total or 0)


def last_activity(session: Session, account: Account) -> datetime:
    latest = session.scalar(
        select(func.max(LedgerEntry.created_at)).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind.in_(ACTIVITY_KINDS)
        )
    )
    if latest is None:
        return account.created_at
    # func.max bypasses the column type on SQLite: normalise to an aware UTC datetime.
    if isinstance(latest, str):
        latest = datetime.fromisoformat(latest)
    return latest if latest.tzinfo else latest.replace(tzinfo=account.created_at.tzinfo)


def is_expired(session: Session, account: Account, expiry_days: int, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return now - last_activity(session, account) > timedelta(days=expiry_days)


def _add(session: Session, account_id: str, kind: EntryKind, amount: int, **fields: object) -> LedgerEntry:
    entry = LedgerEntry(account_id=account_id, kind=kind, amount_cents=amount, **fields)
    session.add(entry)
    session.flush()
    return entry


def spendable_cents(session: Session, account: Account, *, expiry_days: int, needed: int = 0) -> int:
    """What the account may spend now; 402 when its credits expired or it cannot cover `needed`."""
    if is_expired(session, account, expiry_days):
        raise CreditsExpired(
            f"Your credits expired after {expiry_days} days without a charge or a top-up. Top up to continue."
        )
    available = balance_cents(session, account.id)
    if available < needed:
        raise InsufficientBalance(
            f"Insufficient balance: this request needs {needed} cents and {max(available, 0)} are available."
        )
    return available


def place_hold(session: Session, account_id: str, job_id: str, amount_cents: int, *, expiry_days: int) -> LedgerEntry:
    """Reserve `amount_cents` for a job, or raise 402 when the account cannot cover it."""
    if amount_cents < 0:
        raise ValueError("a hold cannot be negative")
    account = lock_account(session, account_id)
    spendable_cents(session, account, expiry_days=expiry_days, needed=amount_cents)
    return _add(session, account_id, EntryKind.HOLD, -amount_cents, job_id=job_id, reason="estimated cost")


def _hold_for_update(session: Session, hold_id: int) -> LedgerEntry:
    hold = session.get(LedgerEntry, hold_id)
    if hold is None or hold.kind != EntryKind.HOLD:
        raise ValueError(f"ledger entry {hold_id} is not a hold")
    lock_account(session, hold.account_id)
    return hold


def _is_reversed(session: Session, entry_id: int) -> bool:
    return session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id)) is not None


def _reverse_hold(session: Session, hold_id: int, reason: str) -> LedgerEntry | None:
    """Give a hold's amount back once; the hold (locked), or None when already reversed."""
    hold = _hold_for_update(session, hold_id)
    if _is_reversed(session, hold.id):
        return None
    _add(
        session,
        hold.account_id,
        EntryKind.RELEASE,
        -hold.amount_cents,
        job_id=hold.job_id,
        reverses_id=hold.id,
        reason=reason,
    )
    return hold


def release_hold(session: Session, hold_id: int, reason: str = "job did not complete") -> bool:
    """Give a hold's amount back. Returns False when it was already released or settled."""
    return _reverse_hold(session, hold_id, reason) is not None


def settle_hold(session: Session, hold_id: int, cost_cents: int) -> LedgerEntry | None:
    """Replace a hold with a charge of the actual cost. Idempotent: a settled hold is left alone."""
    if cost_cents < 0:
        raise ValueError("a charge cannot be negative")
    hold = _reverse_hold(session, hold_id, "settled")
    if hold is None:
        return None
    return _add(session, hold.account_id, EntryKind.CHARGE, -cost_cents, job_id=hold.job_id, reason="usage")


def open_holds(session: Session, job_id: str) -> list[LedgerEntry]:
    reversed_ids = select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None))
    return list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.job_id == job_id,
                LedgerEntry.kind == EntryKind.HOLD,
                LedgerEntry.id.not_in(reversed_ids),
            )
        )
    )


def credit(
    session: Session,
    account_id: str,
    amount_cents: int,
    *,
    kind: EntryKind = EntryKind.ADJUSTMENT,
    reason: str,
    payment_ref: str | None = None,
    expiry_days: int,
) -> LedgerEntry:
    """Add credit. Credits left on an expired account are written off first, so they stay expired."""
    if kind not in (EntryKind.TOPUP, EntryKind.BONUS, EntryKind.ADJUSTMENT):
        raise ValueError(f"{kind} is not a credit")
    account = lock_account(session, account_id)
    if kind is not EntryKind.BONUS and is_expired(session, account, expiry_days):
        expire_credits(session, account_id)
    return _add(session, account_id, kind, amount_cents, payment_ref=payment_ref, reason=reason)


def debit(
    session: Session,
    account_id: str,
    amount_cents: int,
    *,
    kind: EntryKind,
    reason: str,
    payment_ref: str | None = None,
) -> LedgerEntry:
    """Take money back outside a job (a refund, a correction)."""
    if kind not in (EntryKind.REFUND, EntryKind.ADJUSTMENT):
        raise ValueError(f"{kind} is not a debit")
    lock_account(session, account_id)
    return _add(session, account_id, kind, -amount_cents, payment_ref=payment_ref, reason=reason)


def expire_credits(session: Session, account_id: str) -> LedgerEntry | None:
    remaining = balance_cents(session, account_id)
    if remaining <= 0:
        return None
    return _add(session, account_id, EntryKind.EXPIRY, -remaining, reason="credits expired after inactivity")


def recent_topups(session: Session, account_id: str, limit: int) -> list[Topup]:
    topups = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.account_id == account_id, LedgerEntry.kind == EntryKind.TOPUP)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(limit)
    ).all()
    refs = [t.payment_ref for t in topups if t.payment_ref]
    bonuses: dict[str, int] = {}
    if refs:
        rows = session.execute(
            select(LedgerEntry.payment_ref, func.sum(LedgerEntry.amount_cents))
            .where(
                LedgerEntry.account_id == account_id,
                LedgerEntry.kind == EntryKind.BONUS,
                LedgerEntry.payment_ref.in_(refs),
            )
            .group_by(LedgerEntry.payment_ref)
        ).all()
        bonuses = {str(ref): int(total) for ref, total in rows}
    return [
        Topup(
            amount_cents=t.amount_cents,
            bonus_cents=bonuses.get(t.payment_ref, 0) if t.payment_ref else 0,
            created_at=t.created_at,
        )
        for t in topups
    ]


@dataclass(frozen=True)
class BalanceSummary:
    balance_cents: int
    expired: bool
    recent_topups: list[Topup]


def summary(session: Session, account_id: str, *, expiry_days: int, recent: int) -> BalanceSummary:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("Account not found.")
    return BalanceSummary(
        balance_cents=balance_cents(session, account_id),
        expired=is_expired(session, account, expiry_days),
        recent_topups=recent_topups(session, account_id, recent),
    )
