"""Words as the digits they say: how speech recognition writes numbers ("4532", "four five",
"forty five", "double five", "oh" for zero, "for" or "to" between digits) reduced to digit runs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

UNITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
TEENS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
}  # fmt: skip
TENS = {
    "twenty": "2", "thirty": "3", "forty": "4", "fourty": "4", "fifty": "5", "sixty": "6",
    "seventy": "7", "eighty": "8", "ninety": "9",
}  # fmt: skip
REPEATS = {"double": 2, "triple": 3}
# Words a recognizer writes for a digit it heard ("nine for seven"); taken as digits only between
# two other digits.
HOMOPHONES = {"for": "4", "fore": "4", "to": "2", "too": "2", "won": "1", "ate": "8"}
# Said between the digits of one number without ending it.
FILLERS = {"uh", "um", "er", "erm", "ah", "dash", "hyphen"}


@dataclass
class Token:
    text: str
    digits: str  # what the token says as digits ("" for none)
    is_filler: bool = False
    consumed: bool = False
    """A unit word whose digit was counted by the tens word before it ("forty" "five")."""
    currency: bool = False
    """Written as money ("$27"): the recognizer makes amounts of digit groups too ("$27 .02, $12 .62")."""


def strip(word: str) -> str:
    return re.sub(r"^[^\w]+|[^\w]+$", "", word.lower())


def _next_unit_follows(words: Sequence[str], i: int) -> bool:
    """Whether a digit word follows word i, skipping fillers ("double, uh, five")."""
    for word in words[i + 1 :]:
        w = strip(word)
        if w in FILLERS:
            continue
        return w in UNITS
    return False


def tokens_to_digits(words: Sequence[str]) -> list[Token]:
    """Each word with the digits it stands for: "4532" -> 4532, "four" -> 4, "forty" "five" -> 45 and
    an empty token, "double" "five" -> an empty token and 55."""
    out: list[Token] = []
    pending_repeat = 1
    i = 0
    while i < len(words):
        raw = words[i]
        w = strip(raw)
        compact = re.sub(r"[\s\-./,()]", "", raw)
        if re.fullmatch(r"\d+[oO]+\d*|\d*[oO]+\d+", compact):
            compact = compact.replace("o", "0").replace("O", "0")  # "656O": a zero heard as the letter
        ordinal = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)", compact.lower())
        if ordinal:  # digits heard as ordinals: "6th, 5th, 1th" (also how some dates are said)
            compact = ordinal.group(1)
        if compact.isdigit():
            out.append(Token(raw, compact * pending_repeat if len(compact) == 1 else compact))
            pending_repeat = 1
        elif compact.startswith("$") and compact[1:].isdigit():
            out.append(Token(raw, compact[1:], currency=True))
            pending_repeat = 1
        elif w in REPEATS and _next_unit_follows(words, i):
            pending_repeat = REPEATS[w]
            out.append(Token(raw, "", is_filler=True))
        elif w in UNITS:
            out.append(Token(raw, UNITS[w] * pending_repeat))
            pending_repeat = 1
        elif w in TEENS:
            out.append(Token(raw, TEENS[w]))
        elif w in TENS:
            # "forty five", also "forty, uh, five": the unit may come after fillers.
            j = i + 1
            while j < len(words) and strip(words[j]) in FILLERS:
                j += 1
            nxt = strip(words[j]) if j < len(words) else ""
            if nxt in UNITS and UNITS[nxt] != "0" and nxt not in ("o", "oh"):
                out.append(Token(raw, TENS[w] + UNITS[nxt]))
                out.extend(Token(words[k], "", is_filler=True) for k in range(i + 1, j))
                out.append(Token(words[j], "", consumed=True))
                i = j + 1
                continue
            out.append(Token(raw, TENS[w] + "0"))
        elif "-" in w and all(part in TENS or part in UNITS for part in w.split("-")) and w.split("-")[0] in TENS:
            tens, unit = w.split("-", 1)
            out.append(Token(raw, TENS[tens] + (UNITS.get(unit, "0"))))
        elif w in FILLERS:
            out.append(Token(raw, "", is_filler=True))
        else:
            out.append(Token(raw, ""))
            pending_repeat = 1
        i += 1
    for k in range(1, len(out) - 1):
        w = strip(out[k].text)
        if w in HOMOPHONES and not out[k].digits and out[k - 1].digits and out[k + 1].digits:
            out[k] = Token(out[k].text, HOMOPHONES[w])
    return out


def runs(tokens: list[Token]) -> list[list[int]]:
    """Maximal runs of digit-bearing tokens; fillers and consumed unit words inside a run belong to
    it, fillers at its end do not."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, t in enumerate(tokens):
        if t.digits or t.consumed or (current and t.is_filler):
            current.append(i)
        else:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    trimmed = []
    for run in runs:
        while run and tokens[run[-1]].is_filler:
            run = run[:-1]
        if any(tokens[i].digits for i in run):
            trimmed.append(run)
    return trimmed


def digit_runs(words: Sequence[str]) -> list[tuple[int, str]]:
    """(index of the first word, digits said) for each run of number words or digit groups."""
    tokens = tokens_to_digits(words)
    return [(run[0], "".join(tokens[i].digits for i in run)) for run in runs(tokens)]
