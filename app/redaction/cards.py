"""Payment cards: the Luhn check, brands by prefix and length, and the masked form."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The brand whose prefix and length rules `digits` meets, or None."""
    n = len(digits)
    two, four, six = int(digits[:2]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "Visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "Mastercard"
    if two in (34, 37) and n == 15:
        return "American Express"
    if (four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649 or 622126 <= six <= 622925) and 16 <= n <= 19:
        return "Discover"
    if (two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305) and 14 <= n <= 19:
        return "Diners Club"
    if 3528 <= four <= 3589 and 16 <= n <= 19:
        return "JCB"
    if two == 62 and 16 <= n <= 19:
        return "UnionPay"
    if (two == 50 or 56 <= two <= 69) and 12 <= n <= 19:
        return "Maestro"
    return None


def brand_by_prefix(digits: str) -> str | None:
    """The brand a number's first digits suggest, whatever its length (for numbers a digit short)."""
    if digits.startswith("4"):
        return "Visa"
    if digits[:2] in ("51", "52", "53", "54", "55") or "2221" <= digits[:4] <= "2720":
        return "Mastercard"
    if digits[:2] in ("34", "37"):
        return "American Express"
    if digits.startswith(("6011", "65")):
        return "Discover"
    return None


def mask_card(digits: str) -> str:
    """First four and last four at most, the rest as `*`: 4532 **** **** 8831."""
    hidden = "*" * (len(digits) - 8)
    middle = " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))
    return f"{digits[:4]} {middle} {digits[-4:]}"
