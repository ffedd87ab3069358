"""Voice a script and write it the ways calls reach the service: 16 kHz WAV, 8 kHz u-law through a
telephone band, 32 kbps mp3, and stereo (agent left, customer right). Truth is written beside the
audio: the analysis fields (truth.json), who spoke when (ref.rttm) and the words (transcript.txt)."""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.support.corpus.scenarios import A, Script
from tests.support.synth import NEURAL, RATE, speak

Voice = tuple[str, int, int]  # espeak-ng voice, words per minute, pitch

# (agent, customer). Voices differ in accent and variant; pairs 2, 3, 5, 7 and 10 are one gender.
VOICE_PAIRS: list[tuple[str, str]] = [
    ("en-us+m1", "en-gb+f3"),
    ("en-gb-x-rp+m3", "en-us+m7"),
    ("en-us+f2", "en-gb-scotland+f4"),
    ("en-029+m2", "en-us+f1"),
    ("en-gb+m4", "en-us-nyc+m5"),
    ("en-us+f5", "en-gb-x-gbclan+m6"),
    ("en-gb-x-rp+f2", "en-us+Annie"),
    ("en-us+Andy", "en-gb+steph"),
    ("en-gb-x-gbcwmd+m1", "en-us+f4"),
    ("en-us+m2", "en-gb+Edward"),
    ("en-us+klatt", "en-gb-x-rp+Linda"),
    ("en-gb+Mike", "en-us+Belinda"),
]
VARIANTS = ("wav", "ulaw", "mp3", "stereo")
BACKCHANNEL_GAIN = 0.6


@dataclass(frozen=True)
class RenderPlan:
    voices: dict[str, Voice]
    noise_snr_db: float | None
    pair_index: int


# The neural voice's two speakers: one voice, pitch-shifted apart (cents) and at their own pace.
NEURAL_PITCHES = [(-250, 350), (300, -200), (0, 500), (450, 0), (-300, 200)]
NEURAL_SHARE = 0.6


def plan_for(seed: int, neural: bool = False) -> RenderPlan:
    """Voices, pace and noise of a call. `neural`: the call may be voiced by Piper (most are) rather
    than espeak-ng."""
    rng = random.Random(seed * 7919)
    if neural and rng.random() < NEURAL_SHARE:
        index = rng.randrange(len(NEURAL_PITCHES))
        agent_cents, customer_cents = NEURAL_PITCHES[index]
        voices = {
            "agent": (NEURAL, rng.randint(90, 115), agent_cents),
            "customer": (NEURAL, rng.randint(90, 115), customer_cents),
        }
        return RenderPlan(voices, rng.uniform(15, 25) if rng.random() < 0.5 else None, -1 - index)
    index = rng.randrange(len(VOICE_PAIRS))
    agent, customer = VOICE_PAIRS[index]
    voices = {
        "agent": (agent, rng.randint(140, 190), rng.randint(30, 70)),
        "customer": (customer, rng.randint(140, 190), rng.randint(30, 70)),
    }
    return RenderPlan(voices, rng.uniform(15, 25) if rng.random() < 0.5 else None, index)


