"""WebSocket /v1/stream: a live call's audio in, words out as they are heard, the finished job at
the end. The conversation (receiving frames, stepping the recognizer, ending) is here; what the
call costs and how it is heard is `app.jobs.live`."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.websockets import WebSocketState

from app.api.deps import CurrentPrincipal, RuntimeDep
from app.api.errors import ErrorBody, ErrorDetail, error_responses
from app.api.schemas import StreamTokenOut, TranscribeOut
from app.billing import accounts
from app.billing.accounts import Principal
from app.errors import ApiError, BadRequest
from app.jobs import live
from app.runtime import Runtime
from app.speech.live_audio import Encoding, TwoTracks

router = APIRouter(tags=["streaming"])
logger = logging.getLogger(__name__)

NORMAL_CLOSURE = 1000
INTERNAL_ERROR = 1011
# Other endings close with 4000 + the HTTP status that means the same: 4400 a bad frame or option,
# 4401 no valid key, 4402 the balance ran out, 4408 no audio for too long, 4413 the call reached its
# maximum length, 4429 too many streams.
IDLE_STATUS = 408


class StreamQuery(BaseModel):
    """The stream's options, as query parameters of the WebSocket URL."""

    model_config = ConfigDict(extra="forbid")

    encoding: Encoding = "pcm_s16le"
    sample_rate: int = 16000
    channels: int = Field(default=1, ge=1, le=2)
    language: str | None = None
    redact_pii: bool = False
    agent_channel: int | None = Field(default=None, ge=0, le=1)


class IdleTimeout(ApiError):
    status_code = IDLE_STATUS


def _close_code(ending: ApiError | None) -> int:
    if ending is None:
        return NORMAL_CLOSURE
    return INTERNAL_ERROR if ending.status_code >= 500 else 4000 + ending.status_code


def _error_message(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", **ErrorBody(error=ErrorDetail(message=message, code=status)).model_dump()}


@router.post("/v1/stream/tokens", response_model=StreamTokenOut, responses=error_responses(401, 429))
def issue_token(runtime: RuntimeDep, principal: CurrentPrincipal) -> StreamTokenOut:
    """A single-use token that opens one live stream within a minute (VOXPARSE_STREAM_TOKEN_SECONDS),
    for browsers, which cannot set headers on a WebSocket: `/v1/stream?token=TOKEN`."""
    seconds = runtime.settings.stream_token_seconds
    with runtime.db.transaction() as session:
        token = accounts.issue_stream_token(session, principal, seconds)
    return StreamTokenOut(token=token, expires_in=seconds)


def _authenticate(runtime: Runtime, websocket: WebSocket, token: str | None = None) -> Principal:
    """A stream token (`token`, or the `token` query parameter), else the key in a header
    (X-API-Key or Authorization: Bearer)."""
    token = token or websocket.query_params.get("token")
    if token is not None:
        with runtime.db.transaction() as session:
            return accounts.redeem_stream_token(session, token)
    presented = websocket.headers.get("x-api-key")
    bearer = websocket.headers.get("authorization", "")
    if not presented and bearer.lower().startswith("bearer "):
        presented = bearer[7:].strip()
    with runtime.db.transaction(read_only=True) as session:
        return accounts.authenticate(session, presented)


def _options(websocket: WebSocket) -> live.LiveOptions:
    params = {k: v for k, v in websocket.query_params.items() if k != "token"}
    try:
        query = StreamQuery.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BadRequest(f"Invalid stream options: {problems}") from exc
    return live.LiveOptions(**query.model_dump())


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    if websocket.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.send_json(message)


async def _close(websocket: WebSocket, code: int) -> None:
    if websocket.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.close(code)


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket) -> None:
    """Send audio frames as binary messages and `{"type": "stop"}` at the end; receive `partial`
    and `final` words as they are heard, then `result` (the finished job). README: Live calls."""
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    try:
        principal = await run_in_threadpool(_authenticate, runtime, websocket)
        options = _options(websocket)
        with runtime.stream_slots.taken(principal.key_id):
            call = await run_in_threadpool(live.LiveCall, runtime, principal, options)
            await _send(websocket, {"type": "started", "job_id": call.job_id})
            await Conversation(websocket, call, runtime).run()
    except ApiError as exc:
        await _send(websocket, _error_message(exc.status_code, exc.message))
        await _close(websocket, _close_code(exc))


