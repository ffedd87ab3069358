"""POST /v1/transcribe as a unit of billable work: intake checks, a job and a hold, the pipeline,
then settle (success) or fail and release (any error).

Synchronous: everything after the upload is read runs in one worker thread, so a client that
disconnects cannot interrupt it half way: the job always ends `completed` or `failed`.
Asynchronous (`async=true` or a `callback_url`): the same checks and hold, then the audio is stored
and the job queued for a worker (`app.jobs.runner`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from dataclasses import dataclass
from typing import IO, Any

from starlette.concurrency import run_in_threadpool

from app import redaction
from app.billing import ledger, pricing
from app.billing.accounts import Principal
from app.config import MAX_SPEAKERS, Settings
from app.errors import ApiError, BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable
from app.jobs import audio_store, records, runner, webhooks
from app.jobs.queue import QueueUnavailable
from app.models import Account, Job, new_id, utcnow
from app.runtime import Runtime
from app.speech import audio, pipeline
from app.speech.audio import DecodedAudio
from app.speech.diarization import SpeakerCount
from app.speech.pipeline import ChannelMode, StageTimings, TranscriptionOptions

logger = logging.getLogger(__name__)

MAX_INSTRUCTIONS = 2000
MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 32
JOB_TYPE = "transcribe"


@dataclass(frozen=True)
class Upload:
    file: IO[bytes]
    size: int | None


@dataclass(frozen=True)
class TranscribeRequest:
    upload: Upload | None
    language: str | None
    instructions: str | None
    plan: str | None
    speakers: int | None
    channels: str | None
    redact_pii: bool
    metadata: str | None = None
    callback_url: str | None = None
    run_async: bool = False
    min_speakers: int | None = None
    max_speakers: int | None = None

    @property
    def is_async(self) -> bool:
        return self.run_async or bool((self.callback_url or "").strip())


@dataclass(frozen=True)
class Completed:
    job_id: str
    duration_seconds: float
    cost_cents: int
    result: dict[str, Any]


@dataclass(frozen=True)
class Queued:
    job_id: str
    duration_seconds: float
    cost_cents: int
    metadata: dict[str, Any] | None


def parse_metadata(raw: str | None) -> dict[str, Any] | None:
    """The `metadata` form field: a JSON object of at most 4 KB."""
    if raw is None or not raw.strip():
        return None
    if len(raw.encode()) > MAX_METADATA_BYTES:
        raise BadRequest(f"'metadata' is limited to {MAX_METADATA_BYTES} bytes.")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("'metadata' must be a JSON object.") from exc
    if not isinstance(value, dict):
        raise BadRequest("'metadata' must be a JSON object.")
    if _depth(value) > MAX_METADATA_DEPTH:
        raise BadRequest(f"'metadata' may be nested at most {MAX_METADATA_DEPTH} levels deep.")
    # Stored and sent on: a card number pasted into it is masked like one spoken in the call.
    return redaction.redact_result(_long_numbers_as_text(value), redact_pii=False)


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _long_numbers_as_text(value: Any) -> Any:
    """JSON numbers long enough to be a card number become strings, so that masking sees them."""
    if isinstance(value, dict):
        return {k: _long_numbers_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_long_numbers_as_text(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**11:
        return str(value)
    return value


def validate(request: TranscribeRequest, settings: Settings) -> tuple[Upload, TranscriptionOptions]:
    """Everything that can be refused before the audio is read, each with its own message."""
    if request.upload is None:
        raise BadRequest("Missing required field 'file': send the audio as multipart/form-data.")
    if request.upload.size is not None and request.upload.size > settings.max_upload_bytes:
        raise PayloadTooLarge(f"The file is larger than the {settings.max_upload_bytes // (1024 * 1024)} MB limit.")
    if request.upload.size == 0:
        raise BadRequest("The uploaded file is empty.")
    if request.plan is not None and request.plan not in pricing.accepted_plan_ids(settings):
        accepted = ", ".join(sorted(pricing.accepted_plan_ids(settings)))
        raise BadRequest(f"Unknown plan '{request.plan}'. Accepted: {accepted}.")
    if request.instructions is not None and len(request.instructions) > MAX_INSTRUCTIONS:
        raise BadRequest(f"'instructions' is limited to {MAX_INSTRUCTIONS} characters.")
    language = (request.language or "").strip().lower() or None
    if language is not None and not (len(language) == 2 and language.isalpha()):
        raise BadRequest("'language' must be an ISO 639-1 code such as 'en' or 'es'.")
    count = speaker_count(request, settings)
    channels = (request.channels or "auto").strip().lower()
    if channels not in ("auto", "split", "mix"):
        raise BadRequest("'channels' must be 'split' or 'mix'.")
    mode: ChannelMode = "split" if channels == "split" else "mix" if channels == "mix" else "auto"
    options = TranscriptionOptions(
        language=language,
        instructions=request.instructions or None,
        speakers=count,
        channels=mode,
        redact_pii=request.redact_pii,
    )
    return request.upload, options


def speaker_count(request: TranscribeRequest, settings: Settings) -> SpeakerCount:
    """`speakers` is exact; `min_speakers`/`max_speakers` bound the diarizer's own choice."""
    for name in ("speakers", "min_speakers", "max_speakers"):
        value = getattr(request, name)
        if value is not None and not 1 <= value <= MAX_SPEAKERS:
            raise BadRequest(f"'{name}' must be between 1 and {MAX_SPEAKERS}.")
    low = request.min_speakers if request.min_speakers is not None else settings.default_min_speakers
    high = request.max_speakers if request.max_speakers is not None else settings.default_max_speakers
    if request.speakers is not None:
        if (request.min_speakers or 1) > request.speakers or (request.max_speakers or MAX_SPEAKERS) < request.speakers:
            raise BadRequest("'speakers' must lie between 'min_speakers' and 'max_speakers'.")
        return SpeakerCount(exact=request.speakers)
    if request.min_speakers is not None and request.max_speakers is None:
        high = max(high, low)
    if request.max_speakers is not None and request.min_speakers is None:
        low = min(low, high)
    if low > high:
        raise BadRequest("'min_speakers' must not be more than 'max_speakers'.")
    return SpeakerCount(min=low, max=high)


