"""Money said in a call: "seventy five dollars", "one hundred forty nine dollars and ninety nine
cents", "$149 and 99 cents", "$149.99 a month", and what each amount was for."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from decimal import Decimal

from text_to_num import alpha2digit

from app.analysis.schema import Financial
from app.redaction import Finding
from app.redaction.spoken_digits import HOMOPHONES, UNITS

# After words-to-digits: "$149.99", "$149 and 99 cents", "149 dollars and 99 cents", "75 dollars", "99 cents".
# Speech recognition also writes "one forty nine and ninety nine" as "$149 and $99": two digits after
# "and $" are read as the cents of the amount before them.
AMOUNT = re.compile(
    r"(?:\$\s?(?P<d1>\d{1,3}(?:,\d{3})+|\d+)(?:\s?\.(?P<c1>\d{1,2}))?"
    r"(?:,?\s+and\s+(?:(?P<c2>\d{1,2})\s+cents?|\$(?P<c6>\d{2})(?![\d.,]|\s+dollars?)))?)"
    r"|(?:(?P<d2>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<c3>\d{1,2}))?\s+(?:dollars?|bucks|usd)"
    r"(?:,?\s+and\s+(?P<c4>\d{1,2})\s+cents?)?)"
    r"|(?:(?P<c5>\d{1,2})\s+cents?)"
    # The recognizer drops the currency: "another 48.99 per month", "it's 99 a month".
    r"|(?:(?<![\d.,$])(?P<d3>\d{1,3}(?:,\d{3})*|\d+)(?:\.(?P<c7>\d{2}))?"
    r"(?=\s+(?:a|per|each|every)\s+(?:month|year|week)\b|\s+(?:monthly|annually)\b))"
    r"|(?:(?<![\d.,$])(?P<d4>\d{1,5})\.(?P<c8>\d{2})(?![\d.%]|\s*(?:percent|gb|mb|gig|miles?|kilo|pounds?|kg|lbs?|hours?)\b))",
    re.IGNORECASE,
)

PURPOSES: list[tuple[str, re.Pattern[str]]] = [
    (
        "credit_issued",
        re.compile(
            r"\b(credit\w*|refund\w*|reimburs\w*|waiv\w*|discount\w*|compensat\w*)\b"
            # "... $48.25 back to you now", heard as "back to now".
            r"|\bback (on|to|in)(to)?\b",
            re.I,
        ),
    ),
    (
        "recurring_amount",
        re.compile(
            r"\b(per|a|each|every) (month|year|week)\b|\bmonthly\b|\bannual(ly)?\b|/mo\b|\brate\b|\bplan\b",
            re.I,
        ),
    ),
    (
        "payment_today",
        re.compile(
            r"\b(today|right now|process(ed|ing)? (a|the|your) payment|take (a|the) payment|paid|charg(e|ed|ing) "
            r"(it|your card|the card)|payment of|(has been|was|I've|I have|I'm|we've|we have) taken|went through|"
            r"put down|pay(ing)? (off|up|it|this|that|the|my)|make a payment|settle)\b",
            re.I,
        ),
    ),
    (
        "pending_balance",
        # What is left to pay: "that leaves $773", "$570 still outstanding" (heard as "still upstanding").
        re.compile(r"\b(balance|outstanding|owe[sd]?|past due|overdue|remaining|due|still|leaves|leaving)\b", re.I),
    ),
]
BILLING_CONTEXT = re.compile(r"\b(billing date|billed|bill(s)? (on|goes out)|due (on|date)|renews?|charged on)\b", re.I)
ORDINAL_DAY = re.compile(
    r"\b(?:(?P<month>january|february|march|april|may|june|july|august|september|october|november|december)\s+)?"
    r"(?:the\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)\b(?P<each>\s+of\s+(?:each|every|the)\s+month)?",
    re.IGNORECASE,
)
SPOKEN_METHOD = re.compile(
    r"\b(visa|mastercard|master card|amex|american express|discover|debit card|credit card|card)"
    r"\s+ending\s+in\s+(?P<last4>\d{4})\b",
    re.IGNORECASE,
)
OTHER_METHODS = [
    (re.compile(r"\b(bank account|checking account|ach|direct debit)\b", re.I), "Bank account"),
    (re.compile(r"\bpaypal\b", re.I), "PayPal"),
    (re.compile(r"\b(by|a|with|mail(ed)?|send(ing)?|sent) (check|cheque)\b", re.I), "Check"),
]


@dataclass(frozen=True)
class Mention:
    cents: int
    purpose: str | None
    sentence: str
    replaced: bool = False
    """The value before a change said in the same breath: "down to $62.50 from $82.50"."""


# What comes right before an amount that is the old value of a change.
BEFORE_OLD_VALUE = re.compile(r"\b(from|instead of|used to be|was|were)\s*$", re.IGNORECASE)


# Speech recognition writes "$62 .50", "48 .25 dollars" and "dollar 48.25".
SPACED_DECIMAL = re.compile(r"(\d) \.(\d)")
DOLLAR_BEFORE = re.compile(r"\bdollars? (?=\d)", re.IGNORECASE)
# ... "$1 ,150" and "eighty -six".
SPACED_COMMA = re.compile(r"(\d) ,(\d{3})\b")
# "sixty two fifty a month" written as "62 50 a month".
PERIOD = r"(?:a|per|each|every)\s+(?:month|year|week)\b"
DOLLARS_CENTS_PAIR = re.compile(rf"(?<![\d.,])(\$?\d{{1,4}}) (\d{{2}})(?=\s+{PERIOD})")
# "eight hundred and ninety six" written as "800 and 96".
HUNDREDS_AND = re.compile(r"(?<![\d,.])(\d{1,2})00 and (\d{1,2})\b(?![.,]\d)")
BROKEN_HYPHEN = re.compile(r"(?<=[a-z]) -(?=[a-z])", re.IGNORECASE)
# "two hundred" heard as "to hundred", "four thousand" as "for thousand": before a multiplier a
# homophone of a digit can only be that digit ("to a hundred" keeps its article).
HOMOPHONE_BEFORE_MULTIPLIER = re.compile(
    rf"\b(?P<homophone>{'|'.join(HOMOPHONES)})\s+(?=(?:hundred|thousand)\b)", re.IGNORECASE
)
DIGIT_WORDS = {"1": "one", "2": "two", "4": "four", "8": "eight"}


def to_digits(text: str) -> str:
    """Number words to digits ("seventy five dollars" -> "$75"), keeping everything else."""
    from app.analysis import spoken

    text = HOMOPHONE_BEFORE_MULTIPLIER.sub(
        lambda m: DIGIT_WORDS[HOMOPHONES[m.group("homophone").lower()]] + " ", BROKEN_HYPHEN.sub("-", text)
    )
    converted = spoken.written(text)
    converted = SPACED_COMMA.sub(r"\1,\2", SPACED_DECIMAL.sub(r"\1.\2", converted))
    converted = DOLLARS_CENTS_PAIR.sub(r"\1.\2", converted)
    converted = HUNDREDS_AND.sub(lambda m: str(int(m.group(1)) * 100 + int(m.group(2))), converted)
    with contextlib.suppress(ValueError, RuntimeError):  # text2num on what damga left as words
        converted = alpha2digit(converted, "en")
    return DOLLAR_BEFORE.sub("$", converted)


# A figure with no currency word is money where what is said around it is about money: "the balance
# is 895", "I owe 573", "could I do 223 now", "refunded 39", "a 33 missed appointment fee", "50 more",
# "20 off". Never a count, a time, a size or a reference ("8 years", "the order number is 1629").
MONEY_LEAD = re.compile(
    r"\b(?:balance(?: is| of| was)?|bill (?:came|comes|come|was|is)(?: in)?(?: at| to)?|owe[sd]?|(?:I|we) do|"
    r"pay(?:ing)?|paid|refund(?:ed)?|credit(?:ed)?|costs?|cost me|charged(?: me)?(?: a)?|fees? of|total(?: is)?|"
    r"taken|the other|another|an extra|normally|usually|comes to|came to|price(?: is)?|it's|is)\s+$",
    re.IGNORECASE,
)
MONEY_TAIL = re.compile(
    r"^\s+(?:more|off|extra|bucks|taken|paid|credited|refunded|owing|outstanding|still due|is due|due|back"
    r"|(?:[a-z-]+\s+){0,2}(?:fee|charge|credit|refund))\b",
    re.I,
)
# "fifty-seven ninety five" is written "57 95": once the first is money, the second is its cents.
DOLLARS_THEN_CENTS = re.compile(r"\$(\d{1,4}) (\d{2})(?![\d%]|[.,]\d)")
NOT_MONEY_TAIL = re.compile(
    r"^(?:\s*(?:%|percent|st|nd|rd|th|am|pm|o'clock|days?|weeks?|months?|years?|hours?|minutes?|times|gigs?|gb|mb|"
    r"people|digits?|numbers?|items?|lines?|devices?)\b|[\d,]*\d|\s*%)",
    re.IGNORECASE,
)
# A bare figure, and the cents said after it as a second figure ("ten twenty five" written "10 25").
BARE_FIGURE = re.compile(
    r"(?<![\d.,$/:#-])(?P<figure>(?:\d{1,3}(?:,\d{3})+|\d{1,5})(?:\.\d{2})?)(?: (?P<cents>\d{2}))?(?!\d|[.,/:-]\d)"
)
REFERENCE_LEAD = re.compile(r"\b(number|no\.?|#|code|ext\.?|extension)\s+(?:is\s+)?$", re.IGNORECASE)
# "is" alone before a figure is money only where the sentence speaks of it.
MONEY_TOPIC = re.compile(r"\b(bill|balance|owe|pay|paid|price|cost|fee|charge|refund|credit|plan|amount)\w*", re.I)


# "two twelve forty" ($212.40), written "2 12 40"; "two oh one twenty five" ($201.25), "two oh 1 25".
DIGIT_NAMES = "|".join(word for word, digit in UNITS.items() if digit != "0")
HUNDREDS_PAIRS = re.compile(
    rf"(?<![\d.,$])(?P<h>[1-9]|{DIGIT_NAMES}) (?:(?:oh|o|zero) (?P<d>\d)|(?P<t>[1-9]\d)) (?P<c>\d{{2}})"
    rf"(?!\d|[.,]\d)",
    re.IGNORECASE,
)


def _hundreds_pairs(sentence: str) -> str:
    def join(m: re.Match[str]) -> str:
        hundreds = UNITS.get(m.group("h").lower(), m.group("h"))
        return f"{hundreds}{m.group('t') or '0' + m.group('d')}.{m.group('c')}"

    return HUNDREDS_PAIRS.sub(join, sentence)


# "one seventy four twenty five" written "$1.74.25": no figure has two decimal points.
TWO_POINTS = re.compile(r"\$(\d)\.(\d{2})\.(\d{2})(?!\d)")
# A figure said as two pairs ("twenty three seventy five", written "2375") ten times the largest
# amount said with its currency in the call is the pairs' dollars and cents.
SCALE = 10


def _with_implied_currency(sentence: str, largest_said: int | None = None) -> str:
    """`sentence` with a `$` before each figure said as money without a currency word.
    `largest_said`: the largest amount, in cents, the call says with a currency sign or word."""
    sentence = _hundreds_pairs(sentence)

    def mark(m: re.Match[str]) -> str:
        before, after = sentence[: m.start()], sentence[m.end() :]
        if NOT_MONEY_TAIL.match(after) or REFERENCE_LEAD.search(before):
            return m.group(0)
        lead = MONEY_LEAD.search(before)
        if lead and lead.group(0).strip().lower() in ("is", "it's") and not MONEY_TOPIC.search(sentence):
            lead = None
        if not (lead or MONEY_TAIL.match(after)):
            return m.group(0)
        figure, cents = m.group("figure"), m.group("cents")
        if cents and "." not in figure:
            return f"${figure}.{cents}"
        if largest_said and re.fullmatch(r"[1-9]\d{3}", figure) and int(figure) * 100 > SCALE * largest_said:
            return f"${figure[:2]}.{figure[2:]}"
        return f"${m.group(0)}"

    return DOLLARS_THEN_CENTS.sub(r"$\1.\2", BARE_FIGURE.sub(mark, sentence))


def format_cents(cents: int) -> str:
    return f"${Decimal(cents) / 100:,.2f}"


def _cents(m: re.Match[str]) -> int:
    dollars = m.group("d1") or m.group("d2") or m.group("d3") or m.group("d4")
    cents_text = (
        m.group("c1") or m.group("c2") or m.group("c3") or m.group("c4") or m.group("c6") or m.group("c7")
        or m.group("c8")
    )  # fmt: skip
    if dollars is None:
        return int(m.group("c5"))
    cents = int(cents_text.ljust(2, "0")) if cents_text else 0
    return int(dollars.replace(",", "")) * 100 + cents


def _purpose(sentence: str, start: int, end: int, lo: int, hi: int) -> str | None:
    """The purpose whose keyword stands closest to the amount at [start, end), looking only
    between the neighbouring amounts [lo, hi)."""
    best: tuple[int, str] | None = None
    context = sentence[lo:hi]
    for purpose, pattern in PURPOSES:
        for k in pattern.finditer(context):
            k_start, k_end = k.start() + lo, k.end() + lo
            distance = start - k_end if k_end <= start else k_start - end if k_start >= end else 0
            if best is None or distance < best[0]:
                best = (distance, purpose)
    return best[1] if best else None


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _utterances(turns: list[tuple[str, str]]) -> list[str]:
    """Turns joined where one ends mid-sentence: diarization sometimes cuts a sentence, and an
    amount with it ("I've taken two hundred and" | "twenty-three dollars today"), in two."""
    joined: list[str] = []
    for _, text in turns:
        if joined and not joined[-1].rstrip().endswith((".", "?", "!")):
            joined[-1] = f"{joined[-1]} {text}"
        else:
            joined.append(text)
    return joined


def mentions(turns: list[tuple[str, str]]) -> list[Mention]:
    """(role, text) turns -> every money mention, with what it was for."""
    found = []
    written = [TWO_POINTS.sub(r"$\1\2.\3", to_digits(text)) for text in _utterances(turns)]
    largest_said = max((_cents(m) for text in written for m in AMOUNT.finditer(text)), default=None)
    for text in written:
        for sentence in split_sentences(text):
            sentence = _with_implied_currency(sentence, largest_said)
            matches = list(AMOUNT.finditer(sentence))
            for i, m in enumerate(matches):
                lo = matches[i - 1].end() if i > 0 else 0
                hi = matches[i + 1].start() if i + 1 < len(matches) else len(sentence)
                cents = _cents(m)
                if cents > 0:
                    replaced = len(matches) > 1 and bool(BEFORE_OLD_VALUE.search(sentence[lo : m.start()]))
                    purpose = _purpose(sentence, m.start(), m.end(), lo, hi)
                    found.append(Mention(cents, purpose, sentence, replaced))
    return found


def _billing_date(turns: list[tuple[str, str]]) -> str | None:
    for _, text in turns:
        for sentence in split_sentences(to_digits(text)):
            if not BILLING_CONTEXT.search(sentence):
                continue
            match = ORDINAL_DAY.search(sentence)
            if match:
                day = int(match.group("day"))
                if not 1 <= day <= 31:
                    continue
                suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
                if match.group("month"):
                    return f"{match.group('month').capitalize()} {day}"
                return (
                    f"{day}{suffix} of each month" if match.group("each") or "month" in sentence else f"{day}{suffix}"
                )
    return None


def _payment_method(turns: list[tuple[str, str]], findings: list[Finding]) -> str | None:
    for finding in findings:
        if finding.kind == "card" and finding.last4:
            return f"{finding.brand or 'Card'} ending in {finding.last4}"
    for _, text in turns:
        match = SPOKEN_METHOD.search(to_digits(text))
        if match:
            brand = match.group(1).title().replace("Master Card", "Mastercard").replace("Amex", "American Express")
            brand = "Card" if brand in ("Card", "Credit Card", "Debit Card") else brand
            return f"{brand} ending in {match.group('last4')}"
    for pattern, name in OTHER_METHODS:
        if any(pattern.search(text) for _, text in turns):
            return name
    return None


def extract_financial(turns: list[tuple[str, str]], findings: list[Finding]) -> Financial:
    """Each purpose takes the last amount said for it (later statements correct earlier ones)."""
    said = [m for m in mentions(turns) if m.purpose is not None]
    # An old value counts only when nothing else was said for its purpose.
    values = {m.purpose: m.cents for m in said if m.replaced}
    values.update({m.purpose: m.cents for m in said if not m.replaced})
    return Financial(
        payment_today=format_cents(values["payment_today"]) if "payment_today" in values else None,
        recurring_amount=format_cents(values["recurring_amount"]) if "recurring_amount" in values else None,
        pending_balance=format_cents(values["pending_balance"]) if "pending_balance" in values else None,
        credit_issued=format_cents(values["credit_issued"]) if "credit_issued" in values else None,
        payment_method=_payment_method(turns, findings),
        billing_date=_billing_date(turns),
    )
