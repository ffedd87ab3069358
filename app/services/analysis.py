"""The `ai_analysis` object of a transcription."""

from __future__ import annotations

from typing import Any

from app.services.speakers import DiarizedTranscript


def analyze(transcript: DiarizedTranscript, *, instructions: str | None) -> dict[str, Any]:
    warnings = []
    if instructions:
        warnings.append("Custom instructions need the LLM analysis engine, which is not configured.")
    return {
        "call_summary": None,
        "call_type": None,
        "call_outcome": None,
        "customer": {"name": None, "company": None, "email": None, "phone": None},
        "agent": {"name": None, "department": None, "agent_id": None},
        "financial": {
            "payment_today": None,
            "recurring_amount": None,
            "pending_balance": None,
            "payment_method": None,
            "billing_date": None,
            "credit_issued": None,
        },
        "compliance": {"recording_disclosure": None, "sensitive_data_shared": []},
        "sentiment": {"customer_sentiment": None, "agent_performance": None},
        "key_issues": [],
        "action_items": [],
        "agreements": [],
        "transcript_cleaned": "\n".join(transcript.labelled_lines()),
        "engine": "none",
        "warnings": warnings,
    }
