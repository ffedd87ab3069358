"""The service as self-hosters run it: `voxparse serve` under VOXPARSE_ROOT_PATH behind Debian's
nginx with the repository's own location block (deploy/voxparse-location.conf). Everything below
goes through the proxy: the reference's client examples, the OpenAI SDK on /v1/apex, the console
in Chromium, the client address the service believes, and the upload size limits."""

from __future__ import annotations

import io
import shutil
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import openai
import pytest
from playwright.sync_api import expect, sync_playwright

from app.config import Settings
from app.runtime import Runtime
from tests.support import examples
from tests.support.factories import Customer, make_account
from tests.support.fake_openai import FakeOpenAI, Reply, fake_openai
from tests.support.live import LiveServer, live_server
from tests.support.nginx import PREFIX, Proxy, nginx_proxy
from tests.support.synth import SynthCall, normalize_words

pytestmark = pytest.mark.slow

AUTH_FAILURES_PER_MINUTE = 4
MB = 1024 * 1024
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@dataclass
class Stack:
    server: LiveServer
    proxy: Proxy
    runtime: Runtime
    upstream: FakeOpenAI

    def customer(self, credit_cents: int = 100_000) -> Customer:
        return make_account(self.runtime, credit_cents=credit_cents)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("behind-nginx")
    url = f"sqlite:///{folder / 'stack.db'}"
    with fake_openai() as upstream:
        env = {
            "VOXPARSE_ROOT_PATH": PREFIX,
            "VOXPARSE_TRUSTED_PROXIES": '["127.0.0.1"]',
            "VOXPARSE_AUTH_FAILURE_RATE_LIMIT": f"{AUTH_FAILURES_PER_MINUTE}/minute",
            "VOXPARSE_APEX_BASE_URL": upstream.base_url,
            "VOXPARSE_APEX_MODEL": "upstream-model",
            "VOXPARSE_APEX_API_KEY": "sk-upstream",
        }
        with live_server(url, folder / "server.log", env=env, entry_point="voxparse serve") as server:
            runtime = Runtime.create(Settings(database_url=url, preload_models=False))
            port = int(server.base_url.rsplit(":", 1)[1])
            try:
                with nginx_proxy(port, folder / "nginx") as proxy:
                    yield Stack(server, proxy, runtime, upstream)
            finally:
                runtime.close()


