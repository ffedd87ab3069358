"""Accuracy of the whole pipeline on the generated evaluation corpus (bench/corpus).

    .venv/bin/python -m bench.accuracy --split dev                     # tune on this
    .venv/bin/python -m bench.accuracy --split test --variants wav ulaw mp3 stereo --raw-senko

Prints, per variant and overall: per-field accuracy of the analysis, WER (jiwer, Whisper's English
normaliser), DER of the result's segments (pyannote.metrics, collar 0 and 0.25), how often the
number of speakers is right, card recall, leaks of card numbers or security codes, and the real-time
factor. With --raw-senko, the DER of plain senko on the same audio, per file, beside ours.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus import CALLS_PER_FAMILY, CorpusCall, build
from bench.corpus.render import VARIANTS

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


def _same_word(a: str, b: str) -> bool:
    """One name word, allowing the recognizer's spelling of it ("Reilly" heard as "Riley")."""
    from difflib import SequenceMatcher

    return a == b or SequenceMatcher(None, a, b).ratio() >= 0.75


def name_matches(predicted: str | None, truth: str | None) -> bool:
    """Right when both are absent, or when every predicted word is a word of the true name (as the
    recognizer may spell it) and the first name or the surname is there."""
    if truth is None:
        return predicted is None
    got, want = _tokens(predicted), _tokens(truth)
    if not got or not all(any(_same_word(g, w) for w in want) for g in got):
        return False
    return any(_same_word(g, want[0]) or _same_word(g, want[-1]) for g in got)


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
    """A card number (or its middle digits) or a security code readable in any text of the result:
    as digits run together, or as the digit run a listener would read from the words."""
    from app.redaction import digit_runs

    for text in all_strings(result):
        if len(secret) >= 8 and secret in digits_only(text):
            return True
        runs = [digits for _, digits in digit_runs(text.split())]
        if any(secret in digits if len(secret) >= 8 else secret == digits for digits in runs):
            return True
    return False


def score_analysis(call: CorpusCall, result: dict[str, Any], tally: Tally, tag: str) -> None:
    truth, analysis = call.truth, result["ai_analysis"]
    if truth["call_type"] is not None:
        tally.hit("call_type", analysis["call_type"] == truth["call_type"],
                  f"{tag} call_type {analysis['call_type']} != {truth['call_type']}")  # fmt: skip
    if truth["call_outcome"] is not None:
        tally.hit("call_outcome", analysis["call_outcome"] == truth["call_outcome"],
                  f"{tag} call_outcome {analysis['call_outcome']} != {truth['call_outcome']}")  # fmt: skip
    got = analysis["customer"]["name"]
    tally.hit("customer_name", name_matches(got, truth["customer_name"]),
              f"{tag} customer {got!r} != {truth['customer_name']!r}")  # fmt: skip
    got = analysis["agent"]["name"]
    tally.hit("agent_name", name_matches(got, truth["agent_name"]), f"{tag} agent {got!r} != {truth['agent_name']!r}")
    disclosed = analysis["compliance"]["recording_disclosure"]
    tally.hit("recording_disclosure", disclosed == truth["recording_disclosure"],
              f"{tag} disclosure {disclosed} != {truth['recording_disclosure']}")  # fmt: skip
    values = {v for v in analysis["financial"].values() if v}
    for key, amount in truth["financial"].items():
        tally.hit("financial", amount in values, f"{tag} financial {key} {amount} not in {sorted(values)}")
        tally.hit("financial_field", analysis["financial"].get(key) == amount)
    shared = " | ".join(analysis["compliance"]["sensitive_data_shared"])
    cards_listed = shared.count("Credit card")
    for index, card in enumerate(truth["cards"]):
        # Found: listed, masked. The digits shown may differ where the recognizer misheard one.
        tally.hit("card_masked", cards_listed > index, f"{tag} card {card['brand']} not in {shared!r}")
        exact = bool(re.search(rf"{card['first4']}[ *]+{card['last4']}", shared))
        tally.hit("card_digits_exact", exact)
    for secret in truth["secrets"]:
        tally.hit("no_leak", not leaked(secret, result), f"{tag} LEAK of a {len(secret)}-digit secret")


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


def wer(reference: str, hypothesis: str) -> float:
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer

    normalise = EnglishTextNormalizer()
    ref, hyp = normalise(reference), normalise(hypothesis)
    return float(jiwer.wer(ref, hyp)) if ref.strip() else 0.0


