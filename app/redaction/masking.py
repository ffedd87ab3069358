"""Finding and masking what must not be kept: card numbers, security codes, expiry dates, SSNs,
bank numbers and (on request) e-mail addresses and phone numbers, in words, text and results."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.redaction import exchange, spoken_digits
from app.redaction.cards import brand_by_prefix, card_brand, luhn_valid, mask_card
from app.redaction.spoken_digits import HOMOPHONES, Token, strip, tokens_to_digits
from app.transcript import Word

# More words than this from the other side between two of one speaker's words break a number.
INTERRUPTION_WORDS = 2
MONEY_WORDS = {"dollar", "dollars", "bucks", "cents", "usd", "pounds", "euros"}
CARD_CONTEXT = re.compile(r"\b(card|visa|master ?card|amex|american express|discover|debit|credit)\b", re.I)
# A brand as the recognizer may write it, when the digits of the card itself were lost ("my master car").
CARD_MENTION = re.compile(r"\b(card|cards|visa|master ?car\w*|amex|american express|discover|debit|credit)\b", re.I)
# How far (in words) a mention of a card reaches to a short number that may be its code.
CODE_AFTER_MENTION = 45
CVV_CONTEXT = re.compile(
    r"\b(cvv|cvc|csc|cv2|security code|security number|code on the (back|front))\b"
    r"|\b(three|four|3|4)\s*-?\s*digit (code|number)\b",
    re.I,
)
# A read-back of the card's last digits, which may be shown.
LAST_DIGITS = re.compile(r"\b(ending|ends|last (four|4|digits))\b", re.I)
# Where the code is, which may be all the recognizer kept of the question ("... on the back?").
BACK_OF_CARD = re.compile(r"\b(on|at) the (back|front)\b|\bback of (the|your) card\b", re.I)
CODE_WORD = re.compile(r"\b(code|cvv|digits on the back)\b", re.I)
EXPIRY_CONTEXT = re.compile(r"\b(expir\w*|exp date|valid (thru|through|until))\b", re.I)
SSN_CONTEXT = re.compile(r"\b(social security|ssn|social)\b", re.I)
ACCOUNT_CONTEXT = re.compile(r"\b(account number|bank account|checking account|savings account|iban)\b", re.I)
ROUTING_CONTEXT = re.compile(r"\b(routing number|routing|sort code|aba)\b", re.I)
MONTHS = re.compile(r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*[.,]?$", re.I)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
SPOKEN_EMAIL = re.compile(r"\b[\w.-]+(?: dot [\w-]+)* at [\w-]+(?: [\w-]+)?(?: dot [\w-]+)+\b", re.I)
SSN_PATTERN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")

# A card read out in a payment exchange that no rule could read as a number (its digits were masked).
UNREAD_CARD_DESCRIPTION = "Credit card (redacted)"

# How far (in words) a keyword reaches forward to the number it announces.
KEYWORD_REACH = 12


@dataclass(frozen=True)
class Finding:
    kind: str  # card, cvv, expiry, ssn, bank_account, routing_number, email, phone
    description: str
    """What `compliance.sensitive_data_shared` lists, already masked."""
    brand: str | None = None
    last4: str | None = None


UNREAD_CARD = Finding("card", UNREAD_CARD_DESCRIPTION)


@dataclass
class Redaction:
    """Masked replacement text per token index (None: drop the token), and what was found."""

    replacements: dict[int, str | None] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    card_positions: list[int] = field(default_factory=list)
    """Where each card found starts."""


def _context_before(words: Sequence[str], index: int, pattern: re.Pattern[str], reach: int = KEYWORD_REACH) -> bool:
    window = " ".join(words[max(0, index - reach) : index])
    return bool(pattern.search(window))


def _beside_mask(words: Sequence[str], run: list[int]) -> bool:
    """The run is what a mask left showing ("Credit card 4242 **** **** 4242")."""
    around = [words[i] for i in (run[0] - 1, run[-1] + 1) if 0 <= i < len(words)]
    return any("*" in w for w in around)


def _cue_index(words: Sequence[str], index: int, pattern: re.Pattern[str], reach: int = KEYWORD_REACH) -> int | None:
    """The index of the word where the last match of `pattern` within `reach` words before
    `index` ends ("the 3 -digit code": the "3" is part of the question, not its answer), or None."""
    start = max(0, index - reach)
    window = " ".join(words[start:index])
    matches = list(pattern.finditer(window))
    if not matches:
        return None
    return start + window[: matches[-1].end()].count(" ")


def _answers(words: Sequence[str], runs: list[list[int]], position: int, pattern: re.Pattern[str]) -> bool:
    """Whether run `position` is the first number said after a cue ("the security code?" ...
    "nine four seven"): a later number ("that payment of 284 dollars") answers nothing."""
    first = runs[position][0]
    cue = _cue_index(words, first, pattern)
    if cue is None:
        return False
    return not any(cue < run[0] < first for run in runs[:position])


def _is_money(words: Sequence[str], run: list[int]) -> bool:
    after = strip(words[run[-1] + 1]) if run[-1] + 1 < len(words) else ""
    return after in MONEY_WORDS or any(words[i].lstrip().startswith("$") for i in run)


def _take_homophones(tokens: list[Token], runs: list[list[int]], position: int) -> list[int]:
    """After a security-code cue the recognizer writes "for one nine" for 419: homophones next to
    the run (before it or after it) are digits too."""
    run = list(runs[position])
    taken = {i for other in runs for i in other}

    def homophone(i: int) -> bool:
        return 0 <= i < len(tokens) and i not in taken and strip(tokens[i].text) in HOMOPHONES

    while len(run) < 4 and homophone(run[0] - 1):
        i = run[0] - 1
        tokens[i] = Token(tokens[i].text, HOMOPHONES[strip(tokens[i].text)])
        run.insert(0, i)
    while len(run) < 4 and homophone(run[-1] + 1):
        i = run[-1] + 1
        tokens[i] = Token(tokens[i].text, HOMOPHONES[strip(tokens[i].text)])
        run.append(i)
    return run


def _mask_span(tokens: list[Token], run: list[int], start: int, end: int, masked: str, redaction: Redaction) -> None:
    """Replace the tokens carrying digits [start, end) of `run`'s digit string with `masked`."""
    position = 0
    first = True
    for i in run:
        d = tokens[i].digits
        lo, hi = position, position + len(d)
        position = hi
        inside = hi > start and lo < end
        if not d:
            # A filler or a consumed unit word: dropped when it sits inside the masked span.
            if start < lo < end or (tokens[i].consumed and start < lo <= end):
                redaction.replacements[i] = None
            continue
        if not inside:
            continue
        before = d[: max(0, start - lo)] if lo < start else ""
        after = d[end - lo :] if hi > end else ""
        if first:
            redaction.replacements[i] = " ".join(p for p in (before, masked, after) if p)
            first = False
        else:
            redaction.replacements[i] = after or None


