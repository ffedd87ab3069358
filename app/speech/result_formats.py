"""A stored transcription result as subtitles or plain text (GET /v1/jobs/{id}/result?format=)."""

from __future__ import annotations

from typing import Literal

from app.speech.result import TranscriptionResult

ResultFormat = Literal["json", "srt", "vtt", "txt"]

MEDIA_TYPES: dict[str, str] = {
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cues(result: TranscriptionResult) -> list[tuple[float, float, str]]:
    """(start, end, "Agent: text") for each segment, its speaker named by role when known."""
    cues = []
    for segment in result.segments:
        text = " ".join(segment.text.split())
        if not text:
            continue
        label = result.roles.get(segment.speaker, segment.speaker) if segment.speaker else None
        end = max(segment.end, segment.start + 0.001)
        cues.append((segment.start, end, f"{label}: {text}" if label else text))
    return cues


def to_srt(result: TranscriptionResult) -> str:
    blocks = [
        f"{n}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}\n"
        for n, (start, end, text) in enumerate(_cues(result), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(result: TranscriptionResult) -> str:
    # WebVTT cue text must not contain "-->"; speakers go in a voice span so players can style them.
    blocks = ["WEBVTT\n"]
    for start, end, text in _cues(result):
        label, sep, words = text.partition(": ")
        body = f"<v {label}>{words}" if sep else text
        blocks.append(f"{_clock(start, '.')} --> {_clock(end, '.')}\n{body.replace('-->', '->')}\n")
    return "\n".join(blocks)


def to_txt(result: TranscriptionResult) -> str:
    return "".join(f"[{_clock(start, '.')[:-4]}] {text}\n" for start, _end, text in _cues(result))


RENDERERS = {"srt": to_srt, "vtt": to_vtt, "txt": to_txt}


def render(result: TranscriptionResult, fmt: str) -> str:
    return RENDERERS[fmt](result)
