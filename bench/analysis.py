"""Time the analysis stage (redaction + the rule-based analyzer) on a long transcript.

    .venv/bin/python -m bench.analysis --minutes 46

The transcript is built from the benchmark call script as recognized words (no audio), so this
measures only what runs after speech recognition and diarization.
"""

from __future__ import annotations

import argparse
import time

from app import analysis, redaction
from app.speech.speakers import build_transcript
from tests.support.callscript import script
from tests.support.factories import spoken_words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=46.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    turns = [("A" if t.speaker == "agent" else "B", t.text) for t in script(args.minutes * 60)]
    for run in range(1, args.runs + 1):
        words = spoken_words(turns)
        started = time.perf_counter()
        masked, findings = redaction.redact_words(words, redact_pii=False)
        redacted = time.perf_counter()
        transcript = build_transcript(masked)
        result = analysis.analyze(transcript, findings=findings, instructions=None)
        analysed = time.perf_counter()
        redaction.redact_result({"ai_analysis": result}, redact_pii=False)
        finished = time.perf_counter()
        print(
            f"run {run}: {len(words)} words, {len(transcript.segments)} turns: redaction {redacted - started:.2f} s, "
            f"analysis {analysed - redacted:.2f} s, final masking pass {finished - analysed:.2f} s, "
            f"total {finished - started:.2f} s"
        )


if __name__ == "__main__":
    main()
