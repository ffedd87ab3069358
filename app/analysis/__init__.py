"""The `ai_analysis` object of a transcription: the deterministic rules always run (they own
compliance); an LLM, when configured, answers the rest and the user's custom instructions."""

from __future__ import annotations

from app.analysis import rules
from app.analysis.llm import LLMAnalyzer, LLMFailed
from app.analysis.schema import CallAnalysis, CallFacts, Compliance
from app.redaction import Finding
from app.transcript import DiarizedTranscript

NO_LLM_FOR_INSTRUCTIONS = "Custom instructions need the LLM analysis engine, which is not configured on this server."
RULES_LANGUAGE = "en"


def rules_cannot_read(language: str) -> str:
    return (
        f"The rule-based analysis reads English only and this call was recognised as '{language}': its fields "
        "are left empty, except the sensitive data found (masked). An LLM analysis engine (VOXPARSE_LLM_*) "
        "reads other languages."
    )


def _language_free(facts: CallFacts) -> CallFacts:
    """What the rules find whatever the language: the card data and codes masked in the call."""
    return CallFacts(compliance=Compliance(sensitive_data_shared=facts.compliance.sensitive_data_shared))


def analyze(
    transcript: DiarizedTranscript,
    *,
    findings: list[Finding],
    instructions: str | None,
    llm: LLMAnalyzer | None = None,
    language: str = RULES_LANGUAGE,
) -> CallAnalysis:
    """`language`: the call's, as recognised; the rules read English, and leave other languages'
    fields empty (with a warning) rather than guess them."""
    cleaned = "\n".join(transcript.labelled_lines())
    facts = rules.analyze(transcript, findings)
    warnings: list[str] = []
    if language.lower() != RULES_LANGUAGE:
        facts = _language_free(facts)
    if llm is not None and transcript.segments:
        try:
            answer = llm.analyze(cleaned, instructions)
        except LLMFailed as exc:
            warnings.append(f"The LLM analysis failed ({exc}); these fields come from the rule-based analyzer.")
        else:
            merged = answer.model_dump(exclude={"custom"})
            # Compliance is never left to a model.
            merged["compliance"] = facts.compliance.model_dump()
            return CallAnalysis(
                **merged,
                transcript_cleaned=cleaned,
                custom=answer.custom if instructions else None,
                engine="llm",
                warnings=warnings,
            )
    if language.lower() != RULES_LANGUAGE:
        warnings.append(rules_cannot_read(language))
    if instructions and llm is None:
        warnings.append(NO_LLM_FOR_INSTRUCTIONS)
    return CallAnalysis(**facts.model_dump(), transcript_cleaned=cleaned, engine="rules", warnings=warnings)
