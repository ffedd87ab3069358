from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from app.api.deps import CurrentPrincipal, RuntimeDep
from app.api.errors import error_responses
from app.api.schemas import JobsPageOut
from app.jobs import categorization, records, redacted_audio, runner
from app.jobs.documents import JobDetailOut, job_out
from app.speech import audio_redaction, result_formats
from app.speech.result import TranscriptionResult
from app.speech.result_formats import ResultFormat

# Keeps every value a 64-bit integer in SQL.
MAX_OFFSET = 1_000_000_000

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=error_responses(401, 429))


@router.get("", response_model=JobsPageOut, responses=error_responses(400))
def list_jobs(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Max results per page (max 100)")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Number of results to skip")] = 0,
    category: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only jobs whose call matched this category")
    ] = None,
) -> JobsPageOut:
    """Your jobs, newest first."""
    with runtime.db.transaction(read_only=True) as session:
        page = records.list_jobs(session, principal.account_id, limit=limit, offset=offset, category=category)
        return JobsPageOut(jobs=[job_out(job) for job in page], limit=limit, offset=offset, category=category)


@router.get("/{job_id}", response_model=JobDetailOut, responses=error_responses(404))
def get_job(job_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> JobDetailOut:
    """One job; `result_url` is set once it has completed with a result. `progress` tells the
    stage a running job is in; `webhook` records each delivery attempt of a job with a callback."""
    return runner.job_detail(runtime, principal.account_id, job_id)


@router.delete("/{job_id}", response_model=JobDetailOut, responses=error_responses(404, 409))
def cancel_job(job_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> JobDetailOut:
    """Cancel a job: a queued one ends now (`failed`, "Cancelled by request.", its hold released);
    a running one stops at its next stage boundary (`cancel_requested` is true until it does)."""
    return runner.cancel(runtime, principal.account_id, job_id)


@router.post("/{job_id}/categorize", response_model=TranscriptionResult, responses=error_responses(404))
def categorize_job(job_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> TranscriptionResult:
    """Evaluate your current categories and scorecard on a completed job's stored result, without
    transcribing again (free), and store the result with its new `categories` and `scorecard`."""
    return categorization.recategorize(runtime.db, runtime.settings, principal.account_id, job_id)


@router.get(
    "/{job_id}/audio",
    response_class=FileResponse,
    responses={
        200: {"description": "The call's redacted audio (Opus in Ogg).", "content": {"audio/ogg": {}}},
        **error_responses(404),
    },
)
def get_job_audio(job_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> FileResponse:
    """The redacted audio of a job sent with `redact_audio=true`: masked spans covered by a tone
    (or silence). Kept for `VOXPARSE_REDACTED_AUDIO_RETENTION_DAYS` after the job ends."""
    with runtime.db.transaction(read_only=True) as session:
        job = records.get_job(session, principal.account_id, job_id)
        path = redacted_audio.stored(runtime.settings, job)
    return FileResponse(
        path, media_type=audio_redaction.MEDIA_TYPE, filename=f"{job_id}-redacted{audio_redaction.SUFFIX}"
    )


@router.get(
    "/{job_id}/result",
    response_model=TranscriptionResult,
    responses={
        200: {
            "description": "The result as JSON, or as subtitles or text with `format`.",
            "content": {"application/x-subrip": {}, "text/vtt": {}, "text/plain": {}},
        },
        **error_responses(400, 404),
    },
)
def get_job_result(
    job_id: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    format: Annotated[
        ResultFormat, Query(description="`json` (default), `srt` or `vtt` subtitles, or `txt`.")
    ] = "json",
) -> TranscriptionResult | Response:
    """The stored result of a completed job."""
    with runtime.db.transaction(read_only=True) as session:
        result = TranscriptionResult.model_validate(records.get_result(session, principal.account_id, job_id))
    if format == "json":
        return result
    return Response(
        result_formats.render(result, format),
        media_type=result_formats.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{job_id}.{format}"'},
    )
