"""Fail-closed masking of a payment exchange: from the moment a call turns to paying by card until
the card's details have been given, every digit said is masked, whatever the recognizer made of it.

The rules in `masking` find card numbers, codes and expiry dates by their shape. A recognizer can
write a card in shapes no rule knows ("The number is $5 .45. 0 -1 -1 -5, 2 -4 -4 -9"), so this pass
does not look for shapes inside an exchange: it masks every token that carries a digit (digits,
digit words, money, dash- or dot-joined groups, ordinals, and the homophones "for", "to", "won",
"ate" beside them). Only a card mask left by the rules ("4532 **** **** 8831", the brand's first
and the last four digits) stays as it is.

An exchange opens when a card, its brand or "the long number" is named, payment details, the
expiry or the security code are asked for, or digits run on like a card's (13 or more). It closes
after a stretch of talk without digits, or, once a card number and its code have been heard,
at the first pause in the digits (a short grace for a correction such as "sorry, four one nine").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from app.redaction.spoken_digits import FILLERS, HOMOPHONES, Token, strip, tokens_to_digits

# Asking for or naming the card's details: digits that follow are card data until shown otherwise.
# English and Spanish (a Spanish call's digits are digits too).
CARD_REQUEST = re.compile(
    r"\b(card|long) number\b|\bnumber on (the|your) card\b|\b(card|payment|billing) (details|information|info)\b"
    r"|\bnúmero de (la )?tarjeta\b|\bnumero de (la )?tarjeta\b|\bdatos de (la )?tarjeta\b",
    re.I,
)
EXPIRY_REQUEST = re.compile(
    r"\bexpir\w*|\bexpiry\b|\bexp date\b|\bvalid (thru|through|until)\b"
    r"|\b(fecha de )?(vencimiento|caducidad|expiración|expiracion)\b|\bvence\b|\bcaduca\b",
    re.I,
)
CODE_REQUEST = re.compile(
    r"\b(cvv|cvc|csc|cv2|security code|security number|verification code)\b|\bcode on the (back|front)\b"
    r"|\b(three|four|3|4)[\s-]*digit (code|number)\b|\bdigits on the back\b|\bback of (the|your) card\b"
    r"|\bc[oó]digo de seguridad\b|\bc[oó]digo (cvv|cvc)\b|\bd[ií]gitos de atr[aá]s\b",
    re.I,
)
# Within an exchange, the code asked for in fewer words, or as the recognizer wrote them ("the free
# digit code", "the CV lead leads").
CODE_WORD = re.compile(r"\bcode\b|\bdigit (code|number)\b|\bcv\b|\bcvv\w*|\bc[oó]digo\b", re.I)
# Naming a card or its brand: an exchange may follow, or the card may only be talked about
# ("a refund of $48 to your card"), so money said on its own here stays readable.
CARD_MENTION = re.compile(
    r"\b(cards?|visa|master ?card|master car\w*|amex|american express|discover card|debit card|credit card"
    r"|tarjetas?|débito|debito|crédito|credito)\b",
    re.I,
)
# Another number announced: while no digits are being read, a card only named is no longer the topic.
OTHER_NUMBER = re.compile(
    r"\b(order|reference|ref|claim|ticket|case|confirmation|tracking|invoice|policy|phone|telephone|mobile|cell"
    r"|contact|member|customer|account|extension) (number|no|#)|\b(zip|postal) code\b|\bpostcode\b"
    r"|\bn[uú]mero de (pedido|referencia|tel[eé]fono|cliente|cuenta)\b",
    re.I,
)
MONTH = re.compile(
    r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|enero|febrero|marzo|abril|mayo|junio"
    r"|julio|agosto|septiembre|octubre|noviembre|diciembre)[a-z]*[.,]?$",
    re.I,
)
MONEY_WORDS = {"dollar", "dollars", "bucks", "cents", "usd", "pounds", "euros", "pesos", "dólares", "dolares"}
ORDINAL_WORDS = {
    "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7",
    "eighth": "8", "ninth": "9",
}  # fmt: skip
# Spanish digit words: not English words, so always digits.
SPANISH_UNITS = {
    "cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9",
}  # fmt: skip
# A read-back of the card's last digits, which may be shown.
LAST_DIGITS = re.compile(r"\b(ending|ends|last (four|4|digits)|terminada|termina)\b", re.I)
# A word a mask made ("***", "**/**", "***-**-****") counts as digits for the exchange's bookkeeping.
STARS = re.compile(r"^\W*\*[*/\-\s]*\W*$")
# What the card rules leave showing: first four, stars, last four ("4532 **** **** 8831").
CARD_MASK = re.compile(r"\d{4}(?: \*+)+ \d{4}")

# Words without a digit that close an exchange after its digits started (a stretch of other talk).
IDLE_WORDS = 15
# Words after a request in which the first digit is still awaited.
AWAIT_WORDS = 30
# Words said over or within a reading that are not a change of subject.
ASIDES = {"mm", "mhm", "mm-hm", "mm-hmm", "uh-huh", "okay", "ok", "yep", "yeah", "yes", "right", "sorry", "no",
          "wait", "actually", "go", "on", "got", "it", "sí", "vale", "perdón", "perdon"}  # fmt: skip
# An amount after a card that was read is an amount when other words came between ("Thanks. That's
# $48.25 on the bill") and it is an amount's size.
AMOUNT_AFTER_WORDS = 2
AMOUNT_DIGITS = 6
# Once a card number and its code were heard, words of grace for a correction.
GRACE_WORDS = 4
# Digits in a row, with no request heard, that make a card reading.
CARD_LIKE_DIGITS = 13
# Digits in a row that start a reading where a card was only named ("3 to 5 days" does not).
READING_DIGITS = 4
# Where a card was only named, figures with at most this many words between them and this many
# digits in all are a reading all the same ("My Visa, $45.32, um, $29.14, ...").
STRETCH_GAP_WORDS = 6
STRETCH_DIGITS = 10
# Digits heard in the card slot that count as the card number having been read.
CARD_READ_DIGITS = 12
CODE_READ_DIGITS = 3
# Digits that are a whole card however it was grouped: an amount said after them is an amount.
CARD_WHOLE_DIGITS = 16
# Other digits within this many words of a money figure make it part of a reading ("$5 .45. 0 -1").
MONEY_NEIGHBOURS = 2


class Slot(Enum):
    CARD = "card"
    EXPIRY = "expiry"
    CODE = "code"


@dataclass
class Exchange:
    """One payment exchange: the token range it covers and the digits heard for each detail."""

    start: int
    end: int = -1
    digits: dict[Slot, int] = field(default_factory=lambda: dict.fromkeys(Slot, 0))
    asked: set[Slot] = field(default_factory=set)
    masked: list[int] = field(default_factory=list)
    """Tokens masked by this pass, in order."""
    card_found: bool = False
    """The rules read a whole card number here (their mask shows its first and last four)."""

    @property
    def card_read(self) -> bool:
        return self.card_found or self.digits[Slot.CARD] >= CARD_READ_DIGITS

    @property
    def complete(self) -> bool:
        return (
            self.digits[Slot.CARD] >= CARD_READ_DIGITS
            and self.digits[Slot.CODE] >= CODE_READ_DIGITS
            and (Slot.EXPIRY not in self.asked or self.digits[Slot.EXPIRY] >= 3)
        )


def _cues(words: Sequence[str], pattern: re.Pattern[str]) -> dict[int, int]:
    """For each match of `pattern` over the words joined by spaces: the index of the word where it
    ends -> the index of the word where it starts."""
    offsets, text = [], ""
    for w in words:
        offsets.append(len(text))
        text += w + " "

    def word_at(char: int) -> int:
        lo, hi = 0, len(offsets) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if offsets[mid] <= char:
                lo = mid
            else:
                hi = mid - 1
        return lo

    return {word_at(m.end() - 1): word_at(m.start()) for m in pattern.finditer(text)}


def _digit_count(token: Token) -> int:
    if token.digits:
        return len(token.digits)
    return sum(c.isdigit() for c in token.text)


def _carries_digits(token: Token) -> bool:
    return bool(token.digits) or token.consumed or any(c.isdigit() for c in token.text)


def _is_mask(word: str) -> bool:
    """What a mask left: stars, or a card's first and last four around them."""
    return bool(STARS.match(word) or CARD_MASK.search(word))


