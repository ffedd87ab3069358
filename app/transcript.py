"""What a call becomes once heard: words with times and speakers, segments of one speaker's
consecutive words, and each speaker's role. Plain data, shared by speech, redaction and analysis."""

from __future__ import annotations

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
        return [f"{self.roles.get(s.speaker, s.speaker)}: {s.text}" for s in self.segments]
