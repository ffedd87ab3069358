"""A long, varied two-party call script for the benchmarks (synthesized, never committed)."""

from __future__ import annotations

import itertools

from tests.support.synth import Turn

OPENING = [
    Turn(
        "agent",
        "Thank you for calling Greenfield Dental billing, this call may be recorded. My name is Karen.",
    ),
    Turn("customer", "Hi Karen, this is James Rivera. I noticed a charge on my March invoice that looks wrong."),
]
BODY = [
    Turn("agent", "I am sorry about that. Let me pull up your account and look at the March invoice."),
    Turn(
        "customer",
        "Sure. The total was two hundred and ten dollars but we normally pay one forty nine ninety nine.",
    ),
    Turn("agent", "I can see a duplicate line for the cleaning service. That explains the difference."),
    Turn("customer", "That is what I thought. Can you remove it and send me an updated invoice?"),
    Turn("agent", "Yes. I will issue a credit of seventy five dollars and adjust the rate going forward."),
    Turn("customer", "Thank you. Will the credit show up on the next statement or this one?"),
    Turn("agent", "It will appear on the April statement, within three to five business days."),
    Turn("customer", "Great. And could you also confirm the billing date stays on the fifteenth?"),
    Turn("agent", "The billing date stays on the fifteenth of each month. Nothing changes there."),
    Turn("customer", "Perfect. I also wanted to ask about adding a second location to the plan."),
    Turn("agent", "Of course. A second location adds forty dollars a month to the recurring amount."),
    Turn("customer", "Let me think about that and call back next week after I talk to my partner."),
]
CLOSING = [
    Turn("agent", "No problem. Is there anything else I can help you with today?"),
    Turn("customer", "No, that is everything. Thanks for your help Karen."),
    Turn("agent", "You are welcome James. Have a great day."),
]


def script(target_seconds: float, seconds_per_turn: float = 5.0) -> list[Turn]:
    """Opening, then the body repeated until about `target_seconds`, then the closing."""
    turns = list(OPENING)
    body_turns = max(1, int(target_seconds / seconds_per_turn) - len(OPENING) - len(CLOSING))
    turns.extend(itertools.islice(itertools.cycle(BODY), body_turns))
    turns.extend(CLOSING)
    return turns
