from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from app.apex import service
from app.api.deps import CurrentPrincipal, RuntimeDep, SettingsDep
from app.api.errors import error_responses
from app.api.schemas import ChatCompletionRequest

router = APIRouter(prefix="/v1/apex", tags=["apex"], responses=error_responses(401, 429, 503))


class MeteredEventStream(StreamingResponse):
    """Server-sent events whose job is settled however the response ends, even when the client
    is gone before the first event is read (then the events are never started)."""

    def __init__(self, stream: service.ApexStream) -> None:
        super().__init__(stream.events(), media_type="text/event-stream")
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._stream.close()


@router.get("/models")
def list_models(principal: CurrentPrincipal, settings: SettingsDep) -> dict[str, Any]:
    """The models this endpoint answers for, in OpenAI's list shape."""
    return service.list_models(settings)


@router.post(
    "/chat/completions",
    response_model=None,
    responses={
        200: {"description": "An OpenAI chat completion, or server-sent events when `stream` is true."},
        **error_responses(400, 402, 404, 502),
    },
)
async def create_chat_completion(
    request: ChatCompletionRequest, principal: CurrentPrincipal, runtime: RuntimeDep
) -> JSONResponse | StreamingResponse:
    """OpenAI-compatible chat completions, metered against the balance."""
    params = request.model_dump(exclude_unset=True, exclude={"model", "messages", "stream", "stream_options"})
    chat = service.ChatRequest(
        model=request.model,
        messages=request.messages,
        params=params,
        include_usage=bool((request.stream_options or {}).get("include_usage")),
    )
    if request.stream:
        return MeteredEventStream(await service.stream(runtime, principal, chat))
    return JSONResponse(await service.complete(runtime, principal, chat))
