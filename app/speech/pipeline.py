"""One call through the models: recognition, diarization, speaker roles, analysis, redaction.

Pure computation on decoded audio: no database, no money. `app.jobs.transcribe` wraps it in a
job and a hold; `voxparse transcribe` runs it directly.
"""

from __future__ import annotations

import enum
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from app import analysis, redaction
from app.analysis.llm import LLMAnalyzer
from app.errors import BadRequest
from app.speech import audio_redaction, memory, metrics
from app.speech.audio import DecodedAudio, channels_differ
from app.speech.diarization import ChannelDiarizer, Diarizer, SpeakerCount, SpeakerTurn
from app.speech.registry import ModelRegistry
from app.speech.result import ResultSegment, ResultWord, TimeSpan, TranscriptionResult
from app.speech.speakers import attribute_words, build_transcript, fit_segments_to_turns, pauses
from app.transcript import Word, merge_spans

ChannelMode = Literal["auto", "split", "mix"]


@dataclass(frozen=True)
class TranscriptionOptions:
    language: str | None = None
    instructions: str | None = None
    speakers: SpeakerCount = field(default_factory=SpeakerCount)
    channels: ChannelMode = "auto"
    redact_pii: bool = False
    redact_audio: bool = False
    """Also keep the call's audio with the masked spans covered (the job stores it)."""
    redact_audio_mode: audio_redaction.Mode = "beep"


@dataclass
class StageTimings:
    seconds: dict[str, float] = field(default_factory=dict)

    def record(self, stage: str, started: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


class Stage(enum.StrEnum):
    """The pipeline's stages, as a job's `progress.stage` names them."""

    TRANSCRIBING = "transcribing"
    DIARIZING = "diarizing"
    ANALYZING = "analyzing"


class Progress(Protocol):
    """Told where a run is. `stage` is called at each stage boundary and may raise to stop the run
    there (a cancelled job); `percent` only reports, as often as recognition advances."""

    def stage(self, stage: Stage, percent: float) -> None: ...

    def percent(self, percent: float) -> None: ...


class NoProgress:
    def stage(self, stage: Stage, percent: float) -> None:
        pass

    def percent(self, percent: float) -> None:
        pass


# Where each stage starts, in percent of the whole job (recognition is about half the work).
# (Decoding, before them, takes the first 5.)
STAGE_START = {Stage.TRANSCRIBING: 5.0, Stage.DIARIZING: 60.0, Stage.ANALYZING: 95.0}


def check_channels(audio: DecodedAudio, mode: ChannelMode) -> None:
    if mode == "split" and len(audio.channels) != 2:
        raise BadRequest("channels=split needs a stereo (two-channel) recording.")


def choose_diarizer(models: ModelRegistry, audio: DecodedAudio, mode: ChannelMode) -> Diarizer:
    check_channels(audio, mode)
    if mode == "split":
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
    progress: Progress | None = None,
    thresholds: metrics.Thresholds | None = None,
) -> TranscriptionResult:
    """`diarizer`: the one `choose_diarizer` already picked for this audio, if the caller did."""
    timings = timings or StageTimings()
    progress = progress or NoProgress()
    diarizer = diarizer or choose_diarizer(models, audio, options.channels)

    progress.stage(Stage.TRANSCRIBING, STAGE_START[Stage.TRANSCRIBING])
    started = time.perf_counter()
    span = STAGE_START[Stage.DIARIZING] - STAGE_START[Stage.TRANSCRIBING]
    # Diarization needs no words: it runs beside recognition (both release the GIL), and the two
    # share the cores instead of taking turns.
    with ThreadPoolExecutor(1, thread_name_prefix="voxparse-diarize") as beside:
        diarization = beside.submit(diarizer.diarize, audio, options.speakers)
        try:
            recognition = models.transcriber().transcribe(
                audio.mono,
                options.language,
                on_progress=lambda done: progress.percent(STAGE_START[Stage.TRANSCRIBING] + span * done),
            )
            timings.record("asr", started)
            progress.stage(Stage.DIARIZING, STAGE_START[Stage.DIARIZING])
        except BaseException:
            diarization.cancel()
            raise
        started = time.perf_counter()
        turns = diarization.result()
    words = attribute_words(recognition.words, turns)
    timings.record("diarization", started)

    progress.stage(Stage.ANALYZING, STAGE_START[Stage.ANALYZING])
    return _analyze(models, audio, words, turns, diarizer, recognition.language, options, timings, thresholds)


