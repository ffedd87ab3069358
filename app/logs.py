"""Logs go to stdout, one line per record."""

from __future__ import annotations

import logging
import re
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A key in a query string (`/v1/balance?api_key=...`) or anywhere in a line.
SECRET_QUERY = re.compile(r"([?&](?:api_key|apikey|key|token|access_token)=)[^&\s\"']*", re.IGNORECASE)
API_KEY = re.compile(r"vxp_live_[A-Za-z0-9_\-]+")


def redact_secrets(text: str) -> str:
    return API_KEY.sub("vxp_live_[redacted]", SECRET_QUERY.sub(r"\1[redacted]", text))


class SecretFilter(logging.Filter):
    """Rewrites a record's message with keys masked, before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


SECRET_FILTER = SecretFilter()
# Loggers that write request lines themselves, with their own handlers under a plain `uvicorn`.
REQUEST_LOGGERS = ("uvicorn.access", "uvicorn.error")


def guard_request_loggers() -> None:
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if SECRET_FILTER not in logger.filters:
            logger.addFilter(SECRET_FILTER)


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_voxparse", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(SECRET_FILTER)
        handler._voxparse = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
    guard_request_loggers()
