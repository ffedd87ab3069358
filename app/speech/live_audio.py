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
