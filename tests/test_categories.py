"""Categories and scorecards: every rule kind, negation, participants and time ranges on calls whose
words and times are known; the default scorecard; and the rule language's refusals."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from app.analysis.schema import CallAnalysis
from app.categories.default_scorecard import default_scorecard
from app.categories.evaluate import Evaluator
from app.categories.rules import CategoryIn, Rule, ScorecardIn
from app.speech import metrics
from app.speech.diarization import SpeakerTurn
from app.speech.result import ResultSegment, ResultWord, TranscriptionResult
from app.transcript import Word

AGENT, CUSTOMER = "SPEAKER_00", "SPEAKER_01"
WORD_SECONDS = 0.3
RULE = TypeAdapter(Rule)


def built(lines: list[tuple[str, float, str]], duration: float | None = None, **analysis: Any) -> TranscriptionResult:
    """A result from (speaker, start, text) lines: a word every 0.3 s, a diarizer turn per line
    (lines may overlap: that is an interruption), metrics computed as the pipeline computes them."""
    words: list[Word] = []
    turns: list[SpeakerTurn] = []
    for speaker, start, text in lines:
        said = [
            Word(w, start + i * WORD_SECONDS, start + i * WORD_SECONDS + 0.25, 0.9, speaker)
            for i, w in enumerate(text.split())
        ]
        words.extend(said)
        turns.append(SpeakerTurn(said[0].start, said[-1].end, speaker))
    words.sort(key=lambda w: w.start)
    end = duration or words[-1].end + 1.0
    roles = {AGENT: "Agent", CUSTOMER: "Customer"}
    return TranscriptionResult(
        transcript=" ".join(w.word for w in words),
        duration_seconds=end,
        segments=[
            ResultSegment(start=t.start, end=t.end, speaker=t.speaker, text=text)
            for t, (_, _, text) in zip(turns, lines, strict=True)
        ],
        speakers=[AGENT, CUSTOMER],
        roles=roles,
        language="en",
        word_timestamps=[ResultWord(word=w.word, start=w.start, end=w.end, speaker=w.speaker) for w in words],
        ai_analysis=CallAnalysis.model_validate(analysis),
        call_metrics=metrics.compute(words, turns, duration=end, roles=roles, thresholds=metrics.Thresholds()),
    )


def holds(result: TranscriptionResult, rule: dict[str, Any]) -> bool:
    return Evaluator(result).rules([RULE.validate_python(rule)])[0].held


BILLING_CALL = built(
    [
        (AGENT, 0.0, "Thank you for calling Northwind, my name is Priya. This call may be recorded."),
        (CUSTOMER, 6.0, "Hi. I was billed twice this month and honestly it's terrible, I'm furious."),
        (AGENT, 11.0, "If I understand correctly, you were billed twice. Could you confirm your date of birth?"),
        (CUSTOMER, 15.0, "Sure, it's the fourth of May."),
        (AGENT, 17.0, "Thanks. Bear with me a moment while I look into it."),
        # 16 s of silence: a hold.
        (AGENT, 35.0, "Thanks so much for waiting. Your balance shows the charge twice, I have refunded one."),
        (CUSTOMER, 41.0, "Oh that's wonderful, thank you, I really appreciate it."),
        (AGENT, 45.0, "Is there anything else I can help you with today?"),
        (CUSTOMER, 48.0, "No, that's everything."),
        (AGENT, 50.0, "Have a great day, goodbye."),
    ],
    agent={"name": "Priya"},
    call_type="billing",
    call_outcome="resolved",
    compliance={"recording_disclosure": True, "sensitive_data_shared": ["Visa card ending 4242"]},
)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"type": "phrases", "phrases": ["billed twice"]}, True),
        ({"type": "phrases", "phrases": ["BILLED, twice"]}, True),  # case and punctuation ignored
        ({"type": "phrases", "phrases": ["charged twice"]}, False),
        ({"type": "phrases", "phrases": ["billed twice this month"], "participant": "Agent"}, False),
        ({"type": "phrases", "phrases": ["billed twice"], "participant": "Customer"}, True),
        ({"type": "phrases", "phrases": ["billed twice"], "range": {"first_seconds": 5}}, False),
        ({"type": "phrases", "phrases": ["billed twice"], "range": {"first_seconds": 10}}, True),
        ({"type": "phrases", "phrases": ["goodbye"], "range": {"last_seconds": 5}}, True),
        ({"type": "phrases", "phrases": ["goodbye"], "range": {"end_share": 0.5}}, False),
        ({"type": "phrases", "phrases": ["goodbye"], "range": {"start_share": 0.5}}, True),
        ({"type": "phrases", "phrases": ["date of birth"], "range": {"start_seconds": 12, "end_seconds": 16}}, True),
        ({"type": "phrases", "phrases": ["date of birth"], "range": {"start_seconds": 20}}, False),
        ({"type": "phrases", "phrases": ["charged twice"], "negate": True}, True),
        ({"type": "phrases", "phrases": ["billed twice"], "negate": True}, False),
        # Fuzzy: the recognizer's spelling of a name.
        ({"type": "phrases", "phrases": ["north wind"], "match": "fuzzy"}, True),
        ({"type": "phrases", "phrases": ["north wind"]}, False),
        ({"type": "phrases", "phrases": ["southwest airlines"], "match": "fuzzy"}, False),
    ],
)
def test_phrases(rule: dict[str, Any], expected: bool) -> None:
    assert holds(BILLING_CALL, rule) is expected


# Paraphrases of what is said in BILLING_CALL, none of them its words.
PARAPHRASES = [
    ("Agent", "one moment please"),
    ("Agent", "have a good day"),
    ("Customer", "I got billed two times"),
    ("Agent", "is there something more I can do for you"),
]


@pytest.mark.parametrize(("participant", "phrase"), PARAPHRASES)
def test_meaning_finds_paraphrases_that_exact_misses(participant: str, phrase: str) -> None:
    rule = {"type": "phrases", "phrases": [phrase], "participant": participant}
    assert not holds(BILLING_CALL, rule)
    assert holds(BILLING_CALL, {**rule, "match": "meaning"})


@pytest.mark.parametrize(
    "phrase",
    [
        "I want to cancel my subscription",
        "the internet keeps dropping",
        "can I speak to your manager",
        "you will be transferred",
        "the payment failed",
    ],
)
def test_meaning_does_not_match_what_was_not_said(phrase: str) -> None:
    assert not holds(BILLING_CALL, {"type": "phrases", "phrases": [phrase], "match": "meaning"})


def test_phrase_evidence_is_the_sentence_with_its_times_and_speaker() -> None:
    rule = CategoryIn.model_validate(
        {
            "name": "Hold",
            "rules": [
                {
                    "type": "phrases",
                    "match": "meaning",
                    "phrases": ["bear with me for a moment"],
                    "participant": "Agent",
                }
            ],
        }
    )
    [matched] = Evaluator(BILLING_CALL).categories([rule])
    [evidence] = matched.rules[0].evidence
    assert evidence.text == "Bear with me a moment while I look into it."
    assert evidence.participant == "Agent"
    assert (evidence.start, evidence.end) == pytest.approx((17.3, 20.25))
    assert evidence.value == "bear with me for a moment"
    assert 0.6 <= (evidence.score or 0) < 1


INTERRUPTED = built(
    [
        (CUSTOMER, 0.0, "So the thing is my router has been dropping every evening since Tuesday and"),
        (AGENT, 2.0, "Right, have you restarted it?"),  # starts while the customer talks: interrupts
        (CUSTOMER, 6.0, "Yes, twice, and it still drops the connection every single night, it is useless."),
        (AGENT, 12.0, "Okay."),
        (CUSTOMER, 20.0, "It is really frustrating and awful because I work from home and"),
        (AGENT, 21.0, "I understand, let me book an engineer for you."),
    ],
    duration=40.0,
)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"type": "interruptions", "participant": "Agent"}, True),
        ({"type": "interruptions", "participant": "Agent", "min_count": 2}, True),
        ({"type": "interruptions", "participant": "Agent", "min_count": 3}, False),
        ({"type": "interruptions", "participant": "Customer"}, False),
        ({"type": "interruptions", "participant": "Agent", "range": {"first_seconds": 10}, "min_count": 2}, False),
        ({"type": "interruptions", "participant": "Agent", "min_seconds": 2.0}, True),
        ({"type": "interruptions", "participant": "Agent", "min_seconds": 30.0}, False),
        ({"type": "interruptions", "participant": "Agent", "negate": True}, False),
        ({"type": "interruptions", "participant": "Customer", "negate": True}, True),
        ({"type": "non_talk", "min_seconds": 5}, True),
        ({"type": "non_talk", "min_seconds": 5, "range": {"first_seconds": 10}}, False),
        ({"type": "non_talk", "min_seconds": 20}, False),
        ({"type": "non_talk", "min_share": 0.2}, True),
        ({"type": "non_talk", "min_share": 0.9}, False),
        ({"type": "non_talk", "min_share": 0.5, "range": {"start_seconds": 30}}, True),
        ({"type": "sentiment", "participant": "Customer", "sentiment": "negative"}, True),
        ({"type": "sentiment", "participant": "Customer", "sentiment": "positive"}, False),
        ({"type": "sentiment", "participant": "Customer", "sentiment": "negative", "negate": True}, False),
    ],
)
def test_interruptions_silences_and_sentiment(rule: dict[str, Any], expected: bool) -> None:
    assert holds(INTERRUPTED, rule) is expected


def test_interruption_evidence_has_its_time_and_who() -> None:
    rule = CategoryIn.model_validate(
        {"name": "Talks over", "rules": [{"type": "interruptions", "participant": "Agent"}]}
    )
    [matched] = Evaluator(INTERRUPTED).categories([rule])
    assert [(e.participant, e.start) for e in matched.rules[0].evidence] == [("Agent", 2.0), ("Agent", 21.0)]


def test_sentiment_mixed_and_by_range() -> None:
    # The customer is furious, then delighted.
    assert holds(BILLING_CALL, {"type": "sentiment", "participant": "Customer", "sentiment": "mixed"})
    early = {"type": "sentiment", "participant": "Customer", "range": {"end_seconds": 12}}
    late = {"type": "sentiment", "participant": "Customer", "range": {"start_seconds": 40}}
    assert holds(BILLING_CALL, {**early, "sentiment": "negative"})
    assert holds(BILLING_CALL, {**late, "sentiment": "positive"})
    assert not holds(BILLING_CALL, {**late, "sentiment": "negative"})


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"type": "field", "field": "call_type", "values": ["billing", "complaint"]}, True),
        ({"type": "field", "field": "call_type", "values": ["SALES"]}, False),
        ({"type": "field", "field": "call_outcome", "values": ["resolved"]}, True),
        ({"type": "field", "field": "recording_disclosure", "values": ["true"]}, True),
        ({"type": "field", "field": "recording_disclosure", "values": ["false"]}, False),
        ({"type": "field", "field": "sensitive_data_shared", "values": ["card"]}, True),
        ({"type": "field", "field": "sensitive_data_shared", "values": ["cvv"]}, False),
        ({"type": "field", "field": "agent_name", "present": True}, True),
        ({"type": "field", "field": "customer_name", "present": True}, False),
        ({"type": "field", "field": "customer_name", "present": False}, True),
        ({"type": "field", "field": "call_type", "values": ["billing"], "negate": True}, False),
    ],
)
def test_fields(rule: dict[str, Any], expected: bool) -> None:
    assert holds(BILLING_CALL, rule) is expected


def test_before_and_after_another_rule() -> None:
    def category(*rules: dict[str, Any]) -> CategoryIn:
        return CategoryIn.model_validate({"name": "c", "rules": list(rules)})

    verified = {"type": "phrases", "phrases": ["date of birth"], "participant": "Agent"}
    details = {"type": "phrases", "id": "details", "phrases": ["your balance"]}
    evaluator = Evaluator(BILLING_CALL)
    assert evaluator.categories([category(details, {**verified, "range": {"before": "details"}})])
    assert not evaluator.categories([category(details, {**verified, "range": {"after": "details"}})])
    hold = {"type": "non_talk", "id": "hold", "min_seconds": 10}
    thanked = {"type": "phrases", "phrases": ["thanks so much for waiting"], "range": {"after": "hold"}}
    assert evaluator.categories([category(hold, thanked)])
    # Relative to a rule that found nothing: there is nothing before or after it.
    no_hold = {**hold, "min_seconds": 30}
    assert not evaluator.categories([category(no_hold, thanked)])
    assert (
        evaluator.categories([category(no_hold | {"id": "x"}, {**thanked, "range": {"after": "x"}, "negate": True})])
        == []
    )


def test_a_category_needs_every_rule() -> None:
    both = CategoryIn.model_validate(
        {
            "name": "Angry billing",
            "rules": [
                {"type": "field", "field": "call_type", "values": ["billing"]},
                {
                    "type": "sentiment",
                    "participant": "Customer",
                    "sentiment": "negative",
                    "range": {"first_seconds": 12},
                },
            ],
        }
    )
    other = both.model_copy(
        update={
            "name": "Angry sales",
            "rules": [
                RULE.validate_python({"type": "field", "field": "call_type", "values": ["sales"]}),
                both.rules[1],
            ],
        }
    )
    matched = Evaluator(BILLING_CALL).categories([both, other])
    assert [m.name for m in matched] == ["Angry billing"]
    assert [r.type for r in matched[0].rules] == ["field", "sentiment"]
    assert matched[0].rules[0].evidence[0].value == "billing"


def test_the_default_scorecard_on_a_good_call() -> None:
    card = Evaluator(BILLING_CALL).scorecard(default_scorecard(10.0))
    answers = {a.question: a.answer for a in card.answers}
    assert set(answers.values()) == {"yes"}, answers
    assert card.score == 100.0
    hold = next(a for a in card.answers if "hold" in a.question)
    assert [r.type for r in hold.evidence] == ["non_talk", "phrases", "phrases"]


def test_the_default_scorecard_on_a_poor_call() -> None:
    card = Evaluator(INTERRUPTED).scorecard(default_scorecard(10.0))
    answers = {a.question: a.answer for a in card.answers}
    assert answers["The agent did not interrupt the customer"] == "no"
    assert answers["The recording disclosure was given in the first 30 seconds"] == "no"
    assert answers["The agent greeted the customer and gave a name"] == "no"
    # No account details discussed, no silence long enough for a hold.
    assert answers["Identity was verified before account details were discussed"] == "not_applicable"
    assert answers["The agent asked before a hold and thanked the customer after it"] == "not_applicable"
    answered = [a for a in card.answers if a.answer != "not_applicable"]
    yes = sum(a.weight for a in answered if a.answer == "yes")
    assert card.score == pytest.approx(round(100 * yes / sum(a.weight for a in answered), 1))
    assert card.score is not None
    assert card.score < 50


def test_weights_and_not_applicable_questions() -> None:
    card = ScorecardIn.model_validate(
        {
            "name": "Two questions",
            "questions": [
                {"question": "Said goodbye", "weight": 3, "rules": [{"type": "phrases", "phrases": ["goodbye"]}]},
                {"question": "Said sorry", "weight": 1, "rules": [{"type": "phrases", "phrases": ["apologies"]}]},
                {
                    "question": "Offered a refund when asked",
                    "weight": 50,
                    "applies_if": [{"type": "phrases", "phrases": ["I want a refund"]}],
                    "rules": [{"type": "phrases", "phrases": ["refunded"]}],
                },
            ],
        }
    )
    scored = Evaluator(BILLING_CALL).scorecard(card)
    assert [a.answer for a in scored.answers] == ["yes", "no", "not_applicable"]
    assert scored.score == 75.0


@pytest.mark.parametrize(
    "definition",
    [
        {"name": "", "rules": [{"type": "phrases", "phrases": ["x"]}]},
        {"name": "no rules", "rules": []},
        {"name": "too many", "rules": [{"type": "phrases", "phrases": ["x"]}] * 21},
        {"name": "unknown kind", "rules": [{"type": "keywords", "phrases": ["x"]}]},
        {"name": "no phrases", "rules": [{"type": "phrases", "phrases": []}]},
        {"name": "bad match", "rules": [{"type": "phrases", "phrases": ["x"], "match": "regex"}]},
        {"name": "exact threshold", "rules": [{"type": "phrases", "phrases": ["x"], "threshold": 0.5}]},
        {"name": "participant", "rules": [{"type": "phrases", "phrases": ["x"], "participant": "Supervisor"}]},
        {
            "name": "two ranges",
            "rules": [{"type": "phrases", "phrases": ["x"], "range": {"first_seconds": 5, "last_seconds": 5}}],
        },
        {"name": "empty range", "rules": [{"type": "phrases", "phrases": ["x"], "range": {}}]},
        {
            "name": "backwards",
            "rules": [{"type": "phrases", "phrases": ["x"], "range": {"start_seconds": 9, "end_seconds": 3}}],
        },
        {"name": "share > 1", "rules": [{"type": "phrases", "phrases": ["x"], "range": {"end_share": 1.5}}]},
        {"name": "dangling", "rules": [{"type": "phrases", "phrases": ["x"], "range": {"before": "nowhere"}}]},
        {
            "name": "duplicate ids",
            "rules": [
                {"type": "phrases", "id": "a", "phrases": ["x"]},
                {"type": "non_talk", "id": "a", "min_seconds": 3},
            ],
        },
        {
            "name": "negated ref",
            "rules": [
                {"type": "phrases", "id": "a", "negate": True, "phrases": ["x"]},
                {"type": "phrases", "phrases": ["y"], "range": {"after": "a"}},
            ],
        },
        {"name": "self ref", "rules": [{"type": "phrases", "id": "a", "phrases": ["x"], "range": {"after": "a"}}]},
        {"name": "non_talk both", "rules": [{"type": "non_talk", "min_seconds": 3, "min_share": 0.5}]},
        {"name": "non_talk none", "rules": [{"type": "non_talk"}]},
        {"name": "bad call type", "rules": [{"type": "field", "field": "call_type", "values": ["shouting"]}]},
        {
            "name": "field range",
            "rules": [{"type": "field", "field": "call_type", "values": ["sales"], "range": {"first_seconds": 3}}],
        },
        {"name": "field neither", "rules": [{"type": "field", "field": "call_type"}]},
        {"name": "sentiment", "rules": [{"type": "sentiment", "sentiment": "furious"}]},
        {"name": "extra", "rules": [{"type": "phrases", "phrases": ["x"], "colour": "red"}]},
    ],
)
def test_bad_rules_are_refused(definition: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CategoryIn.model_validate(definition)
