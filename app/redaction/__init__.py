"""Payment-card and personal-data redaction. Deterministic, always on, never left to an LLM.

Speech recognition writes a card number in unpredictable pieces: `4532 2914 1777 6311`,
`4532291417776311`, `4532-2914-...`, `4532 2914 1777 631 1`, `four five three two ...`,
`double five`, `oh` for zero. Every word is reduced to the digits it stands for; runs of
digit-bearing words are scanned for card numbers (13-19 digits, Luhn, a known brand's prefix and
length). A card keeps its first four and last four digits at most; CVVs, expiry dates and SSNs are
masked whole; bank account and routing numbers keep their last four.
"""

from app.redaction.cards import card_brand, luhn_valid, mask_card
from app.redaction.masking import (
    Finding,
    Redaction,
    find_sensitive,
    masked_spans,
    redact_result,
    redact_strings,
    redact_text,
    redact_words,
)
from app.redaction.spoken_digits import digit_runs, tokens_to_digits

__all__ = [
    "Finding",
    "Redaction",
    "card_brand",
    "digit_runs",
    "find_sensitive",
    "luhn_valid",
    "mask_card",
    "masked_spans",
    "redact_result",
    "redact_strings",
    "redact_text",
    "redact_words",
    "tokens_to_digits",
]
