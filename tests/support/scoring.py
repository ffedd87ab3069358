"""Scoring a transcription result against a corpus call's truth: analysis fields, card recall and
leaks, WER (jiwer, Whisper's English normaliser) and DER (pyannote.metrics). Used by
`bench.accuracy` and by the accuracy floor test."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.corpus import CorpusCall

# A secret this long is a card number (or its middle); a shorter one is a security code.
CARD_DIGITS = 8
FIELDS = ("call_type", "call_outcome", "customer_name", "agent_name", "recording_disclosure", "financial")


@dataclass
class Tally:
    hits: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    numbers: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    misses: list[str] = field(default_factory=list)

    def hit(self, name: str, ok: bool, detail: str = "") -> None:
        self.hits[name].append(ok)
        if not ok and detail:
            self.misses.append(detail)

    def add(self, other: Tally) -> None:
        for k, v in other.hits.items():
            self.hits[k].extend(v)
        for k, n in other.numbers.items():
            self.numbers[k].extend(n)
        self.misses.extend(other.misses)


def _tokens(name: str | None) -> list[str]:
    return re.sub(r"[^a-z ]", " ", (name or "").lower()).split()


def _consonants(word: str) -> str:
    """The word's consonants, doubled ones once: "reilly" and "riley" are both "rly"."""
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiou]", "", word))


def _same_word(a: str, b: str) -> bool:
    """One name word, allowing the recognizer's spelling of it ("Reilly" heard as "Riley")."""
    from difflib import SequenceMatcher

    if a == b or SequenceMatcher(None, a, b).ratio() >= 0.75:
        return True
    return min(len(a), len(b)) >= 4 and _consonants(a) == _consonants(b)


def name_matches(predicted: str | None, truth: str | None) -> bool:
    """Right when both are absent, or when every predicted word is a word of the true name (as the
    recognizer may spell it) and the first name or the surname is there."""
    if truth is None:
        return predicted is None
    got, want = _tokens(predicted), _tokens(truth)
    if not got or not all(any(_same_word(g, w) for w in want) for g in got):
        return False
    return any(_same_word(g, want[0]) or _same_word(g, want[-1]) for g in got)


def name_heard(truth: str | None, transcript: str) -> bool:
    """Whether the recognizer wrote the first name or the surname somewhere in the transcript (as
    it may spell it, capitalised): a name it never wrote is lost to recognition, not to the analysis."""
    heard = _tokens(" ".join(re.findall(r"\b[A-Z][a-z]+", transcript)))
    want = _tokens(truth)
    return bool(want) and any(_same_word(h, w) for w in {want[0], want[-1]} for h in heard)


def amount_heard(amount: str, transcript: str) -> bool:
    """Whether the amount's figure is in the transcript once its number words are read as digits
    ("$223.00" is heard in "two hundred and twenty three dollars")."""
    from app.analysis.money import to_digits

    dollars, cents = amount.lstrip("$").replace(",", "").split(".")
    written = re.sub(r"(?<=\d),(?=\d{3})", "", to_digits(transcript))
    figure = dollars if cents == "00" else rf"{dollars}\s?\.?\s?{cents}"
    return re.search(rf"(?<![\d.]){figure}(?![\d])", written) is not None


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text)


def all_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return []


def leaked(secret: str, result: dict[str, Any]) -> bool:
    """A card (any seven of its digits in a row) or a security code readable in any text of the
    result, by the one rule every leak check uses (`tests.support.leaks`)."""
    from tests.support.leaks import card_leaked, code_leaked

    check = card_leaked if len(secret) >= CARD_DIGITS else code_leaked
    return any(check(secret, text) for text in all_strings(result))


