"""Redacted audio files: rendered when a job asked for them (`redact_audio=true`), stored beside
the result in `redacted_audio_dir` (a shared volume on several machines; only the file name is
kept with the job), served to the job's owner, deleted after `redacted_audio_retention_days`."""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import NotFound
from app.models import Job, utcnow
from app.speech import audio_redaction
from app.speech.audio import DecodedAudio
from app.speech.result import TranscriptionResult

logger = logging.getLogger(__name__)


def path_of(settings: Settings, name: str) -> Path:
    return settings.redacted_audio_dir / Path(name).name


def save(
    settings: Settings, job_id: str, audio: DecodedAudio, result: TranscriptionResult, mode: audio_redaction.Mode
) -> str:
    """Render and store the job's redacted audio (atomically); its file name."""
    spans = [(span.start, span.end) for span in result.masked_spans]
    data = audio_redaction.encode(audio_redaction.render(audio, spans, mode))
    settings.redacted_audio_dir.mkdir(parents=True, exist_ok=True)
    name = f"{job_id}{audio_redaction.SUFFIX}"
    final = path_of(settings, name)
    partial = final.with_suffix(".partial")
    with partial.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(final)
    return name


def delete(settings: Settings, name: str | None) -> None:
    if name:
        with contextlib.suppress(FileNotFoundError):
            path_of(settings, name).unlink()


def stored(settings: Settings, job: Job) -> Path:
    """The file of a job that has one, or 404."""
    if not job.redacted_audio:
        raise NotFound("This job has no redacted audio: send redact_audio=true with the upload.")
    path = path_of(settings, job.redacted_audio)
    if not path.is_file():
        raise NotFound("The redacted audio of this job is no longer kept.")
    return path


def sweep(db: Database, settings: Settings, limit: int = 500) -> int:
    """Delete the files of jobs ended more than the retention period ago."""
    before = utcnow() - timedelta(days=settings.redacted_audio_retention_days)
    with db.transaction() as session:
        jobs = list(
            session.scalars(
                select(Job)
                .where(Job.redacted_audio.is_not(None), Job.completed_at < before)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for job in jobs:
            delete(settings, job.redacted_audio)
            job.redacted_audio = None
    if jobs:
        logger.info("deleted the redacted audio of %d job(s) past retention", len(jobs))
    return len(jobs)
