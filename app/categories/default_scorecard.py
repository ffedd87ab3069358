"""The QA scorecard every account starts with, written in the rule language users write their own
in (GET /v1/scorecard shows it; PUT replaces it). Phrases are matched by meaning, so they are
examples of what is said, not the only words that count."""

from __future__ import annotations

from typing import Any

from app.categories.rules import ScorecardIn

GREETINGS = [
    "thank you for calling",
    "thanks for calling",
    "good morning",
    "good afternoon",
    "hello, how can I help you",
    "how may I help you today",
]
DISCLOSURES = [
    "this call may be recorded",
    "this call is recorded for quality and training purposes",
    "calls are monitored and recorded",
    "you are on a recorded line",
]
VERIFICATIONS = [
    "can you confirm your date of birth",
    "can I verify your identity",
    "can you confirm the address on the account",
    "for security can you confirm",
    "can I have your account number",
    "confirm your name and postcode",
    "what is the last four of your social",
    "answer your security question",
]
ACCOUNT_DETAILS = [
    "your balance is",
    "your current balance",
    "the amount due is",
    "you owe",
    "your last payment",
    "your bill is",
    "your account shows",
    "I can see on your account",
]
HOLD_ASKED = [
    "can I put you on hold",
    "please hold",
    "bear with me one moment",
    "one moment while I check",
    "do you mind holding",
]
HOLD_THANKED = [
    "thank you for holding",
    "thanks for waiting",
    "sorry for the wait",
    "thanks for your patience",
]
RESTATED = [
    "so what I understand is",
    "just to confirm, you want",
    "if I understand correctly",
    "so you're saying",
    "let me make sure I have this right",
    "so the problem is",
]
FURTHER_HELP = [
    "is there anything else I can help you with",
    "anything else I can do for you today",
    "is there anything else today",
]
CLOSINGS = [
    "thank you for calling",
    "have a great day",
    "have a good day",
    "take care",
    "goodbye",
]


def _said(phrases: list[str], *, participant: str = "Agent", **extra: Any) -> dict[str, Any]:
    return {"type": "phrases", "match": "meaning", "participant": participant, "phrases": phrases, **extra}


def default_scorecard(silence_seconds: float) -> ScorecardIn:
    """`silence_seconds`: the silence that counts as a hold (the call metrics' threshold)."""
    return ScorecardIn.model_validate(
        {
            "name": "Default",
            "questions": [
                {
                    "question": "The agent greeted the customer and gave a name",
                    "weight": 10,
                    "rules": [
                        _said(GREETINGS, range={"first_seconds": 45}),
                        {"type": "field", "field": "agent_name", "present": True},
                    ],
                },
                {
                    "question": "The recording disclosure was given in the first 30 seconds",
                    "weight": 15,
                    "rules": [_said(DISCLOSURES, range={"first_seconds": 30})],
                },
                {
                    "question": "Identity was verified before account details were discussed",
                    "weight": 15,
                    "applies_if": [_said(ACCOUNT_DETAILS, id="details")],
                    "rules": [_said(VERIFICATIONS, range={"before": "details"})],
                },
                {
                    "question": "The agent did not interrupt the customer",
                    "weight": 10,
                    "rules": [{"type": "interruptions", "participant": "Agent", "min_count": 1, "negate": True}],
                },
                {
                    "question": "The agent asked before a hold and thanked the customer after it",
                    "weight": 10,
                    "applies_if": [{"type": "non_talk", "id": "hold", "min_seconds": silence_seconds}],
                    "rules": [
                        _said(HOLD_ASKED, range={"before": "hold"}),
                        _said(HOLD_THANKED, range={"after": "hold"}),
                    ],
                },
                {
                    "question": "The agent restated the customer's issue",
                    "weight": 10,
                    "rules": [_said(RESTATED)],
                },
                {
                    "question": "The agent offered further help",
                    "weight": 10,
                    "rules": [_said(FURTHER_HELP, range={"start_share": 0.5})],
                },
                {
                    "question": "The agent closed the call",
                    "weight": 10,
                    "rules": [_said(CLOSINGS, range={"last_seconds": 45})],
                },
            ],
        }
    )