def _mask_remnant(words: Sequence[str], i: int) -> bool:
    """A four-digit group that is what a card mask left showing: stars on one side, no digits on the other."""
    core = strip(words[i])
    if not (len(core) == 4 and core.isdigit()):
        return False
    before = words[i - 1] if i > 0 else ""
    after = words[i + 1] if i + 1 < len(words) else ""
    if _is_mask(after) and not any(c.isdigit() for c in before):
        return True
    return _is_mask(before) and not any(c.isdigit() for c in after)


def _masked_form(word: str) -> str:
    """The word with its digit-bearing part as stars; the punctuation around it kept."""
    m = re.match(r"^(\W*)(.*?)([.,;:!?)]*)$", word)
    lead, core, tail = (m.group(1), m.group(2), m.group(3)) if m else ("", word, "")
    lead = lead.replace("$", "")
    return f"{lead}{'*' * max(1, min(4, sum(c.isdigit() for c in core) or 1))}{tail}"


def _tokens(words: Sequence[str]) -> list[Token]:
    tokens = tokens_to_digits(words)
    for i, t in enumerate(tokens):
        w = strip(t.text)
        if not t.digits and w in SPANISH_UNITS:
            tokens[i] = Token(t.text, SPANISH_UNITS[w])
    return tokens


def _digit_groups(tokens: list[Token], words: Sequence[str], gap_words: int = 2) -> dict[int, str]:
    """Each digit-bearing token -> the digits its group says, a group being digits with at most
    `gap_words` other words between them (a card read in fours, a phone number in threes)."""
    groups: dict[int, str] = {}
    i = 0
    while i < len(tokens):
        if not _carries_digits(tokens[i]) or _is_mask(words[i]):
            i += 1
            continue
        said, j, gap, members = "", i, 0, []
        while j < len(tokens) and gap <= gap_words:
            if _carries_digits(tokens[j]) and not _is_mask(words[j]):
                said += tokens[j].digits or "".join(c for c in tokens[j].text if c.isdigit())
                gap = 0
                members.append(j)
            elif strip(tokens[j].text) not in FILLERS:
                gap += 1
            j += 1
        groups.update(dict.fromkeys(members, said))
        i = members[-1] + 1
    return groups


