"""What a call becomes once heard: words with times and speakers, segments of one speaker's
consecutive words, and each speaker's role. Plain data, shared by speech, redaction and analysis."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

AGENT = "Agent"
CUSTOMER = "Customer"


@dataclass
class Word:
    word: str
    start: float
    end: float
    probability: float = 1.0
    speaker: str | None = None
    masked: bool = False
    """Redaction masked (or dropped) it: card digits, a security code, an expiry date..."""


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    speaker: str
    text: str


@dataclass(frozen=True)
class DiarizedTranscript:
    words: list[Word]
    segments: list[Segment]
    speakers: list[str]
    roles: dict[str, str]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    def labelled_lines(self) -> list[str]:
        """One line per turn: a speaker's segments one after another (split at pauses) are one line."""
        lines: list[tuple[str, str]] = []
        for s in self.segments:
            if lines and lines[-1][0] == s.speaker:
                lines[-1] = (s.speaker, f"{lines[-1][1]} {s.text}")
            else:
                lines.append((s.speaker, s.text))
        return [f"{self.roles.get(speaker, speaker)}: {text}" for speaker, text in lines]


def merge_spans(spans: Iterable[tuple[float, float]], gap: float = 0.3) -> list[tuple[float, float]]:
    """Time spans in order, those closer than `gap` joined."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] < gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
