from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep, TranscribePrincipal
from app.api.errors import error_responses
from app.api.schemas import QueuedOut, TranscribeForm, TranscribeOut
from app.jobs import transcribe as service

router = APIRouter(tags=["transcription"])


@router.post(
    "/v1/transcribe",
    response_model=TranscribeOut,
    responses={
        202: {"model": QueuedOut, "description": "Queued (async=true or a callback_url)"},
        **error_responses(400, 401, 402, 413, 429, 500, 503),
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
    if request.is_async:
        callback_url = (request.callback_url or "").strip() or None
        # Intake decodes too: bounded like the work itself, so parallel uploads queue, not pile up.
        async with runtime.intake_slots:
            queued = await run_in_threadpool(
                service.submit, runtime, principal, file_to_read, options, meta, callback_url
            )
        job_url = f"/v1/jobs/{queued.job_id}"
        body = QueuedOut(
            job_id=queued.job_id,
            status="queued",
            job_url=job_url,
            duration_seconds=queued.duration_seconds,
            cost_cents=queued.cost_cents,
            metadata=queued.metadata,
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Location": job_url})

    async with runtime.transcription_slots:
        # In a thread of its own, shielded: a client that goes away cannot stop the job half way;
        # it still ends completed or failed, and keeps its slot until then.
        work = asyncio.ensure_future(
            run_in_threadpool(service.process, runtime, principal, file_to_read, options, None, meta)
        )
        try:
            completed = await asyncio.shield(work)
        except asyncio.CancelledError:
            await asyncio.wait([work])
            raise
    return TranscribeOut(
        **completed.result.model_dump(),
        job_id=completed.job_id,
        status="completed",
        cost_cents=completed.cost_cents,
        result_url=f"/v1/jobs/{completed.job_id}/result",
    )
