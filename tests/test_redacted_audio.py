"""`redact_audio=true`: the call's audio with every masked span covered by a tone (or silence),
kept beside the result and served to its owner only."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.jobs import redacted_audio
from app.models import Job
from app.runtime import Runtime
from app.speech import audio, audio_redaction
from app.speech.audio import SAMPLE_RATE, DecodedAudio
from app.speech.registry import ModelRegistry
from tests.support.calls import CALLS
from tests.support.factories import completed_job, make_account
from tests.support.leaks import leaks
from tests.support.scoring import CARD_DIGITS
from tests.support.synth import SynthCall, synthesize_call

CARD_CALL = next(c for c in CALLS if c.name == "card_payment")


def _tone_share(samples: np.ndarray, hz: float = audio_redaction.TONE_HZ) -> float:
    """How much of a stretch's energy sits at `hz` (1.0: a pure tone)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    near = (freqs > hz - 40) & (freqs < hz + 40)
    return float(spectrum[near].sum() / max(spectrum.sum(), 1e-12))


def _decoded(mono: np.ndarray, channels: tuple[np.ndarray, ...] = ()) -> DecodedAudio:
    return DecodedAudio(
        mono=mono,
        channels=channels,
        format_name="wav",
        codec="pcm_s16le",
        source_channels=len(channels) or 1,
        source_rate=SAMPLE_RATE,
    )


def test_render_covers_the_padded_spans_and_nothing_else() -> None:
    rng = np.random.default_rng(7)
    speech = (0.1 * rng.standard_normal(SAMPLE_RATE * 4)).astype(np.float32)
    call = DecodedAudio(
        mono=speech, channels=(), format_name="wav", codec="pcm_s16le", source_channels=1, source_rate=SAMPLE_RATE
    )
    beeped = audio_redaction.render(call, [(1.0, 2.0)], "beep")[:, 0]
    silenced = audio_redaction.render(call, [(1.0, 2.0)], "silence")[:, 0]
    covered = slice(int(0.85 * SAMPLE_RATE), int(2.15 * SAMPLE_RATE))
    assert _tone_share(beeped[covered]) > 0.95
    assert not silenced[covered].any()
    for kept in (slice(0, int(0.84 * SAMPLE_RATE)), slice(int(2.16 * SAMPLE_RATE), None)):
        assert np.array_equal(beeped[kept], speech[kept])
    stereo = DecodedAudio(
        mono=speech,
        channels=(speech, -speech),
        format_name="wav",
        codec="pcm_s16le",
        source_channels=2,
        source_rate=SAMPLE_RATE,
    )
    assert audio_redaction.render(stereo, [], "beep").shape == (len(speech), 2)


@pytest.fixture(scope="module")
def card_call(tmp_path_factory: pytest.TempPathFactory) -> SynthCall:
    return synthesize_call(CARD_CALL.turns, tmp_path_factory.mktemp("redacted") / "card.wav")


def _decode(data: bytes) -> np.ndarray:
    return audio.decode(io.BytesIO(data), max_seconds=600).mono


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["beep", "silence"])
async def test_a_spoken_card_is_covered_in_the_redacted_audio(
    client: httpx.AsyncClient, runtime: Runtime, models: ModelRegistry, card_call: SynthCall, mode: str
) -> None:
    customer = make_account(runtime, credit_cents=1000)
    response = await client.post(
        "/v1/transcribe",
        headers=customer.headers,
        data={"redact_audio": "true", "redact_audio_mode": mode},
        files={"file": ("card.wav", card_call.path.read_bytes())},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    spans = [(s["start"], s["end"]) for s in body["masked_spans"]]
    assert spans, "the card number was not found"
    detail = (await client.get(f"/v1/jobs/{body['job_id']}", headers=customer.headers)).json()
    assert detail["audio_url"] == f"/v1/jobs/{body['job_id']}/audio"
    download = await client.get(detail["audio_url"], headers=customer.headers)
    assert download.status_code == 200
    assert download.headers["content-type"] == "audio/ogg"
    redacted = _decode(download.content)
    with card_call.path.open("rb") as f:
        original = audio.decode(f, max_seconds=600).mono
    assert abs(len(redacted) - len(original)) < SAMPLE_RATE // 10

    for start, end in spans:
        inside = redacted[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        if mode == "beep":
            assert _tone_share(inside) > 0.8, (start, end)
        else:
            assert float(np.sqrt(np.mean(inside**2))) < 0.01, (start, end)
    # Elsewhere it is still the call: what was said before the first span is untouched.
    before = slice(0, int((spans[0][0] - audio_redaction.PAD_SECONDS - 0.05) * SAMPLE_RATE))
    assert np.corrcoef(redacted[before], original[: len(redacted)][before])[0, 1] > 0.9

    # The project's own recognizer, on the redacted file, hears no card number or code.
    heard = " ".join(w.word for w in models.transcriber().transcribe(redacted, "en").words)
    cards = [s for s in CARD_CALL.secrets if len(s) >= CARD_DIGITS]
    codes = [s for s in CARD_CALL.secrets if len(s) < CARD_DIGITS]
    assert leaks({"redacted audio": heard}, cards, codes) == []

    stranger = make_account(runtime)
    assert (await client.get(detail["audio_url"], headers=stranger.headers)).status_code == 404


async def test_no_redacted_audio_unless_asked_and_it_expires(
    client: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    customer = make_account(runtime)
    job_id = completed_job(runtime, customer)
    missing = await client.get(f"/v1/jobs/{job_id}/audio", headers=customer.headers)
    assert missing.status_code == 404
    assert "redact_audio=true" in missing.json()["error"]["message"]
    # A kept file past the retention period is deleted by the maintenance sweep.
    settings = runtime.settings.model_copy(
        update={"redacted_audio_dir": tmp_path, "redacted_audio_retention_days": 1e-9}
    )
    (tmp_path / f"{job_id}.ogg").write_bytes(b"OggS")
    with runtime.db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.redacted_audio = f"{job_id}.ogg"
    assert redacted_audio.sweep(runtime.db, settings) >= 1
    assert not (tmp_path / f"{job_id}.ogg").exists()
