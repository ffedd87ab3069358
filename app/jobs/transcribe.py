"""POST /v1/transcribe as a unit of billable work: intake checks, a job and a hold, the pipeline,
then settle (success) or fail and release (any error).

Synchronous: everything after the upload is read runs in one worker thread, so a client that
disconnects cannot interrupt it half way: the job always ends `completed` or `failed`.
Asynchronous (`async=true` or a `callback_url`): the same checks and hold, then the audio is stored
and the job queued for a worker (`app.jobs.runner`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import IO, Any, Literal

from app import redaction
from app.billing import ledger, pricing
from app.billing.accounts import Principal
from app.config import Settings
from app.errors import ApiError, BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable
from app.jobs import audio_store, records, runner, webhooks
from app.jobs.context import JobContext
from app.jobs.metering import transcription_charge
from app.jobs.queue import QueueUnavailable
from app.models import Account, new_id, utcnow
from app.speech import audio, metrics, pipeline
from app.speech.audio import DecodedAudio
from app.speech.diarization import SpeakerCount
from app.speech.pipeline import ChannelMode, StageTimings, TranscriptionOptions
from app.speech.result import TranscriptionResult

logger = logging.getLogger(__name__)

MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 32
JOB_TYPE = "transcribe"


@dataclass(frozen=True)
class Upload:
    file: IO[bytes]
    size: int | None


@dataclass(frozen=True)
class TranscribeRequest:
    """The form of POST /v1/transcribe, its fields already valid one by one (the request model);
    what depends on the settings or on several fields is checked here."""

    upload: Upload | None
    language: str | None = None
    instructions: str | None = None
    plan: str | None = None
    speakers: int | None = None
    channels: ChannelMode = "auto"
    redact_pii: bool = False
    metadata: str | None = None
    callback_url: str | None = None
    run_async: bool = False
    min_speakers: int | None = None
    max_speakers: int | None = None
    redact_audio: bool = False
    redact_audio_mode: Literal["beep", "silence"] = "beep"

    @property
    def is_async(self) -> bool:
        return self.run_async or bool((self.callback_url or "").strip())


@dataclass(frozen=True)
class Completed:
    job_id: str
    duration_seconds: float
    cost_cents: int
    result: TranscriptionResult


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
    options = TranscriptionOptions(
        language=request.language,
        instructions=request.instructions or None,
        speakers=speaker_count(request, settings),
        channels=request.channels,
        redact_pii=request.redact_pii,
        redact_audio=request.redact_audio,
        redact_audio_mode=request.redact_audio_mode,
    )
    return request.upload, options


def speaker_count(request: TranscribeRequest, settings: Settings) -> SpeakerCount:
    """`speakers` is exact; `min_speakers`/`max_speakers` bound the diarizer's own choice, within
    the server's default range where the request gives only one of them."""
    low = request.min_speakers if request.min_speakers is not None else settings.default_min_speakers
    high = request.max_speakers if request.max_speakers is not None else settings.default_max_speakers
    if request.speakers is not None:
        if (request.min_speakers or request.speakers) > request.speakers or (
            request.max_speakers or request.speakers
        ) < request.speakers:
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


class BalanceBudget:
    """The account's spendable credit, read once, against the cost of `seconds` of audio: decoding
    stops with a 402 as soon as the audio (declared, or decoded so far) costs more than that."""

    def __init__(self, ctx: JobContext, principal: Principal) -> None:
        with ctx.db.transaction(read_only=True) as session:
            account = session.get(Account, principal.account_id)
            if account is None:
                raise NotFound("Account not found.")
            self.available = ledger.spendable_cents(session, account, expiry_days=ctx.settings.credit_expiry_days)
        self.price_per_hour_cents = ctx.settings.price_per_hour_cents

    def check(self, seconds: float) -> None:
        needed = pricing.transcription_cost_cents(seconds, self.price_per_hour_cents)
        if needed > self.available:
            raise ledger.InsufficientBalance(
                f"Insufficient balance: {seconds / 60:.1f} minutes of audio cost {needed} cents and "
                f"{max(self.available, 0)} are available."
            )