class Conversation:
    """Frames received while the recognizer steps: one task reads the socket and keeps the audio
    (never waiting for recognition), one recognizes what has arrived, in a worker thread."""

    def __init__(self, websocket: WebSocket, call: live.LiveCall, runtime: Runtime) -> None:
        self.websocket, self.call, self.runtime = websocket, call, runtime
        self.arrived = asyncio.Event()
        self.closing = False

    async def run(self) -> None:
        receiving = asyncio.create_task(self._receive_until_stop())
        stepping = asyncio.create_task(self._step_while_open())
        await asyncio.wait({receiving, stepping}, return_when=asyncio.FIRST_COMPLETED)
        # A step runs in a thread that cannot be cancelled: the stepper is asked to stop and
        # awaited, so that finishing never runs beside a step.
        self.closing = True
        self.arrived.set()
        if not receiving.done():
            receiving.cancel()  # the stepper failed: nothing more will be heard
        ending: ApiError | None = None
        gone = True
        try:
            gone = await receiving
        except ApiError as exc:
            ending, gone = exc, False
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("stream job %s: receiving failed", self.call.job_id)
            ending, gone = ApiError("The stream failed on our side; the call ends with what was heard."), False
        try:
            await stepping
        except Exception:
            logger.exception("stream job %s: recognition failed", self.call.job_id)
            ending, gone = ApiError("Recognition failed on our side; the call ends here."), False
        if ending is not None:
            await _send(self.websocket, _error_message(ending.status_code, ending.message))
        await self._finish(gone, _close_code(ending))

    async def _receive_until_stop(self) -> bool:
        """Frames until `stop` (False) or until the client goes away (True)."""
        idle = self.runtime.settings.stream_idle_seconds
        while True:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), timeout=idle)
            except TimeoutError as exc:
                raise IdleTimeout(f"No audio for {idle:g} seconds: the call ends with what was heard.") from exc
            if message["type"] == "websocket.disconnect":
                return True
            audio, stopped = self.audio_of(message)
            if audio:
                samples = self.call.decode(audio)
                while self.call.hold_due(samples):
                    await run_in_threadpool(self.call.extend_hold)
                self.call.take(samples)
                self.arrived.set()
            if stopped:
                return False

    def audio_of(self, message: Mapping[str, Any]) -> tuple[bytes, bool]:
        """A message's audio in the stream's encoding, and whether it ends the call: binary
        messages are audio; the only text message is `{"type": "stop"}`."""
        if message.get("bytes") is not None:
            return message["bytes"], False
        try:
            text = json.loads(message.get("text") or "")
        except ValueError as exc:
            raise BadRequest("Text messages are JSON; audio is sent as binary messages.") from exc
        if isinstance(text, dict) and text.get("type") == "stop":
            return b"", True
        raise BadRequest('The only text message is {"type": "stop"}; audio is sent as binary messages.')

    async def _step_while_open(self) -> None:
        while not self.closing:
            await self.arrived.wait()
            self.arrived.clear()
            while self.call.step_due and not self.closing:
                for message in await run_in_threadpool(self.call.step):
                    await _send(self.websocket, message)

    async def _finish(self, gone: bool, code: int) -> None:
        """The rest heard and the job ended: completed and charged for what was heard, or, when
        nothing was, failed with its hold released."""
        call = self.call
        try:
            if call.received_seconds == 0:
                await run_in_threadpool(call.abandon, "The stream ended before any audio arrived.")
                await _close(self.websocket, code)
                return
            messages, completed = await run_in_threadpool(call.finish)
        except BaseException:
            logger.exception("stream job %s could not be finished", call.job_id)
            await run_in_threadpool(call.abandon, "The live call could not be finished; nothing was charged.")
            await _send(self.websocket, _error_message(500, "The call could not be finished; nothing was charged."))
            await _close(self.websocket, INTERNAL_ERROR)
            return
        if not gone:
            for message in messages:
                await _send(self.websocket, message)
            body = TranscribeOut.completed(completed.job_id, completed.cost_cents, completed.result)
            await _send(self.websocket, {"type": "result", **body.model_dump(mode="json")})
        await _close(self.websocket, code)


