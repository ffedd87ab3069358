"""Card data the recognizer mishears is still card data: random Luhn-valid cards of every brand and
random security codes, written the ways speech recognition writes them (digit groups, odd splits,
words, "oh", "double five", homophones such as "for", "to", "won", "ate"), across a read-back by the
other speaker. Nothing of them may survive the masking."""

from __future__ import annotations

import random

from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from app.redaction import digit_runs, redact_words
from app.transcript import Word

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
HOMOPHONES = {"4": ["for", "four"], "2": ["to", "too", "two"], "1": ["won", "one"], "8": ["ate", "eight"]}
CARD_TYPES = ["visa16", "mastercard", "amex", "discover"]


def say_digit(d: str, rng: random.Random, *, homophones: bool) -> str:
    if d == "0" and rng.random() < 0.4:
        return "oh"
    if homophones and d in HOMOPHONES and rng.random() < 0.5:
        return rng.choice(HOMOPHONES[d])
    return WORDS[int(d)]


def render_digits(digits: str, rng: random.Random, *, homophones: bool) -> list[str]:
    """One way a recognizer writes a digit string: groups, odd splits, words, doubles."""
    style = rng.choice(["groups", "odd_split", "words", "mixed"])
    if style == "groups":
        size = rng.choice([3, 4])
        return [digits[i : i + size] for i in range(0, len(digits), size)]
    if style == "odd_split":
        out, i = [], 0
        while i < len(digits):
            step = rng.randint(1, 5)
            out.append(digits[i : i + step])
            i += step
        return out
    out, i = [], 0
    while i < len(digits):
        if style == "mixed" and rng.random() < 0.3:
            out.append(digits[i : i + 2])
            i += 2
            continue
        if i + 1 < len(digits) and digits[i + 1] == digits[i] and rng.random() < 0.3:
            out += ["double", say_digit(digits[i], rng, homophones=False)]
            i += 2
            continue
        out.append(say_digit(digits[i], rng, homophones=homophones and 0 < i < len(digits) - 1))
        i += 1
    return out


def conversation(number: str, cvv: str, rng: random.Random) -> list[Word]:
    agent = "A"
    customer = "C"
    lines: list[tuple[str, list[str]]] = [
        (agent, ["Thanks.", "Which", "card", "will", "you", "use", "today?"]),
        (customer, [*rng.choice([["It's", "a", "card,"], ["My", "Visa", "is"], ["The", "number", "is"]])]),
    ]
    digits = render_digits(number, rng, homophones=False)
    cut = rng.randint(1, len(digits) - 1)
    lines.append((customer, digits[:cut]))
    if rng.random() < 0.5:
        lines.append((agent, ["mm-hmm"]))  # a backchannel in the middle of the number
    lines.append((customer, digits[cut:]))
    cue = rng.choice(["And the security code on the back?", "The CVV please.", "And the code?"])
    lines.append((agent, cue.split(" ")))
    lines.append((agent, cue.split(" ")))
    lines.append((customer, [*rng.choice([[], ["It's"], ["Sure,"]]), *render_digits(cvv, rng, homophones=True)]))
    lines.append((agent, ["Thank", "you.", "The", "payment", "of", "120", "dollars", "went", "through."]))
    words, clock = [], 0.0
    for speaker, texts in lines:
        for text in texts:
            words.append(Word(text, clock, clock + 0.3, speaker=speaker))
            clock += 0.35
    return words


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), card_type=st.sampled_from(CARD_TYPES))
def test_no_rendering_of_a_card_or_code_survives(seed: int, card_type: str) -> None:
    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(seed)
    number = fake.credit_card_number(card_type=card_type)
    cvv = "".join(rng.choice("0123456789") for _ in range(4 if card_type == "amex" else 3))
    words, _ = redact_words(conversation(number, cvv, rng), redact_pii=False)
    text = " ".join(w.word for w in words)
    compact = "".join(c for c in text if c.isdigit())
    assert number not in compact, text
    assert number[4:-4] not in compact, text
    said = [digits for _, digits in digit_runs(text.split())]
    visible = number[:4] + number[-4:]
    if cvv not in visible and cvv not in "120":
        assert not any(cvv in digits for digits in said), text
