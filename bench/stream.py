"""Live calls through WebSocket /v1/stream, played in real time to a real server in this process.

    .venv/bin/python -m bench.stream --calls 6                    # one stream at a time
    .venv/bin/python -m bench.stream --calls 6 --streams 2        # two calls at once
    .venv/bin/python -m bench.stream --calls 4 --style conversational --variant ulaw

The calls are the evaluation corpus's (tests/support/corpus), test split unless --split says.
Prints, over every final word: latency (wall time its `final` arrived minus the audio time the
word ended, the stream's start being time 0 of both), p50/p90/p95; partial churn (share of the
words shown in partials that did not arrive as the same final word); WER of the finals, of the
finished job's transcript and of the batch result (POST /v1/transcribe's pipeline on the same
file), each against the script; and the process CPU seconds per second of audio per stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import environment
from tests.support.corpus import CALLS_PER_FAMILY, STYLES, build
from tests.support.scoring import normalise, wer
from tests.support.websocket_server import serving

FRAME_SECONDS = 0.1


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def play(url: str, key: str, samples: np.ndarray) -> dict[str, Any]:
    """One call sent in real time (16 kHz 16-bit mono frames of FRAME_SECONDS), every message timed."""
    from websockets.asyncio.client import connect

    pcm = (samples * 32767).clip(-32768, 32767).astype("<i2").tobytes()
    frame = int(16000 * FRAME_SECONDS) * 2
    arrivals: list[tuple[float, dict[str, Any]]] = []
    async with connect(url, additional_headers={"X-API-Key": key}, max_size=None) as ws:
        started = time.perf_counter()

        async def listen() -> None:
            async for raw in ws:
                arrivals.append((time.perf_counter() - started, json.loads(raw)))

        listening = asyncio.create_task(listen())
        for n, first in enumerate(range(0, len(pcm), frame)):
            await ws.send(pcm[first : first + frame])
            delay = started + (n + 1) * FRAME_SECONDS - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await ws.send(json.dumps({"type": "stop"}))
        await listening
    return {"arrivals": arrivals, "audio_seconds": len(samples) / 16000}


def measure(played: dict[str, Any]) -> dict[str, Any]:
    finals = [(t, w) for t, m in played["arrivals"] if m["type"] == "final" for w in m["words"]]
    stopped_at = played["audio_seconds"]
    # Words made final by the stop (the call's last second) are not live latency.
    live = [(t, w) for t, w in finals if w["end"] < stopped_at - 1.0]
    latencies = [t - w["end"] for t, w in live]
    # Words that carry no digit and no mask: the ones masking never holds back themselves.
    plain = [t - w["end"] for t, w in live if not any(c.isdigit() or c == "*" for c in w["word"])]
    final_keys = {(round(w["start"], 1), normalise(w["word"])) for _, w in finals}
    shown = revised = 0
    for _, message in played["arrivals"]:
        if message["type"] != "partial":
            continue
        for w in message["words"]:
            if "*" in w["word"]:
                continue
            shown += 1
            near = {(round(w["start"] + d, 1), normalise(w["word"])) for d in (-0.1, 0.0, 0.1)}
            revised += not (near & final_keys)
    result = next(m for _, m in played["arrivals"] if m["type"] == "result")
    return {
        "latencies": latencies,
        "plain": plain,
        "shown": shown,
        "revised": revised,
        "finals_text": " ".join(w["word"] for _, w in finals),
        "job_text": result["transcript"],
    }


async def run_streams(args: argparse.Namespace) -> None:
    from app.config import Settings
    from app.db import migrate
    from app.main import create_app
    from app.runtime import Runtime
    from app.speech import audio as audio_intake
    from app.speech import pipeline
    from app.speech.pipeline import TranscriptionOptions
    from tests.support.factories import make_account

    calls = build(Path(args.root), args.split, args.per_family, style=args.style)[: args.calls]
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/bench.db"
        migrate(database_url)
        settings = Settings(
            database_url=database_url,
            llm_base_url=None,
            llm_model=None,
            stream_max_per_process=args.streams,
            stream_max_per_key=args.streams,
        )
        runtime = Runtime.create(settings)
        runtime.models.load_all()
        customer = make_account(runtime, credit_cents=100_000)
        decoded = {}
        for call in calls:
            with call.audio(args.variant).open("rb") as f:
                decoded[call.call_id] = audio_intake.decode(f, max_seconds=4 * 3600)
        batch_text = {
            call.call_id: pipeline.run(runtime.models, decoded[call.call_id], TranscriptionOptions()).transcript
            for call in calls
        }
        async with serving(create_app(runtime=runtime)) as base_url:
            url = f"{base_url}/v1/stream"
            measured: list[tuple[Any, dict[str, Any]]] = []
            cpu_before, audio_total = _cpu_seconds(), 0.0
            wall_started = time.perf_counter()
            for first in range(0, len(calls), args.streams):
                group = calls[first : first + args.streams]
                played = await asyncio.gather(*(play(url, customer.key, decoded[c.call_id].mono) for c in group))
                for call, one in zip(group, played, strict=True):
                    audio_total += one["audio_seconds"]
                    measured.append((call, measure(one)))
                    m = measured[-1][1]
                    print(
                        f"{call.call_id}: {one['audio_seconds']:.0f} s, finals p50 "
                        f"{statistics.median(m['latencies']) if m['latencies'] else float('nan'):.2f} s, "
                        f"WER finals {wer(call.reference_text, m['finals_text']):.3f} "
                        f"batch {wer(call.reference_text, batch_text[call.call_id]):.3f}",
                        flush=True,
                    )
            cpu = _cpu_seconds() - cpu_before
            wall = time.perf_counter() - wall_started
        runtime.close()

    latencies = sorted(x for _, m in measured for x in m["latencies"])
    plain = sorted(x for _, m in measured for x in m["plain"])

    def pct(p: float, values: list[float] = latencies) -> float:
        return float(values[min(len(values) - 1, int(p * len(values)))])

    shown = sum(m["shown"] for _, m in measured)
    revised = sum(m["revised"] for _, m in measured)
    wer_finals = statistics.mean(wer(c.reference_text, m["finals_text"]) for c, m in measured)
    wer_job = statistics.mean(wer(c.reference_text, m["job_text"]) for c, m in measured)
    wer_batch = statistics.mean(wer(c.reference_text, batch_text[c.call_id]) for c, _ in measured)
    print()
    print(environment.describe())
    live = runtime.settings
    print(
        f"live: beam {live.stream_beam_size}, step {live.stream_step_seconds:g} s, "
        f"window trimmed past {live.stream_trim_seconds:g} s"
    )
    print(
        f"{len(measured)} calls ({args.split} split, {args.style}, {args.variant}), {args.streams} stream(s) at once, "
        f"{audio_total / 60:.1f} min of audio"
    )
    print(
        f"final latency: p50 {pct(0.5):.2f} s  p90 {pct(0.9):.2f} s  p95 {pct(0.95):.2f} s  max {latencies[-1]:.2f} s"
    )
    print(f"  words without digits or masks: p50 {pct(0.5, plain):.2f} s  p95 {pct(0.95, plain):.2f} s")
    print(f"partial churn: {revised}/{shown} words shown in partials were revised ({revised / max(shown, 1):.1%})")
    print(f"WER vs script: finals {wer_finals:.3f}  finished job {wer_job:.3f}  batch {wer_batch:.3f}")
    print(
        f"CPU: {cpu / audio_total:.2f} CPU-seconds per second of audio per stream "
        f"({cpu / wall:.2f} cores busy on average while streaming)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--streams", type=int, default=1, help="calls played at once")
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--style", default="scripted", choices=list(STYLES))
    parser.add_argument("--variant", default="wav", help="the corpus rendering (wav, ulaw, mp3, stereo)")
    parser.add_argument("--per-family", type=int, default=CALLS_PER_FAMILY)
    parser.add_argument("--root", default="data/corpus")
    asyncio.run(run_streams(parser.parse_args()))


if __name__ == "__main__":
    main()
