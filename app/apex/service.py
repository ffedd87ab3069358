"""/v1/apex: an OpenAI-compatible chat endpoint in front of the operator's upstream, metered
against the balance. Each call is a job of type `apex`: a hold for the worst case (prompt plus
max_tokens) before the upstream is called, settled to the upstream's reported usage after."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import anyio.to_thread
import openai

from app import redaction
from app.billing.accounts import Principal
from app.config import Settings
from app.errors import ApiError, BadGateway, BadRequest, NotFound, ServiceUnavailable
from app.jobs.metering import Meter

PUBLIC_MODEL = "apex-latest"
# The fields a client may limit the completion with; the smallest given wins.
LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")
# Far above any model's output window; keeps the worst-case hold a sane number of cents.
MAX_OUTPUT_TOKENS = 1_000_000
MAX_CHOICES = 8
JOB_TYPE = "apex"
# Chat parameters handed to the SDK by name; anything else travels in `extra_body`.
KNOWN_PARAMS = {
    "frequency_penalty", "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "n", "presence_penalty",
    "response_format", "seed", "stop", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user",
    "parallel_tool_calls",
}  # fmt: skip


class ApexContext(Protocol):
    """What an Apex call needs of the process (`app.runtime.Runtime` provides it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def meter(self) -> Meter: ...

    @property
    def apex(self) -> openai.AsyncOpenAI | None:
        """The upstream client, when one is configured."""
        ...


@dataclass(frozen=True)
class ChatRequest:
    """A chat completion request whose fields are valid one by one (the API's request model)."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    """Every other parameter the client sent (limits, `n`, sampling, tools...), passed on."""
    include_usage: bool = False
    """When streaming: the client asked for the usage chunk."""


class UpstreamRejected(BadRequest):
    """The upstream refused the request (context too long, bad parameter): its message, as a 400."""


def list_models(settings: Settings) -> dict[str, Any]:
    names = [PUBLIC_MODEL, *settings.apex_extra_models]
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "voxparse"} for name in names],
    }


def cost_cents(settings: Settings, prompt_tokens: int, completion_tokens: int) -> int:
    micro = (
        prompt_tokens * settings.apex_input_price_per_million_cents
        + completion_tokens * settings.apex_output_price_per_million_cents
    )
    return math.ceil(micro / 1_000_000) if micro else 0


def _upstream_model(settings: Settings, requested: str) -> str:
    if requested == PUBLIC_MODEL:
        assert settings.apex_model is not None
        return settings.apex_model
    if requested in settings.apex_extra_models:
        return requested
    available = ", ".join([PUBLIC_MODEL, *settings.apex_extra_models])
    raise NotFound(f"The model '{requested}' does not exist. Available: {available}.")


def _redact_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def mask(value: str) -> str:
        return redaction.redact_text(value)

    return [redaction.redact_strings(m, mask) if isinstance(m, dict) else m for m in messages]


@dataclass
class PreparedCall:
    job_id: str
    upstream_model: str
    params: dict[str, Any]
    client_wants_usage: bool


def _estimate_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    # A token is at least one byte of text: the byte count is a safe ceiling for the hold.
    return len(json.dumps(messages, ensure_ascii=False).encode())


def prepare(ctx: ApexContext, principal: Principal, request: ChatRequest) -> PreparedCall:
    """Pick the upstream model, hold the worst-case cost, open the job. Blocking."""
    settings = ctx.settings
    if ctx.apex is None:
        raise ServiceUnavailable("The Apex LLM backend is not configured on this server.")
    upstream_model = _upstream_model(settings, request.model)
    params = {k: v for k, v in request.params.items() if k not in ("model", "messages", "stream", "stream_options")}
    limits = {f: params[f] for f in LIMIT_FIELDS if params.get(f) is not None}
    # One effective limit, the smallest given, sent in every field the client used: the hold is
    # sized on the same number the upstream is held to.
    max_tokens = min(limits.values()) if limits else settings.apex_default_max_tokens
    for name in limits or {"max_tokens": max_tokens}:
        params[name] = max_tokens
    messages = _redact_messages(request.messages) if settings.apex_redact_cards else request.messages
    params["messages"] = messages
    hold = cost_cents(settings, _estimate_prompt_tokens(messages), max_tokens * (params.get("n") or 1))
    job_id = ctx.meter.open_job(principal.account_id, type=JOB_TYPE, model=request.model, hold_cents=hold)
    return PreparedCall(job_id, upstream_model, params, client_wants_usage=request.include_usage)


def _split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    known = {k: v for k, v in params.items() if k in KNOWN_PARAMS or k == "messages"}
    extra = {k: v for k, v in params.items() if k not in known}
    return known, extra


def upstream_error(exc: openai.OpenAIError) -> ApiError:
    if isinstance(exc, openai.APITimeoutError):
        return BadGateway("The LLM provider did not answer in time.")
    if isinstance(exc, openai.APIConnectionError):
        return BadGateway("The LLM provider could not be reached.")
    if isinstance(exc, openai.APIStatusError):
        message = _provider_message(exc)
        if 400 <= exc.status_code < 500:
            return UpstreamRejected(f"The LLM provider rejected the request: {message}")
        return BadGateway(f"The LLM provider failed ({exc.status_code}): {message}")
    return BadGateway("The LLM provider failed.")


def _provider_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:500]
    return "no details"


async def _prepare(ctx: ApexContext, principal: Principal, request: ChatRequest) -> PreparedCall:
    # Shielded: a request cancelled meanwhile gets its job back, and ends it at the next await.
    with anyio.CancelScope(shield=True):
        call = await anyio.to_thread.run_sync(prepare, ctx, principal, request)
    return call


async def _abandon(ctx: ApexContext, call: PreparedCall, reason: str) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(ctx.meter.abandon, call.job_id, reason)


async def _call_upstream(ctx: ApexContext, call: PreparedCall, **options: Any) -> Any:
    """The upstream request. A failure, or a cancellation before it answers, ends the job unpaid."""
    assert ctx.apex is not None
    known, extra = _split_params(call.params)
    try:
        return await ctx.apex.chat.completions.create(
            model=call.upstream_model, extra_body=extra or None, **known, **options
        )
    except openai.OpenAIError as exc:
        await _abandon(ctx, call, f"upstream error: {type(exc).__name__}")
        raise upstream_error(exc) from exc
    except BaseException:
        await _abandon(ctx, call, "request cancelled")
        raise


async def complete(ctx: ApexContext, principal: Principal, request: ChatRequest) -> dict[str, Any]:
    call = await _prepare(ctx, principal, request)
    completion = await _call_upstream(ctx, call)
    usage = completion.usage
    cost = cost_cents(ctx.settings, usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0)
    await anyio.to_thread.run_sync(ctx.meter.settle, call.job_id, cost)
    answer: dict[str, Any] = completion.model_dump(mode="json", exclude_unset=True)
    answer["model"] = request.model
    return answer


class ApexStream:
    """Server-sent events relayed chunk by chunk from an upstream stream already opened. The job
    ends once, in `close`: when the events run out, when the client goes away mid-stream, or, if
    the events were never read at all, when the web layer closes the response."""

    def __init__(self, ctx: ApexContext, call: PreparedCall, upstream: Any, public_model: str) -> None:
        self._ctx, self._call, self._upstream, self._public_model = ctx, call, upstream, public_model
        self._prompt_tokens = self._completion_tokens = self._delivered = self._sent = 0
        self._finished = False
        self._error: str | None = None
        self._closed = False

    async def events(self) -> AsyncIterator[str]:
        try:
            async for chunk in self._upstream:
                if chunk.usage is not None:
                    self._prompt_tokens = chunk.usage.prompt_tokens
                    self._completion_tokens = chunk.usage.completion_tokens
                    if not self._call.client_wants_usage and not chunk.choices:
                        continue
                self._delivered += sum(1 for c in chunk.choices if c.delta and c.delta.content)
                data = chunk.model_dump(mode="json", exclude_unset=True)
                data["model"] = self._public_model
                self._sent += 1
                yield f"data: {json.dumps(data)}\n\n"
            self._finished = True
            yield "data: [DONE]\n\n"
        except openai.OpenAIError as exc:
            self._error = f"upstream error mid-stream: {type(exc).__name__}"
            yield f"data: {json.dumps({'error': {'message': upstream_error(exc).message, 'code': 502}})}\n\n"
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the upstream and settle the job, to what was used. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            await self._upstream.close()
            error = self._error
            prompt_tokens, completion_tokens = self._prompt_tokens, self._completion_tokens
            if not self._finished:
                error = error or (
                    "client disconnected mid-stream"
                    if self._delivered
                    else "client went away before the stream started"
                )
                # No usage report arrived: charge the prompt estimate and the pieces delivered.
                prompt_tokens = prompt_tokens or _estimate_prompt_tokens(self._call.params["messages"]) // 4
                completion_tokens = completion_tokens or self._delivered
            cost = cost_cents(self._ctx.settings, prompt_tokens, completion_tokens)
            await anyio.to_thread.run_sync(lambda: self._ctx.meter.settle(self._call.job_id, cost, error=error))


async def stream(ctx: ApexContext, principal: Principal, request: ChatRequest) -> ApexStream:
    """Open the upstream stream; the caller reads `events()` and must `close()` the result."""
    call = await _prepare(ctx, principal, request)
    upstream = await _call_upstream(ctx, call, stream=True, stream_options={"include_usage": True})
    return ApexStream(ctx, call, upstream, request.model)