def _client(source: str) -> httpx.Client:
    """A client whose connections come from `source` (any 127.x address is this machine)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=60)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ([sys.executable, "examples/python_requests.py", "{mp3}"], ["Status: completed", "'transcript': "]),
        (["node", "examples/node_fetch.js", "{wav}"], ["Status: completed", "transcript:"]),
        (["bash", "examples/curl_balance.sh", "{ulaw}"], ['"balance_cents"', '"status":"completed"']),
    ],
    ids=["python", "node", "curl"],
)
def test_the_reference_examples_run_through_the_proxy(
    stack: Stack, support_calls: dict[str, SynthCall], command: list[str], expected: list[str]
) -> None:
    if shutil.which(command[0]) is None and command[0] != sys.executable:
        pytest.skip(f"{command[0]} is not installed")
    files = {variant: str(call.path) for variant, call in support_calls.items()}
    out = examples.run([part.format(**files) for part in command], stack.proxy.base_url, stack.customer().key)
    for text in expected:
        assert text in out


def test_the_openai_sdk_talks_to_apex_through_the_proxy(stack: Stack) -> None:
    customer = stack.customer()
    client = openai.OpenAI(base_url=f"{stack.proxy.base_url}/v1/apex", api_key=customer.key, max_retries=0)
    stack.upstream.script(Reply(content="Proxied.", prompt_tokens=10, completion_tokens=2))
    answer = client.chat.completions.create(model="apex-latest", messages=[{"role": "user", "content": "Hi"}])
    assert answer.choices[0].message.content == "Proxied."
    stack.upstream.script(Reply(stream_chunks=["one ", "two ", "three"], chunk_delay=0.05))
    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model="apex-latest", messages=[{"role": "user", "content": "Count"}], stream=True
        )
        if chunk.choices
    ]
    assert "".join(pieces) == "one two three"


async def test_a_live_call_streams_through_the_proxy(stack: Stack, support_calls: dict[str, SynthCall]) -> None:
    """The real recognizer, live: a synthesized call sent over WebSocket through nginx, words
    final while it goes on, then the finished job."""
    import json

    import numpy as np
    import soundfile
    from websockets.asyncio.client import connect

    call = support_calls["wav"]
    samples, rate = soundfile.read(str(call.path), dtype="int16")
    assert rate == 16000
    pcm = np.asarray(samples[: 30 * rate]).tobytes()  # the first turns, before the hold
    url = stack.proxy.base_url.replace("http://", "ws://") + "/v1/stream?language=en"
    messages = []
    async with connect(url, additional_headers=stack.customer().headers, max_size=None) as ws:
        for first in range(0, len(pcm), 6400):
            await ws.send(pcm[first : first + 6400])
        await ws.send(json.dumps({"type": "stop"}))
        async for raw in ws:
            messages.append(json.loads(raw))
    assert ws.close_code == 1000
    finals = " ".join(w["word"] for m in messages if m["type"] == "final" for w in m["words"])
    result = messages[-1]
    assert result["type"] == "result"
    assert result["status"] == "completed"
    heard = normalize_words(finals)
    said = normalize_words(" ".join(t.text for t in call.turns[:2]))
    assert sum(w in heard for w in said) >= 0.8 * len(said), (finals, said)
    assert normalize_words(result["transcript"])[:10] == heard[:10]


def test_the_client_address_is_the_proxys_word_and_only_the_proxys(stack: Stack) -> None:
    """Through nginx, the service rate-limits (and logs) by the address nginx saw, whatever the
    client claims; straight to the service, an X-Forwarded-For from an untrusted peer is ignored."""
    spoofed = {"X-API-Key": "vxp_live_wrong", "X-Forwarded-For": "198.51.100.77"}
    with _client("127.0.0.2") as alice, _client("127.0.0.3") as bob, _client("127.0.0.4") as mallory:
        through = f"{stack.proxy.base_url}/v1/balance"
        codes = [alice.get(through, headers=spoofed).status_code for _ in range(AUTH_FAILURES_PER_MINUTE + 1)]
        assert codes == [401] * AUTH_FAILURES_PER_MINUTE + [429]
        assert bob.get(through, headers=spoofed).status_code == 401  # another client of the same proxy
        # Straight to the service, pretending to be the client that is now limited: not believed.
        direct = f"{stack.server.base_url}/v1/balance"
        assert mallory.get(direct, headers={**spoofed, "X-Forwarded-For": "127.0.0.2"}).status_code == 401
    log = stack.server.log()
    assert '127.0.0.2:0 - "GET /voxparse/v1/balance' in log or "127.0.0.2:0 - " in log
    assert "198.51.100.77" not in log


def _wav_of_size(total_bytes: int) -> bytes:
    """A 16 kHz mono 16-bit WAV of exactly `total_bytes`, declaring the length its data has."""
    data = total_bytes - 44
    header = (
        b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    )
    return header + b"data" + struct.pack("<I", data) + b"\0" * data


@pytest.mark.parametrize(
    ("size", "status", "words"),
    [
        # Through the proxy to the service, which refuses it for want of credit: it got there.
        (25 * MB, 402, "insufficient balance"),
        # Through the proxy, then the service's own 413, in its JSON shape (not nginx's HTML 502).
        (26 * MB, 413, "the limit for this endpoint is"),
        # Past what the proxy lets through: nginx answers, in the same JSON shape.
        (45 * MB, 413, "the limit for uploads is 25 mb"),
    ],
    ids=["25MB", "26MB", "45MB"],
)
def test_upload_sizes_through_the_proxy(stack: Stack, size: int, status: int, words: str) -> None:
    broke = stack.customer(credit_cents=0)
    upload = _wav_of_size(size)
    for _ in range(3):  # the proxy's 502 came from a race: one lucky answer proves nothing
        response = httpx.post(
            f"{stack.proxy.base_url}/v1/transcribe",
            headers=broke.headers,
            files={"file": ("call.wav", io.BytesIO(upload), "audio/wav")},
            timeout=120,
        )
        assert response.status_code == status, response.text[:300]
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["error"]["code"] == status
        assert words in body["error"]["message"].lower()


def test_the_console_and_its_assets_live_under_the_prefix(stack: Stack) -> None:
    root = httpx.get(f"{stack.proxy.base_url}/", follow_redirects=False)
    assert root.status_code == 307
    assert root.headers["location"] == f"{PREFIX}/console"
    page = httpx.get(f"{stack.proxy.base_url}/console")
    assert page.status_code == 200
    for asset in ("console.js", "console.css"):
        assert f"{PREFIX}/console/static/{asset}" in page.text
        assert httpx.get(f"{stack.proxy.base_url}/console/static/{asset}").status_code == 200
    spec = httpx.get(f"{stack.proxy.base_url}/openapi.json").json()
    assert spec["servers"] == [{"url": PREFIX}]


def test_a_call_uploaded_in_the_console_through_the_proxy(stack: Stack, support_calls: dict[str, SynthCall]) -> None:
    customer = stack.customer()
    executable = shutil.which("chromium")
    assert executable, "chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{stack.proxy.base_url}/")
            expect(page).to_have_url(f"{stack.proxy.base_url}/console")
            page.fill("#api-key", customer.key)
            page.click("#sign-in button[type=submit]")
            expect(page.locator("#upload-form")).to_be_visible()
            page.set_input_files("#file", str(support_calls["mp3"].path))
            page.click("#upload-form button[type=submit]")
            page.wait_for_url("**/console#/calls/*", timeout=240_000)
            expect(page.locator("#transcript")).to_be_visible()
            assert page.locator(".turn.agent").count() >= 1
            expect(page.locator("#transcript")).to_contain_text("Greenfield")
            expect(page.locator("#card-agent")).to_contain_text("Karen")
        finally:
            browser.close()
