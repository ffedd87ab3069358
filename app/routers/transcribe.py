from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from app.deps import RuntimeDep, TranscribePrincipal
from app.errors import error_responses
from app.services import transcribe as service

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
    responses=error_responses(400, 401, 402, 413, 429, 500, 503),
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
    speakers: Annotated[int | None, Form(description="Expected number of speakers (default 2).")] = None,
    channels: Annotated[
        str | None, Form(description="`split`: one speaker per stereo channel; `mix`: never split.")
    ] = None,
    redact_pii: Annotated[bool, Form(description="Also mask e-mail addresses and phone numbers.")] = False,
) -> TranscribeOut:
    """Transcribe, diarize and analyse a call in one synchronous request."""
    upload = file or audio
    completed = await service.transcribe(
        runtime,
        principal,
        service.TranscribeRequest(
            upload=service.Upload(upload.file, upload.size) if upload is not None else None,
            language=language,
            instructions=instructions,
            plan=plan,
            speakers=speakers,
            channels=channels,
            redact_pii=redact_pii,
        ),
    )
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
