"""Call characteristics from the diarized words and the diarizer's turns: who talked how much and
how fast, turns, monologues, interruptions, questions, silences ("hold" candidates), overlap.
Deterministic; every definition is here and in the README.

- Speech: a participant's words, merged where the pause between two of them is under half a
  second. Talk time is its length; non-talk time is the call's length outside everyone's speech.
- A turn: a run of one participant's words not broken by another's.
- An interruption: a participant starts speaking while another's diarizer turn is still going,
  the two overlapping by at least `Thresholds.interruption_overlap_seconds`. Overlap needs a
  backend that reports it: stereo calls split by channel always do; single-channel diarization
  reports it only where the diarizer does.
- A silence: a gap between speech of at least `Thresholds.silence_seconds`, inside the call.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from app.config import Settings
from app.speech.diarization import SpeakerTurn
from app.transcript import AGENT, Word, merge_spans

MERGE_GAP_SECONDS = 0.5


@dataclass(frozen=True)
class Thresholds:
    silence_seconds: float = 10.0
    interruption_overlap_seconds: float = 0.3

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(settings.metrics_silence_seconds, settings.metrics_interruption_overlap_seconds)


class Monologue(BaseModel):
    seconds: float
    start: float


class ParticipantMetrics(BaseModel):
    speaker: str
    """The speaker label the segments use."""
    talk_seconds: float
    talk_share: float
    """Of all the talk in the call (talk-to-listen), 0-1."""
    words: int
    words_per_minute: float | None
    """Over this participant's talk time."""
    turns: int
    longest_monologue: Monologue | None
    interruptions: int
    """Times this participant started while another was still talking."""
    questions: int
    """Sentences of this participant ending with a question mark."""


class Interruption(BaseModel):
    participant: str
    """Who started talking (a key of `participants`)."""
    interrupted: str
    """Who was still talking."""
    start: float
    seconds: float
    """How long the two spoke at once."""


class Silence(BaseModel):
    start: float
    end: float
    seconds: float


class CallMetrics(BaseModel):
    duration_seconds: float
    talk_seconds: float
    """Time anyone is speaking."""
    non_talk_seconds: float
    non_talk_share: float
    overlap_seconds: float
    """Time two or more participants speak at once (from the diarizer's turns)."""
    time_to_first_agent_words: float | None
    silences: list[Silence] = Field(default_factory=list)
    """Gaps in the speech of at least the silence threshold (hold candidates)."""
    interruptions: list[Interruption] = Field(default_factory=list)
    """Each interruption counted in `participants` (empty in results stored before it existed)."""
    participants: dict[str, ParticipantMetrics] = Field(default_factory=dict)
    """By role (`Agent`, `Customer`), or by speaker label where a role is unknown or shared."""


def _merged(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    return merge_spans(spans, gap=MERGE_GAP_SECONDS)


def _length(intervals: list[tuple[float, float]]) -> float:
    return sum(end - start for start, end in intervals)


def _runs(words: list[Word]) -> list[list[Word]]:
    """Turns: maximal runs of one speaker's words."""
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].speaker == word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


def _overlap_seconds(turns: list[SpeakerTurn]) -> float:
    """Time covered by the turns of two speakers or more."""
    events = sorted([(t.start, 1, t.speaker) for t in turns] + [(t.end, -1, t.speaker) for t in turns])
    active: dict[str, int] = {}
    total, last = 0.0, 0.0
    for time, change, speaker in events:
        if sum(1 for n in active.values() if n > 0) >= 2:
            total += time - last
        active[speaker] = active.get(speaker, 0) + change
        last = time
    return total


def _interruptions(turns: list[SpeakerTurn], minimum: float) -> list[tuple[SpeakerTurn, SpeakerTurn]]:
    """(the turn that interrupted, the turn it interrupted), in time order."""
    found = []
    for turn in sorted(turns, key=lambda t: t.start):
        for other in turns:
            if other.speaker == turn.speaker or not other.start < turn.start < other.end:
                continue
            if min(other.end, turn.end) - turn.start >= minimum:
                found.append((turn, other))
                break
    return found


def _names(speakers: list[str], roles: dict[str, str]) -> dict[str, str]:
    """Each speaker's key: its role where no other speaker has that role, else its label."""
    taken = [roles.get(s) for s in speakers]
    return {s: role if role and taken.count(role) == 1 else s for s, role in zip(speakers, taken, strict=True)}


def compute(
    words: list[Word],
    turns: list[SpeakerTurn],
    *,
    duration: float,
    roles: dict[str, str],
    thresholds: Thresholds,
) -> CallMetrics:
    """`words` and `turns` carry the transcript's speaker labels; `roles` maps them to roles."""
    speakers = list(dict.fromkeys(w.speaker for w in words if w.speaker))
    names = _names(speakers, roles)
    speech = _merged((w.start, w.end) for w in words)
    talk = _length(speech)
    runs = _runs([w for w in words if w.speaker])
    interruptions = _interruptions(turns, thresholds.interruption_overlap_seconds)
    talk_by_speaker = {s: _length(_merged((w.start, w.end) for w in words if w.speaker == s)) for s in speakers}
    all_talk = sum(talk_by_speaker.values())
    participants = {}
    for speaker in speakers:
        own_runs = [r for r in runs if r[0].speaker == speaker]
        longest = max(own_runs, key=lambda r: r[-1].end - r[0].start, default=None)
        count = sum(len(r) for r in own_runs)
        seconds = talk_by_speaker[speaker]
        participants[names[speaker]] = ParticipantMetrics(
            speaker=speaker,
            talk_seconds=round(seconds, 2),
            talk_share=round(seconds / all_talk, 3) if all_talk else 0.0,
            words=count,
            words_per_minute=round(count / (seconds / 60), 1) if seconds > 0 else None,
            turns=len(own_runs),
            longest_monologue=Monologue(seconds=round(longest[-1].end - longest[0].start, 2), start=longest[0].start)
            if longest
            else None,
            interruptions=sum(1 for turn, _ in interruptions if turn.speaker == speaker),
            questions=sum(1 for r in own_runs for w in r if w.word.rstrip().endswith("?")),
        )
    silences = [
        Silence(start=round(a_end, 2), end=round(b_start, 2), seconds=round(b_start - a_end, 2))
        for (_, a_end), (b_start, _) in itertools.pairwise(speech)
        if b_start - a_end >= thresholds.silence_seconds
    ]
    agent_words = [w for w in words if w.speaker and roles.get(w.speaker) == AGENT]
    return CallMetrics(
        duration_seconds=round(duration, 3),
        talk_seconds=round(talk, 2),
        non_talk_seconds=round(max(duration - talk, 0.0), 2),
        non_talk_share=round(max(duration - talk, 0.0) / duration, 3) if duration > 0 else 0.0,
        overlap_seconds=round(_overlap_seconds(turns), 2),
        time_to_first_agent_words=round(agent_words[0].start, 2) if agent_words else None,
        silences=silences,
        interruptions=[
            Interruption(
                participant=names.get(turn.speaker, turn.speaker),
                interrupted=names.get(other.speaker, other.speaker),
                start=round(turn.start, 2),
                seconds=round(min(other.end, turn.end) - turn.start, 2),
            )
            for turn, other in interruptions
        ],
        participants=participants,
    )
