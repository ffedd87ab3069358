"""Test data factories and helpers shared by the test modules."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from app import redaction
from app.analysis.schema import CallAnalysis
from app.billing import accounts, ledger
from app.config import Settings
from app.jobs import records
from app.models import EntryKind
from app.redaction import Finding
from app.runtime import Runtime
from app.speech.result import TranscriptionResult
from app.speech.speakers import build_transcript
from app.transcript import DiarizedTranscript, Word

# Shared by test runs so the diarizer's kernels compile once per machine, not once per run.
NUMBA_CACHE = Path(__file__).resolve().parents[2] / "data" / "numba-cache"


def settings_for(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "log_level": "WARNING",
        "preload_models": False,
        # The suite sends thousands of bad keys from one address (the fuzzer); one test sets it low.
        "auth_failure_rate_limit": "1000000/minute",
        "numba_cache_dir": NUMBA_CACHE,
        "audio_store_dir": Path(tempfile.mkdtemp(prefix="voxparse-audio-")),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def serve_asgi(app: FastAPI, raise_app_exceptions: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give a client that talks to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@dataclass
class Customer:
    account_id: str
    key: str
    key_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


def make_account(runtime: Runtime, credit_cents: int = 0, name: str = "test") -> Customer:
    with runtime.db.transaction() as session:
        account = accounts.create_account(session, name)
        created = accounts.create_key(session, account, name)
        if credit_cents:
            ledger.credit(
                session,
                account.id,
                credit_cents,
                kind=EntryKind.ADJUSTMENT,
                reason="test credit",
                expiry_days=runtime.settings.credit_expiry_days,
            )
    return Customer(account_id=created.account_id, key=created.plaintext, key_id=created.key_id)


def read_all_rows(runtime: Runtime) -> str:
    """Every row of every table, as text: for asserting what is (not) stored."""
    from sqlalchemy import text

    from app.models import Base

    dump = []
    with runtime.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                dump.append(repr(tuple(row)))
    return "\n".join(dump)


def sqlite_file_bytes(runtime: Runtime) -> bytes:
    path = runtime.settings.sqlite_path()
    if path is None:
        return b""
    return b"".join(p.read_bytes() for p in Path(path).parent.glob(Path(path).name + "*"))


Turns = Sequence[tuple[str, str]]


def spoken_words(turns: Turns) -> list[Word]:
    """(speaker, text) turns as recognized words: 0.4 s a word, a second between turns."""
    words, t = [], 0.0
    for speaker, text in turns:
        for w in text.split():
            words.append(Word(w, t, t + 0.3, speaker=speaker))
            t += 0.4
        t += 1.0
    return words


def written_transcript(
    turns: list[tuple[str, str]] | tuple[tuple[str, str], ...],
) -> tuple[DiarizedTranscript, list[Finding]]:
    """A diarized, redacted transcript from written turns, as the pipeline would build it."""
    masked, findings = redaction.redact_words(spoken_words(turns), redact_pii=False)
    return build_transcript(masked), findings


def result_body(**fields: Any) -> dict[str, Any]:
    """A stored transcription result (valid as `TranscriptionResult`), with `fields` replaced."""
    empty = TranscriptionResult(transcript="", duration_seconds=60.0, language="en", ai_analysis=CallAnalysis())
    return {**empty.model_dump(mode="json"), **fields}


def completed_job(runtime: Runtime, customer: Customer, result: dict[str, Any] | None = None) -> str:
    """A transcription job of `customer`, completed with `result` (default: an empty one)."""
    with runtime.db.transaction() as session:
        job = records.create_job(session, customer.account_id, type="transcribe", model="test")
        records.mark_processing(session, job, runtime.runner)
        records.complete_job(session, job, duration_seconds=60.0, cost_cents=1, result=result or result_body())
        return job.id