def _read_limited(upload: Upload, limit: int) -> IO[bytes]:
    """The upload's file, after making sure it really is within the limit (size may be unknown)."""
    f = upload.file
    f.seek(0, 2)
    size = f.tell()
    f.seek(0)
    if size > limit:
        raise PayloadTooLarge(f"The file is larger than the {limit // (1024 * 1024)} MB limit.")
    if size == 0:
        raise BadRequest("The uploaded file is empty.")
    return f


def _start_job(runtime: Runtime, principal: Principal, cost_cents: int, meta: dict[str, Any] | None) -> tuple[str, int]:
    """Create the job and hold its cost in one transaction: a 402 leaves nothing behind."""
    with runtime.db.transaction() as session:
        job = records.create_job(
            session, principal.account_id, type=JOB_TYPE, model=runtime.models.transcriber().name, meta=meta
        )
        hold = ledger.place_hold(
            session, principal.account_id, job.id, cost_cents, expiry_days=runtime.settings.credit_expiry_days
        )
        records.mark_processing(session, job, runtime.runner)
        return job.id, hold.id


def _finish_job(
    runtime: Runtime,
    job_id: str,
    hold_id: int,
    cost_cents: int,
    output: pipeline.PipelineOutput,
    duration: float,
) -> None:
    with runtime.db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        ledger.settle_hold(session, hold_id, cost_cents)
        records.complete_job(session, job, duration_seconds=duration, cost_cents=cost_cents, result=output.result)


def _fail_job(runtime: Runtime, job_id: str, reason: str) -> None:
    with runtime.db.transaction() as session:
        job = session.get(Job, job_id)
        if job is not None:
            records.fail_job(session, job, reason)


class BalanceBudget:
    """The account's spendable credit, read once, against the cost of `seconds` of audio: decoding
    stops with a 402 as soon as the audio (declared, or decoded so far) costs more than that."""

    def __init__(self, runtime: Runtime, principal: Principal) -> None:
        with runtime.db.transaction(read_only=True) as session:
            account = session.get(Account, principal.account_id)
            if account is None:
                raise NotFound("Account not found.")
            self.available = ledger.spendable_cents(session, account, expiry_days=runtime.settings.credit_expiry_days)
        self.price_per_hour_cents = runtime.settings.price_per_hour_cents

    def check(self, seconds: float) -> None:
        needed = pricing.transcription_cost_cents(seconds, self.price_per_hour_cents)
        if needed > self.available:
            raise ledger.InsufficientBalance(
                f"Insufficient balance: {seconds / 60:.1f} minutes of audio cost {needed} cents and "
                f"{max(self.available, 0)} are available."
            )


def _decode(runtime: Runtime, principal: Principal, upload: Upload, options: TranscriptionOptions) -> DecodedAudio:
    """Everything refused on sight of the audio, before any hold; nothing is decoded that the
    account cannot pay for."""
    settings = runtime.settings
    runtime.models.transcriber().check_language(options.language)
    decoded = audio.decode(
        _read_limited(upload, settings.max_upload_bytes),
        max_seconds=settings.max_audio_seconds,
        budget=BalanceBudget(runtime, principal),
    )
    pipeline.check_channels(decoded, options.channels)
    return decoded