def score_analysis(call: CorpusCall, result: dict[str, Any], tally: Tally, tag: str) -> None:
    truth, analysis = call.truth, result["ai_analysis"]
    if truth["call_type"] is not None:
        tally.hit("call_type", analysis["call_type"] == truth["call_type"],
                  f"{tag} call_type {analysis['call_type']} != {truth['call_type']}")  # fmt: skip
    if truth["call_outcome"] is not None:
        tally.hit("call_outcome", analysis["call_outcome"] == truth["call_outcome"],
                  f"{tag} call_outcome {analysis['call_outcome']} != {truth['call_outcome']}")  # fmt: skip
    # Each name and amount is also scored only where the recognizer heard it: what the analysis
    # makes of what was heard, apart from what recognition lost.
    for role in ("customer", "agent"):
        got, want = analysis[role]["name"], truth[f"{role}_name"]
        right = name_matches(got, want)
        tally.hit(f"{role}_name", right, f"{tag} {role} {got!r} != {want!r}")
        if want is not None and name_heard(want, result["transcript"]):
            tally.hit(f"{role}_name_if_heard", right)
    disclosed = analysis["compliance"]["recording_disclosure"]
    tally.hit("recording_disclosure", disclosed == truth["recording_disclosure"],
              f"{tag} disclosure {disclosed} != {truth['recording_disclosure']}")  # fmt: skip
    values = {v for v in analysis["financial"].values() if v}
    for key, amount in truth["financial"].items():
        tally.hit("financial", amount in values, f"{tag} financial {key} {amount} not in {sorted(values)}")
        tally.hit("financial_field", analysis["financial"].get(key) == amount)
        readable = amount_heard(amount, result["transcript"])
        # Masking must not take amounts with it: how many are still there to read.
        tally.hit("amounts_readable", readable)
        if readable:
            tally.hit("financial_if_heard", amount in values)
    shared = " | ".join(analysis["compliance"]["sensitive_data_shared"])
    cards_listed = shared.count("Credit card")
    for index, card in enumerate(truth["cards"]):
        # Found: listed, masked. The digits shown may differ where the recognizer misheard one.
        tally.hit("card_masked", cards_listed > index, f"{tag} card {card['brand']} not in {shared!r}")
        exact = bool(re.search(rf"{card['first4']}[ *]+{card['last4']}", shared))
        tally.hit("card_digits_exact", exact)
    for secret in truth["secrets"]:
        kind = "card" if len(secret) >= CARD_DIGITS else "code"
        tally.hit(f"no_{kind}_leak", not leaked(secret, result), f"{tag} LEAK of a {len(secret)}-digit {kind}")


def der(reference: Any, segments: list[dict[str, Any]], collar: float) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    hypothesis = Annotation()
    for i, s in enumerate(segments):
        if s["end"] > s["start"]:
            hypothesis[Segment(s["start"], s["end"]), i] = s["speaker"]
    return float(DiarizationErrorRate(collar=collar)(reference, hypothesis))


def load_rttm(path: Path) -> Any:
    from pyannote.core import Annotation, Segment

    annotation = Annotation()
    for i, line in enumerate(path.read_text().splitlines()):
        parts = line.split()
        start, duration, speaker = float(parts[3]), float(parts[4]), parts[7]
        annotation[Segment(start, start + duration), i] = speaker
    return annotation


def normalise(text: str) -> str:
    """Whisper's English normaliser: case, punctuation, spellings and spoken numbers ("two hundred
    and ten dollars" and "$210" both become "$210")."""
    from whisper_normalizer.english import EnglishTextNormalizer

    return " ".join(EnglishTextNormalizer()(text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    ref, hyp = normalise(reference), normalise(hypothesis)
    return float(jiwer.wer(ref, hyp)) if ref.strip() else 0.0


# The default scorecard's questions whose answer the corpus's truth tells (the rest need truth the
# scripts do not carry yet): the row each is reported in, and its answer from the truth.
SCORECARD_TRUTH: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "The agent greeted the customer and gave a name": (
        "sc_greeted_named",
        lambda t: "yes" if t["agent_name"] else "no",
    ),
    "The recording disclosure was given in the first 30 seconds": (
        "sc_disclosure",
        lambda t: "yes" if t["recording_disclosure"] else "no",
    ),
    # The renders place each line after the last: nobody talks over anyone.
    "The agent did not interrupt the customer": ("sc_no_interruption", lambda t: "yes"),
    "The agent offered further help": ("sc_further_help", lambda t: "yes" if t["offered_help"] else "no"),
    "The agent closed the call": ("sc_closing", lambda t: "yes" if t["agent_closed"] else "no"),
}
SCORECARD_ROWS = [row for row, _ in SCORECARD_TRUTH.values()] + [f"{row}_exact" for row, _ in SCORECARD_TRUTH.values()]


def score_scorecard(call: CorpusCall, result: Any, tally: Tally, tag: str) -> None:
    """The default scorecard's answers against the truth, with phrases matched by meaning (as
    shipped) and, for comparison, with the same phrases matched exactly. Two-person calls only: a
    voicemail greets no one."""
    from app.categories.default_scorecard import default_scorecard
    from app.categories.evaluate import Evaluator
    from app.categories.rules import PhrasesRule

    if call.truth["speakers"] != 2:
        return
    shipped = default_scorecard(10.0)
    exact = shipped.model_copy(deep=True)
    for question in exact.questions:
        for rule in [*question.applies_if, *question.rules]:
            if isinstance(rule, PhrasesRule):
                rule.match = "exact"
    evaluator = Evaluator(result)
    for suffix, card in (("", shipped), ("_exact", exact)):
        for answer in evaluator.scorecard(card).answers:
            if answer.question in SCORECARD_TRUTH:
                row, truth_of = SCORECARD_TRUTH[answer.question]
                want = truth_of(call.truth)
                tally.hit(row + suffix, answer.answer == want, f"{tag} {row + suffix} {answer.answer} != {want}")
