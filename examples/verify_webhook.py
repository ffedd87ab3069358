"""Checking a VoxParse webhook on the receiving side: copy `verify` into your receiver.

The `VoxParse-Signature` header is `t=TIMESTAMP,v1=HEX[,v1=HEX...]`, HEX being
HMAC-SHA256(secret, "TIMESTAMP." + raw body). Check it on the raw body, before parsing it, and
refuse old timestamps so that a recorded delivery cannot be replayed.

    python examples/verify_webhook.py SECRET 'HEADER' < body.json   # prints "valid" or "invalid"
"""

import hashlib
import hmac
import sys
import time

TOLERANCE_SECONDS = 300


def verify(
    secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """True when one `v1` of `header` signs `body` with `secret` and its timestamp is recent. During
    a secret rotation a delivery carries one `v1` per secret: any one matching is enough."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))


if __name__ == "__main__":
    print("valid" if verify(sys.argv[1], sys.argv[2], sys.stdin.buffer.read()) else "invalid")
