"""Webhook signatures, callback URL checks, the webhook secret endpoints, async intake errors and
cancel's refusals: everything about async jobs that needs no worker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from app.jobs import records, webhooks
from app.main import create_app
from app.models import Account, utcnow
from app.runtime import Runtime
from app.speech.registry import ModelRegistry
from tests.support import examples
from tests.support.assertions import assert_error
from tests.support.factories import Customer, make_account, read_all_rows, serve_asgi, settings_for
from tests.support.synth import SynthCall

# What a receiver runs: the repository's example, so that the example is proven too.
receiver = examples.load("verify_webhook")
SECRET = "whsec_test"
BODY = b'{"event":"job.completed"}'


def test_signature_round_trip_and_what_it_refuses() -> None:
    header = webhooks.sign(SECRET, BODY, timestamp=1_800_000_000)
    assert header.startswith("t=1800000000,v1=")
    assert receiver.verify(SECRET, header, BODY, now=1_800_000_010)
    assert not receiver.verify(SECRET, header, BODY + b" ", now=1_800_000_010)
    assert not receiver.verify("whsec_other", header, BODY, now=1_800_000_010)
    assert not receiver.verify(SECRET, header, BODY, now=1_800_000_000 + 301)  # a replay, too late
    assert not receiver.verify(SECRET, "v1=abc", BODY)
    # During a rotation a receiver may list several v1 values; any one matching is enough.
    rotated = header + ",v1=" + "0" * 64
    assert receiver.verify(SECRET, rotated, BODY, now=1_800_000_010)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "hook.example.com/path",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://user:password@93.184.216.34/hook",
        "http://no-such-host.invalid/hook",
        "https://" + "a" * 2001 + ".com/",
    ],
)
def test_callback_urls_that_are_refused(url: str) -> None:
    with pytest.raises(webhooks.InvalidCallbackUrl):
        webhooks.resolve_callback(url, allow_private=False)


def test_public_and_allowed_private_callback_urls() -> None:
    target = webhooks.resolve_callback("https://93.184.216.34/hooks/voxparse?x=1", allow_private=False)
    assert target.address == "93.184.216.34"
    # Another port only where the operator lists it (VOXPARSE_WEBHOOK_ALLOWED_PORTS).
    listed = frozenset({443, 8443})
    assert webhooks.resolve_callback("https://93.184.216.34:8443/h", allow_private=False, ports=listed).address
    assert webhooks.resolve_callback("http://127.0.0.1:9/hook", allow_private=True).address == "127.0.0.1"


async def test_webhook_secret_is_stable_rotatable_and_per_account(client: httpx.AsyncClient, runtime: Runtime) -> None:
    first, other = make_account(runtime), make_account(runtime)
    a = (await client.get("/v1/webhook-secret", headers=first.headers)).json()
    assert a["secret"].startswith("whsec_")
    assert len(a["secret"]) > 40
    assert (await client.get("/v1/webhook-secret", headers=first.headers)).json() == a
    assert (await client.get("/v1/webhook-secret", headers=other.headers)).json()["secret"] != a["secret"]
    assert a["previous_secret_valid_until"] is None
    rotated = await client.post("/v1/webhook-secret", headers=first.headers)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != a["secret"]
    assert rotated.json()["previous_secret_valid_until"] is not None
    assert (await client.get("/v1/webhook-secret", headers=first.headers)).json() == rotated.json()
    assert_error(await client.get("/v1/webhook-secret"), 401)


def test_after_a_rotation_webhooks_are_signed_with_both_secrets_for_a_while(runtime: Runtime) -> None:
    customer = make_account(runtime)
    with runtime.db.transaction() as session:
        old = webhooks.get_secret(session, customer.account_id).secret
        new = webhooks.rotate_secret(session, customer.account_id, overlap=timedelta(hours=24)).secret
        keys = webhooks.signing_secrets(session, customer.account_id)
    assert keys == [new, old]
    header = webhooks.sign(keys, BODY)
    assert header.count("v1=") == 2
    assert receiver.verify(new, header, BODY)
    assert receiver.verify(old, header, BODY)
    # Once the overlap is over (or with none), only the current secret signs.
    with runtime.db.transaction() as session:
        account = session.get(Account, customer.account_id)
        assert account is not None
        account.webhook_secret_previous_until = utcnow() - timedelta(seconds=1)
    with runtime.db.transaction() as session:
        assert webhooks.signing_secrets(session, customer.account_id) == [new]
        newest = webhooks.rotate_secret(session, customer.account_id, overlap=timedelta(0)).secret
        assert webhooks.signing_secrets(session, customer.account_id) == [newest]


async def _post_async(client: httpx.AsyncClient, customer: Customer, call: SynthCall, **fields: str) -> httpx.Response:
    return await client.post(
        "/v1/transcribe",
        headers=customer.headers,
        files={"file": ("call.wav", call.path.read_bytes())},
        data={"async": "true", **fields},
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"callback_url": "http://127.0.0.1/hook"}, "private address"),
        ({"callback_url": "http://93.184.216.34:22/"}, "allowed port"),
        ({"callback_url": "gopher://example.com/"}, "http:// or https://"),
        ({"metadata": "not json"}, "JSON object"),
        ({"metadata": "[1, 2]"}, "JSON object"),
        ({"metadata": json.dumps({"note": "x" * 5000})}, "4096 bytes"),
    ],
)
async def test_bad_async_fields_are_400_and_nothing_is_held(
    client: httpx.AsyncClient,
    runtime: Runtime,
    support_calls: dict[str, SynthCall],
    fields: dict[str, str],
    message: str,
) -> None:
    customer = make_account(runtime, credit_cents=500)
    response = await _post_async(client, customer, support_calls["wav"], **fields)
    assert message in assert_error(response, 400)
    assert (await client.get("/v1/balance", headers=customer.headers)).json()["balance_cents"] == 500
    assert (await client.get("/v1/jobs", headers=customer.headers)).json()["jobs"] == []
    assert not any(runtime.settings.audio_store_dir.iterdir())


@pytest.fixture
async def broker_down(
    database_url: str, models: ModelRegistry, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = settings_for(database_url, broker_url="redis://127.0.0.1:1/0", audio_store_dir=tmp_path / "audio")
    runtime = Runtime.create(settings, models=models)
    try:
        async with serve_asgi(create_app(runtime=runtime)) as client:
            yield client, runtime
    finally:
        runtime.close()


async def test_an_unreachable_broker_is_503_and_nothing_is_charged(
    broker_down: tuple[httpx.AsyncClient, Runtime], support_calls: dict[str, SynthCall]
) -> None:
    client, runtime = broker_down
    customer = make_account(runtime, credit_cents=500)
    response = await _post_async(
        client, customer, support_calls["wav"], metadata='{"card": "4111 1111 1111 1111", "n": [4012888888881881]}'
    )
    assert "nothing was charged" in assert_error(response, 503)
    assert response.headers["retry-after"] == "5"
    assert (await client.get("/v1/balance", headers=customer.headers)).json()["balance_cents"] == 500
    [job] = (await client.get("/v1/jobs", headers=customer.headers)).json()["jobs"]
    assert job["status"] == "failed"
    assert not any(runtime.settings.audio_store_dir.iterdir())
    # Metadata is stored masked, like everything else.
    rows = read_all_rows(runtime)
    assert "4111 1111 1111 1111" not in rows
    assert "4111111111111111" not in rows
    assert "4012888888881881" not in rows


async def test_cancel_refusals(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner, stranger = make_account(runtime), make_account(runtime)
    with runtime.db.transaction() as session:
        job = records.create_job(session, owner.account_id, type="transcribe", model="test")
        records.mark_processing(session, job, runtime.runner)
        records.complete_job(session, job, duration_seconds=1.0, cost_cents=0, result={"transcript": "hi"})
        job_id = job.id
    assert_error(await client.delete("/v1/jobs/no-such-job", headers=owner.headers), 404)
    assert_error(await client.delete(f"/v1/jobs/{job_id}", headers=stranger.headers), 404)
    assert "already completed" in assert_error(await client.delete(f"/v1/jobs/{job_id}", headers=owner.headers), 409)
    assert_error(await client.delete(f"/v1/jobs/{job_id}"), 401)