def _looks_like_date(words: Sequence[str], i: int) -> bool:
    """ "March 12th", "the 5th": a date, not the start of a card."""
    before = words[i - 1] if i > 0 else ""
    return bool(MONTH.match(before.strip())) or bool(re.search(r"\d(st|nd|rd|th)\b", words[i].lower()))


def _is_money(tokens: list[Token], words: Sequence[str], i: int) -> bool:
    """Written or said as money: "$48", "897 dollars", "forty two dollars", "50 cents"."""
    if "$" in words[i] or tokens[i].currency:
        return True
    k = i + 1
    while k < len(tokens) and tokens[k].consumed:
        k += 1
    return k < len(words) and strip(words[k]) in MONEY_WORDS


def _money_alone(tokens: list[Token], words: Sequence[str], i: int) -> bool:
    """A money figure with no other digits beside it but money ("897 dollars and 50 cents"): an
    amount, not a piece of a reading ("$5 .45. 0 -1 -1 -5")."""
    if not _is_money(tokens, words, i):
        return False
    lo, hi = max(0, i - MONEY_NEIGHBOURS), min(len(tokens), i + MONEY_NEIGHBOURS + 1)
    return all(
        _is_money(tokens, words, k)
        for k in range(lo, hi)
        if k != i and _carries_digits(tokens[k]) and not tokens[k].consumed
    )


