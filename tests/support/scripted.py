"""Stand-ins for the recognizer and the diarizer that answer with words a test sets, so that API
tests run the real pipeline after recognition (redaction, analysis, categories, metering) on
calls whose words are known."""

from __future__ import annotations

import contextlib
import io
import wave
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from app.runtime import Runtime
from app.speech.asr import Recognition
from app.speech.audio import DecodedAudio
from app.speech.diarization import SpeakerCount, SpeakerTurn
from app.speech.registry import ModelRegistry
from app.transcript import Word
from tests.support.factories import settings_for


def turns_of(words: list[Word]) -> list[SpeakerTurn]:
    turns: list[SpeakerTurn] = []
    for w in words:
        assert w.speaker is not None
        if turns and turns[-1].speaker == w.speaker:
            turns[-1] = SpeakerTurn(turns[-1].start, w.end, w.speaker)
        else:
            turns.append(SpeakerTurn(w.start, w.end, w.speaker))
    return turns


class ScriptedRecognizer:
    """Stands in for Whisper: answers with the words of the call the test set."""

    name = "scripted"

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.windows = 0
        """Live windows decoded so far."""

    def check_language(self, language: str | None) -> None:
        pass

    def transcribe(
        self, audio: Any, language: str | None, on_progress: Callable[[float], None] | None = None
    ) -> Recognition:
        return Recognition(words=[Word(w.word, w.start, w.end, w.probability) for w in self.words], language="en")

    def transcribe_window(
        self, audio: Any, language: str | None, prompt: str = "", offset: float = 0.0, beam_size: int | None = None
    ) -> Recognition:
        """The words said wholly inside the window: a word still being said is not heard yet."""
        end = offset + len(audio) / 16_000
        heard = [Word(w.word, w.start, w.end, w.probability) for w in self.words if offset <= w.start and w.end <= end]
        self.windows += 1
        return Recognition(words=heard, language="en")


class ScriptedDiarizer:
    name = "scripted"

    def __init__(self) -> None:
        self.turns: list[SpeakerTurn] = []

    def diarize(self, audio: DecodedAudio, count: SpeakerCount) -> list[SpeakerTurn]:
        return list(self.turns)


class ScriptedModels(ModelRegistry):
    def __init__(self, runtime_settings: Any) -> None:
        super().__init__(runtime_settings)
        self.recognizer = ScriptedRecognizer()
        self.speakers = ScriptedDiarizer()

    def transcriber(self) -> ScriptedRecognizer:
        return self.recognizer

    def diarizer(self) -> ScriptedDiarizer:
        return self.speakers

    def say(self, words: list[Word]) -> None:
        self.recognizer.words = words
        self.speakers.turns = turns_of(words)


def tone_wav(seconds: float) -> bytes:
    t = np.arange(int(seconds * 16_000)) / 16_000
    samples = (0.1 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16_000)
        f.writeframes(samples.tobytes())
    return buffer.getvalue()


@contextlib.contextmanager
def scripted_runtime(database_url: str, **overrides: Any) -> Iterator[tuple[Runtime, ScriptedModels]]:
    """A runtime whose recognizer and diarizer are the scripted ones (`models.say(words)`)."""
    config = settings_for(database_url, **overrides)
    models = ScriptedModels(config)
    rt = Runtime.create(config, models=models)
    try:
        yield rt, models
    finally:
        rt.close()
