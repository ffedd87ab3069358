"""One call through the models: recognition, diarization, speaker roles, analysis, redaction.

Pure computation on decoded audio: no database, no money. `app.services.transcribe` wraps it in a
job and a hold; `voxparse transcribe` runs it directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from app.errors import BadRequest
from app.services import analysis, redaction
from app.services.audio import DecodedAudio, channels_differ
from app.services.diarization import Diarizer
from app.services.models_registry import ModelRegistry
from app.services.speakers import DiarizedTranscript, attribute_words, build_transcript

ChannelMode = Literal["auto", "split", "mix"]


@dataclass(frozen=True)
class TranscriptionOptions:
    language: str | None = None
    instructions: str | None = None
    speakers: int = 2
    channels: ChannelMode = "auto"
    redact_pii: bool = False


@dataclass
class StageTimings:
    seconds: dict[str, float] = field(default_factory=dict)

    def record(self, stage: str, started: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class PipelineOutput:
    result: dict[str, Any]
    """The stored result (GET /v1/jobs/{id}/result), already redacted."""
    transcript: DiarizedTranscript
    language: str
    diarizer: str


def choose_diarizer(models: ModelRegistry, audio: DecodedAudio, mode: ChannelMode) -> Diarizer:
    if mode == "split":
        if len(audio.channels) != 2:
            raise BadRequest("channels=split needs a stereo (two-channel) recording.")
        return models.channels
    if mode == "auto" and channels_differ(audio):
        return models.channels
    return models.diarizer()


def run(
    models: ModelRegistry,
    audio: DecodedAudio,
    options: TranscriptionOptions,
    timings: StageTimings | None = None,
    diarizer: Diarizer | None = None,
) -> PipelineOutput:
    """`diarizer`: the one `choose_diarizer` already picked for this audio, if the caller did."""
    timings = timings or StageTimings()
    diarizer = diarizer or choose_diarizer(models, audio, options.channels)

    started = time.perf_counter()
    recognition = models.transcriber().transcribe(audio.mono, options.language)
    timings.record("asr", started)

    started = time.perf_counter()
    turns = diarizer.diarize(audio, options.speakers)
    words = attribute_words(recognition.words, turns)
    timings.record("diarization", started)

    started = time.perf_counter()
    # Card numbers are masked in the words themselves, before any text is built from them.
    words, findings = redaction.redact_words(words, redact_pii=options.redact_pii)
    transcript = build_transcript(words)
    ai_analysis = analysis.analyze(transcript, findings=findings, instructions=options.instructions, llm=models.llm)
    result = {
        "transcript": transcript.text,
        "duration_seconds": round(audio.duration, 3),
        "segments": [
            {"start": s.start, "end": s.end, "speaker": s.speaker, "text": s.text} for s in transcript.segments
        ],
        "speakers": transcript.speakers,
        "roles": transcript.roles,
        "language": recognition.language,
        "word_timestamps": [
            {"word": w.word, "start": w.start, "end": w.end, "speaker": w.speaker} for w in transcript.words
        ],
        "ai_analysis": ai_analysis,
    }
    # The last pass: every string that is stored or returned, whatever produced it.
    result = redaction.redact_result(result, redact_pii=options.redact_pii)
    timings.record("analysis", started)
    return PipelineOutput(result=result, transcript=transcript, language=recognition.language, diarizer=diarizer.name)