def _digit_follows(tokens: list[Token], i: int) -> bool:
    """A digit, or a mask, in the two words after `i` (fillers and dropped words skipped): "won ate,
    4 4" and "for ****" are digits said; "thanks for that" is not."""
    k, seen = i + 1, 0
    while k < len(tokens) and seen < 2:
        word = strip(tokens[k].text)
        if _carries_digits(tokens[k]) or _is_mask(tokens[k].text):
            return True
        if word and word not in FILLERS:
            seen += 1
        k += 1
    return False


def find_exchanges(words: Sequence[str], shown_last4: frozenset[str] = frozenset()) -> list[Exchange]:
    """The payment exchanges of a call (its words in the order said, both sides), each with the
    tokens to mask. `shown_last4`: the last four digits of cards a mask shows; read back ("ending
    in 8831") they stay."""
    tokens = _tokens(words)
    card_asked = _cues(words, CARD_REQUEST)
    expiry_asked = _cues(words, EXPIRY_REQUEST)
    code_asked = _cues(words, CODE_REQUEST)
    mentioned = _cues(words, CARD_MENTION)
    code_words = _cues(words, CODE_WORD)
    other_number = _cues(words, OTHER_NUMBER)
    # The words of a request are not its answer ("the three digit code?").
    in_request = {
        k for cues in (card_asked, expiry_asked, code_asked) for end, start in cues.items() for k in range(start, end)
    }
    groups = _digit_groups(tokens, words)
    # Figures said one after another with a few words between: a card read slowly as amounts.
    stretches = _digit_groups(tokens, words, gap_words=STRETCH_GAP_WORDS)
    read_back = {
        i
        for i, said in groups.items()
        if said in shown_last4 and LAST_DIGITS.search(" ".join(words[max(0, i - 4) : i]))
    }

    exchanges: list[Exchange] = []
    current: Exchange | None = None
    slot = Slot.CARD
    strong = False  # details were asked for (not only a card named)
    reading = False  # digits have started since the last request
    idle = 0  # words without a digit since the last digit (or the last request)
    talk = 0  # of those, words other than "mm-hm" and "sorry, no"

    def close(at: int) -> None:
        nonlocal current, strong, reading
        if current is not None:
            current.end = at
            exchanges.append(current)
        current, strong, reading = None, False, False

    for i, token in enumerate(tokens):
        word = strip(token.text)
        request = next(
            (
                s
                for s, ends in ((Slot.CODE, code_asked), (Slot.EXPIRY, expiry_asked), (Slot.CARD, card_asked))
                if i in ends
            ),
            None,
        )
        if request is None and current is not None and i in code_words and not _carries_digits(token):
            request = Slot.CODE
        if request is not None or i in mentioned:
            if current is None:
                current = Exchange(start=i)
                slot = Slot.CARD
            if request is not None:
                slot, strong = request, True
                current.asked.add(request)
            elif slot is not Slot.CARD and not reading:
                slot = Slot.CARD
            reading, idle, talk = False, 0, 0
            continue
        if i in in_request:
            continue
        if i in read_back:
            continue
        digits = _carries_digits(token) or _is_mask(token.text)
        if current is None:
            if CARD_MASK.search(token.text):
                # A card the rules read whole, with no request heard: what follows may be its details.
                current = Exchange(start=i, card_found=True)
                slot, strong, reading, idle, talk = Slot.CARD, True, True, 0, 0
                current.digits[slot] += CARD_WHOLE_DIGITS
                continue
            if len(groups.get(i, "")) >= CARD_LIKE_DIGITS and (i == 0 or i - 1 not in groups):
                current = Exchange(start=i)
                slot, strong, reading, idle, talk = Slot.CARD, True, True, 0, 0
            else:
                continue
        if digits:
            if _is_mask(token.text) or _mask_remnant(words, i):
                current.card_found = current.card_found or bool(CARD_MASK.search(token.text)) or _mask_remnant(words, i)
                # What the rules masked is card data being read, even where a card was only named
                # ("Which card? It's my Visa, ***"): an amount-shaped rest of it is masked too.
                current.digits[slot] += max(1, sum(c in "*0123456789" for c in token.text))
                reading, idle, talk = True, 0, 0
                continue
            if (
                not reading
                and not strong
                and (
                    _money_alone(tokens, words, i)
                    or len(groups.get(i, "*" * READING_DIGITS)) < READING_DIGITS
                    or _looks_like_date(words, i)
                )
                and len(stretches.get(i, "")) < STRETCH_DIGITS
            ):
                # A card only named ("a refund of $48 to your card", "in 3 to 5 days", "on the 12th"):
                # an amount, a count or a date, while no digits are being read.
                continue
            if idle > 0 and _money_alone(tokens, words, i):
                if current.complete or (current.card_read and current.digits[Slot.CODE] and talk):
                    close(i)  # "All done, $120 has been taken": the exchange is over
                    continue
                if (
                    slot is Slot.CARD
                    and (current.card_found or current.digits[Slot.CARD] >= CARD_WHOLE_DIGITS)
                    and talk >= AMOUNT_AFTER_WORDS
                    and _digit_count(token) <= AMOUNT_DIGITS
                ):
                    continue  # the card was read, then an amount ("Thanks. That's $48.25 on the bill")
            current.digits[slot] += _digit_count(token)
            current.masked.append(i)
            reading, idle, talk = True, 0, 0
            continue
        if word in FILLERS or not word:
            continue
        if i in other_number and not strong and not reading:
            close(i)
            continue
        # "won ate, 4 4", and "two two six won": a homophone beside the digits of a reading.
        beside_digits = (reading and idle == 0) or _digit_follows(tokens, i)
        if (reading or strong) and (word in HOMOPHONES or word in ORDINAL_WORDS) and beside_digits:
            current.masked.append(i)
            current.digits[slot] += 1
            idle = talk = 0
            continue
        idle += 1
        talk += word not in ASIDES
        if current.complete:
            limit = GRACE_WORDS
        elif reading and not (current.card_read and current.digits[Slot.CODE] < CODE_READ_DIGITS):
            limit = IDLE_WORDS
        else:
            # Waiting for digits: after a request, or for the code of a card read (its question may
            # have been misheard: "el código de seguridad" came back as "el colegón es muy más").
            limit = AWAIT_WORDS
        if idle >= limit:
            close(i)
    if current is not None:
        close(len(tokens))
    return exchanges


