"""Async jobs end to end, on real processes: the API server (uvicorn) and, in Celery mode,
`voxparse worker` processes on the real Redis broker; in in-process mode the server runs them.

Both modes pass the same tests: the result equals the synchronous one, the webhook is signed and
retried, cancel releases the hold, failing attempts give up as configured, and SIGKILL of whatever
runs the job mid-way leads to exactly one completion and one charge.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db import migrate
from app.models import EntryKind, Job, LedgerEntry
from app.runtime import Runtime
from tests.support.callscript import script
from tests.support.deployment import (
    MAX_ATTEMPTS,
    WEBHOOK_ATTEMPTS,
    Deployment,
    deployment,
    ended,
    wait_for_job,
    webhook_receiver,
)
from tests.support.deployment import WebhookReceiver as Receiver
from tests.support.factories import Customer, make_account, settings_for
from tests.support.synth import SynthCall, synthesize_call

pytestmark = pytest.mark.slow

CREDIT = 1000
MODES = [("inprocess", "sqlite"), ("celery", "postgresql")]


@pytest.fixture(scope="module", params=MODES, ids=[m for m, _ in MODES])
def deployed(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    mode, backend = request.param
    url = make_database(backend)
    migrate(url)
    with deployment(mode, url, tmp_path_factory.mktemp(f"deploy-{mode}")) as dep:
        yield dep


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture(scope="module")
def long_call(call_dir: Path) -> SynthCall:
    return synthesize_call(script(75), call_dir / "async-long.wav")


@pytest.fixture
def customer(deployed: Deployment) -> Iterator[Customer]:
    runtime = Runtime.create(settings_for(deployed.database_url))
    try:
        yield make_account(runtime, credit_cents=CREDIT)
    finally:
        runtime.close()


def post_async(dep: Deployment, customer: Customer, call: SynthCall, **fields: str) -> dict[str, Any]:
    with call.path.open("rb") as f:
        response = httpx.post(
            f"{dep.base_url}/v1/transcribe",
            headers=customer.headers,
            files={"file": (call.path.name, f)},
            data={"async": "true", **fields},
            timeout=60,
        )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "queued"
    assert response.headers["location"] == body["job_url"] == f"/v1/jobs/{body['job_id']}"
    return body


def balance(dep: Deployment, customer: Customer) -> int:
    response = httpx.get(f"{dep.base_url}/v1/balance", headers=customer.headers, timeout=10)
    return int(response.json()["balance_cents"])


def ledger_of(dep: Deployment, job_id: str) -> list[tuple[EntryKind, int]]:
    db = dep.database()
    try:
        with db.transaction(read_only=True) as session:
            rows = session.scalars(select(LedgerEntry).where(LedgerEntry.job_id == job_id).order_by(LedgerEntry.id))
            return [(row.kind, row.amount_cents) for row in rows]
    finally:
        db.dispose()


def job_row(dep: Deployment, job_id: str) -> Job:
    db = dep.database()
    try:
        with db.transaction(read_only=True) as session:
            job = session.get(Job, job_id)
            assert job is not None
            return job
    finally:
        db.dispose()


def independent_verify(secret: str, header: str, body: bytes) -> bool:
    """The receiver's side, written from the documented scheme rather than with our helper."""
    pairs = [part.split("=", 1) for part in header.split(",")]
    timestamp = next(value for key, value in pairs if key == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    matched = any(key == "v1" and hmac.compare_digest(expected, value) for key, value in pairs)
    return matched and abs(time.time() - int(timestamp)) < 300


def wait_until_empty(folder: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while any(folder.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(folder.iterdir()), f"audio left behind: {list(folder.iterdir())}"


def test_async_result_equals_sync_and_the_webhook_is_signed(
    deployed: Deployment, receiver: Receiver, customer: Customer, support_calls: dict[str, SynthCall]
) -> None:
    call = support_calls["wav"]
    with call.path.open("rb") as f:
        sync = httpx.post(
            f"{deployed.base_url}/v1/transcribe", headers=customer.headers, files={"file": ("s.wav", f)}, timeout=300
        )
    assert sync.status_code == 200, sync.text
    sync_result = httpx.get(f"{deployed.base_url}{sync.json()['result_url']}", headers=customer.headers).json()
    secret = httpx.get(f"{deployed.base_url}/v1/webhook-secret", headers=customer.headers).json()["secret"]

    metadata = {"call_id": "A-1001", "queue": "billing", "tags": ["vip"]}
    queued = post_async(
        deployed, customer, call, callback_url=f"{receiver.base_url}/flaky", metadata=json.dumps(metadata)
    )
    assert queued["metadata"] == metadata
    assert queued["cost_cents"] == sync.json()["cost_cents"]
    stages: list[str] = []
    job = wait_for_job(
        deployed.base_url,
        customer.headers,
        queued["job_id"],
        ended,
        on_poll=lambda j: stages.append(j["progress"]["stage"]),
        timeout=300,
    )
    assert job["status"] == "completed", (job, deployed.logs())
    assert job["metadata"] == metadata
    assert job["progress"] == {"stage": "done", "percent": 100.0}
    assert set(stages) & {"decoding", "transcribing", "diarizing", "analyzing"}, stages

    result = httpx.get(f"{deployed.base_url}{job['result_url']}", headers=customer.headers).json()
    assert result == sync_result

    # /flaky answers 500 to the first delivery: a second one follows, both signed.
    deliveries = receiver.wait_for(queued["job_id"], 2)
    for delivery in deliveries:
        assert independent_verify(secret, delivery.headers["voxparse-signature"], delivery.body)
        assert not independent_verify("whsec_wrong", delivery.headers["voxparse-signature"], delivery.body)
    payload = deliveries[-1].json()
    assert payload["event"] == "job.completed"
    assert payload["job"]["id"] == queued["job_id"]
    assert payload["job"]["status"] == "completed"
    assert payload["job"]["metadata"] == metadata
    assert payload["result_url"].endswith(f"/v1/jobs/{queued['job_id']}/result")

    detail = wait_for_job(
        deployed.base_url, customer.headers, queued["job_id"], lambda j: j["webhook"]["status"] == "delivered"
    )
    assert [a["status_code"] for a in detail["webhook"]["attempts"]] == [500, 200]

    assert balance(deployed, customer) == CREDIT - 2 * job["cost_cents"]
    wait_until_empty(deployed.audio_dir)


def test_cancel_releases_the_hold(
    deployed: Deployment, receiver: Receiver, customer: Customer, long_call: SynthCall, support_calls: dict[str, Any]
) -> None:
    running = post_async(deployed, customer, long_call)
    waiting = post_async(deployed, customer, support_calls["wav"], callback_url=f"{receiver.base_url}/ok")

    # Queued behind the first: cancelled at once.
    response = httpx.delete(f"{deployed.base_url}/v1/jobs/{waiting['job_id']}", headers=customer.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "failed"
    assert response.json()["error"] == "Cancelled by request."
    assert balance(deployed, customer) == CREDIT - running["cost_cents"]
    payload = receiver.wait_for(waiting["job_id"], 1)[0].json()
    assert payload["event"] == "job.failed"
    assert payload["job"]["error"] == "Cancelled by request."

    # Running: stops at the next stage boundary.
    wait_for_job(
        deployed.base_url,
        customer.headers,
        running["job_id"],
        lambda j: j["status"] == "processing" and j["progress"]["stage"] == "transcribing",
    )
    response = httpx.delete(f"{deployed.base_url}/v1/jobs/{running['job_id']}", headers=customer.headers)
    assert response.status_code == 200
    assert response.json()["cancel_requested"] is True
    job = wait_for_job(deployed.base_url, customer.headers, running["job_id"], ended)
    assert job["status"] == "failed"
    assert job["error"] == "Cancelled by request."
    assert balance(deployed, customer) == CREDIT
    assert [kind for kind, _ in ledger_of(deployed, running["job_id"])] == [EntryKind.HOLD, EntryKind.RELEASE]

    again = httpx.delete(f"{deployed.base_url}/v1/jobs/{running['job_id']}", headers=customer.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == 409
    wait_until_empty(deployed.audio_dir)


def test_failing_attempts_and_webhooks_give_up_as_configured(
    deployed: Deployment, receiver: Receiver, customer: Customer, support_calls: dict[str, SynthCall]
) -> None:
    blocker = post_async(deployed, customer, support_calls["wav"])
    doomed = post_async(deployed, customer, support_calls["wav"], callback_url=f"{receiver.base_url}/down")
    # The stored audio vanishes while the job waits (a shared volume gone, say): every attempt fails.
    stored = deployed.audio_dir / f"{doomed['job_id']}.audio"
    stored.unlink()
    stored.symlink_to(deployed.audio_dir / "nowhere")

    job = wait_for_job(deployed.base_url, customer.headers, doomed["job_id"], ended, timeout=300)
    assert job["status"] == "failed"
    assert f"failed {MAX_ATTEMPTS} times; giving up" in job["error"]
    assert "queued audio is missing" in job["error"]
    assert job_row(deployed, doomed["job_id"]).attempts == MAX_ATTEMPTS
    assert [kind for kind, _ in ledger_of(deployed, doomed["job_id"])] == [EntryKind.HOLD, EntryKind.RELEASE]
    assert not stored.is_symlink()
    assert not stored.exists()

    detail = wait_for_job(
        deployed.base_url, customer.headers, doomed["job_id"], lambda j: j["webhook"]["status"] == "failed"
    )
    assert [a["status_code"] for a in detail["webhook"]["attempts"]] == [500] * WEBHOOK_ATTEMPTS
    assert len(receiver.for_job(doomed["job_id"])) == WEBHOOK_ATTEMPTS

    first = wait_for_job(deployed.base_url, customer.headers, blocker["job_id"], ended)
    assert first["status"] == "completed"
    assert balance(deployed, customer) == CREDIT - first["cost_cents"]


def test_sigkill_mid_job_completes_once_and_charges_once(
    deployed: Deployment, customer: Customer, long_call: SynthCall
) -> None:
    queued = post_async(deployed, customer, long_call)
    wait_for_job(
        deployed.base_url,
        customer.headers,
        queued["job_id"],
        lambda j: j["status"] == "processing" and j["progress"]["stage"] in ("transcribing", "diarizing"),
    )
    deployed.kill_runner()
    deployed.start_runner("after-kill")

    job = wait_for_job(deployed.base_url, customer.headers, queued["job_id"], ended, timeout=300)
    assert job["status"] == "completed", (job, deployed.logs())
    assert job_row(deployed, queued["job_id"]).attempts == 2
    cost = job["cost_cents"]
    assert ledger_of(deployed, queued["job_id"]) == [
        (EntryKind.HOLD, -cost),
        (EntryKind.RELEASE, cost),
        (EntryKind.CHARGE, -cost),
    ]
    assert balance(deployed, customer) == CREDIT - cost
    # A late duplicate delivery (the broker's redelivery of the killed worker's message) changes nothing.
    time.sleep(2)
    assert len(ledger_of(deployed, queued["job_id"])) == 3
    wait_until_empty(deployed.audio_dir)
