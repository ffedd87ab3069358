"""The transcription result: what the pipeline returns, what a job stores (serialised once) and
what both POST /v1/transcribe's analysis and GET /v1/jobs/{id}/result are declared as."""

from __future__ import annotations

from typing import Literal

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


class Evidence(BaseModel):
    """What made a rule hold: a sentence (masked like the transcript), a silence, an
    interruption, or an analysis value."""

    start: float | None = None
    end: float | None = None
    participant: str | None = None
    """`Agent`, `Customer`, or a speaker label where the role is unknown."""
    text: str | None = None
    value: str | None = None
    """For a `field` rule: the analysis value that matched."""
    score: float | None = None
    """For `fuzzy` and `meaning` phrases: how close the sentence came (0-1)."""


class RuleEvidence(BaseModel):
    type: str
    """The rule's kind: `phrases`, `interruptions`, `non_talk`, `sentiment` or `field`."""
    id: str | None = None
    negate: bool = False
    evidence: list[Evidence] = Field(default_factory=list)
    """Empty for a negated rule: what it holds on is an absence."""


class MatchedCategory(BaseModel):
    name: str
    rules: list[RuleEvidence] = Field(default_factory=list)


class RuleOutcome(RuleEvidence):
    held: bool
    """For a negated rule, `evidence` is what made it fail."""


class CategoryPreview(BaseModel):
    """One category tried on one call: whether it matched, and every rule's outcome."""

    name: str
    matched: bool
    rules: list[RuleOutcome] = Field(default_factory=list)


class ScorecardAnswer(BaseModel):
    question: str
    weight: float
    answer: Literal["yes", "no", "not_applicable"]
    evidence: list[RuleEvidence] = Field(default_factory=list)
    """Of a `yes`: the rules that held. Of a `no`: the rules that held before one failed."""


class ScorecardResult(BaseModel):
    name: str
    score: float | None
    """0-100: the weight of the questions answered yes, of those answered yes or no (None if every
    question was not applicable)."""
    answers: list[ScorecardAnswer] = Field(default_factory=list)


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
    categories: list[MatchedCategory] = Field(default_factory=list)
    """The account's categories whose rules all hold for this call, each rule with its evidence."""
    scorecard: ScorecardResult | None = None
    """The account's QA scorecard (the default one unless the account set its own), answered."""
