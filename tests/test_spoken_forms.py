"""Property tests for the readers of names and amounts as people say them (issue 31): generated
spellings of generated names, and amounts in every spoken form the corpus knows, with and
without a currency word, in sentences that say what they are for."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from app.analysis.entities import customer_name
from app.analysis.money import mentions
from app.analysis.spelling import spellings, with_spelling
from tests.support.corpus.conversational import spelled, spoken_amount

SURNAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=12).map(str.capitalize)


@given(surname=SURNAMES, seed=st.integers(0, 2**32 - 1))
def test_a_spelling_reads_back_as_the_word_spelled(surname: str, seed: int) -> None:
    said = f"Sure, it's {surname}, {spelled(surname, random.Random(seed))}. Thanks."
    assert [word for _, word in spellings(said)] == [surname]


@given(surname=SURNAMES, seed=st.integers(0, 2**32 - 1))
def test_the_spelling_corrects_what_the_recognizer_wrote(surname: str, seed: int) -> None:
    middle = len(surname) // 2
    misheard = surname[:middle] + ("o" if surname[middle] != "o" else "u") + surname[middle + 1 :] + "e"
    turns = [
        ("Agent", "Can I take your name?"),
        ("Customer", f"It's Ana {misheard}, {spelled(surname, random.Random(seed))}."),
        ("Agent", "Lovely, thanks Ana."),
    ]
    customer = " ".join(t for r, t in turns if r == "Customer")
    agent = " ".join(t for r, t in turns if r == "Agent")
    assert customer_name(customer, agent, turns) == f"Ana {surname}"


def test_the_agents_echo_and_a_spelled_surname_make_the_name() -> None:
    turns = [
        ("Agent", "What name is it under?"),
        ("Customer", "It's dee-ah-ko-ter, K-O-T-E-R."),
        ("Agent", "Got it, Dia."),
    ]
    assert customer_name(turns[1][1], f"{turns[0][1]} {turns[2][1]}", turns) == "Dia Koter"


def test_no_spelling_keeps_the_name_and_a_phonetic_word_names_no_one() -> None:
    assert with_spelling("Dana Reyes", ["Yes, that's right."], None) == "Dana Reyes"
    turns = [("Agent", "Who's the account holder?"), ("Customer", "Brad Mac, M as in Mike, A, C."), ("Agent", "Ok.")]
    assert customer_name(turns[1][1], "", turns) == "Brad Mac"


CONTEXTS = [
    ("I owe {} and I'd like to clear it.", "pending_balance"),
    ("The balance on the account is {}, I think.", "pending_balance"),
    ("I've refunded {} to the account.", "credit_issued"),
    ("The plan is {} a month.", "recurring_amount"),
    ("That's {} taken today.", "payment_today"),
]


@settings(max_examples=300)
@given(
    dollars=st.integers(10, 1999),  # "I owe one" is no amount
    cents=st.sampled_from([0, 0, 25, 40, 50, 75, 95, 99]),
    seed=st.integers(0, 2**32 - 1),
    context=st.sampled_from(CONTEXTS),
)
def test_an_amount_said_any_way_is_read_with_its_purpose(
    dollars: int, cents: int, seed: int, context: tuple[str, str]
) -> None:
    amount = dollars * 100 + cents
    said = spoken_amount(amount, random.Random(seed))
    template, purpose = context
    found = [(m.cents, m.purpose) for m in mentions([("Agent", template.format(said))])]
    assert (amount, purpose) in found, (said, found)


@given(n=st.integers(2, 30), unit=st.sampled_from(["years", "days", "months", "gigs", "percent", "people"]))
def test_counts_sizes_and_references_are_not_money(n: int, unit: str) -> None:
    said = [f"I've had it for {n} {unit}, and it costs too much.", f"The order number is {n}4417 on the bill."]
    for sentence in said:
        assert mentions([("Customer", sentence)]) == [], sentence
