from __future__ import annotations

import httpx

from app.runtime import Runtime
from app.speech import result_formats
from app.speech.result import TranscriptionResult
from tests.support.assertions import assert_error
from tests.support.factories import completed_job, make_account, result_body

RESULT = result_body(
    transcript="Thanks for calling. Hi, my card is 4532 **** **** 8831.",
    segments=[
        {"start": 0.3, "end": 1.95, "speaker": "SPEAKER_00", "text": "Thanks for calling."},
        {"start": 2.5, "end": 3661.25, "speaker": "SPEAKER_01", "text": "Hi,  my card is 4532 **** **** 8831."},
        {"start": 3662.0, "end": 3662.0, "speaker": "SPEAKER_01", "text": "   "},
        {"start": 3663.0, "end": 3664.0, "speaker": "SPEAKER_01", "text": "a --> b"},
    ],
    roles={"SPEAKER_00": "Agent", "SPEAKER_01": "Customer"},
)
PARSED = TranscriptionResult.model_validate(RESULT)


def test_srt() -> None:
    assert result_formats.to_srt(PARSED) == (
        "1\n00:00:00,300 --> 00:00:01,950\nAgent: Thanks for calling.\n\n"
        "2\n00:00:02,500 --> 01:01:01,250\nCustomer: Hi, my card is 4532 **** **** 8831.\n\n"
        "3\n01:01:03,000 --> 01:01:04,000\nCustomer: a --> b\n"
    )


def test_vtt() -> None:
    vtt = result_formats.to_vtt(PARSED)
    assert vtt.startswith("WEBVTT\n\n00:00:00.300 --> 00:00:01.950\n<v Agent>Thanks for calling.\n")
    assert "01:01:03.000 --> 01:01:04.000\n<v Customer>a -> b\n" in vtt


def test_txt() -> None:
    assert result_formats.to_txt(PARSED).splitlines()[:2] == [
        "[00:00:00] Agent: Thanks for calling.",
        "[00:00:02] Customer: Hi, my card is 4532 **** **** 8831.",
    ]


async def test_result_formats_over_the_api(client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    job_id = completed_job(runtime, customer, RESULT)
    url = f"/v1/jobs/{job_id}/result"
    assert (await client.get(url, headers=customer.headers)).json() == RESULT
    assert (await client.get(f"{url}?format=json", headers=customer.headers)).json() == RESULT
    srt = await client.get(f"{url}?format=srt", headers=customer.headers)
    assert srt.status_code == 200
    assert srt.headers["content-type"].startswith("application/x-subrip")
    assert srt.headers["content-disposition"] == f'attachment; filename="{job_id}.srt"'
    assert srt.text == result_formats.to_srt(PARSED)
    vtt = await client.get(f"{url}?format=vtt", headers=customer.headers)
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT")
    assert (await client.get(f"{url}?format=txt", headers=customer.headers)).text.startswith("[00:00:00] Agent:")
    assert_error(await client.get(f"{url}?format=docx", headers=customer.headers), 400)
