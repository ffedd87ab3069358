"""The accuracy bench's own judgement of a name: the recognizer's spelling of the right name counts,
a different name does not."""

from __future__ import annotations

import pytest

from tests.support.scoring import name_matches


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
