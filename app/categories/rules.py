"""The rule language of categories and scorecards, as pydantic models: what a client may send, every
limit and cross-field check in one place (a bad rule is a 400 naming it, and nothing is stored).

A category holds when all its rules hold. A rule may be negated (it holds when what it describes is
absent), limited to a participant (`Agent`, `Customer` or `any`) and to a time range of the call.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.analysis.schema import AgentPerformance, CallOutcome, CallType, CustomerSentiment

MAX_RULES = 20
MAX_PHRASES = 50
MAX_QUESTIONS = 30

Participant = Literal["Agent", "Customer", "any"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
RuleId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeRange(_Strict):
    """One way to limit a rule in time; what it looks at must overlap the range.

    - `first_seconds` / `last_seconds`: the call's first or last N seconds;
    - `start_seconds` and/or `end_seconds`: an absolute window;
    - `start_share` and/or `end_share`: a share of the call (0-1);
    - `before` / `after`: before the first evidence of another rule of the same category or
      question (by its `id`), or after the end of it.
    """

    first_seconds: float | None = Field(default=None, gt=0)
    last_seconds: float | None = Field(default=None, gt=0)
    start_seconds: float | None = Field(default=None, ge=0)
    end_seconds: float | None = Field(default=None, gt=0)
    start_share: float | None = Field(default=None, ge=0, le=1)
    end_share: float | None = Field(default=None, gt=0, le=1)
    before: RuleId | None = None
    after: RuleId | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TimeRange:
        kinds = [
            self.first_seconds is not None,
            self.last_seconds is not None,
            self.start_seconds is not None or self.end_seconds is not None,
            self.start_share is not None or self.end_share is not None,
            self.before is not None,
            self.after is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError(
                "a range is exactly one of: first_seconds, last_seconds, start_seconds/end_seconds, "
                "start_share/end_share, before, after"
            )
        if (self.start_seconds or 0) >= (self.end_seconds or float("inf")):
            raise ValueError("start_seconds must be less than end_seconds")
        if (self.start_share or 0) >= (self.end_share if self.end_share is not None else 2):
            raise ValueError("start_share must be less than end_share")
        return self

    @property
    def reference(self) -> str | None:
        return self.before or self.after


class _Rule(_Strict):
    id: RuleId | None = None
    """Names the rule so that another rule's range can say `before` or `after` it."""
    negate: bool = False
    range: TimeRange | None = None


class PhrasesRule(_Rule):
    """Any of the phrases said by the participant. `exact`: the words in order, ignoring case and
    punctuation; `fuzzy`: spelled nearly so (rapidfuzz, `threshold` 0-1, default 0.85);
    `meaning`: a sentence (or a stretch of one) close in meaning (sentence embeddings, `threshold`
    default 0.45), which includes every exact match."""

    type: Literal["phrases"]
    phrases: list[Phrase] = Field(min_length=1, max_length=MAX_PHRASES)
    match: Literal["exact", "fuzzy", "meaning"] = "exact"
    threshold: float | None = Field(default=None, gt=0, le=1)
    participant: Participant = "any"

    @model_validator(mode="after")
    def _threshold_needs_a_measure(self) -> PhrasesRule:
        if self.threshold is not None and self.match == "exact":
            raise ValueError("threshold applies to match 'fuzzy' or 'meaning', not 'exact'")
        return self


class InterruptionsRule(_Rule):
    """The participant interrupted at least `min_count` times, or for at least `min_seconds` of
    overlapping speech in all."""

    type: Literal["interruptions"]
    participant: Participant = "any"
    min_count: int | None = Field(default=None, ge=1, le=10_000)
    min_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _a_threshold(self) -> InterruptionsRule:
        if self.min_count is None and self.min_seconds is None:
            self.min_count = 1
        return self


