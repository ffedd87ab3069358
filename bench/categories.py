"""Time categories and the scorecard on a long call's stored result, as POST /v1/jobs/{id}/categorize
runs them: the stored JSON read back, 20 categories of every rule kind (a third of them by meaning)
and the default scorecard evaluated.

    .venv/bin/python -m bench.categories --minutes 46

The result is built from the benchmark call script as recognized words (no audio) and assembled by
the pipeline (redaction, analysis, call metrics), so it is shaped like a real stored result.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from app.analysis import embeddings
from app.categories.default_scorecard import default_scorecard
from app.categories.evaluate import Evaluator
from app.categories.rules import CategoryIn
from app.speech import pipeline
from app.speech.result import TranscriptionResult
from bench.environment import describe
from tests.support.callscript import script
from tests.support.factories import spoken_words
from tests.support.scripted import turns_of

PHRASES = [
    ["cancel my account", "close my account"],
    ["speak to a manager", "speak to your supervisor"],
    ["this is unacceptable", "not good enough"],
    ["refund", "money back"],
    ["late fee", "penalty charge"],
    ["upgrade my plan", "a faster package"],
    ["the engineer did not show up", "nobody came"],
    ["I will switch to another provider"],
    ["payment plan", "pay in instalments"],
    ["thank you for your patience"],
]


def categories() -> list[CategoryIn]:
    made: list[dict[str, Any]] = []
    for n, phrases in enumerate(PHRASES):
        match = ("exact", "fuzzy", "meaning")[n % 3]
        participant = ("Customer", "Agent", "any")[n % 3]
        made.append(
            {
                "name": f"phrases {n}",
                "rules": [{"type": "phrases", "phrases": phrases, "match": match, "participant": participant}],
            }
        )
        made.append(
            {
                "name": f"mixed {n}",
                "rules": [
                    {"type": "phrases", "phrases": phrases, "match": "meaning", "range": {"last_seconds": 600}},
                    {"type": "sentiment", "participant": "Customer", "sentiment": "negative", "negate": True},
                    {"type": "interruptions", "participant": "Agent", "min_count": 1, "range": {"start_share": 0.5}},
                    {"type": "non_talk", "min_seconds": 5 + n},
                    {"type": "field", "field": "call_type", "values": ["billing", "support", "complaint"]},
                ],
            }
        )
    return [CategoryIn.model_validate(c) for c in made]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=46.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe())
    turns = [("A" if t.speaker == "agent" else "B", t.text) for t in script(args.minutes * 60)]
    words = spoken_words(turns)
    speaker_turns = turns_of(words)
    result = pipeline.assemble(
        words, speaker_turns, speaker_turns, "en", words[-1].end + 1.0, pipeline.TranscriptionOptions()
    )
    stored = json.dumps(result.model_dump(mode="json"))
    wanted = categories()
    card = default_scorecard(10.0)
    started = time.perf_counter()
    embeddings.warm_up()
    loaded = time.perf_counter() - started
    print(
        f"{len(words)} words, {len(stored) / 1e6:.1f} MB stored; embeddings loaded in {loaded:.2f} s (once per process)"
    )
    seconds = []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        evaluator = Evaluator(TranscriptionResult.model_validate_json(stored))
        matched = evaluator.categories(wanted)
        scored = evaluator.scorecard(card)
        seconds.append(time.perf_counter() - started)
        print(
            f"run {run}: {len(wanted)} categories ({len(matched)} matched) + scorecard ({scored.score}) "
            f"in {seconds[-1]:.3f} s"
        )
    print(f"median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s")


if __name__ == "__main__":
    main()