def run(args: argparse.Namespace) -> dict[str, Tally]:
    from app.config import Settings
    from app.speech import audio as audio_intake
    from app.speech import pipeline
    from app.speech.pipeline import StageTimings, TranscriptionOptions
    from app.speech.registry import ModelRegistry

    calls = build(Path(args.root), args.split, args.per_family)
    if args.family:
        calls = [c for c in calls if c.truth["family"] in args.family]
    settings = Settings(llm_base_url=None, llm_model=None)
    models = ModelRegistry(settings)
    models.load_all()
    tallies: dict[str, Tally] = {}
    for variant in args.variants:
        tally = tallies.setdefault(variant, Tally())
        for call in calls:
            tag = f"[{variant}] {call.call_id}"
            started = time.perf_counter()
            try:
                with call.audio(variant).open("rb") as f:
                    decoded = audio_intake.decode(f, max_seconds=4 * 3600)
                output = pipeline.run(models, decoded, TranscriptionOptions(), StageTimings())
            except Exception as exc:  # a failure is a finding, not the end of the run
                tally.hit("request_ok", False, f"{tag} FAILED {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            tally.hit("request_ok", True)
            result = output.result
            tally.numbers["rtf"].append(elapsed / decoded.duration)
            tally.numbers["wer"].append(wer(call.reference_text, result["transcript"]))
            tally.hit("speakers_right", len(result["speakers"]) == call.truth["speakers"],
                      f"{tag} {len(result['speakers'])} speakers, truth {call.truth['speakers']}")  # fmt: skip
            reference = load_rttm(call.rttm)
            if variant != "stereo" and call.truth["speakers"] == 2:
                for collar in (0.0, 0.25):
                    tally.numbers[f"der_c{collar}"].append(der(reference, result["segments"], collar))
                if args.raw_senko:
                    raw = raw_senko_segments(models, decoded)
                    tally.numbers["raw_senko_der_c0.0"].append(der(reference, raw, 0.0))
                    print(f"  {tag} DER ours {tally.numbers['der_c0.0'][-1]:.3f}  raw senko "
                          f"{tally.numbers['raw_senko_der_c0.0'][-1]:.3f}")  # fmt: skip
            score_analysis(call, result, tally, tag)
            if args.verbose:
                print(json.dumps(result["ai_analysis"], indent=1)[:3000])
    return tallies


def raw_senko_segments(models: Any, decoded: Any) -> list[dict[str, Any]]:
    """senko.Diarizer's own answer on the same 16 kHz mono samples (what a user of the library gets)."""
    from app.speech.audio import SAMPLE_RATE

    diarizer = models.diarizer()
    result = diarizer._senko.diarize_samples(decoded.mono, SAMPLE_RATE)
    if not result:
        return []
    return [{"start": s["start"], "end": s["end"], "speaker": s["speaker"]} for s in result["merged_segments"]]


def _rate(tally: Tally, row: str) -> str:
    values = tally.hits.get(row)
    return f"{sum(values)}/{len(values)} {sum(values) / len(values):4.0%}" if values else "-"


def _mean(tally: Tally, row: str) -> str:
    values = tally.numbers.get(row)
    return f"{statistics.mean(values):.3f} (max {max(values):.2f})" if values else "-"


def report(tallies: dict[str, Tally], split: str) -> None:
    overall = Tally()
    for t in tallies.values():
        overall.add(t)
    rows = ["request_ok", "speakers_right", *FIELDS, "financial_field", "card_masked", "card_digits_exact", "no_leak"]
    numbers = ["wer", "der_c0.0", "der_c0.25", "raw_senko_der_c0.0", "rtf"]
    columns = [*tallies, "all"]
    print(f"\nsplit: {split}")
    print(f"{'':<22}" + "".join(f"{c:>16}" for c in columns))

    def line(row: str, cell: Callable[[Tally, str], str]) -> None:
        print(f"{row:<22}" + "".join(f"{cell(overall if c == 'all' else tallies[c], row):>16}" for c in columns))

    for row in rows:
        line(row, _rate)
    for row in numbers:
        line(row, _mean)
    if overall.misses:
        print("\nmisses:\n  " + "\n  ".join(overall.misses))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=["wav", "ulaw"])
    parser.add_argument("--per-family", type=int, default=CALLS_PER_FAMILY)
    parser.add_argument("--family", nargs="*", help="only these scenario families")
    parser.add_argument("--root", default="data/corpus")
    parser.add_argument("--raw-senko", action="store_true", help="also score plain senko's diarization")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    report(run(args), args.split)


if __name__ == "__main__":
    main()
