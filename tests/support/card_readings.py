"""Generated payment calls, as a recognizer may have written them: a Luhn-valid card of every brand
the redaction knows, read in the groups people use, each group written as digits, words, pairs,
money, dash- or dot-joined digits, ordinals or with homophones; a digit dropped or doubled now and
then; fillers, corrections and the other side's "mm-hm" in the middle; the cue words varied. Around
the exchange, numbers that are not card data (amounts, order and phone numbers, dates), which must
stay readable."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from app.redaction import luhn_valid
from app.transcript import Word

AGENT, CUSTOMER = "SPEAKER_00", "SPEAKER_01"
UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}
HOMOPHONES = {"4": ["for", "fore"], "2": ["to", "too"], "1": ["won"], "8": ["ate"], "0": ["oh", "o"]}
ORDINALS = {"1": "1st", "2": "2nd", "3": "3rd"}

# (brand, a prefix, the lengths it is issued in) for every brand `app.redaction.cards` knows.
BRANDS = [
    ("Visa", ["4"], [13, 16, 19]),
    ("Mastercard", ["51", "52", "53", "54", "55", "2221", "2500", "2720"], [16]),
    ("American Express", ["34", "37"], [15]),
    ("Discover", ["6011", "65", "644", "649"], [16, 17, 18, 19]),
    ("Diners Club", ["36", "38", "300", "305"], [14, 15, 16]),
    ("JCB", ["3528", "3550", "3589"], [16, 17, 18, 19]),
    ("UnionPay", ["62"], [16, 17, 18, 19]),
    ("Maestro", ["50", "56", "58", "67"], [13, 15, 16, 19]),
]
GROUPINGS = {
    13: [[4, 4, 5], [3, 3, 3, 4], [4, 4, 4, 1]],
    14: [[4, 6, 4], [4, 4, 4, 2]],
    15: [[4, 6, 5], [4, 4, 4, 3], [3, 3, 3, 3, 3]],
    16: [[4, 4, 4, 4], [2] * 8, [4, 4, 4, 4]],
    17: [[4, 4, 4, 5], [4, 4, 4, 4, 1]],
    18: [[4, 4, 4, 6], [3] * 6],
    19: [[4, 4, 4, 4, 3], [4, 4, 4, 7]],
}
CARD_REQUESTS = [
    "Can I take the long number on the card?",
    "What's the card number?",
    "Go ahead with the card number when you're ready.",
    "Could I get your payment details please?",
    "Okay, and the number on the front of your card?",
    "Which card would you like to use today?",
    "I'll just need the card details.",
    "Read me the card number, nice and slowly.",
]
CARD_MENTIONS = ["It's my Visa,", "It's a Mastercard,", "Sure, the card is", "My debit card, it's", "Okay so my card,",
                 "Credit card,", "Right, here's the card:", "Yes,"]  # fmt: skip
EXPIRY_REQUESTS = ["And the expiry date?", "When does it expire?", "What's the expiration on that?",
                   "And it's valid through?"]  # fmt: skip
CODE_REQUESTS = ["And the security code?", "The three digit code on the back?", "And the CVV please.",
                 "Last thing, the code on the back?", "And the four digit code on the front?"]  # fmt: skip
BACKCHANNELS = ["mm-hm", "okay", "yep", "go on", "got it", "uh-huh"]
FILLERS = ["uh", "um", "sorry,", "let me see,", "hang on,", "er"]
CHATTER = [
    "Perfect, that has all gone through now and you will get an email confirming it shortly.",
    "Great, is there anything else I can help you with while I have you on the line today?",
    "No, I think that covers everything I needed, thank you so much for sorting this out for me.",
    "You're very welcome, it was my pleasure, and I hope you have a lovely rest of your day.",
]
OPENERS = ["Thanks for calling, how can I help you today?", "Hello, you're through to billing, what can I do for you?"]


@dataclass
class PaymentCall:
    turns: list[tuple[str, str]]
    card: str
    code: str
    others: list[str] = field(default_factory=list)
    """Digits of numbers said outside the exchange (amounts, order and phone numbers, dates)."""


def card_number(rng: random.Random) -> tuple[str, str]:
    brand, prefixes, lengths = rng.choice(BRANDS)
    prefix, length = rng.choice(prefixes), rng.choice(lengths)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    number = next(body + d for d in "0123456789" if luhn_valid(body + d))
    return brand, number


def _pair(pair: str) -> str:
    tens, unit = int(pair[0]), int(pair[1])
    if tens == 0:
        return f"oh {UNITS[unit]}"
    if tens == 1:
        return TEENS[unit]
    return TENS[tens] if unit == 0 else f"{TENS[tens]} {UNITS[unit]}"


def say_group(group: str, rng: random.Random) -> str:
    """One group of a card as a recognizer may write it."""
    style = rng.choice(["digits", "spaced", "dashed", "dots", "words", "homophones", "pairs", "money", "ordinals"])
    if style == "digits":
        return group
    if style == "spaced":
        return " ".join(group)
    if style == "dashed":
        return rng.choice(["-".join(group), " -".join(group)])
    if style == "dots":
        return ".".join(group)
    if style == "money" and len(group) >= 3:
        return rng.choice([f"${group[:-2]}.{group[-2:]}", f"${group[:1]} .{group[1:]}", f"${group}"])
    if style == "pairs" and len(group) % 2 == 0:
        return " ".join(_pair(group[i : i + 2]) for i in range(0, len(group), 2))
    if style == "ordinals":
        return " ".join(ORDINALS.get(d, f"{d}th") if d != "0" else "oh" for d in group)
    out = []
    for k, d in enumerate(group):
        if style == "homophones" and d in HOMOPHONES and rng.random() < 0.6 and (k > 0 or d == "0"):
            out.append(rng.choice(HOMOPHONES[d]))
        else:
            out.append(UNITS[int(d)])
    return " ".join(out)


def _misheard(number: str, rng: random.Random) -> str:
    """A digit dropped or doubled now and then, as a recognizer does."""
    roll = rng.random()
    at = rng.randrange(1, len(number) - 1)
    if roll < 0.15:
        return number[:at] + number[at + 1 :]
    if roll < 0.3:
        return number[:at] + number[at] + number[at:]
    return number


def reading(number: str, rng: random.Random) -> list[tuple[str, str]]:
    """The card read out by the customer: groups, fillers, corrections and the agent's
    backchannels between them (each a turn of its own)."""
    heard = _misheard(number, rng)
    sizes = rng.choice(GROUPINGS.get(len(number), [[4] * (len(number) // 4) + [len(number) % 4]]))
    groups, at = [], 0
    for size in sizes:
        if size:
            groups.append(heard[at : at + size])
            at += size
    if at < len(heard):
        groups[-1] += heard[at:]
    turns: list[tuple[str, str]] = []
    said: list[str] = []
    for k, group in enumerate(group for group in groups if group):
        if rng.random() < 0.15:  # a correction: a wrong group, then the right one
            wrong = "".join(str((int(d) + 1) % 10) for d in group)
            said += [say_group(wrong, rng) + ",", rng.choice(["no,", "sorry,", "no sorry,"])]
        said.append(say_group(group, rng) + rng.choice([",", "", "."]))
        if rng.random() < 0.25:
            said.append(rng.choice(FILLERS))
        if k < len(groups) - 1 and rng.random() < 0.3:  # the other side says "mm-hm" mid-number
            turns.append((CUSTOMER, " ".join(said)))
            turns.append((AGENT, rng.choice(BACKCHANNELS)))
            said = []
    if said:
        turns.append((CUSTOMER, " ".join(said)))
    return turns


def _other_numbers(rng: random.Random) -> list[tuple[str, str]]:
    """(how it is said, the digits a reader must still find) for numbers that are not card data."""
    dollars, cents = rng.randint(12, 980), rng.randint(0, 99)
    order = str(rng.randint(10_000, 99_999_999))
    phone = f"{rng.randint(200, 989)}-{rng.randint(200, 989)}-{rng.randint(1000, 9999)}"
    day = rng.randint(1, 28)
    return rng.sample(
        [
            (f"The bill came to ${dollars}.{cents:02d} this month.", f"{dollars}{cents:02d}"),
            (f"My order number is {order}.", order),
            (f"You can reach me on {phone}.", phone.replace("-", "")),
            (f"It was charged on March {day}th.", str(day)),
            (f"I've been a customer for {rng.randint(2, 30)} years.", ""),
        ],
        k=3,
    )


def payment_call(rng: random.Random) -> PaymentCall:
    from tests.support.leaks import card_leaked, code_leaked

    _, number = card_number(rng)
    while True:  # numbers that, by chance, hold the card's or the code's digits are not "other"
        code = "".join(rng.choice("0123456789") for _ in range(rng.choice([3, 4])))
        before, after = _other_numbers(rng), _other_numbers(rng)
        said = " ".join(s for s, _ in [*before, *after])
        if not code_leaked(code, said) and not card_leaked(number, said):
            break
    turns: list[tuple[str, str]] = [(AGENT, rng.choice(OPENERS))]
    turns += [(CUSTOMER, said) for said, _ in before]
    turns.append((AGENT, rng.choice(CHATTER)))
    turns.append((AGENT, rng.choice(CARD_REQUESTS)))
    read = reading(number, rng)
    if rng.random() < 0.6:
        speaker, first = read[0]
        read[0] = (speaker, f"{rng.choice(CARD_MENTIONS)} {first}")
    turns += read
    expiry = [(AGENT, rng.choice(EXPIRY_REQUESTS)), (CUSTOMER, rng.choice(["oh nine twenty seven", "09/27", "12 28"]))]
    code_turns = [
        (AGENT, rng.choice(CODE_REQUESTS)),
        (CUSTOMER, f"{rng.choice(['', 'It is', 'Sure,'])} {say_group(code, rng)}"),
    ]
    turns += [*expiry, *code_turns] if rng.random() < 0.5 else [*code_turns, *expiry]
    turns += [(AGENT, CHATTER[0]), (CUSTOMER, CHATTER[2]), (AGENT, CHATTER[1]), (CUSTOMER, CHATTER[2])]
    turns += [(CUSTOMER, said) for said, _ in after]
    turns.append((AGENT, CHATTER[3]))
    others = [digits for _, digits in [*before, *after] if digits]
    return PaymentCall(turns=turns, card=number, code=code, others=others)


def as_words(turns: list[tuple[str, str]]) -> list[Word]:
    """Turns as recognized words: 0.4 s a word, 0.8 s between turns."""
    words, t = [], 0.5
    for speaker, text in turns:
        for w in text.split():
            words.append(Word(w, round(t, 2), round(t + 0.3, 2), probability=0.9, speaker=speaker))
            t += 0.4
        t += 0.8
    return words
