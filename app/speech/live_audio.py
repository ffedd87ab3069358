"""Audio as a live call sends it: raw frames (16-bit little-endian PCM at 8 or 16 kHz, or 8 kHz
G.711 mu-law, one or two channels interleaved), turned into the 16 kHz float32 samples the models
read. PyAV's resampler keeps its state between frames, so a frame boundary leaves no click."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import av
import numpy as np

from app.errors import BadRequest
from app.speech.audio import SAMPLE_RATE

Encoding = Literal["pcm_s16le", "mulaw"]
ENCODINGS: tuple[Encoding, ...] = ("pcm_s16le", "mulaw")
RATES = (8000, 16000)


def _mulaw_table() -> np.ndarray:
    """G.711 mu-law byte -> 16-bit linear sample."""
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    sign, exponent, mantissa = code & 0x80, (code >> 4) & 0x07, code & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


MULAW = _mulaw_table()


@dataclass
class LiveFormat:
    encoding: Encoding = "pcm_s16le"
    sample_rate: int = 16000
    channels: int = 1
    _resampler: av.AudioResampler | None = field(default=None, repr=False)
    _carry: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise BadRequest(f"Unknown encoding '{self.encoding}'. Accepted: {', '.join(ENCODINGS)}.")
        if self.sample_rate not in RATES:
            raise BadRequest("sample_rate must be 8000 or 16000.")
        if self.encoding == "mulaw" and self.sample_rate != 8000:
            raise BadRequest("mu-law audio is 8000 Hz.")
        if self.channels not in (1, 2):
            raise BadRequest("channels must be 1 or 2.")

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.channels * (1 if self.encoding == "mulaw" else 2)

    def decode(self, data: bytes) -> np.ndarray:
        """One frame -> (samples, channels) float32 at 16 kHz. A frame may end in the middle of a
        sample: the rest waits for the next."""
        data = self._carry + data
        width = self.channels * (1 if self.encoding == "mulaw" else 2)
        whole = len(data) - len(data) % width
        data, self._carry = data[:whole], data[whole:]
        if self.encoding == "mulaw":
            pcm = MULAW[np.frombuffer(data, dtype=np.uint8)]
        else:
            pcm = np.frombuffer(data, dtype="<i2").astype(np.int16)
        pcm = pcm.reshape(-1, self.channels)
        if self.sample_rate == SAMPLE_RATE:
            return pcm.astype(np.float32) / 32768.0
        return self._resample(pcm)

    def flush(self) -> np.ndarray:
        """What the resampler still holds, at the end of the call."""
        if self._resampler is None:
            return np.zeros((0, self.channels), dtype=np.float32)
        out = [f.to_ndarray() for f in self._resampler.resample(None)]
        if not out:
            return np.zeros((0, self.channels), dtype=np.float32)
        return np.concatenate(out, axis=1).T.astype(np.float32, copy=False)

    def _resample(self, pcm: np.ndarray) -> np.ndarray:
        if self._resampler is None:
            layout = "mono" if self.channels == 1 else "stereo"
            self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        if len(pcm) == 0:
            return np.zeros((0, self.channels), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm.reshape(1, -1)), format="s16", layout="mono" if self.channels == 1 else "stereo"
        )
        frame.sample_rate = self.sample_rate
        out = [f.to_ndarray() for f in self._resampler.resample(frame)]
        if not out:
            return np.zeros((0, self.channels), dtype=np.float32)
        return np.concatenate(out, axis=1).T.astype(np.float32, copy=False)


class TwoTracks:
    """Two mono tracks sent separately, each chunk stamped with its time from the stream's start
    (Twilio Media Streams' inbound and outbound tracks), interleaved into two-channel frames as far
    as both are known. A track that falls silent (sends nothing) for `lag_seconds` is taken as
    silence, so that the other is never held up."""

    def __init__(self, rate: int = 8000, silence: int = 0xFF, lag_seconds: float = 1.0) -> None:
        self._rate, self._silence = rate, silence
        self._lag = int(lag_seconds * rate)
        self._pending = [bytearray(), bytearray()]
        """Each track from sample `_sent` on (what was interleaved already is dropped)."""
        self._sent = 0

    def add(self, track: int, at_ms: int, payload: bytes) -> bytes:
        """One chunk of one track (one byte a sample); the two-channel bytes now complete."""
        buffer = self._pending[track]
        at = at_ms * self._rate // 1000 - self._sent
        if at < 0:  # late, or overlapping what was sent: only the rest is new
            payload, at = payload[-at:], 0
        if at > len(buffer):
            buffer.extend(bytes([self._silence]) * (at - len(buffer)))
        buffer[at : at + len(payload)] = payload
        ready = min(len(t) for t in self._pending)
        ahead = max(len(t) for t in self._pending)
        return self._take(max(ready, ahead - self._lag))

    def flush(self) -> bytes:
        return self._take(max(len(t) for t in self._pending))

    def _take(self, ready: int) -> bytes:
        if ready <= 0:
            return b""
        for buffer in self._pending:
            if len(buffer) < ready:
                buffer.extend(bytes([self._silence]) * (ready - len(buffer)))
        left = np.frombuffer(bytes(self._pending[0][:ready]), dtype=np.uint8)
        right = np.frombuffer(bytes(self._pending[1][:ready]), dtype=np.uint8)
        for buffer in self._pending:
            del buffer[:ready]
        self._sent += ready
        return np.stack([left, right], axis=1).tobytes()
