"""Whisper's words as the service keeps them: a figure the tokenizer cut in two is one word again."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.speech.asr import to_words


def _said(*pieces: str) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(word=piece, start=i * 0.5, end=i * 0.5 + 0.4, probability=0.9 - i / 100)
        for i, piece in enumerate(pieces)
    ]


@pytest.mark.parametrize(
    ("pieces", "words"),
    [
        ((" It's", " $43", ".99", " a", " month."), ["It's", "$43.99", "a", "month."]),
        ((" ending", " in", " 6", ",752."), ["ending", "in", "6,752."]),
        ((" at", " 10", ":30", " tomorrow"), ["at", "10:30", "tomorrow"]),
        ((" $8", ".196", ".95"), ["$8.196.95"]),
        # A new word (leading space) stays a word; so does text after a figure that is not a figure.
        ((" 4532", " 1234"), ["4532", "1234"]),
        ((" 2", "-year", " plan"), ["2", "-year", "plan"]),
        ((" Hello", ".5"), ["Hello", ".5"]),
    ],
)
def test_a_figure_cut_by_the_tokenizer_is_one_word(pieces: tuple[str, ...], words: list[str]) -> None:
    assert [w.word for w in to_words(_said(*pieces), 0.0)] == words


def test_a_joined_figure_spans_its_pieces_and_keeps_the_lower_confidence() -> None:
    (amount,) = to_words(_said(" $43", ".99"), 10.0)
    assert (amount.start, amount.end) == (10.0, 10.9)
    assert amount.probability == pytest.approx(0.89)
