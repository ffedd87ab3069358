"""The helper every leak test relies on (`tests.support.leaks`) reads card data however it is
written, and does not take the outputs' own identifiers and timings for something said."""

from __future__ import annotations

import json

import pytest

from tests.support.leaks import card_leaked, code_leaked

CARD = "4532015112830366"


@pytest.mark.parametrize(
    "text",
    [
        "the number is 4532 0151 1283 0366",
        "4532-0151-1283-0366",
        "five one one two eight three oh",
        "it's 45 32 01 51, 12 83 03 66",
    ],
)
def test_a_card_read_in_any_form_is_a_leak(text: str) -> None:
    assert card_leaked(CARD, text)


@pytest.mark.parametrize("text", ["It is 4 48", "the code is four four eight", "$4 .48", "code: 4480", "ending in 448"])
def test_a_code_read_in_any_form_is_a_leak(text: str) -> None:
    assert code_leaked("448", text)


@pytest.mark.parametrize(
    "text",
    [
        "4532 **** **** 0366",
        # the card's last four, shown by design, holding the code by chance
        "Visa ending in 4480",
        # identifiers and timings the outputs carry themselves
        "GET /v1/jobs/c167d4cb-910c-4482-b1ac-4eefd956d4d7/result",
        json.dumps({"key_hash": "693c8c37e19613448e0dc794812b041e8f96b8fedc80b54f83eadfb11b6ad013e"}),
        json.dumps({"prefix": "c448e1e8"}),
        json.dumps({"start": 4.48, "end": 448}),
        "00:04:48,000 --> 00:04:49,500",
        "call me on 500-448-9226",
    ],
)
def test_the_outputs_own_numbers_are_not_read_as_the_code(text: str) -> None:
    assert not code_leaked("448", text)
    assert not card_leaked(CARD, text)