def fail_closed(words: Sequence[str], replacements: dict[int, str | None]) -> tuple[dict[int, str | None], bool]:
    """Every digit said in a payment exchange masked: the rules' `replacements` (token index ->
    masked text, None to drop) with this pass's added. A card mask the rules made keeps its first
    and last four; any other digit the rules left in a replaced word is masked. Also tells whether
    a card number was read in an exchange (12 or more digits asked for as a card's)."""
    shown = [replacements.get(i, w) for i, w in enumerate(words)]
    visible = [w if w is not None else "" for w in shown]
    out = dict(replacements)
    card_read = False
    shown_last4 = frozenset(m.group(0)[-4:] for w in visible for m in CARD_MASK.finditer(w))
    for exchange in find_exchanges(visible, shown_last4):
        card_read = card_read or exchange.digits[Slot.CARD] >= CARD_READ_DIGITS
        for i in exchange.masked:
            out[i] = _masked_form(visible[i])
        for i in range(exchange.start, exchange.end):
            text = out.get(i)
            if i in replacements and text:
                out[i] = _keep_card_mask(text)
    return out, card_read


def _keep_card_mask(text: str) -> str:
    """A replacement's text with every digit outside a card mask ("4532 **** **** 8831") as a star."""
    kept = [(m.start(), m.end()) for m in CARD_MASK.finditer(text)]
    return "".join(c if not c.isdigit() or any(a <= k < b for a, b in kept) else "*" for k, c in enumerate(text))