def finish_heard(
    models: ModelRegistry,
    audio: DecodedAudio,
    heard: list[Word],
    language: str,
    options: TranscriptionOptions,
    thresholds: metrics.Thresholds | None = None,
) -> TranscriptionResult:
    """A call whose words were recognized already (a live call, as it went on): who spoke when,
    then the same result as `run`."""
    timings = StageTimings()
    diarizer = choose_diarizer(models, audio, options.channels)
    started = time.perf_counter()
    turns = diarizer.diarize(audio, options.speakers)
    words = attribute_words(heard, turns)
    timings.record("diarization", started)
    return _analyze(models, audio, words, turns, diarizer, language, options, timings, thresholds)


def _analyze(
    models: ModelRegistry,
    audio: DecodedAudio,
    words: list[Word],
    turns: list[SpeakerTurn],
    diarizer: Diarizer,
    language: str,
    options: TranscriptionOptions,
    timings: StageTimings,
    thresholds: metrics.Thresholds | None,
) -> TranscriptionResult:
    started = time.perf_counter()
    # Who spoke when, overlaps included: a channel split knows it exactly; otherwise the turns say.
    activity = diarizer.activity(audio) if isinstance(diarizer, ChannelDiarizer) else turns
    result = assemble(words, turns, activity, language, audio.duration, options, models.llm, thresholds)
    timings.record("analysis", started)
    memory.release_free_memory()
    return result


def assemble(
    words: list[Word],
    turns: list[SpeakerTurn],
    activity: list[SpeakerTurn],
    language: str,
    duration: float,
    options: TranscriptionOptions,
    llm: LLMAnalyzer | None = None,
    thresholds: metrics.Thresholds | None = None,
) -> TranscriptionResult:
    """Words that have their speakers -> the result: card data masked, segments and roles,
    metrics, analysis, and a last redaction pass over every string."""
    # Card numbers are masked in the words themselves, before any text is built from them.
    heard = list(words)
    words, findings = redaction.redact_words(words, redact_pii=options.redact_pii)
    masked_spans = merge_spans(redaction.masked_spans(heard))
    diarizer_labels = [w.speaker for w in words]
    transcript = build_transcript(words, pauses(turns))
    relabel = {old: w.speaker for old, w in zip(diarizer_labels, transcript.words, strict=True) if old and w.speaker}
    # Segments span the voice, not only Whisper's rough word times.
    segments = fit_segments_to_turns(
        transcript.segments, [SpeakerTurn(t.start, t.end, relabel[t.speaker]) for t in turns if t.speaker in relabel]
    )
    transcript = replace(transcript, segments=segments)
    call_metrics = metrics.compute(
        transcript.words,
        [SpeakerTurn(t.start, t.end, relabel[t.speaker]) for t in activity if t.speaker in relabel],
        duration=duration,
        roles=transcript.roles,
        thresholds=thresholds or metrics.Thresholds(),
    )
    ai_analysis = analysis.analyze(
        transcript, findings=findings, instructions=options.instructions, llm=llm, language=language
    )
    result = TranscriptionResult(
        transcript=transcript.text,
        duration_seconds=round(duration, 3),
        segments=[ResultSegment(start=s.start, end=s.end, speaker=s.speaker, text=s.text) for s in transcript.segments],
        speakers=transcript.speakers,
        roles=transcript.roles,
        language=language,
        word_timestamps=[
            ResultWord(word=w.word, start=w.start, end=w.end, speaker=w.speaker) for w in transcript.words
        ],
        ai_analysis=ai_analysis,
        call_metrics=call_metrics,
        masked_spans=[TimeSpan(start=start, end=end) for start, end in masked_spans],
    )
    # The last pass: every string that is stored or returned, whatever produced it.
    return TranscriptionResult.model_validate(
        redaction.redact_result(result.model_dump(), redact_pii=options.redact_pii)
    )