def _mask_card(
    tokens: list[Token], run: list[int], start: int, digits: str, brand: str | None, redaction: Redaction
) -> set[int]:
    """Mask the card `digits` found at digit offset `start` of `run`; the offsets it covers."""
    masked = mask_card(digits)
    _mask_span(tokens, run, start, start + len(digits), masked, redaction)
    redaction.findings.append(Finding("card", f"Credit card {masked}", brand=brand, last4=digits[-4:]))
    return set(range(start, start + len(digits)))


def _find_cards(tokens: list[Token], words: Sequence[str], run: list[int], redaction: Redaction) -> set[int]:
    digits = "".join(tokens[i].digits for i in run)
    if any(tokens[i].currency for i in run):
        # Amounts in a row are not a card, unless all their digits together are exactly one (a card
        # read out and written as "$27 .02, $12 .62, $24 .86, $45 .61").
        brand = card_brand(digits)
        if 13 <= len(digits) <= 19 and brand and luhn_valid(digits):
            return _mask_card(tokens, run, 0, digits, brand, redaction)
        return set()
    covered: set[int] = set()
    start = 0
    while start <= len(digits) - 13:
        match = None
        for length in range(min(19, len(digits) - start), 12, -1):
            candidate = digits[start : start + length]
            brand = card_brand(candidate)
            if brand and luhn_valid(candidate):
                match = (brand, candidate)
                break
        if match is None:
            start += 1
            continue
        brand, candidate = match
        covered |= _mask_card(tokens, run, start, candidate, brand, redaction)
        start += len(candidate)
    # A long run that fails the checksum is still treated as a card (a digit may have been
    # misheard, and "card" itself heard as "can't"): no phone number or amount is 13-19 digits,
    # masking a wrong number costs little, and leaking a real one costs a lot.
    if not covered and 13 <= len(digits) <= 19:
        covered = _mask_card(tokens, run, 0, digits, brand_by_prefix(digits), redaction)
    return covered


def _mask_whole(tokens: list[Token], run: list[int], masked: str, redaction: Redaction) -> None:
    digits = "".join(tokens[i].digits for i in run)
    _mask_span(tokens, run, 0, len(digits), masked, redaction)


