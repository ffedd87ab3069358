"""Helpers for checking what the speech pipeline returned against a synthesized call."""

from __future__ import annotations

from typing import Any

from tests.support.synth import SynthCall, normalize_words


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """Levenshtein distance over words, divided by the reference length."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1] / max(len(reference), 1)


def transcript_wer(call: SynthCall, result: dict[str, Any]) -> float:
    return word_error_rate(call.words, normalize_words(result["transcript"]))


def true_speaker_at(call: SynthCall, t: float) -> str | None:
    for turn in call.turns:
        if turn.start - 0.1 <= t <= turn.end + 0.1:
            return turn.speaker
    return None


def speaker_accuracy(call: SynthCall, result: dict[str, Any]) -> float:
    """Share of words whose role (Agent/Customer) matches who really spoke at that time."""
    roles = result["roles"]
    judged = hits = 0
    for w in result["word_timestamps"]:
        truth = true_speaker_at(call, (w["start"] + w["end"]) / 2)
        if truth is None:
            continue
        judged += 1
        hits += roles[w["speaker"]].lower() == truth
    return hits / max(judged, 1)
