"""Queued uploads: written by the API server, read by whichever worker takes the job, deleted when
the job ends. On several machines `audio_store_dir` is a shared volume; only the file name is
stored with the job, so each machine may mount it where it likes."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import IO

from app.config import Settings
from app.errors import ServiceUnavailable


class AudioMissing(ServiceUnavailable):
    """A 5xx: on a shared volume a file may show up late, so the attempt is retried."""

    default_message = (
        "The queued audio is missing from the audio store (is VOXPARSE_AUDIO_STORE_DIR the same volume "
        "on the API servers and the workers?)."
    )


def file_name(job_id: str) -> str:
    return f"{job_id}.audio"


def path_of(settings: Settings, name: str) -> Path:
    return settings.audio_store_dir / Path(name).name


def save(settings: Settings, job_id: str, source: IO[bytes]) -> str:
    """Copy the upload into the store (atomically: a worker never sees half a file)."""
    settings.audio_store_dir.mkdir(parents=True, exist_ok=True)
    name = file_name(job_id)
    final = path_of(settings, name)
    partial = final.with_suffix(".partial")
    source.seek(0)
    with partial.open("wb") as out:
        shutil.copyfileobj(source, out)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(final)
    return name


def open_stored(settings: Settings, name: str) -> IO[bytes]:
    try:
        return path_of(settings, name).open("rb")
    except FileNotFoundError as exc:
        raise AudioMissing from exc


def delete(settings: Settings, name: str | None) -> None:
    if name:
        with contextlib.suppress(FileNotFoundError):
            path_of(settings, name).unlink()
