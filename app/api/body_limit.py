"""Request body limits for every endpoint, enforced while the body streams in.

A declared Content-Length over the limit is refused without storing a byte; a chunked body is
counted as it arrives and cut off at the limit, so a huge upload never reaches memory or disk.

A body declared at most twice the limit is read to its end (and thrown away) before the 413 goes
out: a reverse proxy that buffered the upload is still sending it, and an answer followed by a
closed connection mid-send reaches its client as the proxy's 502, not as our JSON 413. Larger
declared bodies are refused at once.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response

DRAIN_FACTOR = 2
DRAIN_SECONDS = 30.0


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _too_large(limit: int) -> str:
    return f"Request body too large: the limit for this endpoint is {limit} bytes."


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, default_limit: int, path_limits: Mapping[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.path_limits = dict(path_limits)

    def limit_for(self, path: str) -> int:
        for suffix, limit in self.path_limits.items():
            if path.rstrip("/").endswith(suffix):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            if int(declared) <= DRAIN_FACTOR * limit:
                with anyio.move_on_after(DRAIN_SECONDS):
                    await _drain(receive)
            await error_response(413, _too_large(limit), {"Connection": "close"})(scope, receive, send)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes through FastAPI's body parsing to the error handlers.
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counting_receive, send)
