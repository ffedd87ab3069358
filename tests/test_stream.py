"""WebSocket /v1/stream with a real client (`websockets`) against uvicorn, and a scripted recognizer:
auth, encodings, stereo roles, masking in every message (partials too), metering and the balance
running out, and each way a client can end badly (issue 30)."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.jobs.metering import transcription_charge
from app.main import create_app
from app.models import Job, JobStatus, StreamToken, utcnow
from app.runtime import Runtime
from app.speech.live_audio import MULAW
from app.transcript import Word
from tests.support.card_readings import as_words, payment_call
from tests.support.factories import Customer, make_account
from tests.support.leaks import leaks
from tests.support.scripted import ScriptedModels, scripted_runtime
from tests.support.websocket_server import serving

CALL = [
    ("SPEAKER_00", "Thanks for calling Acme billing, this is Dana, how can I help?"),
    ("SPEAKER_01", "Hi Dana, I want to pay the forty dollars I owe on my account."),
    ("SPEAKER_00", "Sure, I can take that now. Is there anything else today?"),
    ("SPEAKER_01", "No, that is everything, thanks."),
]


@pytest.fixture(scope="module")
def scripted(database_url: str) -> Iterator[tuple[Runtime, ScriptedModels]]:
    with scripted_runtime(database_url, stream_idle_seconds=2.0, stream_max_per_key=1) as pair:
        yield pair


@pytest.fixture
async def base_url(scripted: tuple[Runtime, ScriptedModels]) -> AsyncIterator[str]:
    async with serving(create_app(runtime=scripted[0])) as url:
        yield url


@dataclass
class Heard:
    messages: list[dict[str, Any]]
    code: int | None

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def final_words(self) -> list[dict[str, Any]]:
        return [w for m in self.of("final") for w in m["words"]]

    @property
    def result(self) -> dict[str, Any]:
        (result,) = self.of("result")
        return result


def pcm16(samples: np.ndarray) -> bytes:
    return (samples * 32767).clip(-32768, 32767).astype("<i2").tobytes()


def tone(seconds: float, rate: int = 16000, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave


def mulaw(samples: np.ndarray) -> bytes:
    """Linear samples to G.711 mu-law bytes, by the table the server decodes with."""
    linear = (samples * 32767).astype(np.int32)
    nearest = np.abs(MULAW[None, :].astype(np.int32) - linear.reshape(-1)[:, None]).argmin(axis=1)
    return bytes(nearest.astype(np.uint8).tobytes())


async def talk(
    ws: ClientConnection, audio: bytes, bytes_per_second: int, frame_seconds: float = 0.2, stop: bool = True
) -> Heard:
    """Send the audio in frames (faster than real time), then stop; every message until the close."""
    frame = max(2, int(bytes_per_second * frame_seconds) // 2 * 2)
    for first in range(0, len(audio), frame):
        await ws.send(audio[first : first + frame])
        await asyncio.sleep(0)
    if stop:
        await ws.send(json.dumps({"type": "stop"}))
    return await listen(ws)


async def listen(ws: ClientConnection) -> Heard:
    messages = []
    try:
        async for raw in ws:
            messages.append(json.loads(raw))
    except ConnectionClosed:
        pass
    return Heard(messages, ws.close_code)


async def stream_token(base: str, customer: Customer) -> str:
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://")) as client:
        issued = await client.post("/v1/stream/tokens", headers=customer.headers)
    assert issued.status_code == 200
    return str(issued.json()["token"])


def stream_url(base: str, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{base}/v1/stream" + (f"?{query}" if query else "")


def job_of(runtime: Runtime, job_id: str) -> Job:
    with runtime.db.transaction(read_only=True) as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def balance(runtime: Runtime, customer: Customer) -> int:
    from app.billing import ledger

    with runtime.db.transaction(read_only=True) as session:
        return ledger.balance_cents(session, customer.account_id)


def nothing_left_running(runtime: Runtime) -> None:
    assert runtime.stream_slots.open == 0
    assert runtime.meter.active == set()


async def test_a_call_is_heard_as_it_goes_and_ends_as_a_finished_job(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, models = scripted
    words = as_words(CALL)
    models.say(words)
    customer = make_account(runtime, credit_cents=100)
    seconds = words[-1].end + 1.0
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        heard = await talk(ws, pcm16(tone(seconds)), 32000)
    assert heard.code == 1000
    assert heard.messages[0]["type"] == "started"
    job_id = heard.messages[0]["job_id"]
    # Every word said comes back final exactly once, in order, with its time.
    assert [w["word"] for w in heard.final_words] == [w.word for w in words]
    assert all(w["start"] == s.start for w, s in zip(heard.final_words, words, strict=True))
    # Words were final before the end (not only at `stop`), and partials came before them.
    assert len(heard.of("final")) > 2
    assert heard.of("partial")
    # The end is the same result as an upload's: analysis, roles, metrics, the job and its cost.
    result = heard.result
    assert result["job_id"] == job_id
    assert result["status"] == "completed"
    assert result["result_url"] == f"/v1/jobs/{job_id}/result"
    assert "Dana" in result["transcript"]
    assert result["ai_analysis"]["call_summary"]
    assert set(result["roles"].values()) == {"Agent", "Customer"}
    charge = transcription_charge(seconds, runtime.settings.price_per_hour_cents)
    assert result["cost_cents"] == charge.cents
    assert result["duration_seconds"] == pytest.approx(seconds, abs=0.01)
    job = job_of(runtime, job_id)
    assert job.status == JobStatus.COMPLETED
    assert job.type == "stream"
    assert job.cost_cents == charge.cents
    assert balance(runtime, customer) == 100 - charge.cents
    nothing_left_running(runtime)


@pytest.mark.parametrize("seed", [3, 17, 478, 1868])
async def test_no_card_digit_is_ever_sent_not_even_in_a_partial(
    seed: int, base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    """Generated card readings, read a word every 0.4 s: every message, partials included, is
    checked, and the stored job too."""
    runtime, models = scripted
    call = payment_call(random.Random(seed))
    words = as_words(call.turns)
    models.say(words)
    customer = make_account(runtime, credit_cents=100)
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        heard = await talk(ws, pcm16(tone(words[-1].end + 1.0)), 32000, frame_seconds=0.4)
    assert heard.code == 1000
    outputs = {f"message {i} ({m['type']})": json.dumps(m) for i, m in enumerate(heard.messages)}
    assert leaks(outputs, [call.card], [call.code]) == []
    # Masked, not lost: every word the finished job shows unmasked arrived as a final, in order
    # (a filler inside a card reading may arrive too, where the whole call's reading dropped it).
    finals = iter(w["word"] for w in heard.final_words if "*" not in w["word"])
    assert all(w["word"] in finals for w in heard.result["word_timestamps"] if "*" not in w["word"])


async def test_a_stereo_mulaw_call_labels_each_word_with_its_channel_and_role(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, models = scripted
    words = as_words(CALL)
    models.say(words)
    customer = make_account(runtime, credit_cents=100)
    rate, seconds = 8000, words[-1].end + 1.0
    audio = two_sided(words, seconds, rate)  # the agent (SPEAKER_00) on the right channel
    url = stream_url(base_url, encoding="mulaw", sample_rate=8000, channels=2, agent_channel=1)
    async with connect(url, additional_headers=customer.headers) as ws:
        heard = await talk(ws, mulaw(audio), 2 * rate)
    assert heard.code == 1000
    said = {(w.word, w.start): w for w in words}
    for got in heard.final_words:
        truth = said[(got["word"], got["start"])]
        assert got["role"] == ("Agent" if truth.speaker == "SPEAKER_00" else "Customer"), got
    assert heard.result["duration_seconds"] == pytest.approx(seconds, abs=0.05)


def two_sided(words: list[Word], seconds: float, rate: int = 8000) -> np.ndarray:
    """(samples, 2): the customer (SPEAKER_01) on the first channel, the agent on the second, each
    heard only while saying a word."""
    audio = np.zeros((int(seconds * rate), 2), dtype=np.float32)
    wave = tone(seconds, rate)
    for w in words:
        side = 1 if w.speaker == "SPEAKER_00" else 0
        first, last = int(w.start * rate), int(w.end * rate)
        audio[first:last, side] = wave[first:last] * 3
    return audio


async def test_a_twilio_media_stream_with_both_tracks_labels_the_caller_customer_and_the_other_agent(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    """What Twilio sends for <Stream track="both_tracks"> with <Parameter name="token">: JSON
    frames, 20 ms of base64 mu-law per media event, the two tracks interleaved."""
    runtime, models = scripted
    words = as_words(CALL)
    models.say(words)
    customer = make_account(runtime, credit_cents=100)
    token = await stream_token(base_url, customer)
    seconds = words[-1].end + 1.0
    audio = two_sided(words, seconds)
    tracks = {"inbound": mulaw(audio[:, 0]), "outbound": mulaw(audio[:, 1])}
    sid = {"streamSid": "MZ00000000000000000000000000000000"}
    async with connect(f"{base_url}/v1/stream/twilio") as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        start = {
            "streamSid": sid["streamSid"], "callSid": "CA0", "accountSid": "AC0",
            "tracks": ["inbound", "outbound"], "customParameters": {"token": token},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }  # fmt: skip
        await ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "start": start, **sid}))
        for n, first in enumerate(range(0, len(tracks["inbound"]), 160)):
            for track, data in tracks.items():
                media = {"track": track, "chunk": str(n + 1), "timestamp": str(n * 20)}
                payload = base64.b64encode(data[first : first + 160]).decode()
                await ws.send(json.dumps({"event": "media", "media": {**media, "payload": payload}, **sid}))
        await ws.send(json.dumps({"event": "stop", "stop": {"callSid": "CA0"}, **sid}))
        heard = await listen(ws)
    assert heard.code == 1000
    said = {(w.word, w.start): w for w in words}
    assert len(heard.final_words) == len(words)
    for got in heard.final_words:
        truth = said[(got["word"], got["start"])]
        assert got["role"] == ("Agent" if truth.speaker == "SPEAKER_00" else "Customer"), got
    assert heard.result["duration_seconds"] == pytest.approx(seconds, abs=0.05)
    # Without a token (Twilio cannot send a header): refused.
    async with connect(f"{base_url}/v1/stream/twilio") as ws:
        await ws.send(json.dumps({"event": "start", "start": {**start, "customParameters": {}}}))
        assert (await listen(ws)).code == 4401
    # Media that is not base64: a JSON error, and the call ends with what was heard.
    token = await stream_token(base_url, customer)
    async with connect(f"{base_url}/v1/stream/twilio") as ws:
        await ws.send(json.dumps({"event": "start", "start": {**start, "customParameters": {"token": token}}}))
        for track in ("inbound", "outbound"):
            good = base64.b64encode(tracks[track][:8000]).decode()
            await ws.send(json.dumps({"event": "media", "media": {"track": track, "timestamp": "0", "payload": good}}))
        bad = {"track": "outbound", "timestamp": "1000", "payload": "%%"}
        await ws.send(json.dumps({"event": "media", "media": bad}))
        garbled = await listen(ws)
    assert garbled.code == 4400
    assert garbled.result["duration_seconds"] == pytest.approx(1.0, abs=0.01)
    nothing_left_running(runtime)


async def test_a_stream_without_a_valid_key_or_with_bad_options_is_refused_with_a_json_error(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, _ = scripted
    async with connect(stream_url(base_url)) as ws:
        heard = await listen(ws)
    assert heard.code == 4401
    assert heard.messages == [
        {"type": "error", "error": {"message": heard.messages[0]["error"]["message"], "code": 401}}
    ]
    async with connect(stream_url(base_url), additional_headers={"X-API-Key": "vp_live_wrong"}) as ws:
        assert (await listen(ws)).code == 4401
    customer = make_account(runtime, credit_cents=100)
    for bad in ({"encoding": "opus"}, {"sample_rate": 44100}, {"encoding": "mulaw", "sample_rate": 16000},
                {"agent_channel": 1}, {"colour": "blue"}):  # fmt: skip
        async with connect(stream_url(base_url, **bad), additional_headers=customer.headers) as ws:
            heard = await listen(ws)
        assert heard.code == 4400, bad
        assert heard.messages[0]["error"]["code"] == 400
    poor = make_account(runtime, credit_cents=0)
    async with connect(stream_url(base_url), additional_headers=poor.headers) as ws:
        heard = await listen(ws)
    assert heard.code == 4402
    assert heard.messages[0]["error"]["code"] == 402
    nothing_left_running(runtime)


async def test_a_browser_opens_a_stream_with_a_single_use_token_never_the_key(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, models = scripted
    models.say(as_words(CALL))
    customer = make_account(runtime, credit_cents=100)
    http = base_url.replace("ws://", "http://")
    async with httpx.AsyncClient(base_url=http) as client:
        assert (await client.post("/v1/stream/tokens")).status_code == 401
        issued = await client.post("/v1/stream/tokens", headers=customer.headers)
        assert issued.status_code == 200
        token = issued.json()["token"]
        assert issued.json()["expires_in"] == runtime.settings.stream_token_seconds
        assert customer.key not in token
        async with connect(stream_url(base_url, token=token)) as ws:
            heard = await talk(ws, pcm16(tone(2.0)), 32000)
        assert heard.code == 1000
        assert heard.result["status"] == "completed"
        # Used once, it is spent.
        async with connect(stream_url(base_url, token=token)) as ws:
            assert (await listen(ws)).code == 4401
        # Unused but expired: refused the same way.
        late = (await client.post("/v1/stream/tokens", headers=customer.headers)).json()["token"]
        with runtime.db.transaction() as session:
            session.execute(update(StreamToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        async with connect(stream_url(base_url, token=late)) as ws:
            refused = await listen(ws)
        assert refused.code == 4401
        assert "token" in refused.messages[0]["error"]["message"]
    with runtime.db.transaction(read_only=True) as session:
        stored = " ".join(t.token_hash for t in session.scalars(select(StreamToken)))
    assert token not in stored
    assert late not in stored
    nothing_left_running(runtime)


async def test_when_the_balance_runs_out_the_call_ends_charged_for_what_was_heard(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, models = scripted
    words = [Word(f"word{i}", 0.5 + i, 0.9 + i, speaker=f"SPEAKER_0{i % 2}") for i in range(90)]
    models.say(words)
    customer = make_account(runtime, credit_cents=1)  # a minute at 49 cents an hour
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        heard = await talk(ws, pcm16(tone(90.0)), 32000, stop=False)
    assert heard.code == 4402
    (error,) = heard.of("error")
    assert error["error"]["code"] == 402
    assert "balance" in error["error"]["message"]
    result = heard.result
    # The hold could not be extended past 60 s less its margin: what came before is the call.
    assert 30.0 <= result["duration_seconds"] <= 40.5
    assert result["cost_cents"] == 1
    assert balance(runtime, customer) == 0
    assert heard.final_words[-1]["end"] <= result["duration_seconds"]
    nothing_left_running(runtime)


async def test_a_client_that_vanishes_gets_its_call_finished_and_charged_for_what_was_sent(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, models = scripted
    words = as_words(CALL)
    models.say(words)
    customer = make_account(runtime, credit_cents=100)
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        started = json.loads(await ws.recv())
        await ws.send(pcm16(tone(6.0)))
        await asyncio.sleep(0.3)
    # The socket is gone (closed without a stop); the server ends the job on its own.
    for _ in range(100):
        job = job_of(runtime, started["job_id"])
        if job.status != JobStatus.PROCESSING:
            break
        await asyncio.sleep(0.05)
    assert job.status == JobStatus.COMPLETED
    assert job.cost_cents == transcription_charge(6.0, runtime.settings.price_per_hour_cents).cents
    assert balance(runtime, customer) == 100 - job.cost_cents
    await asyncio.sleep(0.1)
    nothing_left_running(runtime)


async def test_garbage_frames_silence_and_a_missing_stop_each_end_cleanly(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, models = scripted
    models.say(as_words(CALL))
    customer = make_account(runtime, credit_cents=100)
    # A text frame that is not a stop: a JSON error, the call ends with what was heard.
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        await ws.send(pcm16(tone(3.0)))
        await ws.send("this is not json")
        heard = await listen(ws)
    assert heard.code == 4400
    assert heard.of("error")[0]["error"]["code"] == 400
    assert heard.result["duration_seconds"] == pytest.approx(3.0, abs=0.01)
    # Bytes that are half a sample: kept for the next frame, never an error.
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        heard = await talk(ws, pcm16(tone(2.0)) + b"\x01", 32000, frame_seconds=0.0333)
    assert heard.code == 1000
    assert heard.result["duration_seconds"] == pytest.approx(2.0, abs=0.01)
    # Audio, then nothing and no stop: the idle timeout ends it (2 s in this module's settings).
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        heard = await talk(ws, pcm16(tone(3.0)), 32000, stop=False)
    assert heard.code == 4408
    assert heard.of("error")[0]["error"]["code"] == 408
    assert heard.result["duration_seconds"] == pytest.approx(3.0, abs=0.01)
    # No audio at all: nothing to charge, the job fails and its hold goes back.
    before = balance(runtime, customer)
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        started = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "stop"}))
        heard = await listen(ws)
    assert heard.code == 1000
    assert job_of(runtime, started["job_id"]).status == JobStatus.FAILED
    assert balance(runtime, customer) == before
    nothing_left_running(runtime)


async def test_streams_per_key_are_limited(base_url: str, scripted: tuple[Runtime, ScriptedModels]) -> None:
    runtime, models = scripted
    models.say(as_words(CALL))
    customer = make_account(runtime, credit_cents=100)
    async with connect(stream_url(base_url), additional_headers=customer.headers) as first:
        json.loads(await first.recv())
        async with connect(stream_url(base_url), additional_headers=customer.headers) as second:
            refused = await listen(second)
        assert refused.code == 4429
        assert refused.messages[0]["error"]["code"] == 429
        heard = await talk(first, pcm16(tone(2.0)), 32000)
    assert heard.code == 1000
    nothing_left_running(runtime)


async def test_a_frame_longer_than_the_hold_extends_it_as_often_as_needed(
    base_url: str, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, models = scripted
    models.say(as_words(CALL))
    customer = make_account(runtime, credit_cents=100)
    async with connect(stream_url(base_url), additional_headers=customer.headers, max_size=None) as ws:
        await ws.send(pcm16(tone(150.0)))  # one message: two and a half minutes
        await ws.send(json.dumps({"type": "stop"}))
        heard = await listen(ws)
    assert heard.code == 1000
    assert heard.result["duration_seconds"] == pytest.approx(150.0, abs=0.01)
    assert balance(runtime, customer) == 100 - transcription_charge(150.0, runtime.settings.price_per_hour_cents).cents
    nothing_left_running(runtime)


async def test_recognition_failing_mid_call_ends_the_job_uncharged_with_a_json_error(
    base_url: str, scripted: tuple[Runtime, ScriptedModels], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, models = scripted
    models.say(as_words(CALL))
    customer = make_account(runtime, credit_cents=100)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the recognizer broke")

    monkeypatch.setattr(models.recognizer, "transcribe_window", broken)
    async with connect(stream_url(base_url), additional_headers=customer.headers) as ws:
        started = json.loads(await ws.recv())
        for _ in range(20):
            await ws.send(pcm16(tone(0.5)))
        heard = await listen(ws)
    assert heard.code == 1011
    assert heard.of("error")[0]["error"]["code"] == 500
    assert "broke" not in json.dumps(heard.messages)
    assert job_of(runtime, started["job_id"]).status == JobStatus.FAILED
    assert balance(runtime, customer) == 100
    nothing_left_running(runtime)
