"""`Idempotency-Key` on POST /v1/transcribe and POST /billing/checkout: a retry gets the first
answer, never a second job or charge; another request under the same key is refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from app import idempotency
from app.errors import Conflict, Unprocessable
from app.main import create_app
from app.models import IdempotencyKey, Job, utcnow
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.factories import Customer, make_account, serve_asgi
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_events import with_stripe
from tests.support.synth import SynthCall

CHECKOUT = {"amount_cents": 1000, "success_url": "https://example.test/ok", "cancel_url": "https://example.test/no"}


def test_the_key_store(runtime: Runtime) -> None:
    customer, other = make_account(runtime), make_account(runtime)
    db, args = runtime.db, {"ttl_hours": 24.0, "in_progress_seconds": 3600.0}
    assert idempotency.begin(db, customer.account_id, "k1", "print-a", **args) is None
    with pytest.raises(Conflict):  # the first is still running
        idempotency.begin(db, customer.account_id, "k1", "print-a", **args)
    with pytest.raises(Unprocessable):  # another request under the same key
        idempotency.begin(db, customer.account_id, "k1", "print-b", **args)
    assert idempotency.begin(db, other.account_id, "k1", "print-b", **args) is None  # keys are per account
    idempotency.finish(db, customer.account_id, "k1", 202, {"job_id": "j"})
    replay = idempotency.begin(db, customer.account_id, "k1", "print-a", **args)
    assert replay == idempotency.Replay(202, {"job_id": "j"}, None)
    # A key whose request never answered (its process died) is taken over after the lease.
    with db.transaction() as session:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.account_id == other.account_id)
            .values(created_at=utcnow() - timedelta(hours=2))
        )
    assert idempotency.begin(db, other.account_id, "k1", "print-c", **args) is None
    # Expired keys are forgotten: claimable again, and swept.
    with db.transaction() as session:
        session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert idempotency.sweep(db) == 2
    assert idempotency.begin(db, customer.account_id, "k1", "print-b", **args) is None
    idempotency.forget(db, customer.account_id, "k1")
    assert idempotency.begin(db, customer.account_id, "k1", "print-a", **args) is None


async def test_a_checkout_retried_with_its_key_is_one_session(
    runtime: Runtime, stripe_api: FakeStripe, account: Customer
) -> None:
    async with serve_asgi(create_app(runtime=with_stripe(runtime, stripe_api.api_base))) as client:
        keyed = {**account.headers, "Idempotency-Key": "topup-2026-11-26"}
        first = await client.post("/billing/checkout", headers=keyed, json=CHECKOUT)
        again = await client.post("/billing/checkout", headers=keyed, json=CHECKOUT)
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json()
        assert len(stripe_api.requests) == 1
        changed = await client.post("/billing/checkout", headers=keyed, json={**CHECKOUT, "amount_cents": 5000})
        assert "different request" in assert_error(changed, 422)
        unkeyed = [await client.post("/billing/checkout", headers=account.headers, json=CHECKOUT) for _ in range(2)]
        assert unkeyed[0].json()["session_id"] != unkeyed[1].json()["session_id"]
        # A refusal is the answer too: the same request under its key is refused the same way.
        bad = {**account.headers, "Idempotency-Key": "bad-amount"}
        assert_error(await client.post("/billing/checkout", headers=bad, json={"amount_cents": 1234}), 400)
        assert_error(await client.post("/billing/checkout", headers=bad, json={"amount_cents": 1234}), 400)
        too_long = {**account.headers, "Idempotency-Key": "k" * 256}
        assert "Idempotency-Key" in assert_error(
            await client.post("/billing/checkout", headers=too_long, json=CHECKOUT), 400
        )
        assert len(stripe_api.requests) == 3


async def test_an_upstream_failure_frees_the_key(runtime: Runtime, stripe_api: FakeStripe, account: Customer) -> None:
    async with serve_asgi(create_app(runtime=with_stripe(runtime, stripe_api.api_base))) as client:
        keyed = {**account.headers, "Idempotency-Key": "retry-me"}
        stripe_api.fail_with = (500, "Stripe is down")
        assert_error(await client.post("/billing/checkout", headers=keyed, json=CHECKOUT), 502)
        stripe_api.fail_with = None
        assert (await client.post("/billing/checkout", headers=keyed, json=CHECKOUT)).status_code == 200


def _job_count(runtime: Runtime, customer: Customer) -> int:
    with runtime.db.transaction(read_only=True) as session:
        jobs = session.scalar(select(func.count()).select_from(Job).where(Job.account_id == customer.account_id))
    return int(jobs or 0)


async def _balance(client: httpx.AsyncClient, customer: Customer) -> int:
    return int((await client.get("/v1/balance", headers=customer.headers)).json()["balance_cents"])


def _upload(call: SynthCall) -> dict[str, tuple[str, bytes]]:
    return {"file": (call.path.name, call.path.read_bytes())}


@pytest.mark.slow
async def test_concurrent_and_retried_uploads_under_one_key_are_one_job(
    client: httpx.AsyncClient, runtime: Runtime, support_calls: dict[str, SynthCall]
) -> None:
    customer = make_account(runtime, credit_cents=1000)
    keyed = {**customer.headers, "Idempotency-Key": "call-1"}
    call = support_calls["mp3"]
    first, second = await asyncio.gather(
        client.post("/v1/transcribe", headers=keyed, files=_upload(call)),
        client.post("/v1/transcribe", headers=keyed, files=_upload(call)),
    )
    assert sorted([first.status_code, second.status_code]) in ([200, 200], [200, 409]), (first.text, second.text)
    done = first if first.status_code == 200 else second
    retry = await client.post("/v1/transcribe", headers=keyed, files=_upload(call))
    assert retry.status_code == 200
    assert retry.json()["job_id"] == done.json()["job_id"]
    assert retry.json()["transcript"] == done.json()["transcript"]
    assert _job_count(runtime, customer) == 1
    assert await _balance(client, customer) == 1000 - done.json()["cost_cents"]
    other = await client.post("/v1/transcribe", headers=keyed, files=_upload(support_calls["wav"]))
    assert "different request" in assert_error(other, 422)


@pytest.mark.slow
async def test_a_retry_after_a_dropped_connection_gets_the_first_job(
    client: httpx.AsyncClient, runtime: Runtime, support_calls: dict[str, SynthCall]
) -> None:
    customer = make_account(runtime, credit_cents=1000)
    keyed = {**customer.headers, "Idempotency-Key": "dropped-1"}
    call = support_calls["wav"]
    request = asyncio.ensure_future(client.post("/v1/transcribe", headers=keyed, files=_upload(call)))
    for _ in range(200):  # until the job exists, then the client goes away
        await asyncio.sleep(0.05)
        if _job_count(runtime, customer):
            break
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    for _ in range(400):
        retry = await client.post("/v1/transcribe", headers=keyed, files=_upload(call))
        if retry.status_code != 409:
            break
        await asyncio.sleep(0.25)
    assert retry.status_code == 200, retry.text
    with runtime.db.transaction(read_only=True) as session:
        job_ids = session.scalars(select(Job.id).where(Job.account_id == customer.account_id)).all()
    assert job_ids == [retry.json()["job_id"]]
    assert await _balance(client, customer) == 1000 - retry.json()["cost_cents"]


@pytest.mark.slow
async def test_an_async_upload_retried_with_its_key_is_queued_once(
    client: httpx.AsyncClient, runtime: Runtime, support_calls: dict[str, SynthCall]
) -> None:
    customer = make_account(runtime, credit_cents=1000)
    keyed = {**customer.headers, "Idempotency-Key": "async-1"}
    form = {"async": "true"}
    first = await client.post("/v1/transcribe", headers=keyed, data=form, files=_upload(support_calls["wav"]))
    again = await client.post("/v1/transcribe", headers=keyed, data=form, files=_upload(support_calls["wav"]))
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again.headers["location"] == f"/v1/jobs/{first.json()['job_id']}"
    assert _job_count(runtime, customer) == 1
    await client.delete(f"/v1/jobs/{first.json()['job_id']}", headers=customer.headers)
