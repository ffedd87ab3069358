"""The shared client for the Apex upstream (any OpenAI-compatible server)."""

from __future__ import annotations

from typing import Any

import openai

from app.config import Settings


def _limits(max_connections: int) -> Any:
    # openai builds on its own HTTP client package (httpx2 in openai 3, httpx before): take the
    # Limits class from the SDK's defaults so the right one is used either way.
    from openai._constants import DEFAULT_CONNECTION_LIMITS

    return type(DEFAULT_CONNECTION_LIMITS)(
        max_connections=max_connections, max_keepalive_connections=min(max_connections, 20)
    )


def make_client(settings: Settings) -> openai.AsyncOpenAI | None:
    """One shared client per process, with timeouts and a connection limit; retries are the caller's."""
    if not (settings.apex_base_url and settings.apex_model):
        return None
    return openai.AsyncOpenAI(
        base_url=settings.apex_base_url,
        api_key=settings.apex_api_key.get_secret_value() if settings.apex_api_key else "none",
        timeout=openai.Timeout(settings.apex_timeout_seconds, connect=10.0),
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(limits=_limits(settings.apex_max_connections)),
    )