def find_sensitive(words: Sequence[str], *, redact_pii: bool = False, card_at: int | None = None) -> Redaction:
    """Scan the words of one speaker (in order) and decide what to mask. `card_at`: where another
    reading of the same words found a card, so that "and the code?" is read as a card's code."""
    tokens = tokens_to_digits(words)
    redaction = Redaction()
    card_seen_at: int | None = card_at
    runs = spoken_digits.runs(tokens)
    for position, run in enumerate(runs):
        digits = "".join(tokens[i].digits for i in run)
        first = run[0]
        if _find_cards(tokens, words, run, redaction):
            card_seen_at = first
            redaction.card_positions.append(first)
            continue
        near_card = card_seen_at is not None and first - card_seen_at < 60
        money = _is_money(words, run)
        cvv_asked = not money and (
            _answers(words, runs, position, CVV_CONTEXT)
            or (near_card and _answers(words, runs, position, CODE_WORD))
            or (_answers(words, runs, position, BACK_OF_CARD) and _context_before(words, first, CARD_CONTEXT, 60))
        )
        if cvv_asked and len(digits) < 3:
            run = _take_homophones(tokens, runs, position)
            digits = "".join(tokens[i].digits for i in run)
        # The first number after "the security code?" is the code, even with a digit not heard.
        if 1 <= len(digits) <= 4 and cvv_asked:
            _mask_whole(tokens, run, "***", redaction)
            redaction.findings.append(Finding("cvv", "CVV (redacted)"))
        elif (
            3 <= len(digits) <= 6
            and not money
            and _answers(words, runs, position, EXPIRY_CONTEXT)
            and (near_card or _context_before(words, first, CARD_CONTEXT, 25))
        ):
            _mask_whole(tokens, run, "**/**", redaction)
            for k in range(max(0, first - 3), first):
                if MONTHS.match(words[k].strip()):
                    redaction.replacements[k] = "**"
            redaction.findings.append(Finding("expiry", "Card expiry date (redacted)"))
        elif (
            3 <= len(digits) <= 4
            and not money
            and (
                (near_card and card_seen_at is not None and first > card_seen_at)
                # The card's own digits were lost, but it was named: a short number soon after
                # is as likely its code ("My master car ... please. Six, two, two.").
                or (
                    card_seen_at is None
                    and _context_before(words, first, CARD_MENTION, CODE_AFTER_MENTION)
                    and not _beside_mask(words, run)
                )
            )
            and not _context_before(words, first, LAST_DIGITS, 3)
        ):
            # A short number soon after a card, not its expiry: its code, whatever the question
            # was heard as ("and the CVV please" came back as "missing me please").
            _mask_whole(tokens, run, "***", redaction)
            redaction.findings.append(Finding("cvv", "CVV (redacted)"))
        elif len(digits) == 9 and _context_before(words, first, SSN_CONTEXT):
            _mask_whole(tokens, run, "***-**-****", redaction)
            redaction.findings.append(Finding("ssn", "SSN (redacted)"))
        elif 6 <= len(digits) <= 17 and _context_before(words, first, ROUTING_CONTEXT):
            _mask_whole(tokens, run, "*" * (len(digits) - 4) + digits[-4:], redaction)
            redaction.findings.append(Finding("routing_number", f"Routing number ****{digits[-4:]}"))
        elif 6 <= len(digits) <= 17 and _context_before(words, first, ACCOUNT_CONTEXT):
            _mask_whole(tokens, run, "*" * (len(digits) - 4) + digits[-4:], redaction)
            redaction.findings.append(Finding("bank_account", f"Bank account ****{digits[-4:]}"))
        elif 6 <= len(digits) <= 12 and not money and not near_card and _context_before(words, first, CARD_CONTEXT, 25):
            # Part of a card number the recognizer cut into pieces (no reading found it whole).
            _mask_whole(tokens, run, "*" * len(digits), redaction)
            redaction.findings.append(Finding("card", "Credit card (partly heard, redacted)"))
            card_seen_at = first  # what follows ("and the code?") belongs to a card all the same
            redaction.card_positions.append(first)
        elif redact_pii and 7 <= len(digits) <= 12:
            _mask_whole(tokens, run, "***-***-" + digits[-4:] if len(digits) >= 10 else "***-****", redaction)
            redaction.findings.append(Finding("phone", "Phone number (redacted)"))
    for i, w in enumerate(words):
        if i in redaction.replacements:
            continue
        if SSN_PATTERN.search(w):
            redaction.replacements[i] = SSN_PATTERN.sub("***-**-****", w)
            redaction.findings.append(Finding("ssn", "SSN (redacted)"))
        elif redact_pii and EMAIL.search(w):
            redaction.replacements[i] = EMAIL.sub("[email redacted]", w)
            redaction.findings.append(Finding("email", "Email address (redacted)"))
    return redaction


