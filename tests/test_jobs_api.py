from __future__ import annotations

import httpx
import pytest

from app.billing import ledger
from app.jobs import records
from app.main import create_app
from app.models import Job, JobStatus
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.factories import Customer, completed_job, make_account, result_body, serve_asgi


async def test_jobs_are_listed_newest_first_and_paged(client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    ids = [completed_job(runtime, customer) for _ in range(5)]
    body = (await client.get("/v1/jobs", headers=customer.headers)).json()
    assert body["limit"] == 20
    assert body["offset"] == 0
    assert [j["id"] for j in body["jobs"]] == list(reversed(ids))
    first = body["jobs"][0]
    assert set(first) == {
        "id",
        "status",
        "type",
        "model",
        "duration_seconds",
        "cost_cents",
        "created_at",
        "completed_at",
    }
    assert first["status"] == "completed"
    assert first["type"] == "transcribe"

    page = (await client.get("/v1/jobs?limit=2&offset=2", headers=customer.headers)).json()
    assert [j["id"] for j in page["jobs"]] == list(reversed(ids))[2:4]
    assert (page["limit"], page["offset"]) == (2, 2)
    beyond = (await client.get("/v1/jobs?limit=100&offset=50", headers=customer.headers)).json()
    assert beyond["jobs"] == []


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=-1", "offset=-1", "limit=x", "offset=1.5", "offset=9223372036854775808"]
)
async def test_bad_paging_values_are_400(client: httpx.AsyncClient, account: Customer, query: str) -> None:
    assert_error(await client.get(f"/v1/jobs?{query}", headers=account.headers), 400)


async def test_job_detail_and_result(client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    stored = result_body(transcript="hello there")
    job_id = completed_job(runtime, customer, stored)
    detail = (await client.get(f"/v1/jobs/{job_id}", headers=customer.headers)).json()
    assert detail["id"] == job_id
    assert detail["error"] is None
    assert detail["result_url"] == f"/v1/jobs/{job_id}/result"
    result = await client.get(detail["result_url"], headers=customer.headers)
    assert result.json() == stored


async def test_result_of_an_unfinished_job_is_404(client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    with runtime.db.transaction() as session:
        job_id = records.create_job(session, customer.account_id, type="transcribe", model="test").id
    detail = (await client.get(f"/v1/jobs/{job_id}", headers=customer.headers)).json()
    assert detail["status"] == "queued"
    assert detail["result_url"] is None
    assert_error(await client.get(f"/v1/jobs/{job_id}/result", headers=customer.headers), 404)


async def test_accounts_never_see_each_others_jobs(client: httpx.AsyncClient, runtime: Runtime) -> None:
    alice, mallory = make_account(runtime), make_account(runtime)
    job_id = completed_job(runtime, alice)
    assert_error(await client.get(f"/v1/jobs/{job_id}", headers=mallory.headers), 404)
    assert_error(await client.get(f"/v1/jobs/{job_id}/result", headers=mallory.headers), 404)
    assert (await client.get("/v1/jobs", headers=mallory.headers)).json()["jobs"] == []
    assert_error(await client.get("/v1/jobs/not-a-uuid", headers=mallory.headers), 404)


async def test_start_up_fails_jobs_a_crash_left_processing(runtime: Runtime) -> None:
    customer = make_account(runtime, credit_cents=300)
    with runtime.db.transaction() as session:
        job = records.create_job(session, customer.account_id, type="transcribe", model="test")
        ledger.place_hold(session, customer.account_id, job.id, 250, expiry_days=183)
        # A process on this host that no longer exists was running it.
        records.mark_processing(session, job, f"{runtime.runner.split(':')[0]}:999999:dead")
        job_id = job.id
    with runtime.db.transaction() as session:
        assert ledger.balance_cents(session, customer.account_id) == 50

    async with serve_asgi(create_app(runtime=runtime)):
        pass

    with runtime.db.transaction() as session:
        job_row = session.get(Job, job_id)
        assert job_row is not None
        assert job_row.status == JobStatus.FAILED
        assert job_row.error
        assert ledger.balance_cents(session, customer.account_id) == 300


async def test_start_up_leaves_live_jobs_of_other_hosts_alone(runtime: Runtime) -> None:
    customer = make_account(runtime, credit_cents=300)
    with runtime.db.transaction() as session:
        job = records.create_job(session, customer.account_id, type="transcribe", model="test")
        records.mark_processing(session, job, "another-replica:1:abcd")
        job_id = job.id
    async with serve_asgi(create_app(runtime=runtime)):
        pass
    with runtime.db.transaction() as session:
        job_row = session.get(Job, job_id)
        assert job_row is not None
        assert job_row.status == JobStatus.PROCESSING
