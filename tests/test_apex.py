"""/v1/apex through the real openai SDK (sync, async, streaming) against a live server of ours,
whose upstream is the scripted OpenAI-compatible server of tests/fake_openai.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from app.apex import service
from app.apex.service import ChatRequest
from app.billing.accounts import Principal
from app.config import Settings
from app.db import migrate
from app.main import create_app
from app.models import Job, JobStatus, LedgerEntry
from app.runtime import Runtime
from tests.support.factories import Customer, make_account
from tests.support.fake_openai import FakeOpenAI, Reply, fake_openai
from tests.support.live import ROOT, LiveServer, live_server

# One cent per prompt token and two per completion token, so charges are easy to check.
PRICES = {
    "VOXPARSE_APEX_INPUT_PRICE_PER_MILLION_CENTS": "1000000",
    "VOXPARSE_APEX_OUTPUT_PRICE_PER_MILLION_CENTS": "2000000",
}


@dataclass
class Apex:
    server: LiveServer
    upstream: FakeOpenAI
    runtime: Runtime

    def customer(self, credit_cents: int = 100_000) -> Customer:
        return make_account(self.runtime, credit_cents=credit_cents)

    def client(self, customer: Customer) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.server.base_url}/v1/apex", api_key=customer.key, max_retries=0)

    def async_client(self, customer: Customer) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.server.base_url}/v1/apex", api_key=customer.key, max_retries=0)

    def balance(self, customer: Customer) -> int:
        r = httpx.get(f"{self.server.base_url}/v1/balance", headers=customer.headers)
        return int(r.json()["balance_cents"])

    def jobs(self, customer: Customer) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.server.base_url}/v1/jobs", headers=customer.headers)
        return list(r.json()["jobs"])

    def job_row(self, job_id: str) -> Job:
        with self.runtime.db.transaction() as session:
            job = session.get(Job, job_id)
            assert job is not None
            session.expunge(job)
            return job

    def job_charge(self, job_id: str) -> int:
        from sqlalchemy import func, select

        with self.runtime.db.transaction() as session:
            total = session.scalar(select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.job_id == job_id))
            return -int(total or 0)


@pytest.fixture(scope="module")
def apex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apex]:
    folder = tmp_path_factory.mktemp("apex")
    url = f"sqlite:///{folder / 'apex.db'}"
    migrate(url)
    runtime = Runtime.create(Settings(database_url=url))
    with fake_openai() as upstream:
        env = {
            "VOXPARSE_APEX_BASE_URL": upstream.base_url,
            "VOXPARSE_APEX_MODEL": "upstream-model",
            "VOXPARSE_APEX_API_KEY": "sk-upstream",
            "VOXPARSE_APEX_TIMEOUT_SECONDS": "2",
            "VOXPARSE_PRELOAD_MODELS": "false",
            **PRICES,
        }
        with live_server(url, folder / "server.log", env=env) as server:
            yield Apex(server, upstream, runtime)
    runtime.close()


MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello"},
]


def test_sync_sdk_completion_usage_charge_and_job(apex: Apex) -> None:
    customer = apex.customer()
    apex.upstream.script(Reply(content="Hi there!", prompt_tokens=40, completion_tokens=12))
    response = apex.client(customer).chat.completions.create(model="apex-latest", messages=MESSAGES, max_tokens=100)
    assert response.choices[0].message.content == "Hi there!"
    assert response.model == "apex-latest"
    assert response.usage is not None
    assert response.usage.total_tokens == 52
    sent = apex.upstream.requests[-1]
    assert sent["model"] == "upstream-model"
    assert sent["_authorization"] == "Bearer sk-upstream"
    assert sent["max_tokens"] == 100
    assert apex.balance(customer) == 100_000 - (40 + 2 * 12)
    job = apex.jobs(customer)[0]
    assert (job["type"], job["status"], job["cost_cents"], job["model"]) == ("apex", "completed", 64, "apex-latest")


async def test_async_sdk_streaming(apex: Apex) -> None:
    customer = apex.customer()
    apex.upstream.script(Reply(stream_chunks=["Hel", "lo", " wor", "ld"], prompt_tokens=30))
    stream = await apex.async_client(customer).chat.completions.create(
        model="apex-latest", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    pieces: list[str] = []
    usage = None
    async for chunk in stream:
        assert chunk.model == "apex-latest"
        if chunk.usage:
            usage = chunk.usage
        pieces.extend(c.delta.content or "" for c in chunk.choices)
    assert "".join(pieces) == "Hello world"
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (30, 4)
    assert apex.upstream.requests[-1]["stream_options"] == {"include_usage": True}
    # The job is settled when the stream ends.
    for _ in range(50):
        job = apex.jobs(customer)[0]
        if job["status"] == "completed":
            break
        time.sleep(0.1)
    assert job["cost_cents"] == 30 + 2 * 4
    assert apex.balance(customer) == 100_000 - 38


def test_sync_streaming_without_usage_requested(apex: Apex) -> None:
    customer = apex.customer()
    apex.upstream.script(Reply(stream_chunks=["a", "b"], prompt_tokens=10))
    stream = apex.client(customer).chat.completions.create(model="apex-latest", messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "ab"
    assert all(c.usage is None for c in chunks)
    # Usage was asked of the upstream anyway, for metering.
    assert apex.upstream.requests[-1]["stream_options"] == {"include_usage": True}


def test_card_numbers_never_reach_the_upstream(apex: Apex) -> None:
    customer = apex.customer()
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Summarize: customer paid with 4532 2914 1777 6311, CVV 947."}
    ]
    apex.client(customer).chat.completions.create(model="apex-latest", messages=messages)
    sent = str(apex.upstream.requests[-1]["messages"])
    assert "4532 **** **** 6311" in sent
    assert "2914" not in sent


def test_insufficient_balance_is_402(apex: Apex) -> None:
    customer = apex.customer(credit_cents=10)
    with pytest.raises(openai.APIStatusError) as info:
        apex.client(customer).chat.completions.create(model="apex-latest", messages=MESSAGES)
    assert info.value.status_code == 402
    assert info.value.body["code"] == 402  # type: ignore[index]
    assert apex.balance(customer) == 10
    assert apex.jobs(customer) == []


@pytest.mark.parametrize(
    ("reply", "error", "status"),
    [
        (Reply(status=500), openai.InternalServerError, 502),
        (Reply(hang=4.0), openai.InternalServerError, 502),
        (Reply(status=400, error="This model's maximum context length is 8192 tokens"), openai.BadRequestError, 400),
    ],
    ids=["upstream-500", "upstream-hang", "upstream-400"],
)
def test_upstream_failures_release_the_hold(apex: Apex, reply: Reply, error: type[Exception], status: int) -> None:
    customer = apex.customer()
    apex.upstream.script(reply)
    with pytest.raises(error) as info:
        apex.client(customer).chat.completions.create(model="apex-latest", messages=MESSAGES)
    assert info.value.status_code == status  # type: ignore[attr-defined]
    if status == 400:
        assert "maximum context length" in str(info.value)
    assert apex.balance(customer) == 100_000
    assert apex.jobs(customer)[0]["status"] == "failed"


def test_unknown_model_is_404(apex: Apex) -> None:
    customer = apex.customer()
    with pytest.raises(openai.NotFoundError):
        apex.client(customer).chat.completions.create(model="gpt-unknown", messages=MESSAGES)
    assert [m.id for m in apex.client(customer).models.list()] == ["apex-latest"]


def test_bad_key_is_401(apex: Apex) -> None:
    client = openai.OpenAI(base_url=f"{apex.server.base_url}/v1/apex", api_key="vxp_live_" + "x" * 40, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="apex-latest", messages=MESSAGES)


def test_a_disconnect_mid_stream_stops_the_upstream_and_charges_what_was_used(apex: Apex) -> None:
    customer = apex.customer()
    cut_before = apex.upstream.streams_cut
    apex.upstream.script(Reply(stream_chunks=[f"w{i} " for i in range(40)], chunk_delay=0.2, prompt_tokens=20))
    body = {"model": "apex-latest", "messages": MESSAGES, "stream": True}
    with httpx.stream(
        "POST", f"{apex.server.base_url}/v1/apex/chat/completions", json=body, headers=customer.headers, timeout=10
    ) as response:
        lines = 0
        for line in response.iter_lines():
            lines += line.startswith("data:")
            if lines >= 4:
                break
    for _ in range(100):
        job = apex.jobs(customer)[0]
        if job["status"] != "processing" and apex.upstream.streams_cut > cut_before:
            break
        time.sleep(0.1)
    assert apex.upstream.streams_cut == cut_before + 1
    row = apex.job_row(job["id"])
    assert row.status == JobStatus.FAILED
    assert row.error == "client disconnected mid-stream"
    charged = apex.job_charge(job["id"])
    assert charged == row.cost_cents
    full_stream = 20 + 2 * 40
    assert 0 < charged < full_stream
    assert apex.balance(customer) == 100_000 - charged


def test_the_reference_snippet_runs(apex: Apex) -> None:
    customer = apex.customer()
    apex.upstream.script(Reply(content="A short summary.", prompt_tokens=25, completion_tokens=5))
    env = {**os.environ, "VOXPARSE_BASE": apex.server.base_url, "VOXPARSE_API_KEY": customer.key}
    done = subprocess.run(
        [sys.executable, "examples/apex_openai_sdk.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["A short summary.", "Tokens used: 30"]


async def test_not_configured_is_503(client: httpx.AsyncClient, account: Customer) -> None:
    response = await client.post(
        "/v1/apex/chat/completions", headers=account.headers, json={"model": "apex-latest", "messages": MESSAGES}
    )
    assert response.status_code == 503
    assert response.json() == {
        "error": {"message": "The Apex LLM backend is not configured on this server.", "code": 503}
    }
    assert (await client.get("/v1/jobs", headers=account.headers)).json()["jobs"] == []


def _held(apex: Apex, job_id: str) -> int:
    from sqlalchemy import select

    from app.models import EntryKind

    with apex.runtime.db.transaction() as session:
        amounts = session.scalars(
            select(LedgerEntry.amount_cents).where(LedgerEntry.job_id == job_id, LedgerEntry.kind == EntryKind.HOLD)
        ).all()
    return -sum(amounts)


def test_both_limits_sent_become_the_smaller_one_upstream(apex: Apex) -> None:
    customer = apex.customer()
    apex.upstream.script(Reply(content="ok", prompt_tokens=10, completion_tokens=1))
    apex.client(customer).chat.completions.create(
        model="apex-latest", messages=MESSAGES, max_tokens=1_000_000, max_completion_tokens=1
    )
    sent = apex.upstream.requests[-1]
    assert (sent["max_tokens"], sent["max_completion_tokens"]) == (1, 1)


def test_usage_reported_beyond_the_hold_is_not_charged(apex: Apex) -> None:
    """The upstream claims 5,000,000 tokens for a 5-token request: the hold is charged, no more."""
    customer = apex.customer(credit_cents=500)
    apex.upstream.script(Reply(content="ok", prompt_tokens=40, completion_tokens=5_000_000))
    apex.client(customer).chat.completions.create(model="apex-latest", messages=MESSAGES, max_tokens=5)
    job = apex.jobs(customer)[0]
    held = _held(apex, job["id"])
    assert 0 < held < 500
    assert apex.job_charge(job["id"]) == held == job["cost_cents"]
    assert apex.balance(customer) == 500 - held >= 0


@pytest.fixture
def in_process(apex: Apex) -> Iterator[Runtime]:
    """A runtime of this process on the module's database, with the fake upstream configured."""
    settings = Settings(
        database_url=apex.runtime.settings.database_url,
        apex_base_url=apex.upstream.base_url,
        apex_model="upstream-model",
        apex_api_key="sk-upstream",
        preload_models=False,
        apex_input_price_per_million_cents=1_000_000,
        apex_output_price_per_million_cents=2_000_000,
    )
    runtime = Runtime.create(settings)
    yield runtime
    runtime.close()


