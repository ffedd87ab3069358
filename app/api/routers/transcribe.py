from __future__ import annotations

import asyncio
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep, TranscribePrincipal
from app.api.errors import error_responses
from app.api.idempotent import Answer, IdempotencyKeyHeader, KeyedRequest, claim, recorded
from app.api.schemas import QueuedOut, TranscribeForm, TranscribeOut
from app.billing.accounts import Principal
from app.idempotency import Replay
from app.jobs import records
from app.jobs import transcribe as service
from app.runtime import Runtime
from app.speech.pipeline import TranscriptionOptions
from app.speech.result import TranscriptionResult

router = APIRouter(tags=["transcription"])
ENDPOINT = "POST /v1/transcribe"


def _queued_response(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=202, headers={"Location": body["job_url"]})


def _replayed(runtime: Runtime, principal: Principal, replay: Replay) -> TranscribeOut | JSONResponse:
    """The first answer again: a completed job from its stored result, anything else as it was."""
    if replay.job_id is not None:
        with runtime.db.transaction(read_only=True) as session:
            job = records.get_job(session, principal.account_id, replay.job_id)
            result = TranscriptionResult.model_validate(records.get_result(session, principal.account_id, job.id))
            return TranscribeOut.completed(job.id, job.cost_cents or 0, result)
    if replay.status == 202 and replay.body is not None:
        return _queued_response(replay.body)
    return JSONResponse(replay.body, status_code=replay.status)


def _queued_body(queued: service.Queued) -> dict[str, Any]:
    return QueuedOut(
        job_id=queued.job_id,
        status="queued",
        job_url=f"/v1/jobs/{queued.job_id}",
        duration_seconds=queued.duration_seconds,
        cost_cents=queued.cost_cents,
        metadata=queued.metadata,
    ).model_dump(mode="json")


def _submit(
    runtime: Runtime,
    principal: Principal,
    upload: service.Upload,
    options: TranscriptionOptions,
    meta: dict[str, Any] | None,
    callback_url: str | None,
    keyed: KeyedRequest | None,
) -> dict[str, Any]:
    """Hold and queue (blocking); the 202 body, recorded under the idempotency key if any."""
    queued = recorded(
        keyed,
        lambda: service.submit(runtime, principal, upload, options, meta, callback_url),
        lambda done: Answer(202, _queued_body(done)),
    )
    return _queued_body(queued)


def _process(
    runtime: Runtime,
    principal: Principal,
    upload: service.Upload,
    options: TranscriptionOptions,
    meta: dict[str, Any] | None,
    keyed: KeyedRequest | None,
) -> service.Completed:
    """The whole synchronous job (blocking), its outcome recorded under the idempotency key even
    when the client has gone meanwhile: a retry then gets this job, not a second one."""
    return recorded(
        keyed,
        lambda: service.process(runtime, principal, upload, options, None, meta),
        lambda done: Answer(200, job_id=done.job_id),
    )


@router.post(
    "/v1/transcribe",
    response_model=TranscribeOut,
    responses={
        202: {"model": QueuedOut, "description": "Queued (async=true or a callback_url)"},
        **error_responses(400, 401, 402, 409, 413, 422, 429, 500, 503),
    },
)
async def create_transcription(
    principal: TranscribePrincipal,
    runtime: RuntimeDep,
    form: Annotated[TranscribeForm, Form()],
    file: Annotated[
        UploadFile | None, File(description="Audio file (mp3, wav, m4a, flac, ogg, webm). Max 25 MB.")
    ] = None,
    audio: Annotated[UploadFile | None, File(description="The same as `file` (newer clients' name).")] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TranscribeOut | JSONResponse:
    """Transcribe, diarize and analyse a call in one synchronous request, or, with `async=true` or
    a `callback_url`, queue it and answer 202."""
    upload = file or audio
    request = service.TranscribeRequest(
        upload=service.Upload(upload.file, upload.size) if upload is not None else None,
        **form.model_dump(exclude={"metadata", "callback_url", "run_async"}),
        metadata=form.metadata,
        callback_url=form.callback_url,
        run_async=form.run_async,
    )
    file_to_read, options = service.validate(request, runtime.settings)
    meta = service.parse_metadata(request.metadata)
    keyed, replay = await run_in_threadpool(
        claim, runtime.db, runtime.settings, principal, idempotency_key, ENDPOINT,
        form.model_dump(mode="json"), file_to_read.file,
    )  # fmt: skip
    if replay is not None:
        return await run_in_threadpool(_replayed, runtime, principal, replay)
    try:
        if request.is_async:
            callback_url = (request.callback_url or "").strip() or None
            # Intake decodes too: bounded like the work itself, so parallel uploads queue, not pile up.
            async with runtime.intake_slots:
                body = await run_in_threadpool(
                    _submit, runtime, principal, file_to_read, options, meta, callback_url, keyed
                )
            return _queued_response(body)

        async with runtime.transcription_slots:
            # In a thread of its own, shielded: a client that goes away cannot stop the job half
            # way; it still ends completed or failed, and keeps its slot until then.
            work = asyncio.ensure_future(
                run_in_threadpool(_process, runtime, principal, file_to_read, options, meta, keyed)
            )
            try:
                completed = await asyncio.shield(work)
            except asyncio.CancelledError:
                await asyncio.wait([work])
                raise
        return TranscribeOut.completed(completed.job_id, completed.cost_cents, completed.result)
    except BaseException:
        if keyed is not None:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(keyed.abandoned)
        raise
