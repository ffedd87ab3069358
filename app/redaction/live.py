"""Masking for words sent while a call goes on, where a word once sent cannot be taken back.

Final words are released in order. A word that carries a digit (or a digit's homophone beside
one) waits until SETTLE_SECONDS of the call have been heard after it, and everything from the start
of a payment exchange still open waits until it closes: only then can the whole-call rules
(`redact_words`) know whether it was card data, and it is sent as they mask it. Partial words,
which may still change, never show a digit at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.redaction import exchange
from app.redaction.masking import redact_words
from app.redaction.spoken_digits import HOMOPHONES, strip, tokens_to_digits
from app.transcript import Word

# How much of the call must be heard after a digit before the digit can be judged.
SETTLE_SECONDS = 8.0
# Words before the first unreleased one that the rules read again for context (a request for the
# card, the card itself before its code): more than any exchange spans.
CONTEXT_WORDS = 400
PARTIAL_MASK = "***"


def _digit_bearing(words: list[str]) -> list[bool]:
    tokens = tokens_to_digits(words)
    bearing = [bool(t.digits) or t.consumed or any(c.isdigit() for c in t.text) for t in tokens]
    # A homophone ("for", "to", "won") counts beside digits, or at the end, where digits may follow.
    return [
        b or (strip(w) in HOMOPHONES and (i + 1 == len(words) or bearing[i + 1] or (i > 0 and bearing[i - 1])))
        for i, (w, b) in enumerate(zip(words, bearing, strict=True))
    ]


def mask_partial(words: list[Word]) -> list[Word]:
    """Words that may still change, every digit-bearing one shown as stars."""
    bearing = _digit_bearing([w.word for w in words])
    return [replace(w, word=PARTIAL_MASK, masked=True) if b else w for w, b in zip(words, bearing, strict=True)]


@dataclass
class LiveMasker:
    redact_pii: bool = False
    heard: list[Word] = field(default_factory=list)
    """Final words as recognized (never sent as they are)."""
    released: int = 0
    """How many of `heard` have been sent."""

    def add(self, words: list[Word]) -> None:
        self.heard.extend(replace(w) for w in words)

    @property
    def held(self) -> list[Word]:
        return self.heard[self.released :]

    def release(self, heard_until: float, *, ending: bool = False) -> list[Word]:
        """The final words that can be sent now (`heard_until`: how far into the call the audio
        has been heard), masked; all of them when `ending`. A masked-away word is not sent."""
        limit = len(self.heard) if ending else self._safe_limit(heard_until)
        if limit <= self.released:
            return []
        first = max(0, self.released - CONTEXT_WORDS)
        copies = [replace(w) for w in self.heard[first:limit]]
        kept = {id(w) for w in redact_words(copies, redact_pii=self.redact_pii)[0]}
        out = [w for w in copies[self.released - first :] if id(w) in kept]
        self.released = limit
        return out

    def _safe_limit(self, heard_until: float) -> int:
        """The index of the first final word that must still wait."""
        first = max(0, self.released - CONTEXT_WORDS)
        words = [w.word for w in self.heard[first:]]
        limit = len(self.heard)
        for exch in exchange.find_exchanges(words):
            if exch.end >= len(words):  # still open at the last word heard
                limit = min(limit, first + exch.start)
        bearing = _digit_bearing(words)
        for i in range(self.released, limit):
            if bearing[i - first] and heard_until - self.heard[i].end < SETTLE_SECONDS:
                return i
        return limit