def process(
    runtime: Runtime,
    principal: Principal,
    upload: Upload,
    options: TranscriptionOptions,
    timings: StageTimings | None = None,
    meta: dict[str, Any] | None = None,
) -> Completed:
    """Decode, hold, run, settle. Blocking: call from a worker thread."""
    settings = runtime.settings
    timings = timings or StageTimings()

    started = time.perf_counter()
    decoded = _decode(runtime, principal, upload, options)
    diarizer = pipeline.choose_diarizer(runtime.models, decoded, options.channels)
    timings.record("decode", started)

    duration = round(decoded.duration, 3)
    cost = pricing.transcription_cost_cents(duration, settings.price_per_hour_cents)
    job_id, hold_id = _start_job(runtime, principal, cost, meta)
    runtime.active_jobs.add(job_id)
    try:
        if settings.keep_uploads_dir is not None:
            settings.keep_uploads_dir.mkdir(parents=True, exist_ok=True)
            upload.file.seek(0)
            with (settings.keep_uploads_dir / f"{job_id}.audio").open("wb") as kept:
                shutil.copyfileobj(upload.file, kept)
        progress = runner.JobProgress(runtime, job_id)
        output = pipeline.run(runtime.models, decoded, options, timings, diarizer, progress)
        _finish_job(runtime, job_id, hold_id, cost, output, duration)
    except BaseException as exc:
        reason = exc.message if isinstance(exc, ApiError) else "Processing failed: an internal error occurred."
        logger.error("job %s failed: %s", job_id, type(exc).__name__)
        _fail_job(runtime, job_id, reason)
        raise
    finally:
        runtime.active_jobs.discard(job_id)
    return Completed(job_id=job_id, duration_seconds=duration, cost_cents=cost, result=output.result)


def submit(
    runtime: Runtime,
    principal: Principal,
    upload: Upload,
    options: TranscriptionOptions,
    meta: dict[str, Any] | None,
    callback_url: str | None,
) -> Queued:
    """Check, hold and queue an async job. Blocking: call from a worker thread."""
    settings = runtime.settings
    if callback_url is not None:
        webhooks.resolve_callback(
            callback_url, allow_private=settings.webhook_allow_private, ports=frozenset(settings.webhook_allowed_ports)
        )
    decoded = _decode(runtime, principal, upload, options)
    duration = round(decoded.duration, 3)
    cost = pricing.transcription_cost_cents(duration, settings.price_per_hour_cents)
    del decoded

    job_id = new_id()
    audio_file = audio_store.save(settings, job_id, upload.file)
    try:
        with runtime.db.transaction() as session:
            records.create_job(
                session,
                principal.account_id,
                type=JOB_TYPE,
                model=runtime.models.transcriber().name,
                job_id=job_id,
                meta=meta,
                is_async=True,
                audio_file=audio_file,
                # Stored, so masked like everything stored: instructions may quote a card number.
                options=redaction.redact_result(runner.options_to_json(options), redact_pii=False),
                callback_url=callback_url,
                duration_seconds=duration,
                enqueued_at=utcnow(),
            )
            ledger.place_hold(session, principal.account_id, job_id, cost, expiry_days=settings.credit_expiry_days)
    except BaseException:
        audio_store.delete(settings, audio_file)
        raise
    try:
        runtime.queue.enqueue_job(job_id)
    except QueueUnavailable as exc:
        logger.error("job %s: could not be queued: %s", job_id, exc)
        with runtime.db.transaction() as session:
            job = records.lock_job(session, job_id)
            assert job is not None
            records.fail_job(session, job, "The job queue was unavailable; nothing was charged.")
            job.webhook_status = None  # the client has its answer (503) already
        audio_store.delete(settings, audio_file)
        raise ServiceUnavailable(
            "The job queue is unavailable right now; nothing was charged. Please retry shortly.",
            headers={"Retry-After": "5"},
        ) from exc
    logger.info("job %s: queued (%.1f s of audio)", job_id, duration)
    return Queued(job_id=job_id, duration_seconds=duration, cost_cents=cost, metadata=meta)


async def transcribe(runtime: Runtime, principal: Principal, request: TranscribeRequest) -> Completed | Queued:
    upload, options = validate(request, runtime.settings)
    meta = parse_metadata(request.metadata)
    callback_url = (request.callback_url or "").strip() or None
    if request.is_async:
        # Intake decodes too: bounded like the work itself, so parallel uploads queue, not pile up.
        async with runtime.intake_slots:
            return await run_in_threadpool(submit, runtime, principal, upload, options, meta, callback_url)
    async with runtime.transcription_slots:
        work = asyncio.ensure_future(run_in_threadpool(process, runtime, principal, upload, options, None, meta))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            # The client went away. The job still ends completed or failed on its own; keep the
            # slot until it does, so the concurrency bound holds.
            await asyncio.wait([work])
            raise
