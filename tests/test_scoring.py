"""The accuracy bench's own judgement of a name: the recognizer's spelling of the right name counts,
a different name does not; and of whether recognition heard a name or an amount at all."""

from __future__ import annotations

import pytest

from tests.support.scoring import amount_heard, name_heard, name_matches


@pytest.mark.parametrize(
    ("predicted", "truth", "right"),
    [
        ("Austin Riley", "Austin Reilly", True),
        ("Steven", "Stephen Wells", True),
        ("Kathleen Hanna", "Kathleen Hannah", True),
        ("Christian Otis", "Christian Ortiz", False),
        ("Gary Sandrum", "Gary Sanders", False),
        ("Lane", "Hannah", False),
        ("Keith", None, False),
        (None, None, True),
    ],
)
def test_a_name_is_right_as_the_recognizer_may_spell_it(predicted: str | None, truth: str | None, right: bool) -> None:
    assert name_matches(predicted, truth) is right


@pytest.mark.parametrize(
    ("truth", "transcript", "heard"),
    [
        ("Logan Robinson", "and can't take your fault in. Logan Robinson.", True),
        ("Austin Reilly", "Sure, it's Austin Riley.", True),
        ("Maria", "Hi there, you've got me a lot in fitness.", False),
        ("Dawn", "I'll put it down for you.", False),  # the word, not the name
    ],
)
def test_a_name_is_heard_only_where_the_recognizer_wrote_it(truth: str, transcript: str, heard: bool) -> None:
    assert name_heard(truth, transcript) is heard


@pytest.mark.parametrize(
    ("amount", "transcript", "heard"),
    [
        ("$223.00", "Okay, I've taken two hundred and twenty three dollars today.", True),
        ("$59.25", "down to $59 .25 a month", True),
        ("$1,150.00", "it's $1 ,150 dollars", True),
        ("$87.00", "A refund may be $7 .00 on its way.", False),
        ("$48.99", "that comes to another 48 -point time, either per month", False),
    ],
)
def test_an_amount_is_heard_where_its_figure_is_in_the_transcript(amount: str, transcript: str, heard: bool) -> None:
    assert amount_heard(amount, transcript) is heard
