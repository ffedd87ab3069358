"""Categories and scorecards evaluated on a stored result: pure, no transcription, no database.

Each rule finds its evidence (sentences, silences, interruptions, an analysis value); a rule holds
when it found some, or, negated, when it found none. A range of `before`/`after` another rule is
resolved against that rule's first evidence, so rules are evaluated referenced ones first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.analysis import rules as analysis_rules
from app.categories import phrases
from app.categories.call import CallView, Sentence
from app.categories.rules import (
    CategoryIn,
    FieldRule,
    InterruptionsRule,
    NonTalkRule,
    PhrasesRule,
    Rule,
    ScorecardIn,
    SentimentRule,
    TimeRange,
)
from app.speech.result import (
    CategoryPreview,
    Evidence,
    MatchedCategory,
    RuleEvidence,
    RuleOutcome,
    ScorecardAnswer,
    ScorecardResult,
    TranscriptionResult,
)

# Evidence kept per rule: enough to show why, not the whole call.
MAX_EVIDENCE = 5
Window = tuple[float, float]


@dataclass(frozen=True)
class Outcome:
    held: bool
    found: list[Evidence]
    """What the rule describes, found in the call (for a negated rule: what made it fail)."""


class Evaluator:
    """Evaluates any number of rule lists on one call, sharing the call's sentences, silences and
    sentence embeddings between them."""

    def __init__(self, result: TranscriptionResult) -> None:
        self.call = CallView(result)

    def categories(self, definitions: Sequence[CategoryIn]) -> list[MatchedCategory]:
        matched = []
        for definition in definitions:
            outcomes = self.rules(definition.rules, until_one_fails=True)
            if all(o.held for o in outcomes):
                matched.append(
                    MatchedCategory(
                        name=definition.name,
                        rules=[_evidence(r, o) for r, o in zip(definition.rules, outcomes, strict=True)],
                    )
                )
        return matched

    def preview(self, definition: CategoryIn) -> CategoryPreview:
        """Every rule's outcome, the failing ones too: what a category editor shows."""
        outcomes = self.rules(definition.rules)
        return CategoryPreview(
            name=definition.name,
            matched=all(o.held for o in outcomes),
            rules=[
                RuleOutcome(type=r.type, id=r.id, negate=r.negate, held=o.held, evidence=o.found)
                for r, o in zip(definition.rules, outcomes, strict=True)
            ],
        )

    def scorecard(self, definition: ScorecardIn) -> ScorecardResult:
        answers = []
        for question in definition.questions:
            outcomes = self.rules([*question.applies_if, *question.rules])
            conditions, checks = outcomes[: len(question.applies_if)], outcomes[len(question.applies_if) :]
            if not all(o.held for o in conditions):
                answer, shown = "not_applicable", []
            else:
                answer = "yes" if all(o.held for o in checks) else "no"
                pairs = zip([*question.applies_if, *question.rules], outcomes, strict=True)
                shown = [_evidence(rule, outcome) for rule, outcome in pairs if outcome.held]
            answers.append(
                ScorecardAnswer(question=question.question, weight=question.weight, answer=answer, evidence=shown)
            )
        answered = [a for a in answers if a.answer != "not_applicable"]
        total = sum(a.weight for a in answered)
        score = round(100 * sum(a.weight for a in answered if a.answer == "yes") / total, 1) if total else None
        return ScorecardResult(name=definition.name, score=score, answers=answers)

    def rules(self, rules: Sequence[Rule], *, until_one_fails: bool = False) -> list[Outcome]:
        """Each rule's outcome, in the order given; referenced rules are evaluated first. With
        `until_one_fails`, the outcomes end at the first rule that does not hold."""
        outcomes: dict[int, Outcome] = {}
        by_id = {rule.id: index for index, rule in enumerate(rules) if rule.id is not None}
        order = sorted(range(len(rules)), key=lambda i: _placed_relative(rules[i]))
        for index in order:
            rule = rules[index]
            window = self._window(rule.range, {rid: outcomes.get(i) for rid, i in by_id.items()})
            if window is None:  # placed relative to a rule with no evidence: nothing to look at
                found: list[Evidence] = []
            else:
                found = self._find(rule, window)
            outcomes[index] = Outcome(held=bool(found) != rule.negate, found=found)
            if until_one_fails and not outcomes[index].held:
                return [outcomes[index]]
        return [outcomes[i] for i in range(len(rules))]

    def _window(self, time_range: TimeRange | None, references: dict[str, Outcome | None]) -> Window | None:
        end = self.call.duration
        if time_range is None:
            return (0.0, end)
        r = time_range
        if r.first_seconds is not None:
            return (0.0, r.first_seconds)
        if r.last_seconds is not None:
            return (max(0.0, end - r.last_seconds), end)
        if r.start_seconds is not None or r.end_seconds is not None:
            return (r.start_seconds or 0.0, r.end_seconds if r.end_seconds is not None else end)
        if r.start_share is not None or r.end_share is not None:
            return ((r.start_share or 0.0) * end, (r.end_share if r.end_share is not None else 1.0) * end)
        reference = references.get(r.reference or "")
        anchors = [e for e in (reference.found if reference else []) if e.start is not None]
        if not anchors:
            return None
        first = min(anchors, key=lambda e: e.start or 0.0)
        if r.before is not None:
            return (0.0, first.start or 0.0)
        return (first.end if first.end is not None else first.start or 0.0, end)

    def _find(self, rule: Rule, window: Window) -> list[Evidence]:
        if isinstance(rule, PhrasesRule):
            return self._phrases(rule, window)
        if isinstance(rule, InterruptionsRule):
            return self._interruptions(rule, window)
        if isinstance(rule, NonTalkRule):
            return self._non_talk(rule, window)
        if isinstance(rule, SentimentRule):
            return self._sentiment(rule, window)
        return self._field(rule)

    def _sentences(self, participant: str, window: Window) -> list[tuple[int, Sentence]]:
        return [
            (i, s)
            for i, s in enumerate(self.call.sentences)
            if _overlaps(s.start, s.end, window) and self.call.is_participant(s.participant, participant)
        ]

    def _phrases(self, rule: PhrasesRule, window: Window) -> list[Evidence]:
        candidates = self._sentences(rule.participant, window)
        if not candidates:
            return []
        if rule.match == "meaning":
            threshold = rule.threshold or phrases.MEANING_THRESHOLD
            found = phrases.by_meaning(rule.phrases, self.call.meaning, threshold, [i for i, _ in candidates])
            matches = [(s, found.get(i)) for i, s in candidates]
        elif rule.match == "fuzzy":
            threshold = rule.threshold or phrases.FUZZY_THRESHOLD
            matches = [(s, phrases.fuzzy(rule.phrases, s.said, threshold)) for _, s in candidates]
        else:
            matches = [(s, phrases.exact(rule.phrases, s.said)) for _, s in candidates]
        return [
            Evidence(start=s.start, end=s.end, participant=s.participant, text=s.text, value=m.phrase, score=m.score)
            for s, m in matches
            if m is not None
        ][:MAX_EVIDENCE]

    def _interruptions(self, rule: InterruptionsRule, window: Window) -> list[Evidence]:
        events = self.call.interruptions
        if events is None:  # only counts were stored: the whole call, no times
            metrics = self.call.result.call_metrics
            count = sum(
                p.interruptions
                for key, p in (metrics.participants.items() if metrics else [])
                if self.call.is_participant(key, rule.participant)
            )
            ok = rule.range is None and count >= (rule.min_count or 1) and rule.min_seconds is None
            return [Evidence(participant=rule.participant, value=str(count))] if ok else []
        chosen = [
            e
            for e in events
            if self.call.is_participant(e.participant, rule.participant)
            and _overlaps(e.start, e.start + e.seconds, window)
        ]
        if rule.min_count is not None and len(chosen) < rule.min_count:
            return []
        if rule.min_seconds is not None and sum(e.seconds for e in chosen) < rule.min_seconds:
            return []
        return [Evidence(start=e.start, end=round(e.start + e.seconds, 2), participant=e.participant) for e in chosen][
            :MAX_EVIDENCE
        ]

    def _non_talk(self, rule: NonTalkRule, window: Window) -> list[Evidence]:
        low, high = window
        gaps = [(max(s.start, low), min(s.end, high)) for s in self.call.silences if _overlaps(s.start, s.end, window)]
        if rule.min_seconds is not None:
            return [
                Evidence(start=round(a, 2), end=round(b, 2), value=f"{b - a:.1f} s")
                for a, b in gaps
                if b - a >= rule.min_seconds
            ][:MAX_EVIDENCE]
        span = high - low
        speech = sum(max(0.0, min(b, high) - max(a, low)) for a, b in self.call.speech)
        share = 1 - speech / span if span > 0 else 0.0
        if rule.min_share is not None and share >= rule.min_share:
            return [Evidence(start=round(low, 2), end=round(high, 2), value=f"{share:.2f}")]
        return []

    def _sentiment(self, rule: SentimentRule, window: Window) -> list[Evidence]:
        chosen = self._sentences(rule.participant, window)
        said = [s for _, s in chosen]
        scores = [self.call.tones[i] for i, _ in chosen]
        if analysis_rules.tone(scores) != rule.sentiment:
            return []
        # The sentences that weigh most in that direction.
        direction = {"positive": -1, "negative": 1}.get(rule.sentiment)
        ranked = sorted(zip(said, scores, strict=True), key=lambda p: direction * p[1] if direction else -abs(p[1]))
        return [
            Evidence(
                start=s.start,
                end=s.end,
                participant=s.participant,
                text=s.text,
                value=rule.sentiment,
                score=round(v, 3),
            )
            for s, v in ranked[:MAX_EVIDENCE]
        ]

    def _field(self, rule: FieldRule) -> list[Evidence]:
        values = _field_values(self.call.result, rule.field)
        if rule.present is not None:
            return [Evidence(value=", ".join(values) or None)] if bool(values) == rule.present else []
        wanted = [v.lower() for v in rule.values or []]
        if rule.field == "sensitive_data_shared":  # descriptions ("Visa card ending 4242"): by word
            return [Evidence(value=v) for v in values if any(phrases.exact([w], phrases.normalized(v)) for w in wanted)]
        return [Evidence(value=v) for v in values if v.lower() in wanted]


def _field_values(result: TranscriptionResult, name: str) -> list[str]:
    analysis = result.ai_analysis
    value: object = {
        "call_type": analysis.call_type,
        "call_outcome": analysis.call_outcome,
        "customer_sentiment": analysis.sentiment.customer_sentiment,
        "agent_performance": analysis.sentiment.agent_performance,
        "recording_disclosure": str(analysis.compliance.recording_disclosure).lower(),
        "sensitive_data_shared": analysis.compliance.sensitive_data_shared,
        "customer_name": analysis.customer.name,
        "agent_name": analysis.agent.name,
    }[name]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]


def _placed_relative(rule: Rule) -> bool:
    return rule.range is not None and rule.range.reference is not None


def _overlaps(start: float, end: float, window: Window) -> bool:
    low, high = window
    return end > low and start < high if end > start else low <= start <= high


def _evidence(rule: Rule, outcome: Outcome) -> RuleEvidence:
    return RuleEvidence(type=rule.type, id=rule.id, negate=rule.negate, evidence=[] if rule.negate else outcome.found)
