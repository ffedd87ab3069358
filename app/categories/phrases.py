"""Whether a sentence says one of a rule's phrases: exactly (the words in order), fuzzily (rapidfuzz's
best partial alignment) or by meaning (sentence embeddings of the phrase against the sentence and
against stretches of it the phrase's length, so a long sentence does not dilute a short phrase)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from app.analysis import embeddings

FUZZY_THRESHOLD = 0.85
MEANING_THRESHOLD = 0.45
# A stretch compared by meaning: the phrase's length in words, plus this many.
WINDOW_SLACK = 2

_NOT_WORD = re.compile(r"[^\w']+")


def normalized(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower()).replace("'", "").split())


@dataclass(frozen=True)
class Match:
    phrase: str
    score: float


@dataclass
class MeaningIndex:
    """Embeddings of a call's sentences and of their stretches, computed once per length and
    shared by every rule evaluated on the call."""

    sentences: list[str]
    _normalized: list[list[str]] = field(init=False)
    _by_length: dict[int, tuple[npt.NDArray[np.float32], npt.NDArray[np.int_]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._normalized = [normalized(s).split() for s in self.sentences]
        self.lengths = np.asarray([len(words) for words in self._normalized], dtype=np.float32)

    def best(self, phrase_vectors: npt.NDArray[np.float32], length: int) -> npt.NDArray[np.float32]:
        """For each phrase (row) and sentence (column), the best similarity over the sentence and
        its stretches of `length` words."""
        vectors, starts = self._stretches(length)
        if not self.sentences:
            return np.zeros((phrase_vectors.shape[0], 0), dtype=np.float32)
        # Each sentence's rows are contiguous, starting at `starts`: the best of each run.
        return np.asarray(np.maximum.reduceat(phrase_vectors @ vectors.T, starts, axis=1), dtype=np.float32)

    def _stretches(self, length: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int_]]:
        if length not in self._by_length:
            texts: list[str] = []
            starts: list[int] = []
            step = max(1, length // 3)
            for words in self._normalized:
                starts.append(len(texts))
                texts.append(" ".join(words))
                if len(words) > length:
                    texts.extend(" ".join(words[b : b + length]) for b in range(0, len(words) - length + 1, step))
            self._by_length[length] = (embeddings.embed(texts), np.asarray(starts, dtype=np.int_))
        return self._by_length[length]


def exact(phrases: list[str], sentence: str) -> Match | None:
    said = f" {normalized(sentence)} "
    for phrase in phrases:
        wanted = normalized(phrase)
        if wanted and f" {wanted} " in said:
            return Match(phrase, 1.0)
    return None


def fuzzy(phrases: list[str], sentence: str, threshold: float) -> Match | None:
    said = normalized(sentence)
    best: Match | None = None
    for phrase in phrases:
        score = fuzz.partial_ratio(normalized(phrase), said) / 100
        if score >= threshold and (best is None or score > best.score):
            best = Match(phrase, round(score, 3))
    return best


def by_meaning(phrases: list[str], index: MeaningIndex, threshold: float) -> list[Match | None]:
    """For each of the index's sentences, the closest phrase at or over the threshold; an exact
    match always counts."""
    found: list[Match | None] = [exact(phrases, s) for s in index.sentences]
    by_length: dict[int, list[str]] = {}
    for phrase in phrases:
        by_length.setdefault(len(normalized(phrase).split()) + WINDOW_SLACK, []).append(phrase)
    for length, group in by_length.items():
        scores = index.best(embeddings.embed([normalized(p) for p in group]), length)
        # A sentence much shorter than the phrase ("Thanks." for "thank you for calling") shares
        # a word with it, not its meaning.
        scores *= np.sqrt(np.minimum(1.0, index.lengths / max(1, length - WINDOW_SLACK)))
        for column in range(scores.shape[1]):
            row = int(scores[:, column].argmax())
            score = float(scores[row, column])
            current = found[column]
            if score >= threshold and (current is None or (current.score < 1.0 and score > current.score)):
                found[column] = Match(group[row], round(score, 3))
    return found