# Twilio Media Streams (<Stream url="wss://HOST/v1/stream/twilio">): JSON text frames, 8 kHz mu-law
# in base64, `start`, `media` and `stop` events. Options and the stream token arrive as the
# <Parameter>s of the <Stream> (Twilio allows no query string and no headers).
TWILIO_TRACKS = ("inbound", "outbound")


@router.websocket("/v1/stream/twilio")
async def twilio_stream(websocket: WebSocket) -> None:
    """A Twilio <Stream>: the caller's track (inbound) is the customer, the other (outbound) the
    agent; with both tracks each word carries its role. README: Live calls."""
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    try:
        start = await _twilio_start(websocket, runtime.settings.stream_idle_seconds)
        parameters = start.get("customParameters") or {}
        principal = await run_in_threadpool(_authenticate, runtime, websocket, parameters.get("token"))
        media = start.get("mediaFormat") or {}
        if media.get("encoding", "audio/x-mulaw") != "audio/x-mulaw" or int(media.get("sampleRate", 8000)) != 8000:
            raise BadRequest("Twilio streams are 8 kHz mu-law (audio/x-mulaw).")
        both = set(TWILIO_TRACKS) <= set(start.get("tracks") or ["inbound"])
        options = live.LiveOptions(
            encoding="mulaw",
            sample_rate=8000,
            channels=2 if both else 1,
            agent_channel=1 if both else None,
            language=parameters.get("language") or None,
            redact_pii=str(parameters.get("redact_pii", "")).lower() in ("1", "true", "yes"),
        )
        with runtime.stream_slots.taken(principal.key_id):
            call = await run_in_threadpool(live.LiveCall, runtime, principal, options)
            await _send(websocket, {"type": "started", "job_id": call.job_id})
            await TwilioConversation(websocket, call, runtime, both).run()
    except ApiError as exc:
        await _send(websocket, _error_message(exc.status_code, exc.message))
        await _close(websocket, _close_code(exc))


async def _twilio_start(websocket: WebSocket, idle: float) -> dict[str, Any]:
    """The `start` event's body (a `connected` event may come first)."""
    while True:
        try:
            message = await asyncio.wait_for(websocket.receive_text(), timeout=idle)
            event = json.loads(message)
        except TimeoutError as exc:
            raise IdleTimeout("No start event from Twilio.") from exc
        except (ValueError, KeyError, RuntimeError) as exc:
            raise BadRequest("Twilio sends JSON text frames: expected a start event.") from exc
        if not isinstance(event, dict) or event.get("event") not in ("connected", "start"):
            raise BadRequest("Expected Twilio's start event before any media.")
        if event["event"] == "start":
            start = event.get("start")
            if not isinstance(start, dict):
                raise BadRequest("Twilio's start event has no 'start' object.")
            return start


class TwilioConversation(Conversation):
    def __init__(self, websocket: WebSocket, call: live.LiveCall, runtime: Runtime, both_tracks: bool) -> None:
        super().__init__(websocket, call, runtime)
        self.tracks = TwoTracks() if both_tracks else None

    def audio_of(self, message: Mapping[str, Any]) -> tuple[bytes, bool]:
        try:
            event = json.loads(message.get("text") or "")
        except ValueError as exc:
            raise BadRequest("Twilio sends JSON text frames.") from exc
        kind = event.get("event") if isinstance(event, dict) else None
        if kind == "stop":
            return (self.tracks.flush() if self.tracks else b""), True
        if kind != "media":
            if kind in ("mark", "dtmf", "connected"):
                return b"", False
            raise BadRequest(f"Unexpected Twilio event {kind!r}.")
        media = event.get("media") or {}
        try:
            payload = base64.b64decode(media.get("payload", ""), validate=True)
            at_ms = int(media.get("timestamp", 0))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise BadRequest("A Twilio media event whose payload is not base64 mu-law.") from exc
        if self.tracks is None:
            return payload, False
        track = media.get("track", "inbound")
        if track not in TWILIO_TRACKS:
            raise BadRequest(f"Unknown Twilio track {track!r}.")
        return self.tracks.add(TWILIO_TRACKS.index(track), at_ms, payload), False
