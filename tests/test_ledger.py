from __future__ import annotations

import re
import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.billing import ledger
from app.billing.ledger import CreditsExpired, InsufficientBalance
from app.errors import PaymentRequired
from app.jobs import records
from app.models import EntryKind, Job, LedgerEntry, utcnow
from app.runtime import Runtime
from tests.support.factories import Customer, make_account


def _new_job(runtime: Runtime, account_id: str) -> str:
    with runtime.db.transaction() as session:
        return records.create_job(session, account_id, type="transcribe", model="test").id


def _balance(runtime: Runtime, account_id: str) -> int:
    with runtime.db.transaction() as session:
        return ledger.balance_cents(session, account_id)


def _hold(runtime: Runtime, account_id: str, job_id: str, cents: int) -> int:
    with runtime.db.transaction() as session:
        return ledger.place_hold(session, account_id, job_id, cents, expiry_days=runtime.settings.credit_expiry_days).id


def test_hold_then_settle_charges_the_actual_cost(runtime: Runtime) -> None:
    customer = make_account(runtime, credit_cents=500)
    job_id = _new_job(runtime, customer.account_id)
    hold_id = _hold(runtime, customer.account_id, job_id, 120)
    assert _balance(runtime, customer.account_id) == 380
    with runtime.db.transaction() as session:
        assert ledger.settle_hold(session, hold_id, 97) is not None
    assert _balance(runtime, customer.account_id) == 403
    with runtime.db.transaction() as session:  # settling twice changes nothing
        assert ledger.settle_hold(session, hold_id, 97) is None
        assert not ledger.release_hold(session, hold_id)
        kinds = [e.kind for e in session.scalars(select(LedgerEntry).where(LedgerEntry.job_id == job_id))]
    assert sorted(kinds) == sorted([EntryKind.HOLD, EntryKind.RELEASE, EntryKind.CHARGE])
    assert _balance(runtime, customer.account_id) == 403


def test_release_gives_the_hold_back_once(runtime: Runtime) -> None:
    customer = make_account(runtime, credit_cents=500)
    job_id = _new_job(runtime, customer.account_id)
    hold_id = _hold(runtime, customer.account_id, job_id, 200)
    with runtime.db.transaction() as session:
        assert ledger.release_hold(session, hold_id)
        assert not ledger.release_hold(session, hold_id)
    assert _balance(runtime, customer.account_id) == 500


def test_hold_over_the_balance_is_402(runtime: Runtime) -> None:
    customer = make_account(runtime, credit_cents=99)
    job_id = _new_job(runtime, customer.account_id)
    with pytest.raises(InsufficientBalance) as info:
        _hold(runtime, customer.account_id, job_id, 100)
    assert info.value.status_code == 402
    assert "99" in info.value.message
    assert _balance(runtime, customer.account_id) == 99


@pytest.mark.parametrize("attempts", [40])
def test_concurrent_holds_never_overdraw(runtime: Runtime, attempts: int) -> None:
    """Many threads race to hold 100 cents each from a 1,000-cent balance: exactly ten win."""
    customer = make_account(runtime, credit_cents=1000)
    job_ids = [_new_job(runtime, customer.account_id) for _ in range(attempts)]
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def race(job_id: str) -> None:
        barrier.wait()
        try:
            _hold(runtime, customer.account_id, job_id, 100)
            result = "held"
        except PaymentRequired:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=race, args=(j,)) for j in job_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("held") == 10
    assert outcomes.count("refused") == attempts - 10
    assert _balance(runtime, customer.account_id) == 0


def _age_account(runtime: Runtime, account_id: str, days: int) -> None:
    """Move an account's whole history `days` into the past."""
    from app.models import Account

    with runtime.db.transaction() as session:
        past = utcnow() - timedelta(days=days)
        session.execute(update(Account).where(Account.id == account_id).values(created_at=past))
        session.execute(update(LedgerEntry).where(LedgerEntry.account_id == account_id).values(created_at=past))
        session.execute(update(Job).where(Job.account_id == account_id).values(created_at=past))


async def test_credits_expire_after_inactivity(client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime, credit_cents=700)
    assert (await client.get("/v1/balance", headers=customer.headers)).json()["expired"] is False

    _age_account(runtime, customer.account_id, runtime.settings.credit_expiry_days + 1)
    body = (await client.get("/v1/balance", headers=customer.headers)).json()
    assert body["expired"] is True
    assert body["balance_cents"] == 700

    job_id = _new_job(runtime, customer.account_id)
    with pytest.raises(CreditsExpired) as info:
        _hold(runtime, customer.account_id, job_id, 1)
    assert info.value.status_code == 402
    assert "expired" in info.value.message

    # A new top-up writes the expired credit off and starts afresh.
    with runtime.db.transaction() as session:
        ledger.credit(
            session,
            customer.account_id,
            1000,
            kind=EntryKind.TOPUP,
            reason="topup",
            payment_ref="pay_1",
            expiry_days=runtime.settings.credit_expiry_days,
        )
    body = (await client.get("/v1/balance", headers=customer.headers)).json()
    assert body == {
        "balance_cents": 1000,
        "balance_dollars": "10.00",
        "expired": False,
        "recent_topups": [
            {"amount_cents": 1000, "bonus_cents": 0, "created_at": body["recent_topups"][0]["created_at"]}
        ],
    }


def test_recent_activity_keeps_credit_alive(runtime: Runtime) -> None:
    customer = make_account(runtime, credit_cents=700)
    _age_account(runtime, customer.account_id, runtime.settings.credit_expiry_days - 1)
    job_id = _new_job(runtime, customer.account_id)
    assert _hold(runtime, customer.account_id, job_id, 10)


async def test_balance_shows_topups_with_their_bonus(client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    with runtime.db.transaction() as session:
        for kind, cents in ((EntryKind.TOPUP, 20000), (EntryKind.BONUS, 1000)):
            ledger.credit(
                session,
                customer.account_id,
                cents,
                kind=kind,
                reason="stripe",
                payment_ref="cs_test_1",
                expiry_days=runtime.settings.credit_expiry_days,
            )
    body = (await client.get("/v1/balance", headers=customer.headers)).json()
    assert body["balance_cents"] == 21000
    assert body["balance_dollars"] == "210.00"
    assert body["recent_topups"][0]["amount_cents"] == 20000
    assert body["recent_topups"][0]["bonus_cents"] == 1000
    created = body["recent_topups"][0]["created_at"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", created)


def test_balance_summary_of_a_fresh_account(runtime: Runtime) -> None:
    customer: Customer = make_account(runtime)
    with runtime.db.transaction() as session:
        summary = ledger.summary(session, customer.account_id, expiry_days=183, recent=5)
    assert summary.balance_cents == 0
    assert summary.expired is False
    assert summary.recent_topups == []
