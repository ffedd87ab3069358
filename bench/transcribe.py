"""Time the transcription pipeline on a synthesized call of a given length.

    .venv/bin/python -m bench.transcribe --minutes 10
    .venv/bin/python -m bench.transcribe --minutes 46 --format mp3

Prints the seconds spent in decode, ASR, diarization, analysis and the rest (job, hold, settle,
result storage), the real-time factor and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from app.billing.accounts import Principal
from app.config import Settings
from app.db import migrate
from app.jobs import transcribe
from app.runtime import Runtime
from app.speech.pipeline import StageTimings, TranscriptionOptions
from tests.support.callscript import script
from tests.support.factories import make_account
from tests.support.synth import synthesize_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--format", default="wav", choices=["wav", "mp3", "ulaw", "stereo"])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        call = synthesize_call(script(args.minutes * 60), folder / f"call.{args.format}", fmt=args.format)
        print(
            f"synthesized a {call.duration / 60:.1f} min call ({len(call.turns)} turns, "
            f"{call.path.stat().st_size / 1e6:.1f} MB {args.format}) in {time.perf_counter() - started:.0f} s"
        )

        url = f"sqlite:///{folder / 'bench.db'}"
        migrate(url)
        settings = Settings(database_url=url, max_upload_bytes=1 << 30)
        runtime = Runtime.create(settings)
        started = time.perf_counter()
        runtime.models.load_all()
        print(f"models loaded and warmed in {time.perf_counter() - started:.1f} s")
        customer = make_account(runtime, credit_cents=100_000)
        principal = Principal(customer.account_id, customer.key_id)

        for run in range(1, args.runs + 1):
            timings = StageTimings()
            with call.path.open("rb") as f:
                started = time.perf_counter()
                done = transcribe.process(
                    runtime, principal, transcribe.Upload(f, None), TranscriptionOptions(), timings
                )
                total = time.perf_counter() - started
            stages = timings.seconds
            overhead = total - sum(stages.values())
            print(
                f"\nrun {run}: {done.duration_seconds:.0f} s of audio, "
                f"{len(done.result.word_timestamps)} words, "
                f"speakers {done.result.speakers}, cost {done.cost_cents} cents"
            )
            for stage in ("decode", "asr", "diarization", "analysis"):
                print(f"  {stage:<12} {stages.get(stage, 0.0):8.2f} s")
            print(f"  {'overhead':<12} {overhead:8.2f} s")
            print(f"  {'total':<12} {total:8.2f} s   real-time factor {total / done.duration_seconds:.3f}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS {peak_mb:.0f} MB")
        runtime.close()


if __name__ == "__main__":
    main()
