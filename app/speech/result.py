"""The transcription result: what the pipeline returns, what a job stores (serialised once) and
what both POST /v1/transcribe's analysis and GET /v1/jobs/{id}/result are declared as."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.analysis.schema import CallAnalysis
from app.speech.metrics import CallMetrics


class ResultSegment(BaseModel):
    """Consecutive words of one speaker."""

    start: float
    end: float
    speaker: str
    text: str


class ResultWord(BaseModel):
    word: str
    start: float
    end: float
    speaker: str | None = None


class TimeSpan(BaseModel):
    start: float
    end: float


class TranscriptionResult(BaseModel):
    transcript: str
    duration_seconds: float
    segments: list[ResultSegment] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)
    """Speaker labels as they appear in `segments`."""
    roles: dict[str, str] = Field(default_factory=dict)
    """Each speaker's role: `Agent` or `Customer`."""
    language: str
    word_timestamps: list[ResultWord] = Field(default_factory=list)
    ai_analysis: CallAnalysis
    call_metrics: CallMetrics | None = None
    """Talk time, turns, interruptions, silences... (None in results stored before it existed)."""
    masked_spans: list[TimeSpan] = Field(default_factory=list)
    """When masked data was spoken (card digits, codes, expiry dates...; e-mail and phone numbers
    with `redact_pii`): what redacted audio covers with a tone."""
