"""Eight scripted calls with the analysis we expect from them: one per call type, a card payment
with a CVV, a partial payment and an escalation. Synthesized by the tests, never committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.synth import Turn


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    turns: list[Turn]
    expected: dict[str, Any]
    """Dotted analysis paths -> expected values."""
    secrets: list[str] = field(default_factory=list)
    """Digit strings that must never appear in any output."""


A, C = "agent", "customer"

CALLS = [
    ScriptedCall(
        "billing",
        [
            Turn(
                A,
                "Thank you for calling Greenfield billing support. This call may be recorded. My name is Karen. How can I help you today?",
            ),
            Turn(
                C,
                "Hi Karen, this is James Rivera from Greenfield Dental Group. I noticed a double charge on my March invoice.",
            ),
            Turn(
                A,
                "I am sorry about that. I will issue a credit of seventy five dollars and adjust your rate to one hundred forty nine dollars and ninety nine cents per month.",
            ),
            Turn(C, "Okay, that works for me. Thank you."),
            Turn(A, "You are welcome. Is there anything else I can help you with?"),
            Turn(C, "No, that is everything. Thanks for your help."),
        ],
        {
            "call_type": "billing",
            "call_outcome": "resolved",
            "customer.name": "James Rivera",
            "agent.name": "Karen",
            "financial.credit_issued": "$75.00",
            "financial.recurring_amount": "$149.99",
            "compliance.recording_disclosure": True,
        },
    ),
    ScriptedCall(
        "support",
        [
            Turn(A, "Thank you for calling Northwind technical support. My name is Mike. How can I help you?"),
            Turn(C, "Hi Mike, my name is Sarah Chen. My internet connection keeps dropping every evening."),
            Turn(A, "I am sorry to hear that. Let me check your line. I will reset the router from here."),
            Turn(C, "Okay, the lights are blinking now. It is working again. Thank you so much."),
            Turn(A, "Great, I am glad it is fixed. Have a good day."),
        ],
        {
            "call_type": "support",
            "call_outcome": "resolved",
            "customer.name": "Sarah Chen",
            "agent.name": "Mike",
            "compliance.recording_disclosure": False,
        },
    ),
    ScriptedCall(
        "sales",
        [
            Turn(A, "Thank you for calling Bluewave sales, this call is recorded for quality. My name is Lisa."),
            Turn(
                C,
                "Hello Lisa, this is Tom Baker from Baker Plumbing. I am interested in upgrading to the premium plan.",
            ),
            Turn(
                A,
                "Of course. The premium plan is fifty nine dollars and ninety nine cents per month. I can upgrade you today.",
            ),
            Turn(C, "Yes, please do. That sounds good."),
            Turn(A, "I have upgraded your account. You will receive a confirmation email shortly."),
            Turn(C, "Perfect, thank you."),
        ],
        {
            "call_type": "sales",
            "call_outcome": "resolved",
            "customer.name": "Tom Baker",
            "agent.name": "Lisa",
            "financial.recurring_amount": "$59.99",
            "compliance.recording_disclosure": True,
        },
    ),
    ScriptedCall(
        "retention",
        [
            Turn(A, "Thank you for calling Skyline customer service. My name is David. How can I help?"),
            Turn(
                C,
                "Hi David, my name is Emma Wilson. I want to cancel my subscription because a competitor offers a better price.",
            ),
            Turn(
                A,
                "I understand. Before you cancel, I can offer you a discount. Your new rate would be thirty nine dollars and ninety nine cents per month.",
            ),
            Turn(C, "Okay, that works. I will stay then."),
            Turn(A, "I have applied the discount to your account. Thank you for staying with us."),
        ],
        {
            "call_type": "retention",
            "call_outcome": "resolved",
            "customer.name": "Emma Wilson",
            "agent.name": "David",
            "financial.recurring_amount": "$39.99",
        },
    ),
    ScriptedCall(
        "complaint",
        [
            Turn(A, "Thank you for calling Metro Energy. My name is Paul. How can I help you?"),
            Turn(
                C,
                "This is Linda Moore. I am furious. Your technician was rude and left a mess. This is unacceptable and ridiculous.",
            ),
            Turn(A, "I am very sorry. Unfortunately I am not able to reverse the visit fee."),
            Turn(C, "That is terrible. I am very disappointed and angry with your service."),
            Turn(A, "I understand your frustration."),
        ],
        {
            "call_type": "complaint",
            "call_outcome": "unresolved",
            "customer.name": "Linda Moore",
            "agent.name": "Paul",
            "sentiment.customer_sentiment": "negative",
        },
    ),
    ScriptedCall(
        "card_payment",
        [
            Turn(A, "Thank you for calling Greenfield billing. This call may be recorded. My name is Karen."),
            Turn(
                C, "Hi Karen, this is James Rivera. I would like to pay my balance of one hundred twenty dollars today."
            ),
            Turn(A, "Of course. Can I have the card number please?"),
            Turn(
                C,
                "Yes. The card number is four five three two, two nine one four, one seven seven seven, six three one one.",
            ),
            Turn(A, "Thank you. And the security code on the back?"),
            Turn(C, "The security code is nine four seven."),
            Turn(
                A,
                "Thank you. I have processed the payment of one hundred twenty dollars today. Is there anything else?",
            ),
            Turn(C, "No, that is all. Thank you."),
        ],
        {
            "call_type": "billing",
            "call_outcome": "resolved",
            "customer.name": "James Rivera",
            "agent.name": "Karen",
            "financial.payment_today": "$120.00",
            "financial.payment_method": "Visa ending in 6311",
            "compliance.recording_disclosure": True,
            "compliance.sensitive_data_shared": ["Credit card 4532 **** **** 6311", "CVV (redacted)"],
        },
        secrets=["4532291417776311", "29141777"],
    ),
    ScriptedCall(
        "partial_payment",
        [
            Turn(A, "Thank you for calling Horizon billing. My name is Nina. How can I help?"),
            Turn(C, "Hi Nina, this is Carlos Diaz. I owe three hundred dollars but I can only pay part of it today."),
            Turn(
                A,
                "No problem. I can process a payment of one hundred dollars today. Your remaining balance will be two hundred dollars.",
            ),
            Turn(C, "Okay, thank you. I will pay the rest next month."),
            Turn(A, "I have processed the partial payment. Have a nice day."),
        ],
        {
            "call_type": "billing",
            "call_outcome": "partial",
            "customer.name": "Carlos Diaz",
            "agent.name": "Nina",
            "financial.payment_today": "$100.00",
            "financial.pending_balance": "$200.00",
        },
    ),
    ScriptedCall(
        "escalation",
        [
            Turn(A, "Thank you for calling Apex technical support. My name is Ryan. How can I help you?"),
            Turn(C, "Hi Ryan, my name is Olivia Brown. My account login is broken and I cannot access my files."),
            Turn(A, "I am sorry. I am not able to fix this from here. I will escalate this to a specialist."),
            Turn(C, "Okay. When will I hear back?"),
            Turn(
                A,
                "A supervisor will call you back within twenty four hours. I am transferring your case to the escalation team now.",
            ),
        ],
        {"call_type": "support", "call_outcome": "escalated", "customer.name": "Olivia Brown", "agent.name": "Ryan"},
    ),
]


def field_value(analysis: dict[str, Any], path: str) -> Any:
    value: Any = analysis
    for part in path.split("."):
        value = value[part]
    return value
