"""How people say numbers on the phone: money, card digits, codes and dates, several ways each."""

from __future__ import annotations

import random

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def words_below_100(n: int) -> str:
    if n < 10:
        return ONES[n]
    if n < 20:
        return TEENS[n - 10]
    tens, ones = divmod(n, 10)
    return TENS[tens] + (f" {ONES[ones]}" if ones else "")


def number_words(n: int, *, with_and: bool = False) -> str:
    """1250 -> "one thousand two hundred fifty" ("... two hundred and fifty" with `with_and`)."""
    if n < 100:
        return words_below_100(n)
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = f"{ONES[hundreds]} hundred"
        if not rest:
            return head
        return f"{head} {'and ' if with_and else ''}{words_below_100(rest)}"
    thousands, rest = divmod(n, 1000)
    head = f"{number_words(thousands)} thousand"
    if not rest:
        return head
    joiner = " and " if with_and and rest < 100 else " "
    return head + joiner + number_words(rest, with_and=with_and)


def money_text(cents: int, rng: random.Random) -> str:
    """One of the ways an amount is said: "$1,200.50", "a hundred and twenty bucks", "one forty nine
    ninety nine", "seventy five dollars and ten cents"."""
    dollars, rest = divmod(cents, 100)
    styles = ["written", "words", "words_and"]
    if rest == 0:
        styles += ["bucks", "bare_dollars"]
    elif 100 <= dollars < 1000 and rest >= 10:
        styles += ["pairs"]
    style = rng.choice(styles)
    if style == "written":
        return f"${dollars:,}" + (f".{rest:02d}" if rest or rng.random() < 0.3 else "")
    if style == "bucks":
        head = number_words(dollars, with_and=True)
        head = "a " + head[4:] if head.startswith("one hundred") and rng.random() < 0.6 else head
        return f"{head} bucks"
    if style == "bare_dollars":
        return f"{dollars:,} dollars"
    if style == "pairs":
        # "one forty nine ninety nine" for $149.99
        hundreds, tail = divmod(dollars, 100)
        tail_words = words_below_100(tail) if tail >= 10 else f"oh {ONES[tail]}"
        return f"{ONES[hundreds]} {tail_words} {words_below_100(rest)}"
    with_and = style == "words_and"
    text = f"{number_words(dollars, with_and=with_and)} dollars"
    if rest:
        text += f" and {words_below_100(rest)} cents"
    return text


def money_written(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def digit_words(digits: str, rng: random.Random, *, zero_as_oh: float = 0.5, doubles: float = 0.3) -> str:
    """Digits one by one, with "oh" for zero and "double five" for a repeat, as people read them."""
    out: list[str] = []
    i = 0
    while i < len(digits):
        d = int(digits[i])
        word = "oh" if d == 0 and rng.random() < zero_as_oh else ONES[d]
        if i + 1 < len(digits) and digits[i + 1] == digits[i] and rng.random() < doubles:
            out.append(f"double {word}")
            i += 2
            continue
        out.append(word)
        i += 1
    return " ".join(out)


def card_groups(number: str) -> list[str]:
    """The groups a card is printed in: 4-6-5 for American Express, 4-4-4-4 otherwise."""
    if len(number) == 15:
        return [number[:4], number[4:10], number[10:]]
    return [number[i : i + 4] for i in range(0, len(number), 4)]


def card_text(number: str, rng: random.Random) -> str:
    groups = card_groups(number)
    style = rng.choice(["digits", "digits", "written", "pairs"])
    if style == "written":
        return " ".join(groups)
    if style == "pairs" and len(number) == 16:
        # "forty five thirty two ..." for 4532: pairs, except a leading zero.
        parts = []
        for g in groups:
            for pair in (g[:2], g[2:]):
                parts.append(digit_words(pair, rng) if pair[0] == "0" else words_below_100(int(pair)))
        return ", ".join(" ".join(parts[i : i + 2]) for i in range(0, len(parts), 2))
    return ", ".join(digit_words(g, rng) for g in groups)


def expiry_text(month: int, year: int, rng: random.Random) -> str:
    style = rng.choice(["numeric", "month_name", "slash"])
    if style == "month_name":
        return f"{MONTHS[month - 1]} twenty {words_below_100(year % 100)}"
    if style == "slash":
        return f"{month:02d}/{year % 100:02d}"
    return f"{digit_words(f'{month:02d}', rng, zero_as_oh=1.0, doubles=0)} {words_below_100(year % 100)}"


def phone_text(digits: str, rng: random.Random) -> str:
    groups = [digits[:3], digits[3:6], digits[6:]]
    if rng.random() < 0.3:
        return "-".join(groups)
    return ", ".join(digit_words(g, rng) for g in groups)


def spell(word: str) -> str:
    """A name spelled letter by letter: "R I V E R A"."""
    return " ".join(word.upper())