async def _stream_request(app: Any, customer: Customer, send: Any, spec_version: str) -> None:
    body = json.dumps({"model": "apex-latest", "messages": MESSAGES, "stream": True}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/apex/chat/completions",
        "raw_path": b"/v1/apex/chat/completions",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-api-key", customer.key.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(0.05)
        return {"type": "http.disconnect"}

    with contextlib.suppress(Exception):
        await app(scope, receive, send)


@pytest.mark.parametrize("spec_version", ["2.4", "2.0"])
async def test_a_stream_whose_client_is_gone_before_the_first_event_ends_its_job(
    apex: Apex, in_process: Runtime, spec_version: str
) -> None:
    """The events are never started (the response's first message already fails, or the client
    disconnects first): the job must still end, its hold settled to the prompt, not left open
    and "running" until a restart."""
    customer = make_account(in_process, credit_cents=100_000)
    apex.upstream.script(Reply(stream_chunks=["never ", "read "], chunk_delay=0.2, prompt_tokens=20))
    app = create_app(runtime=in_process)

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            if spec_version == "2.4":
                raise OSError("client gone")
            await asyncio.sleep(5)  # the disconnect arrives while the headers are still going out

    async with app.router.lifespan_context(app):
        await _stream_request(app, customer, send, spec_version)
    assert in_process.meter.active == set()
    job = apex.jobs(customer)[0]
    row = apex.job_row(job["id"])
    assert row.status == JobStatus.FAILED
    assert row.error == "client went away before the stream started"
    assert _held(apex, job["id"]) > 0
    charged = apex.job_charge(job["id"])
    assert charged == row.cost_cents
    assert 0 < charged < _held(apex, job["id"])
    assert apex.balance(customer) == 100_000 - charged


async def test_a_request_cancelled_while_the_upstream_is_called_releases_its_hold(
    apex: Apex, in_process: Runtime
) -> None:
    customer = make_account(in_process, credit_cents=100_000)
    apex.upstream.script(Reply(content="late", hang=1.5))
    request = ChatRequest(model="apex-latest", messages=[dict(m) for m in MESSAGES], params={})
    principal = Principal(account_id=customer.account_id, key_id=customer.key_id)
    task = asyncio.ensure_future(service.complete(in_process, principal, request))
    for _ in range(100):
        await asyncio.sleep(0.02)
        if in_process.meter.active:
            break
    assert in_process.meter.active, "the call never reached the upstream"
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert in_process.meter.active == set()
    row = apex.job_row(apex.jobs(customer)[0]["id"])
    assert (row.status, row.error) == (JobStatus.FAILED, "request cancelled")
    assert apex.balance(customer) == 100_000
