"""Recognition while a call goes on: the local-agreement policy of ÚFAL's whisper_streaming.

The audio received so far (since the last trim) is decoded again each time enough new audio has
arrived. A word becomes final when two decodings in a row agree on it and on everything before it;
the rest is partial, and may still change. The buffer is cut after final words that end a sentence
once it is longer than `trim_seconds`, and the final text before it is given to Whisper as the
prompt. Pure computation: the caller decides when to step (`pending_seconds`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from app.speech.asr import Recognition
from app.speech.audio import SAMPLE_RATE, Samples
from app.transcript import Word

# Whisper reads at most 30 s at once; past this the buffer is cut even without agreement.
MAX_WINDOW_SECONDS = 28.0
# How much of the final text before the window is given as the prompt.
PROMPT_CHARS = 200
# A word decoded again may move a little: words starting this close before the last final word's
# end are taken for it.
OVERLAP_SECONDS = 0.1
# The longest run of words at a hypothesis's start that may repeat the final words' end.
REPEAT_NGRAM = 5
# Audio heard before the language detected is kept for the rest of the call (until then each
# decoding detects it again). After 5 s, one dev call's English was kept as Thai.
LANGUAGE_SECONDS = 10.0
SENTENCE_END = re.compile(r"[.?!]$")


class WindowTranscriber(Protocol):
    def transcribe_window(
        self, audio: Samples, language: str | None, prompt: str = "", offset: float = 0.0, beam_size: int | None = None
    ) -> Recognition:
        """The words of one window of at most 30 s that starts `offset` seconds into the call, timed
        from the call's start."""
        ...


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


@dataclass(frozen=True)
class Step:
    final: list[Word]
    """Words that became final in this step, in order."""
    partial: list[Word]
    """The words after the final ones as this step heard them (may change)."""


@dataclass
class LiveRecognizer:
    transcriber: WindowTranscriber
    language: str | None
    trim_seconds: float = 15.0
    beam_size: int | None = None
    """None: the transcriber's own."""
    final: list[Word] = field(default_factory=list)
    _buffer: Samples = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    _buffer_start: float = 0.0
    _received: float = 0.0
    _decoded_to: float = 0.0
    _hypothesis: list[Word] = field(default_factory=list)

    @property
    def received_seconds(self) -> float:
        return self._received

    @property
    def pending_seconds(self) -> float:
        """Audio received since the last step decoded."""
        return self._received - self._decoded_to

    def feed(self, samples: Samples) -> None:
        """16 kHz mono float32 samples, in order."""
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
        self._received += len(samples) / SAMPLE_RATE

    def step(self) -> Step:
        """Decode the buffer once more: the words that became final, and the partial rest."""
        forced = self._force_trim() if len(self._buffer) / SAMPLE_RATE > MAX_WINDOW_SECONDS else []
        self._decoded_to = self._received
        heard = self._new_words(self._decode())
        agreed = 0
        while agreed < min(len(heard), len(self._hypothesis)) and _norm(heard[agreed].word) == _norm(
            self._hypothesis[agreed].word
        ):
            agreed += 1
        newly_final, self._hypothesis = forced + heard[:agreed], heard[agreed:]
        self.final.extend(heard[:agreed])
        if len(self._buffer) / SAMPLE_RATE > self.trim_seconds:
            self._trim_after_sentence()
        return Step(final=newly_final, partial=list(self._hypothesis))

    def finish(self) -> list[Word]:
        """At the end of the call: decode what is left and take it all as final."""
        if self.pending_seconds > 0 or self._hypothesis:
            self._decoded_to = self._received
            rest = self._new_words(self._decode())
            self._hypothesis = []
            self.final.extend(rest)
            return rest
        return []

    def _decode(self) -> list[Word]:
        recognition = self.transcriber.transcribe_window(
            self._buffer, self.language, self._prompt(), offset=self._buffer_start, beam_size=self.beam_size
        )
        if self.language is None and len(self._buffer) / SAMPLE_RATE >= LANGUAGE_SECONDS:
            self.language = recognition.language
        return recognition.words

    def _new_words(self, words: list[Word]) -> list[Word]:
        """The hypothesis's words after the final ones: by time, then without a repeat of the
        final words' last few (Whisper re-hears the end of what was made final)."""
        if not self.final:
            return words
        last_end = self.final[-1].end
        fresh = [w for w in words if w.start > last_end - OVERLAP_SECONDS]
        tail = [_norm(w.word) for w in self.final[-REPEAT_NGRAM:]]
        for n in range(min(REPEAT_NGRAM, len(fresh), len(tail)), 0, -1):
            if [_norm(w.word) for w in fresh[:n]] == tail[-n:]:
                return fresh[n:]
        return fresh

    def _prompt(self) -> str:
        before = " ".join(w.word for w in self.final if w.end <= self._buffer_start)
        return before[-PROMPT_CHARS:]

    def _cut(self, at: float) -> None:
        drop = round((at - self._buffer_start) * SAMPLE_RATE)
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop / SAMPLE_RATE

    def _trim_after_sentence(self) -> None:
        inside = [w for w in self.final if w.end > self._buffer_start]
        ends = [w.end for w in inside if SENTENCE_END.search(w.word)]
        if ends:
            self._cut(ends[-1])
        elif inside and len(self._buffer) / SAMPLE_RATE > 1.5 * self.trim_seconds:
            self._cut(inside[-1].end)

    def _force_trim(self) -> list[Word]:
        """No agreement for a whole window (noise, or one long run-on): what the last decoding
        heard in the first half becomes final, and the buffer keeps its second half."""
        cut = self._buffer_start + len(self._buffer) / SAMPLE_RATE - MAX_WINDOW_SECONDS / 2
        taken = [w for w in self._hypothesis if w.end <= cut]
        self.final.extend(taken)
        self._hypothesis = self._hypothesis[len(taken) :]
        self._cut(cut)
        return taken
