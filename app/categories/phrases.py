"""Whether a sentence says one of a rule's phrases: exactly (the words in order), fuzzily (rapidfuzz's
best partial alignment) or by meaning (sentence embeddings of the phrase against the sentence and
against stretches of it the phrase's length, so a long sentence does not dilute a short phrase)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from app.analysis import embeddings

FUZZY_THRESHOLD = 0.85
MEANING_THRESHOLD = 0.45
# Stretches compared by meaning: the shortest of these lengths (in words) that holds the phrase
# and a word more; a few lengths, so that a call's stretches are embedded a few times at most.
WINDOW_LENGTHS = (4, 8)

_NOT_WORD = re.compile(r"[^\w']+")


@lru_cache(maxsize=4096)  # a rule's phrases are normalized once, not once per sentence
def normalized(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower()).replace("'", "").split())


def window_for(phrase_words: int) -> int:
    return next((n for n in WINDOW_LENGTHS if n > phrase_words), WINDOW_LENGTHS[-1])


@dataclass(frozen=True)
class Match:
    phrase: str
    score: float


@dataclass
class MeaningIndex:
    """Embeddings of a call's sentences (already normalized) and of their stretches, computed once
    per window length and shared by every rule evaluated on the call."""

    sentences: list[str]
    _words: list[list[str]] = field(init=False)
    _by_length: dict[int, tuple[npt.NDArray[np.float32], npt.NDArray[np.int_]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._words = [s.split() for s in self.sentences]
        self.lengths = np.asarray([len(words) for words in self._words], dtype=np.float32)

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
            step = max(1, length // 2)
            for words in self._words:
                starts.append(len(texts))
                texts.append(" ".join(words))
                if len(words) > length:
                    texts.extend(" ".join(words[b : b + length]) for b in range(0, len(words) - length + 1, step))
            self._by_length[length] = (embeddings.embed(texts), np.asarray(starts, dtype=np.int_))
        return self._by_length[length]


def exact(phrases: list[str], said: str) -> Match | None:
    """`said` normalized."""
    padded = f" {said} "
    for phrase in phrases:
        wanted = normalized(phrase)
        if wanted and f" {wanted} " in padded:
            return Match(phrase, 1.0)
    return None


def fuzzy(phrases: list[str], said: str, threshold: float) -> Match | None:
    """`said` normalized."""
    best: Match | None = None
    for phrase in phrases:
        score = fuzz.partial_ratio(normalized(phrase), said) / 100
        if score >= threshold and (best is None or score > best.score):
            best = Match(phrase, round(score, 3))
    return best


def by_meaning(phrases: list[str], index: MeaningIndex, threshold: float, columns: list[int]) -> dict[int, Match]:
    """For each of the index's sentences in `columns`, the closest phrase at or over the
    threshold; an exact match always counts."""
    found: dict[int, Match] = {}
    for column in columns:
        hit = exact(phrases, index.sentences[column])
        if hit is not None:
            found[column] = hit
    wanted = [normalized(p) for p in phrases]
    by_length: dict[int, list[int]] = {}
    for n, phrase in enumerate(wanted):
        by_length.setdefault(window_for(len(phrase.split())), []).append(n)
    chosen = np.asarray(columns, dtype=np.int_)
    for length, group in by_length.items():
        scores = index.best(embeddings.embed([wanted[n] for n in group]), length)[:, chosen]
        # A sentence much shorter than the phrase ("Thanks." for "thank you for calling") shares
        # a word with it, not its meaning.
        phrase_words = np.asarray([max(1, len(wanted[n].split())) for n in group], dtype=np.float32)[:, None]
        scores *= np.sqrt(np.minimum(1.0, index.lengths[chosen][None, :] / phrase_words))
        rows = scores.argmax(axis=0)
        for position, column in enumerate(columns):
            score = float(scores[rows[position], position])
            current = found.get(column)
            if score >= threshold and (current is None or (current.score < 1.0 and score > current.score)):
                found[column] = Match(phrases[group[rows[position]]], round(score, 3))
    return found