class NonTalkRule(_Rule):
    """A silence (nobody speaking) of at least `min_seconds`, or non-talk of at least `min_share`
    of the range."""

    type: Literal["non_talk"]
    min_seconds: float | None = Field(default=None, gt=0)
    min_share: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _one_threshold(self) -> NonTalkRule:
        if (self.min_seconds is None) == (self.min_share is None):
            raise ValueError("a non_talk rule has exactly one of min_seconds, min_share")
        return self


class SentimentRule(_Rule):
    """The participant's tone over the range: `mixed` when it has both clearly positive and clearly
    negative sentences."""

    type: Literal["sentiment"]
    participant: Participant = "Customer"
    sentiment: Literal["positive", "neutral", "negative", "mixed"]


FIELD_VALUES: dict[str, tuple[str, ...]] = {
    "call_type": get_args(CallType),
    "call_outcome": get_args(CallOutcome),
    "customer_sentiment": get_args(CustomerSentiment),
    "agent_performance": get_args(AgentPerformance),
    "recording_disclosure": ("true", "false"),
    "sensitive_data_shared": (),
    "customer_name": (),
    "agent_name": (),
}


class FieldRule(_Rule):
    """A value of the analysis: one of `values` (for `sensitive_data_shared`, an entry of the list
    containing one of them as a word: `card`, `cvv`, `expiry`...), or, with `present`, whether the
    field has a value at all."""

    type: Literal["field"]
    field: Literal[
        "call_type",
        "call_outcome",
        "customer_sentiment",
        "agent_performance",
        "recording_disclosure",
        "sensitive_data_shared",
        "customer_name",
        "agent_name",
    ]
    values: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=MAX_PHRASES
    )
    present: bool | None = None

    @model_validator(mode="after")
    def _values_known(self) -> FieldRule:
        if (self.values is None) == (self.present is None):
            raise ValueError("a field rule has exactly one of values, present")
        if self.range is not None:
            raise ValueError("a field rule describes the whole call: it takes no range")
        allowed = FIELD_VALUES[self.field]
        if self.values is not None and allowed:
            self.values = [v.lower() for v in self.values]
            unknown = [v for v in self.values if v not in allowed]
            if unknown:
                raise ValueError(f"{self.field} is one of {', '.join(allowed)}; not {', '.join(unknown)}")
        return self


Rule = Annotated[PhrasesRule | InterruptionsRule | NonTalkRule | SentimentRule | FieldRule, Field(discriminator="type")]


def check_references(rules: list[Rule]) -> None:
    """Ids unique; `before`/`after` name a rule of the same list that is neither negated nor itself
    placed relative to another (so there is no cycle and the reference has evidence to point at)."""
    ids = [r.id for r in rules if r.id is not None]
    if len(ids) != len(set(ids)):
        raise ValueError("rule ids must be unique")
    by_id = {r.id: r for r in rules if r.id is not None}
    for rule in rules:
        reference = rule.range.reference if rule.range else None
        if reference is None:
            continue
        target = by_id.get(reference)
        if target is None:
            raise ValueError(f"range refers to rule '{reference}', which is not in the same list")
        if target is rule or target.negate or (target.range is not None and target.range.reference):
            raise ValueError(f"rule '{reference}' cannot be referred to: it is negated or placed relative to another")


class CategoryIn(_Strict):
    name: Name
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    rules: list[Rule] = Field(min_length=1, max_length=MAX_RULES)

    @model_validator(mode="after")
    def _references(self) -> CategoryIn:
        check_references(self.rules)
        return self


class Question(_Strict):
    """Answered `yes` when every rule holds, `no` otherwise, and `not_applicable` when one of
    `applies_if` does not hold. Rules of both lists may refer to each other's ids."""

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    weight: float = Field(default=1.0, gt=0, le=100)
    rules: list[Rule] = Field(min_length=1, max_length=MAX_RULES)
    applies_if: list[Rule] = Field(default_factory=list, max_length=MAX_RULES)

    @model_validator(mode="after")
    def _references(self) -> Question:
        check_references([*self.applies_if, *self.rules])
        return self


class ScorecardIn(_Strict):
    name: Name
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)
