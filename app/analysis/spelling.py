"""Names spelled on the phone: "Castaneda, C-A-S, T-A-N-E-D-A", "N as in Nancy, O, O, T", "K, O, T, E, R".

The letters said right after a name are the surest spelling of it there is: a recognizer that
misheard "Castaneda" as "Castingham" writes the letters it heard one by one far more faithfully.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

# One spelled letter: a capital on its own ("K", "K."), or with its word ("K as in Kilo").
LETTER = r"(?<![\w'])[A-Z](?:\s+as\s+in\s+[A-Za-z-]+)?(?![\w'])"
# Letters joined by dashes, commas, full stops or spaces; three or more make a spelling.
SPELLING = re.compile(rf"{LETTER}(?:[\s,.\-]+{LETTER})+")
ONE_LETTER = re.compile(r"(?<![\w'])([A-Z])(?:\s+as\s+in\s+[A-Za-z-]+)?(?![\w'])")
MIN_LETTERS = 3
# A spelling repeats a word said just before it: how alike the two must be to be one name.
SAME_NAME = 0.5
# ... or start with its letter and be this alike ("Castingham" spelled C-A-S-T-A-N-E-D-A).
SAME_INITIAL = 0.3


# The word of an "as in" said before the letters, whose first letter starts the spelling: "N as in
# Nancy, O, O, T" heard as "And as a Nancy, O -O -T" or "M &Mike, A, C, C".
AS_IN_BEFORE = re.compile(r"(?:\bas (?:in |a |an )?|&\s?)(?P<word>[A-Za-z]+)[\s,.\-]*$", re.IGNORECASE)


def spellings(text: str) -> list[tuple[int, str]]:
    """(where it starts, the word spelled, as a name: "Castaneda") for every spelling in `text`."""
    found = []
    for match in SPELLING.finditer(text):
        letters = ONE_LETTER.findall(match.group(0))
        as_in = AS_IN_BEFORE.search(text[max(0, match.start() - 30) : match.start()])
        if as_in and not ONE_LETTER.fullmatch(text[max(0, match.start() - 2) : match.start()].strip(" ,.-")):
            letters = [as_in.group("word")[0].upper(), *letters]
        if len(letters) >= MIN_LETTERS:
            found.append((match.start(), "".join(letters).capitalize()))
    return found


def without_spellings(text: str) -> str:
    """`text` with its spellings taken out: "M as in Mike" names no one."""
    return SPELLING.sub(lambda m: "" if len(ONE_LETTER.findall(m.group(0))) >= MIN_LETTERS else m.group(0), text)


def _alike(a: str, b: str) -> float:
    return SequenceMatcher(None, a.lower(), b.lower()).ratio()


def respelled(name: str, spelled: str) -> str | None:
    """`name` with the word that `spelled` spells replaced by the spelling ("Ana Castingham" and
    "Castaneda" -> "Ana Castaneda"), the surname tried first; None when no word of the name is that
    word."""
    words = name.split()
    # The surname first: it is what people spell.
    for i in reversed(range(len(words))):
        alike = _alike(words[i], spelled)
        if alike >= SAME_NAME or (alike >= SAME_INITIAL and words[i][0].lower() == spelled[0].lower()):
            words[i] = spelled
            return " ".join(words)
    return None


def with_spelling(name: str | None, customer_turns: list[str], echoed_first: str | None) -> str | None:
    """The customer's name corrected or supplied by what they spelled: the last spelling that
    spells a word of `name` replaces it; with no such word, a spelling beside the first name the
    agent echoed ("Got it, Dia") is the surname."""
    spelled = [word for text in customer_turns for _, word in spellings(text)]
    if not spelled:
        return name
    if name:
        for word in reversed(spelled):
            corrected = respelled(name, word)
            if corrected:
                return corrected
        if len(name.split()) == 1 and name != spelled[-1]:
            return f"{name} {spelled[-1]}"
        return name
    if echoed_first and echoed_first.lower() != spelled[-1].lower():
        return f"{echoed_first} {spelled[-1]}"
    return spelled[-1]
