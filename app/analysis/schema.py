"""The `ai_analysis` object (the reference's "AI Analysis Object"), as one pydantic model: the
deterministic analyzer fills it, the LLM's JSON schema is generated from it, and its answers are
validated against it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CallType = Literal["retention", "sales", "support", "billing", "complaint"]
CallOutcome = Literal["resolved", "partial", "escalated", "unresolved"]
CustomerSentiment = Literal["positive", "negative", "neutral"]
AgentPerformance = Literal["excellent", "good", "neutral", "poor"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Customer(_Strict):
    name: str | None = None
    company: str | None = None
    email: str | None = None
    phone: str | None = None


class Agent(_Strict):
    name: str | None = None
    department: str | None = None
    agent_id: str | None = None


class Financial(_Strict):
    """Amounts as `$75.00` strings."""

    payment_today: str | None = None
    recurring_amount: str | None = None
    pending_balance: str | None = None
    payment_method: str | None = None
    billing_date: str | None = None
    credit_issued: str | None = None


class Compliance(_Strict):
    recording_disclosure: bool = False
    sensitive_data_shared: list[str] = Field(default_factory=list)


class Sentiment(_Strict):
    customer_sentiment: CustomerSentiment | None = None
    agent_performance: AgentPerformance | None = None


class CallFacts(_Strict):
    """What an analyzer (rules or LLM) says about a call."""

    call_summary: str | None = None
    call_type: CallType | None = None
    call_outcome: CallOutcome | None = None
    customer: Customer = Field(default_factory=Customer)
    agent: Agent = Field(default_factory=Agent)
    financial: Financial = Field(default_factory=Financial)
    compliance: Compliance = Field(default_factory=Compliance)
    sentiment: Sentiment = Field(default_factory=Sentiment)
    key_issues: list[str] = Field(default_factory=list)
    action_items: list[str] = Field(default_factory=list)
    agreements: list[str] = Field(default_factory=list)


class LLMAnswer(CallFacts):
    """What the LLM is asked to return: the facts, plus the answers to the user's instructions."""

    custom: dict[str, Any] | None = None


class CallAnalysis(CallFacts):
    """The object returned in `ai_analysis`."""

    transcript_cleaned: str = ""
    custom: dict[str, Any] | None = None
    engine: Literal["rules", "llm"] = "rules"
    warnings: list[str] = Field(default_factory=list)
