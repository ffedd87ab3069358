"""Diarization on a real two-person phone call, beside plain senko: pyannote.audio's 30-second sample
(`pyannote/audio/sample/sample.wav` and its reference `sample.rttm`, shipped in the pyannote.audio
3.3.2 wheel on PyPI, which is downloaded once, without its dependencies, and never installed).

    .venv/bin/python -m bench.real_call

For 16 kHz WAV, 8 kHz u-law through the telephone band and 32 kbps mp3 of it, prints the number of
speakers found, the DER of the result's segments (collar 0 and 0.25) and plain senko's DER on the
same audio. The corpus is synthetic voices; this is the one real recording the machines can fetch.
It was used to tune (the window refinement in app/speech/clustering.py): a dev figure, not a test one.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from tests.support.corpus.render import telephone
from tests.support.scoring import der, load_rttm

WHEEL = "pyannote.audio==3.3.2"
MEMBERS = ("pyannote/audio/sample/sample.wav", "pyannote/audio/sample/sample.rttm")


def fetch(folder: Path) -> tuple[Path, Path]:
    wav, rttm = folder / "sample.wav", folder / "sample.rttm"
    if wav.exists() and rttm.exists():
        return wav, rttm
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "--only-binary=:all:", "-q", "-d", tmp]
        subprocess.run(command, check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for member, target in zip(MEMBERS, (wav, rttm), strict=True):
                target.write_bytes(archive.read(member))
    return wav, rttm


def main() -> None:
    from app.config import Settings
    from app.speech import audio as audio_intake
    from app.speech import pipeline
    from app.speech.registry import ModelRegistry
    from bench import environment
    from bench.accuracy import raw_senko_segments

    folder = Path("data/real/pyannote-sample")
    wav, rttm = fetch(folder)
    reference = load_rttm(rttm)
    renders = {"wav": wav}
    for variant, name in (("ulaw", "ulaw.wav"), ("mp3", "mp3.mp3")):
        renders[variant] = folder / name
        if not renders[variant].exists():
            telephone(wav, variant, renders[variant])
    models = ModelRegistry(Settings(llm_base_url=None, llm_model=None))
    models.load_all()
    print(environment.describe())
    print(f"{'':6}{'speakers':>10}{'DER c0':>9}{'DER c0.25':>11}{'senko c0':>10}{'senko speakers':>16}")
    for variant, path in renders.items():
        with path.open("rb") as f:
            decoded = audio_intake.decode(f, max_seconds=3600)
        result = pipeline.run(models, decoded, pipeline.TranscriptionOptions()).model_dump()
        senko = raw_senko_segments(models, decoded)
        print(
            f"{variant:6}{len(result['speakers']):>10}{der(reference, result['segments'], 0.0):>9.3f}"
            f"{der(reference, result['segments'], 0.25):>11.3f}{der(reference, senko, 0.0):>10.3f}"
            f"{len({s['speaker'] for s in senko}):>16}"
        )


if __name__ == "__main__":
    main()
