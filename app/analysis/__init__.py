"""The `ai_analysis` object of a transcription: the deterministic rules always run (they own
compliance); an LLM, when configured, answers the rest and the user's custom instructions."""

from __future__ import annotations

from app.analysis import rules
from app.analysis.llm import LLMAnalyzer, LLMFailed
from app.analysis.schema import CallAnalysis
from app.redaction import Finding
from app.transcript import DiarizedTranscript

NO_LLM_FOR_INSTRUCTIONS = "Custom instructions need the LLM analysis engine, which is not configured on this server."


def analyze(
    transcript: DiarizedTranscript,
    *,
    findings: list[Finding],
    instructions: str | None,
    llm: LLMAnalyzer | None = None,
) -> CallAnalysis:
    cleaned = "\n".join(transcript.labelled_lines())
    facts = rules.analyze(transcript, findings)
    warnings: list[str] = []
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
    if instructions and llm is None:
        warnings.append(NO_LLM_FOR_INSTRUCTIONS)
    return CallAnalysis(**facts.model_dump(), transcript_cleaned=cleaned, engine="rules", warnings=warnings)
