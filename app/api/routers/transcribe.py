from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import RuntimeDep, TranscribePrincipal
from app.api.errors import error_responses
from app.api.schemas import QueuedOut
from app.jobs import transcribe as service

router = APIRouter(tags=["transcription"])


class TranscribeOut(BaseModel):
    job_id: str
    status: str
    duration_seconds: float
    cost_cents: int
    result_url: str
    language: str
    speakers: list[str]
    ai_analysis: dict[str, Any]


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
    file: Annotated[
        UploadFile | None, File(description="Audio file (mp3, wav, m4a, flac, ogg, webm). Max 25 MB.")
    ] = None,
    audio: Annotated[UploadFile | None, File(description="The same as `file` (newer clients' name).")] = None,
    language: Annotated[str | None, Form(description="ISO 639-1 code; auto-detected if omitted.")] = None,
    instructions: Annotated[str | None, Form(description="Custom analysis instructions, max 2,000 characters.")] = None,
    plan: Annotated[str | None, Form(description="`pro` or `transcription-ai`.")] = None,
    speakers: Annotated[
        int | None, Form(description="Exactly this many speakers (1-10). Default: the diarizer decides, 1 or 2.")
    ] = None,
    min_speakers: Annotated[int | None, Form(description="At least this many speakers (default 1).")] = None,
    max_speakers: Annotated[int | None, Form(description="At most this many speakers (default 2).")] = None,
    channels: Annotated[
        str | None, Form(description="`split`: one speaker per stereo channel; `mix`: never split.")
    ] = None,
    redact_pii: Annotated[bool, Form(description="Also mask e-mail addresses and phone numbers.")] = False,
    run_async: Annotated[
        bool,
        Form(alias="async", description="Answer 202 at once with the job id; poll GET /v1/jobs/{id}."),
    ] = False,
    callback_url: Annotated[
        str | None,
        Form(description="POST the job here, signed, when it ends (implies async). http(s) only."),
    ] = None,
    metadata: Annotated[
        str | None, Form(description="A JSON object (max 4 KB) stored with the job and sent in its webhook.")
    ] = None,
) -> TranscribeOut | JSONResponse:
    """Transcribe, diarize and analyse a call in one synchronous request, or, with `async=true` or
    a `callback_url`, queue it and answer 202."""
    upload = file or audio
    outcome = await service.transcribe(
        runtime,
        principal,
        service.TranscribeRequest(
            upload=service.Upload(upload.file, upload.size) if upload is not None else None,
            language=language,
            instructions=instructions,
            plan=plan,
            speakers=speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            channels=channels,
            redact_pii=redact_pii,
            metadata=metadata,
            callback_url=callback_url,
            run_async=run_async,
        ),
    )
    if isinstance(outcome, service.Queued):
        job_url = f"/v1/jobs/{outcome.job_id}"
        queued = QueuedOut(
            job_id=outcome.job_id,
            status="queued",
            job_url=job_url,
            duration_seconds=outcome.duration_seconds,
            cost_cents=outcome.cost_cents,
            metadata=outcome.metadata,
        )
        return JSONResponse(queued.model_dump(mode="json"), status_code=202, headers={"Location": job_url})
    completed = outcome
    result = completed.result
    return TranscribeOut(
        job_id=completed.job_id,
        status="completed",
        duration_seconds=completed.duration_seconds,
        cost_cents=completed.cost_cents,
        result_url=f"/v1/jobs/{completed.job_id}/result",
        language=result["language"],
        speakers=result["speakers"],
        ai_analysis=result["ai_analysis"],
    )
