"""A live call as billable work: a job opened with a hold for the first minute and extended a minute
at a time as audio arrives, words recognized and masked while the call goes on, then the finished
job's result (the same analysis as an upload) and a charge for the seconds heard, never more.

Blocking throughout (recognition, the database): the web layer calls it from a worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.billing import ledger, pricing
from app.billing.accounts import Principal
from app.errors import ApiError, BadRequest, TooManyRequests
from app.jobs import runner
from app.jobs.context import JobContext
from app.jobs.metering import transcription_charge
from app.jobs.transcribe import Completed
from app.redaction.live import LiveMasker, mask_partial
from app.speech import metrics, pipeline
from app.speech.audio import SAMPLE_RATE, DecodedAudio, SampleBuffer
from app.speech.live_audio import Encoding, LiveFormat
from app.speech.pipeline import TranscriptionOptions
from app.speech.result import TranscriptionResult
from app.speech.streaming import LiveRecognizer
from app.transcript import Word

logger = logging.getLogger(__name__)

JOB_TYPE = "stream"
# The hold covers this much audio ahead of what has been heard; it is extended by as much again
# when less than EXTEND_BEFORE_SECONDS of it is left.
HOLD_SECONDS = 60.0
EXTEND_BEFORE_SECONDS = 20.0
# A step decodes at most this much new audio: a client sending faster than real time is heard in
# order, a little behind, not skipped.
STEP_MAX_SECONDS = 3.0


class BalanceExhausted(ApiError):
    """The balance cannot cover the next minute: the call ends at what was heard."""

    status_code = 402


class StreamTooLong(ApiError):
    status_code = 413


class StreamSlots:
    """Streams open now, per key and in this process, bounded by the settings."""

    def __init__(self, per_process: int, per_key: int) -> None:
        self._lock = threading.Lock()
        self._per_process, self._per_key = per_process, per_key
        self._open: Counter[str] = Counter()

    @contextmanager
    def taken(self, key_id: str) -> Any:
        with self._lock:
            if sum(self._open.values()) >= self._per_process:
                raise TooManyRequests(f"This server is running its limit of {self._per_process} live streams.")
            if self._open[key_id] >= self._per_key:
                raise TooManyRequests(f"This API key has its limit of {self._per_key} live streams open.")
            self._open[key_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._open[key_id] -= 1

    @property
    def open(self) -> int:
        with self._lock:
            return sum(self._open.values())


@dataclass(frozen=True)
class LiveOptions:
    encoding: Encoding = "pcm_s16le"
    sample_rate: int = 16000
    channels: int = 1
    language: str | None = None
    redact_pii: bool = False
    agent_channel: int | None = None
    """Which channel of a stereo stream is the agent (the other is the customer), when known."""

    def transcription(self) -> TranscriptionOptions:
        return TranscriptionOptions(language=self.language, redact_pii=self.redact_pii)


def word_message(word: Word) -> dict[str, Any]:
    return {"word": word.word, "start": word.start, "end": word.end, "speaker": word.speaker}


@dataclass
class LiveCall:
    """One stream, from the hold to the settled job. Frames are taken (`decode`, `take`) by one
    caller while steps run in another thread; `step` and `finish` are called one at a time."""

    ctx: JobContext
    principal: Principal
    options: LiveOptions
    job_id: str = ""
    format: LiveFormat = field(init=False)
    recognizer: LiveRecognizer = field(init=False)
    masker: LiveMasker = field(init=False)
    _audio: SampleBuffer = field(init=False)
    _audio_lock: threading.Lock = field(default_factory=threading.Lock)
    _fed_samples: int = 0
    _held_seconds: float = 0.0
    ended: bool = False
    out_of_balance: bool = False

    def __post_init__(self) -> None:
        o, settings = self.options, self.ctx.settings
        self.format = LiveFormat(o.encoding, o.sample_rate, o.channels)
        if o.agent_channel is not None and (o.channels != 2 or o.agent_channel not in (0, 1)):
            raise BadRequest("agent_channel is 0 or 1, for a two-channel stream.")
        transcriber = self.ctx.models.transcriber()
        transcriber.check_language(o.language)
        self.recognizer = LiveRecognizer(
            transcriber, o.language, trim_seconds=settings.stream_trim_seconds, beam_size=settings.stream_beam_size
        )
        self.masker = LiveMasker(redact_pii=o.redact_pii)
        self._audio = SampleBuffer(o.channels, int(HOLD_SECONDS * SAMPLE_RATE))
        self._held_seconds = HOLD_SECONDS
        self.job_id = self.ctx.meter.open_job(
            self.principal.account_id,
            type=JOB_TYPE,
            model=transcriber.name,
            hold_cents=self._cost(HOLD_SECONDS),
            meta={"stream": {"encoding": o.encoding, "sample_rate": o.sample_rate, "channels": o.channels}},
        )

    def _cost(self, seconds: float) -> int:
        return pricing.transcription_cost_cents(round(seconds, 3), self.ctx.settings.price_per_hour_cents)

    @property
    def _received_samples(self) -> int:
        return self._audio.size

    @property
    def received_seconds(self) -> float:
        return self._audio.size / SAMPLE_RATE

    @property
    def step_due(self) -> bool:
        """Enough audio has arrived since the last step for another."""
        waiting = (self._received_samples - self._fed_samples) / SAMPLE_RATE
        return waiting >= self.ctx.settings.stream_step_seconds

    def decode(self, frame: bytes) -> np.ndarray:
        """An audio frame as the client sent it, as 16 kHz samples (from one caller, in order)."""
        return self.format.decode(frame)

    def hold_due(self, samples: np.ndarray) -> bool:
        """Whether the hold must grow before these samples are taken (`extend_hold`)."""
        return (self._audio.size + len(samples)) / SAMPLE_RATE > self._held_seconds - EXTEND_BEFORE_SECONDS

    def extend_hold(self) -> None:
        """Hold another minute; BalanceExhausted when the balance cannot (the call ends at the
        audio taken so far, which the hold already covers)."""
        more = self._held_seconds + HOLD_SECONDS
        try:
            self.ctx.meter.extend_hold(self.job_id, self._cost(more) - self._cost(self._held_seconds))
        except ledger.InsufficientBalance as exc:
            self.out_of_balance = True
            raise BalanceExhausted(
                "The balance cannot cover the next minute of this call; it ends here and is charged for what was heard."
            ) from exc
        self._held_seconds = more

    def take(self, samples: np.ndarray) -> None:
        """Keep decoded samples for the next step. Cheap, and safe beside a step running in another
        thread. Raises StreamTooLong past the maximum length, and never takes audio the hold does
        not cover."""
        limit = self.ctx.settings.stream_max_seconds
        total = (self._audio.size + len(samples)) / SAMPLE_RATE
        if total > limit:
            raise StreamTooLong(f"A live call is limited to {limit / 60:.0f} minutes.")
        if total > self._held_seconds:
            raise RuntimeError("audio taken beyond the hold")  # the caller extends the hold first
        with self._audio_lock:
            self._audio.append(samples)

    def _mono(self, first: int, last: int) -> np.ndarray:
        with self._audio_lock:
            audio = self._audio.window(first, last)
            return audio.mean(axis=1) if audio.shape[1] == 2 else audio[:, 0].copy()

    def step(self) -> list[dict[str, Any]]:
        """Recognize what arrived since the last step: the messages to send (`final` words that
        can be shown, masked; `partial` for the rest)."""
        last = min(self._received_samples, self._fed_samples + int(STEP_MAX_SECONDS * SAMPLE_RATE))
        self.recognizer.feed(self._mono(self._fed_samples, last))
        self._fed_samples = last
        heard = self.recognizer.step()
        self.masker.add(self._labelled(heard.final))
        return self._messages(self.masker.release(self.recognizer.received_seconds), self._labelled(heard.partial))

    def _labelled(self, words: list[Word]) -> list[Word]:
        """Words with the stereo channel that carried them (SPEAKER_00 is the first channel)."""
        if self.options.channels != 2:
            return words
        for w in words:
            first = int(w.start * SAMPLE_RATE)
            with self._audio_lock:
                part = self._audio.window(first, max(int(w.end * SAMPLE_RATE), first + 1)).copy()
            energy = (part.astype(np.float64) ** 2).sum(axis=0) if len(part) else np.zeros(2)
            w.speaker = f"SPEAKER_0{int(np.argmax(energy))}"
        return words

    def _messages(self, final: list[Word], partial: list[Word]) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        if final:
            messages.append(self._final_message(final))
        waiting = mask_partial([*self.masker.held, *partial])
        messages.append(
            {
                "type": "partial",
                "text": " ".join(w.word for w in waiting),
                "words": [self._with_role(word_message(w)) for w in waiting],
            }
        )
        return messages

    def _final_message(self, words: list[Word]) -> dict[str, Any]:
        return {"type": "final", "words": [self._with_role(word_message(w)) for w in words]}

    def _with_role(self, message: dict[str, Any]) -> dict[str, Any]:
        agent = self.options.agent_channel
        if agent is not None and message["speaker"] is not None:
            message["role"] = "Agent" if message["speaker"] == f"SPEAKER_0{agent}" else "Customer"
        return message

    def finish(self) -> tuple[list[dict[str, Any]], Completed]:
        """The end of the call: the rest recognized, then the job completed and charged for the
        seconds heard. Returns the last messages to send and the finished job."""
        flushed = self.format.flush()
        with self._audio_lock:
            self._audio.append(flushed)
        messages: list[dict[str, Any]] = []
        while self._fed_samples < self._received_samples:
            messages.extend(m for m in self.step() if m["type"] == "final")
        self.masker.add(self._labelled(self.recognizer.finish()))
        final = self.masker.release(self.recognizer.received_seconds, ending=True)
        if final:
            messages.append(self._final_message(final))
        charged, result = self._complete()
        self.ended = True
        return messages, Completed(self.job_id, result.duration_seconds, charged or 0, result)

    def _complete(self) -> tuple[int | None, TranscriptionResult]:
        samples = self._audio.view()
        mono = samples.mean(axis=1) if samples.shape[1] == 2 else samples[:, 0]
        decoded = DecodedAudio(
            mono=mono.astype(np.float32),
            channels=tuple(samples[:, c].copy() for c in range(2)) if samples.shape[1] == 2 else (),
            format_name="stream",
            codec=self.options.encoding,
            source_channels=self.options.channels,
            source_rate=self.options.sample_rate,
        )
        options = self.options.transcription()
        words = [Word(w.word, w.start, w.end, w.probability) for w in self.masker.heard]
        result = pipeline.finish_heard(
            self.ctx.models,
            decoded,
            words,
            self.recognizer.language or "en",
            options,
            thresholds=metrics.Thresholds.of(self.ctx.settings),
        )
        charge = transcription_charge(decoded.duration, self.ctx.settings.price_per_hour_cents)
        return runner.complete_transcription(self.ctx, self.job_id, decoded, result, options, charge)

    def abandon(self, reason: str) -> None:
        """Nothing was heard (or the call cannot be finished): the job fails and its hold goes back."""
        if not self.ended:
            self.ended = True
            self.ctx.meter.abandon(self.job_id, reason)
