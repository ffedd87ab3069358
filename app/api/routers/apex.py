from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.apex import service
from app.api.deps import CurrentPrincipal, RuntimeDep, SettingsDep
from app.api.errors import error_responses

router = APIRouter(prefix="/v1/apex", tags=["apex"], responses=error_responses(401, 429, 503))


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request; parameters not named here are passed on as they are."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="`apex-latest`, or a model the operator lists.")
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=service.MAX_OUTPUT_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=service.MAX_OUTPUT_TOKENS)
    n: int | None = Field(default=None, ge=1, le=8)
    temperature: float | None = None


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
    body = request.model_dump(exclude_unset=True)
    if request.stream:
        return StreamingResponse(await service.stream(runtime, principal, body), media_type="text/event-stream")
    return JSONResponse(await service.complete(runtime, principal, body))
