"""/v1/apex: an OpenAI-compatible chat endpoint in front of the operator's upstream, metered
against the balance. Each call is a job of type `apex`: a hold for the worst case (prompt plus
max_tokens) before the upstream is called, settled to the upstream's reported usage after."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import openai
from starlette.concurrency import run_in_threadpool

from app import redaction
from app.billing import ledger
from app.billing.accounts import Principal
from app.config import Settings
from app.errors import ApiError, BadGateway, BadRequest, NotFound, ServiceUnavailable
from app.jobs import records
from app.models import Job
from app.runtime import Runtime

logger = logging.getLogger(__name__)

PUBLIC_MODEL = "apex-latest"
# The fields a client may limit the completion with; the smallest given wins.
LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")
# Far above any model's output window; keeps the worst-case hold a sane number of cents.
MAX_OUTPUT_TOKENS = 1_000_000
JOB_TYPE = "apex"
# Chat parameters handed to the SDK by name; anything else travels in `extra_body`.
KNOWN_PARAMS = {
    "frequency_penalty", "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "n", "presence_penalty",
    "response_format", "seed", "stop", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user",
    "parallel_tool_calls",
}  # fmt: skip


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
    hold_id: int
    hold_cents: int
    upstream_model: str
    params: dict[str, Any]
    client_wants_usage: bool


def _estimate_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    # A token is at least one byte of text: the byte count is a safe ceiling for the hold.
    return len(json.dumps(messages, ensure_ascii=False).encode())


def prepare(runtime: Runtime, principal: Principal, body: dict[str, Any]) -> PreparedCall:
    """Validate, pick the upstream model, hold the worst-case cost, record the job. Blocking."""
    settings = runtime.settings
    if runtime.apex is None:
        raise ServiceUnavailable("The Apex LLM backend is not configured on this server.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("'model' is required.")
    upstream_model = _upstream_model(settings, model)
    n = body.get("n") or 1
    if not isinstance(n, int) or not 1 <= n <= 8:
        raise BadRequest("'n' must be between 1 and 8.")
    limits = {f: body[f] for f in LIMIT_FIELDS if body.get(f) is not None}
    for name, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_OUTPUT_TOKENS:
            raise BadRequest(f"'{name}' must be between 1 and {MAX_OUTPUT_TOKENS}.")
    params = {k: v for k, v in body.items() if k not in ("model", "messages", "stream", "stream_options")}
    # One effective limit, the smallest given, sent in every field the client used: the hold is
    # sized on the same number the upstream is held to.
    max_tokens = min(limits.values()) if limits else settings.apex_default_max_tokens
    for name in limits or {"max_tokens": max_tokens}:
        params[name] = max_tokens
    if settings.apex_redact_cards:
        messages = _redact_messages(messages)
    params["messages"] = messages
    hold = cost_cents(settings, _estimate_prompt_tokens(messages), max_tokens * n)
    with runtime.db.transaction() as session:
        job = records.create_job(session, principal.account_id, type=JOB_TYPE, model=model)
        hold_entry = ledger.place_hold(
            session, principal.account_id, job.id, hold, expiry_days=settings.credit_expiry_days
        )
        records.mark_processing(session, job, runtime.runner)
        prepared = PreparedCall(
            job.id,
            hold_entry.id,
            hold,
            upstream_model,
            params,
            client_wants_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        )
    runtime.active_jobs.add(prepared.job_id)
    return prepared


def settle(
    runtime: Runtime, call: PreparedCall, prompt_tokens: int, completion_tokens: int, error: str | None = None
) -> int:
    """Charge for what was used, never more than was held, and close the job. Blocking."""
    cost = cost_cents(runtime.settings, prompt_tokens, completion_tokens)
    if cost > call.hold_cents:
        # The upstream reported more than the request allowed: the excess is not the client's.
        logger.warning(
            "apex job %s: upstream usage (%d prompt + %d completion tokens, %d cents) exceeds the hold of %d cents; "
            "charging the hold",
            call.job_id, prompt_tokens, completion_tokens, cost, call.hold_cents,
        )  # fmt: skip
        cost = call.hold_cents
    with runtime.db.transaction() as session:
        job = session.get(Job, call.job_id)
        assert job is not None
        ledger.settle_hold(session, call.hold_id, cost)
        if error is None:
            records.complete_job(session, job, duration_seconds=0.0, cost_cents=cost, result=None)
        else:
            job.cost_cents = cost
            records.fail_job(session, job, error)
    runtime.active_jobs.discard(call.job_id)
    return cost


def abandon(runtime: Runtime, call: PreparedCall, reason: str) -> None:
    """The upstream call failed: nothing used, the hold is released. Blocking."""
    with runtime.db.transaction() as session:
        job = session.get(Job, call.job_id)
        if job is not None:
            records.fail_job(session, job, reason)
    runtime.active_jobs.discard(call.job_id)


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


async def complete(runtime: Runtime, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    call = await run_in_threadpool(prepare, runtime, principal, body)
    assert runtime.apex is not None
    known, extra = _split_params(call.params)
    try:
        completion = await runtime.apex.chat.completions.create(
            model=call.upstream_model, extra_body=extra or None, **known
        )
    except openai.OpenAIError as exc:
        await run_in_threadpool(abandon, runtime, call, f"upstream error: {type(exc).__name__}")
        raise upstream_error(exc) from exc
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(abandon, runtime, call, "request cancelled")
        raise
    usage = completion.usage
    await run_in_threadpool(
        settle, runtime, call, usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0
    )
    answer: dict[str, Any] = completion.model_dump(mode="json", exclude_unset=True)
    answer["model"] = body["model"]
    return answer


async def stream(runtime: Runtime, principal: Principal, body: dict[str, Any]) -> AsyncIterator[str]:
    """Server-sent events relayed chunk by chunk; the hold is settled when the stream ends, or to
    what was delivered when the client goes away (the upstream request is then closed)."""
    call = await run_in_threadpool(prepare, runtime, principal, body)
    assert runtime.apex is not None
    known, extra = _split_params(call.params)
    try:
        upstream = await runtime.apex.chat.completions.create(
            model=call.upstream_model,
            stream=True,
            stream_options={"include_usage": True},
            extra_body=extra or None,
            **known,
        )
    except openai.OpenAIError as exc:
        await run_in_threadpool(abandon, runtime, call, f"upstream error: {type(exc).__name__}")
        raise upstream_error(exc) from exc

    async def events() -> AsyncIterator[str]:
        prompt_tokens, completion_tokens, delivered = 0, 0, 0
        finished = False
        error: str | None = None
        try:
            async for chunk in upstream:
                if chunk.usage is not None:
                    prompt_tokens, completion_tokens = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
                    if not call.client_wants_usage and not chunk.choices:
                        continue
                delivered += sum(1 for c in chunk.choices if c.delta and c.delta.content)
                data = chunk.model_dump(mode="json", exclude_unset=True)
                data["model"] = body["model"]
                yield f"data: {json.dumps(data)}\n\n"
            finished = True
            yield "data: [DONE]\n\n"
        except openai.OpenAIError as exc:
            error = f"upstream error mid-stream: {type(exc).__name__}"
            yield f"data: {json.dumps({'error': {'message': upstream_error(exc).message, 'code': 502}})}\n\n"
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.close()
                if not finished and error is None:
                    error = "client disconnected mid-stream"
                if not finished:
                    # No usage report arrived: charge the prompt estimate and the pieces delivered.
                    prompt_tokens = prompt_tokens or _estimate_prompt_tokens(call.params["messages"]) // 4
                    completion_tokens = completion_tokens or delivered
                await run_in_threadpool(settle, runtime, call, prompt_tokens, completion_tokens, error)

    return events()