def _decode(ctx: JobContext, principal: Principal, upload: Upload, options: TranscriptionOptions) -> DecodedAudio:
    """Everything refused on sight of the audio, before any hold; nothing is decoded that the
    account cannot pay for."""
    settings = ctx.settings
    ctx.models.transcriber().check_language(options.language)
    decoded = audio.decode(
        _read_limited(upload, settings.max_upload_bytes),
        max_seconds=settings.max_audio_seconds,
        budget=BalanceBudget(ctx, principal),
    )
    pipeline.check_channels(decoded, options.channels)
    return decoded


def process(
    ctx: JobContext,
    principal: Principal,
    upload: Upload,
    options: TranscriptionOptions,
    timings: StageTimings | None = None,
    meta: dict[str, Any] | None = None,
) -> Completed:
    """Decode, hold, run, settle. Blocking: call from a worker thread."""
    timings = timings or StageTimings()

    started = time.perf_counter()
    decoded = _decode(ctx, principal, upload, options)
    diarizer = pipeline.choose_diarizer(ctx.models, decoded, options.channels)
    timings.record("decode", started)

    charge = transcription_charge(decoded.duration, ctx.settings.price_per_hour_cents)
    job_id = ctx.meter.open_job(
        principal.account_id, type=JOB_TYPE, model=ctx.models.transcriber().name, hold_cents=charge.cents, meta=meta
    )
    with ctx.meter.tracking(job_id):
        try:
            progress = runner.JobProgress(ctx.db, job_id)
            result = pipeline.run(
                ctx.models, decoded, options, timings, diarizer, progress, metrics.Thresholds.of(ctx.settings)
            )
            charged, result = runner.complete_transcription(ctx, job_id, decoded, result, options, charge)
        except BaseException as exc:
            logger.error("job %s failed: %s", job_id, type(exc).__name__)
            ctx.meter.abandon(job_id, exc.message if isinstance(exc, ApiError) else runner.INTERNAL_FAILURE)
            raise
    if charged is None:
        logger.warning("job %s: ended elsewhere while it ran here; not charged", job_id)
    return Completed(job_id=job_id, duration_seconds=charge.seconds, cost_cents=charged or 0, result=result)


def submit(
    ctx: JobContext,
    principal: Principal,
    upload: Upload,
    options: TranscriptionOptions,
    meta: dict[str, Any] | None,
    callback_url: str | None,
) -> Queued:
    """Check, hold and queue an async job. Blocking: call from a worker thread."""
    settings = ctx.settings
    if callback_url is not None:
        webhooks.resolve_callback(
            callback_url, allow_private=settings.webhook_allow_private, ports=frozenset(settings.webhook_allowed_ports)
        )
    decoded = _decode(ctx, principal, upload, options)
    charge = transcription_charge(decoded.duration, settings.price_per_hour_cents)
    del decoded

    job_id = new_id()
    audio_file = audio_store.save(settings, job_id, upload.file)
    try:
        ctx.meter.queue_job(
            principal.account_id,
            type=JOB_TYPE,
            model=ctx.models.transcriber().name,
            hold_cents=charge.cents,
            job_id=job_id,
            meta=meta,
            audio_file=audio_file,
            # Stored, so masked like everything stored: instructions may quote a card number.
            options=redaction.redact_result(runner.options_to_json(options), redact_pii=False),
            callback_url=callback_url,
            duration_seconds=charge.seconds,
            enqueued_at=utcnow(),
        )
    except BaseException:
        audio_store.delete(settings, audio_file)
        raise
    try:
        ctx.queue.enqueue_job(job_id)
    except QueueUnavailable as exc:
        logger.error("job %s: could not be queued: %s", job_id, exc)
        with ctx.db.transaction() as session:
            job = records.lock_job(session, job_id)
            assert job is not None
            records.fail_job(session, job, "The job queue was unavailable; nothing was charged.")
            job.webhook_status = None  # the client has its answer (503) already
        audio_store.delete(settings, audio_file)
        raise ServiceUnavailable(
            "The job queue is unavailable right now; nothing was charged. Please retry shortly.",
            headers={"Retry-After": "5"},
        ) from exc
    logger.info("job %s: queued (%.1f s of audio)", job_id, charge.seconds)
    return Queued(job_id=job_id, duration_seconds=charge.seconds, cost_cents=charge.cents, metadata=meta)
