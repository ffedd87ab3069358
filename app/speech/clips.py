"""Speech cut into clips of up to 30 s for batched recognition, and the check that sends a clip
whose batched decoding went wrong back to window-by-window decoding.

Batched decoding (faster-whisper's `BatchedInferencePipeline`) decodes each clip once, greedily
by beam and without Whisper's temperature fallback. On the dev split it heard more of the scripted
sentences than window-by-window decoding, but a few clips came back as a repetition loop, a
hallucinated phrase, or far fewer words than their speech holds. Those clips, and only those, are
decoded again the usual way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.speech.audio import SAMPLE_RATE

CLIP_SECONDS = 30.0  # Whisper's window
# Speech regions further apart than this are not put in one clip: a clip holds no long silence.
MAX_PAUSE_SECONDS = 1.0
# faster-whisper's own VAD settings for batched decoding (its `BatchedInferencePipeline` defaults).
MIN_SILENCE_MS = 160
# Whisper's thresholds for a failed window: its text compresses too well (a loop), or the decoder
# was unsure of it throughout.
MAX_COMPRESSION_RATIO = 2.4
MIN_AVG_LOGPROB = -1.0
# Fewer words than this per second of speech: part of the clip was not transcribed.
MIN_WORDS_PER_SPEECH_SECOND = 1.5
# A clip with less speech than this is not judged by its word rate.
MIN_JUDGED_SPEECH_SECONDS = 2.0
# Speech this long with no word in it was not transcribed (see `unheard`); word times are rough
# by about this much at each edge.
MIN_UNHEARD_SECONDS = 1.0
WORD_REACH_SECONDS = 0.3
# A phrase said more than this many times in a row is a loop (see asr.remove_repetition_loops).
MAX_REPEATS = 2


@dataclass(frozen=True)
class Clip:
    start: float
    end: float
    speech_seconds: float
    regions: tuple[tuple[float, float], ...] = ()
    """The VAD's speech regions in the clip."""

    def as_clip_timestamp(self) -> dict[str, float]:
        return {"start": self.start, "end": self.end}


def speech_clips(audio: npt.NDArray[np.float32]) -> list[Clip]:
    """Consecutive speech regions joined into clips of at most CLIP_SECONDS, never across a pause
    longer than MAX_PAUSE_SECONDS."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(max_speech_duration_s=CLIP_SECONDS, min_silence_duration_ms=MIN_SILENCE_MS)
    regions = [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in get_speech_timestamps(audio, options)]
    clips: list[Clip] = []
    for start, end in regions:
        last = clips[-1] if clips else None
        if last and start - last.end <= MAX_PAUSE_SECONDS and end - last.start <= CLIP_SECONDS:
            clips[-1] = Clip(last.start, end, last.speech_seconds + end - start, (*last.regions, (start, end)))
        else:
            clips.append(Clip(start, end, end - start, ((start, end),)))
    return clips


def unheard(clip: Clip, heard: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The stretches of the clip's speech, MIN_UNHEARD_SECONDS or longer, that no word covers.

    Whisper decoding a long window sometimes leaves out a whole phrase, most often the first one
    (a call's greeting: the agent's name, the company, the recording notice), while the rest of
    the window reads fine and passes every check above."""
    holes: list[tuple[float, float]] = []
    for start, end in clip.regions:
        pieces = [(start, end)]
        for w_start, w_end in heard:
            w_start, w_end = w_start - WORD_REACH_SECONDS, w_end + WORD_REACH_SECONDS
            pieces = [
                part for a, b in pieces for part in ((a, min(b, w_start)), (max(a, w_end), b)) if part[1] - part[0] > 0
            ]
        for a, b in pieces:
            # Stretches of one unheard phrase are joined across its pauses, never across a word.
            if (
                holes
                and a - holes[-1][1] <= MAX_PAUSE_SECONDS
                and not any(holes[-1][1] < w_end and w_start < a for w_start, w_end in heard)
            ):
                holes[-1] = (holes[-1][0], b)
            else:
                holes.append((a, b))
    return [(a, b) for a, b in holes if b - a >= MIN_UNHEARD_SECONDS]


@dataclass(frozen=True)
class Decoded:
    """What batched decoding made of one clip."""

    words: list[str]
    compression_ratio: float
    avg_logprob: float


def _has_loop(words: list[str]) -> bool:
    normal = ["".join(c for c in w.lower() if c.isalnum()) for w in words]
    for size in range(1, 7):
        for i in range(len(normal) - size * (MAX_REPEATS + 1) + 1):
            phrase = normal[i : i + size]
            if any(phrase) and all(
                normal[i + k * size : i + (k + 1) * size] == phrase for k in range(1, MAX_REPEATS + 1)
            ):
                return True
    return False


def needs_redecoding(clip: Clip, decoded: Decoded | None) -> bool:
    if decoded is None or not decoded.words:
        return clip.speech_seconds >= MIN_JUDGED_SPEECH_SECONDS
    if decoded.compression_ratio > MAX_COMPRESSION_RATIO or _has_loop(decoded.words):
        return True
    if decoded.avg_logprob < MIN_AVG_LOGPROB:
        return True
    return (
        clip.speech_seconds >= MIN_JUDGED_SPEECH_SECONDS
        and len(decoded.words) < MIN_WORDS_PER_SPEECH_SECOND * clip.speech_seconds
    )
