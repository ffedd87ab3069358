"""Whether a card number or a security code can be read back from an output, by PCI DSS's display
rule: at most the first six and the last four digits of a card may show, so any seven digits of a
card in a row, readable anywhere (whatever separates them: spaces, dashes, dots, commas, `$`, or
written as words), is a leak; a security code is a leak when its digits can be read at all.

One helper for every test and bench that checks for leaks, so that they all mean the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

CARD_WINDOW = 7
# A code's digits inside a longer number are still the code only when the number is short ("4190"
# after "the code is"; not the "419" inside a phone number, 500-419-9226).
CODE_CONTEXT_DIGITS = 4
# Clock times, dates, JSON numbers and identifiers are the outputs' own (subtitle timings, timestamps
# in rows, a word's "end": 81.2, as JSON or as a row's dict; a job's UUID, a key's hash or prefix),
# not something said: card data is only ever in text. A UUID's "-4482-" once read as the code 448.
NOT_SAID = re.compile(
    r"\b\d{1,2}:\d{2}(:\d{2})?([.,]\d+)?\b|\b\d{4}-\d{2}-\d{2}\b|(?<=[\"']:) ?-?\d+(\.\d+)?"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}\b"
)


def digit_streams(text: str) -> list[str]:
    """The digit strings a reader can take from `text`: digits joined across spaces, dashes, dots,
    commas and `$`, and the digits its words say ("four five", "forty five", "oh", "double five",
    "for" between digits)."""
    from app.redaction import digit_runs

    text = NOT_SAID.sub(" ", text)
    joined = re.findall(r"\d+", re.sub(r"[\s\-.,$]+", "", text))
    said = [digits for _, digits in digit_runs(text.split())]
    return [*joined, *said]


def card_leaked(card: str, text: str) -> bool:
    windows = {card[i : i + CARD_WINDOW] for i in range(len(card) - CARD_WINDOW + 1)}
    return any(w in stream for stream in digit_streams(text) for w in windows)


# What a card mask shows ("4532 **** **** 6311", "Visa ending in 6311"): the card's allowed display,
# whose four digits may hold a short code's by chance ("4491" and the code 449).
CARD_DISPLAY = re.compile(r"\b\d{4}(?= \*)|(?<=\* )\d{4}\b|(?<=ending in )\d{4}\b")


def code_leaked(code: str, text: str) -> bool:
    text = CARD_DISPLAY.sub(" ", text)
    return any(code in stream and len(stream) <= len(code) + CODE_CONTEXT_DIGITS for stream in digit_streams(text))


def leaks(outputs: Mapping[str, str], cards: Iterable[str] = (), codes: Iterable[str] = ()) -> list[str]:
    """The outputs (by name: "response", "srt", "database"...) from which a card or a code can be
    read. The digits themselves are never part of the answer, so that a failing test does not print
    them either."""
    cards, codes = list(cards), list(codes)
    found = []
    for place, text in outputs.items():
        for n, card in enumerate(cards):
            if card_leaked(card, text):
                found.append(f"card {n + 1} ({len(card)} digits) readable in {place}")
        for n, code in enumerate(codes):
            if code_leaked(code, text):
                found.append(f"code {n + 1} readable in {place}")
    return found
