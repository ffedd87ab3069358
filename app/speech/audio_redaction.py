"""Redacted audio: the call with every masked span covered by a 1 kHz tone (or silence), in the
upload's channel layout at 16 kHz, encoded as Opus in an Ogg file. The original is never kept."""

from __future__ import annotations

import io
from typing import Literal

import av
import numpy as np

from app.speech.audio import SAMPLE_RATE, DecodedAudio

Mode = Literal["beep", "silence"]
PAD_SECONDS = 0.15
TONE_HZ = 1000.0
TONE_LEVEL = 0.2
"""About -14 dBFS: clearly a tone, not a blast."""
BITRATE = 32_000
MEDIA_TYPE = "audio/ogg"
SUFFIX = ".ogg"


def render(audio: DecodedAudio, spans: list[tuple[float, float]], mode: Mode) -> np.ndarray:
    """(samples, channels) float32: the call with `spans` (padded) replaced."""
    layout = np.stack(audio.channels, axis=1) if audio.channels else audio.mono[:, None]
    out = np.array(layout, dtype=np.float32, copy=True)
    for start, end in spans:
        first = max(0, int((start - PAD_SECONDS) * SAMPLE_RATE))
        last = min(len(out), int(np.ceil((end + PAD_SECONDS) * SAMPLE_RATE)))
        if last <= first:
            continue
        if mode == "beep":
            t = np.arange(first, last) / SAMPLE_RATE
            out[first:last, :] = (TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)[:, None]
        else:
            out[first:last, :] = 0.0
    return out


def encode(samples: np.ndarray) -> bytes:
    """Opus in Ogg, mono or stereo as `samples` is."""
    channels = samples.shape[1]
    layout = "stereo" if channels == 2 else "mono"
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout=layout)
        stream.bit_rate = BITRATE
        frame_size = SAMPLE_RATE // 50  # 20 ms, as Opus wants it
        for first in range(0, len(samples), frame_size):
            chunk = np.ascontiguousarray(samples[first : first + frame_size].T, dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = SAMPLE_RATE
            frame.pts = first
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