def redact_words(words: list[Word], *, redact_pii: bool) -> tuple[list[Word], list[Finding]]:
    """Mask what was said, read two ways: each speaker's words as one sequence (a card split across
    segments, or interrupted by the other side's "mm-hmm", is still one number), and the whole call
    in order (the agent asks "and the security code?", the customer answers "nine four seven").
    Every word masked or dropped is marked `masked` (in `words` as given), for the audio's sake."""
    by_speaker: dict[str | None, list[int | None]] = {}
    for index, word in enumerate(words):
        own = by_speaker.setdefault(word.speaker, [])
        # An interruption of more than a backchannel ends a number: a card read out, the
        # agent's question, then the code must not run together into one digit string.
        if own and own[-1] is not None and index - own[-1] > INTERRUPTION_WORDS + 1:
            own.append(None)
        own.append(index)
    per_speaker = list(by_speaker.values()) if len(by_speaker) > 1 else []
    whole_call: list[int | None] = list(range(len(words)))

    findings: list[Finding] = []
    replacements: dict[int, str | None] = {}
    card_at: int | None = None
    # The whole call is read last, knowing where a card was read in one speaker's words.
    for indexes in [*per_speaker, whole_call]:
        said = [words[i].word if i is not None else "|" for i in indexes]
        redaction = find_sensitive(said, redact_pii=redact_pii, card_at=card_at if indexes is whole_call else None)
        starts = [i for i in (indexes[p] for p in redaction.card_positions) if i is not None]
        if starts and indexes is not whole_call:
            card_at = min([*starts, *([card_at] if card_at is not None else [])])
        for position, replacement in redaction.replacements.items():
            at = indexes[position]
            if at is None:
                continue
            index = at
            # A word masked by both readings keeps the stronger mask (fewer digits shown).
            if index not in replacements or _visible_digits(replacement) < _visible_digits(replacements[index]):
                replacements[index] = replacement
        findings.extend(f for f in redaction.findings if f not in findings)
    # Then every digit of a payment exchange, whatever shape the rules saw in it or did not.
    replacements, card_read = exchange.fail_closed([w.word for w in words], replacements)
    if card_read and not any(f.kind == "card" for f in findings):
        findings.append(UNREAD_CARD)
    for index, replacement in replacements.items():
        words[index].masked = True
        if replacement is not None:
            words[index].word = replacement
    return [w for i, w in enumerate(words) if not (i in replacements and replacements[i] is None)], findings


# Masked words this close together are one reading (a card, the agent's "and the code?", the code):
# the audio is covered from the first to the last, questions included.
READING_GAP_SECONDS = 6.0
# How far a covered span reaches past its masked words into the silence around them, up to the
# next word heard: a digit the recognizer dropped at a reading's edge is covered too.
EDGE_SECONDS = 1.0


def masked_spans(words: Sequence[Word]) -> list[tuple[float, float]]:
    """The stretches of audio to cover, from the words as heard (in order, `masked` set by
    `redact_words`): each reading whole, from its first masked word to its last."""
    spans: list[tuple[float, float]] = []
    first: int | None = None
    last = 0
    for i, word in enumerate([*words, None]):
        if word is not None and not word.masked:
            continue
        if first is not None and (word is None or word.start - words[last].end > READING_GAP_SECONDS):
            before = next((w.end for w in reversed(words[:first]) if not w.masked), 0.0)
            after = next((w.start for w in words[last + 1 :] if not w.masked), words[last].end + EDGE_SECONDS)
            start = max(before, words[first].start - EDGE_SECONDS)
            end = min(after, words[last].end + EDGE_SECONDS)
            spans.append((min(start, words[first].start), max(end, words[last].end)))
            first = None
        if word is not None:
            first = i if first is None else first
            last = i
    return spans


def _visible_digits(text: str | None) -> int:
    return sum(c.isdigit() for c in text) if text else 0


def redact_text(text: str, *, redact_pii: bool = False) -> str:
    """Mask a free text (an analysis string, an LLM answer), line by line."""
    if not text:
        return text
    lines = []
    for line in text.split("\n"):
        if redact_pii:
            line = SPOKEN_EMAIL.sub("[email redacted]", EMAIL.sub("[email redacted]", line))
        words = line.split(" ")
        replacements, _ = exchange.fail_closed(words, find_sensitive(words, redact_pii=redact_pii).replacements)
        masked = [replacements.get(i, w) for i, w in enumerate(words)]
        lines.append(" ".join(w for w in masked if w is not None))
    return "\n".join(lines)


def redact_strings(value: Any, mask: Callable[[str], str]) -> Any:
    """Apply `mask` to every string inside a JSON-like value."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [redact_strings(v, mask) for v in value]
    if isinstance(value, dict):
        return {k: redact_strings(v, mask) for k, v in value.items()}
    return value


def redact_result(result: dict[str, Any], *, redact_pii: bool) -> dict[str, Any]:
    """The last pass over everything a transcription returns or stores: every string, every field."""
    return dict(redact_strings(result, lambda s: redact_text(s, redact_pii=redact_pii)))