def _trim(samples: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return samples[loud[0] : loud[-1] + 1] if loud.size else samples


def telephone(wav: Path, variant: str, path: Path) -> None:
    """A 16 kHz WAV as a call reaches the service: "ulaw" is 8 kHz u-law through the telephone band,
    "mp3" 32 kbps mp3."""
    if variant == "ulaw":
        command = ["sox", "-R", str(wav), "-r", "8000", "-e", "u-law", str(path), "sinc", "300-3400"]
    elif variant == "mp3":
        command = ["sox", "-R", str(wav), "-C", "32", str(path)]
    else:
        raise ValueError(f"not a telephone rendering: {variant}")
    subprocess.run(command, check=True)


def render(
    script: Script, seed: int, folder: Path, variants: tuple[str, ...] = VARIANTS, neural: bool = False
) -> dict[str, Path]:
    """Write the call's audio variants and its truth into `folder`; return variant -> path."""
    rng = random.Random(seed)
    plan = plan_for(seed, neural)
    tracks = {"agent": [np.zeros(int(0.4 * RATE), np.float32)], "customer": [np.zeros(int(0.4 * RATE), np.float32)]}
    clock = 0.4
    rttm: list[tuple[float, float, str]] = []
    words: list[str] = []

    def place(speaker: str, samples: np.ndarray) -> None:
        nonlocal clock
        for name, chunks in tracks.items():
            chunks.append(samples if name == speaker else np.zeros_like(samples))
        clock += len(samples) / RATE

    for line in script.lines:
        voice, wpm, pitch = plan.voices[line.speaker]
        samples = _trim(speak(line.text, voice, wpm, pitch))
        start = clock
        if line.backchannel and len(samples) > 3 * RATE:
            other = "customer" if line.speaker == A else "agent"
            ov, owpm, opitch = plan.voices[other]
            back = _trim(speak(line.backchannel, ov, owpm, opitch)) * BACKCHANNEL_GAIN
            at = len(samples) // 2
            overlay = np.zeros_like(samples)
            overlay[at : at + len(back)] = back[: len(samples) - at]
            for name, chunks in tracks.items():
                chunks.append(samples if name == line.speaker else overlay if name == other else np.zeros_like(samples))
            clock += len(samples) / RATE
            back_start = start + at / RATE
            rttm.append((back_start, back_start + len(back) / RATE, other))
        else:
            place(line.speaker, samples)
        rttm.append((start, clock, line.speaker))
        words.append(line.text)
        pause = rng.uniform(0.25, 0.9)
        place(line.speaker, np.zeros(int((pause + line.hold_after) * RATE), np.float32))

    agent = np.concatenate(tracks["agent"])
    customer = np.concatenate(tracks["customer"])
    if plan.noise_snr_db is not None:
        noise_rng = np.random.default_rng(seed)
        speech_power = float(np.mean((agent + customer)[np.abs(agent + customer) > 1e-3] ** 2))
        noise_power = speech_power / (10 ** (plan.noise_snr_db / 10))
        agent = agent + noise_rng.normal(0, np.sqrt(noise_power / 2), agent.size).astype(np.float32)
        customer = customer + noise_rng.normal(0, np.sqrt(noise_power / 2), customer.size).astype(np.float32)
    mono = agent + customer
    peak = max(float(np.abs(mono).max()), float(np.abs(agent).max()), float(np.abs(customer).max()), 1e-6)
    scale = 0.9 / peak
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "mono.wav"
        sf.write(base, mono * scale, RATE, subtype="PCM_16")
        for variant in variants:
            if variant == "stereo":
                path = folder / "stereo.wav"
                sf.write(path, np.stack([agent * scale, customer * scale], axis=1), RATE, subtype="PCM_16")
            elif variant == "wav":
                path = folder / "wav.wav"
                sf.write(path, mono * scale, RATE, subtype="PCM_16")
            else:
                path = folder / ("ulaw.wav" if variant == "ulaw" else "mp3.mp3")
                telephone(base, variant, path)
            paths[variant] = path

    call_id = folder.name
    (folder / "ref.rttm").write_text(
        "".join(f"SPEAKER {call_id} 1 {s:.3f} {e - s:.3f} <NA> <NA> {who} <NA> <NA>\n" for s, e, who in sorted(rttm))
    )
    (folder / "transcript.txt").write_text("\n".join(words) + "\n")
    truth = {**script.truth, "duration": clock, "voices": plan.voices, "noise_snr_db": plan.noise_snr_db}
    truth["synthesizer"] = "piper" if plan.voices["agent"][0] == NEURAL else "espeak-ng"
    truth["secrets"] = script.secrets
    (folder / "truth.json").write_text(json.dumps(truth, indent=1))
    return paths
