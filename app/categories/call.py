"""A stored result seen the way rules look at it: sentences with their speaker's role and times,
speech and silences, interruptions, and the analysis, each computed once per call."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property

from app.analysis import money
from app.analysis import rules as analysis_rules
from app.categories import phrases
from app.speech.metrics import MERGE_GAP_SECONDS, Interruption
from app.speech.result import ResultWord, TranscriptionResult
from app.transcript import merge_spans

# A pause this long ends a sentence even without punctuation.
SENTENCE_PAUSE_SECONDS = 1.5
SENTENCE_END = re.compile(r"[.!?]['\")\]]*$")


@dataclass(frozen=True)
class Sentence:
    start: float
    end: float
    speaker: str
    participant: str
    """The speaker's role, or the speaker label where the call has no role for it."""
    text: str

    @cached_property
    def said(self) -> str:
        """The text as phrases are matched against it: lower case, no punctuation."""
        return phrases.normalized(self.text)


@dataclass(frozen=True)
class Silence:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


class CallView:
    def __init__(self, result: TranscriptionResult) -> None:
        self.result = result
        self.duration = result.duration_seconds

    def participant(self, speaker: str | None) -> str:
        if speaker is None:
            return "unknown"
        return self.result.roles.get(speaker, speaker)

    @cached_property
    def sentences(self) -> list[Sentence]:
        words = self.result.word_timestamps
        if not words:  # a result with segments only: each segment's sentences share its times
            return [
                Sentence(seg.start, seg.end, seg.speaker, self.participant(seg.speaker), text)
                for seg in self.result.segments
                for text in money.split_sentences(seg.text)
            ]
        # Each speaker's own words: where two talk at once, their words interleave in time.
        sentences: list[Sentence] = []
        for speaker in dict.fromkeys(w.speaker for w in words):
            run: list[ResultWord] = []
            for word in (w for w in words if w.speaker == speaker):
                if run and word.start - run[-1].end >= SENTENCE_PAUSE_SECONDS:
                    sentences.append(self._sentence(run))
                    run = []
                run.append(word)
                if SENTENCE_END.search(word.word.strip()):
                    sentences.append(self._sentence(run))
                    run = []
            if run:
                sentences.append(self._sentence(run))
        return sorted(sentences, key=lambda s: (s.start, s.end))

    def _sentence(self, words: list[ResultWord]) -> Sentence:
        speaker = words[0].speaker or "unknown"
        text = " ".join(w.word.strip() for w in words if w.word.strip())
        return Sentence(words[0].start, words[-1].end, speaker, self.participant(words[0].speaker), text)

    @cached_property
    def meaning(self) -> phrases.MeaningIndex:
        return phrases.MeaningIndex([s.said for s in self.sentences])

    @cached_property
    def tones(self) -> list[float]:
        """Each sentence's sentiment score (-1 to 1)."""
        return analysis_rules.sentence_tones([s.text for s in self.sentences])

    @cached_property
    def speech(self) -> list[tuple[float, float]]:
        """When anyone speaks, merged as call metrics merge it."""
        if self.result.word_timestamps:
            return merge_spans(((w.start, w.end) for w in self.result.word_timestamps), gap=MERGE_GAP_SECONDS)
        return merge_spans(((s.start, s.end) for s in self.result.segments), gap=MERGE_GAP_SECONDS)

    @cached_property
    def silences(self) -> list[Silence]:
        """Every gap between speech, inside the call (call metrics list only the long ones)."""
        return [Silence(a_end, b_start) for (_, a_end), (b_start, _) in itertools.pairwise(self.speech)]

    @cached_property
    def interruptions(self) -> list[Interruption] | None:
        """None when the stored result predates interruption times (only counts were kept)."""
        metrics = self.result.call_metrics
        if metrics is None:
            return []
        if not metrics.interruptions and any(p.interruptions for p in metrics.participants.values()):
            return None
        return metrics.interruptions

    def is_participant(self, who: str, wanted: str) -> bool:
        """`who` is a role, a speaker label or a metrics key; `wanted` is `Agent`, `Customer` or `any`."""
        return wanted == "any" or who == wanted or self.result.roles.get(who) == wanted
