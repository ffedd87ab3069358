"""Speech recognition with faster-whisper: words with timestamps, guarded against the usual
Whisper failure modes (text invented over silence or music, repetition loops)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import ctranslate2
import numpy as np

from app.errors import BadRequest
from app.speech import clips, vad, whisper_models
from app.speech.audio import SAMPLE_RATE, Samples
from app.speech.whisper_features import BlockedFeatureExtractor
from app.transcript import Word

# Clips whose features are built at once when decoding in batches: bounded memory on long calls.
CLIPS_PER_RUN = 32
# A phrase of up to this many words repeated more than MAX_REPEATS times in a row is a loop.
LOOP_MAX_PHRASE = 6
LOOP_MAX_REPEATS = 3
# Speech the language is judged from (in 30 s windows).
LANGUAGE_SECONDS = 60
# Whisper's fallback: a window that decodes badly is decoded again by sampling at these temperatures.
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class Recognition:
    words: list[Word]
    language: str


class UnsupportedLanguage(BadRequest):
    pass


class Transcriber(Protocol):
    name: str

    def check_language(self, language: str | None) -> None: ...

    def transcribe(
        self, audio: Samples, language: str | None, on_progress: Callable[[float], None] | None = None
    ) -> Recognition:
        """`on_progress` is called with the fraction of the audio done, as recognition advances."""
        ...

    def transcribe_window(
        self, audio: Samples, language: str | None, prompt: str = "", offset: float = 0.0, beam_size: int | None = None
    ) -> Recognition:
        """One window of a live call, at most 30 s, starting `offset` seconds into it."""
        ...


class WhisperTranscriber:
    def __init__(
        self,
        model: str,
        *,
        device: str,
        compute_type: str,
        beam_size: int,
        cpu_threads: int,
        vad_filter: bool,
        workers: int,
        batch_size: int = 1,
        models_dir: Path = Path("data/models"),
        temperature_fallback: bool = False,
    ) -> None:
        from faster_whisper import WhisperModel

        self.name = model
        self._model = WhisperModel(
            whisper_models.resolve(model, models_dir),
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=max(1, workers),
        )
        self._model.feature_extractor = BlockedFeatureExtractor.like(self._model.feature_extractor)
        vad.bound_vad_memory()
        self._beam_size = beam_size
        self._vad_filter = vad_filter
        self._batch_size = batch_size
        # Whisper's usual temperatures, or only 0 (greedy beam search, the same words every run).
        self._temperatures = FALLBACK_TEMPERATURES if temperature_fallback else (0.0,)

    @property
    def multilingual(self) -> bool:
        return bool(self._model.model.is_multilingual)

    def check_language(self, language: str | None) -> None:
        if language is None:
            return
        code = language.strip().lower()
        if not self.multilingual and code != "en":
            raise UnsupportedLanguage(
                f"Language '{language}' is not supported by the loaded model ({self.name}, English only)."
            )
        if code not in self._model.supported_languages:
            raise UnsupportedLanguage(f"Language '{language}' is not supported by the loaded model ({self.name}).")

    def transcribe(
        self, audio: Samples, language: str | None, on_progress: Callable[[float], None] | None = None
    ) -> Recognition:
        self.check_language(language)
        batched = self._batch_size > 1 and self._vad_filter
        detecting = language is None and self.multilingual
        # One VAD pass over the call serves both the language check and the batched clips.
        speech = clips.speech_clips(audio) if batched or detecting else []
        if language is None:
            language = self.detect_language(audio, speech) if detecting else "en"
        # With the fallback on, Whisper samples when a window decodes badly. ctranslate2 seeds each
        # of its threads' generators once, at that thread's first sampling, so this fixes the first
        # draw in a process, not later ones: a clip decoded again can come out differently. Without
        # the fallback (the default) nothing is sampled and the words are the same on every run.
        ctranslate2.set_random_seed(0)
        if batched:
            words, detected = self._batched(audio, speech, language, on_progress)
        else:
            words, detected = self._window_by_window(audio, language, on_progress)
        return Recognition(words=remove_repetition_loops(words), language=detected)

    def transcribe_window(
        self, audio: Samples, language: str | None, prompt: str = "", offset: float = 0.0, beam_size: int | None = None
    ) -> Recognition:
        """One window of a live call (at most 30 s) that starts `offset` seconds into the call, with
        the final text before it as the prompt (`beam_size`: None for the configured one). The same
        guards as a whole call: the VAD filter (nothing invented over silence) and no sampling."""
        segments, info = self._model.transcribe(
            audio,
            language=language,
            beam_size=beam_size or self._beam_size,
            temperature=0.0,
            word_timestamps=True,
            vad_filter=self._vad_filter,
            initial_prompt=prompt or None,
            condition_on_previous_text=False,
        )
        words = [w for segment in segments for w in to_words(segment.words or [], offset)]
        return Recognition(words=remove_repetition_loops(words), language=info.language)

    def detect_language(self, audio: Samples, speech: list[clips.Clip]) -> str:
        """The language of the call's speech (`speech`: its clips): its first LANGUAGE_SECONDS of
        speech, silence and hold music cut out (faster-whisper's batched pipeline judged from the
        first clip's padded features and took an English call with a hold for Spanish)."""
        said_clips = [audio[int(c.start * SAMPLE_RATE) : int(c.end * SAMPLE_RATE)] for c in speech]
        said = np.concatenate(said_clips)[: LANGUAGE_SECONDS * SAMPLE_RATE] if said_clips else audio
        if len(said) == 0:
            return "en"
        language, _, _ = self._model.detect_language(
            audio=said, language_detection_segments=LANGUAGE_SECONDS // 30, language_detection_threshold=0.5
        )
        return str(language)

    def _window_by_window(
        self,
        audio: Samples,
        language: str | None,
        on_progress: Callable[[float], None] | None = None,
        offset: float = 0.0,
    ) -> tuple[list[Word], str]:
        """faster-whisper's usual decoding: 30 s windows one after another, each with beam search
        and, where it fails, the temperature fallback."""
        segments, info = self._model.transcribe(
            audio,
            language=language,
            beam_size=self._beam_size,
            temperature=list(self._temperatures),
            word_timestamps=True,
            vad_filter=self._vad_filter,
            # Each window decoded on its own: a mistake cannot feed itself into a repetition loop.
            condition_on_previous_text=False,
            # Not `hallucination_silence_threshold`: on clean synthetic speech it dropped whole real
            # sentences at the start of calls. Silence and hold music never reach Whisper: the VAD
            # filter cuts them out first (tests/test_transcribe.py checks 30 s of each).
        )
        words: list[Word] = []
        total = max(len(audio) / SAMPLE_RATE, 1e-6)
        for segment in segments:
            if on_progress is not None:
                on_progress(min(1.0, float(segment.end) / total))
            words.extend(to_words(segment.words or [], offset))
        return words, info.language

    def _batched(
        self,
        audio: Samples,
        speech: list[clips.Clip],
        language: str | None,
        on_progress: Callable[[float], None] | None,
    ) -> tuple[list[Word], str]:
        """Speech clips decoded in batches; a clip the check in `clips` rejects is decoded again
        window by window."""
        from faster_whisper import BatchedInferencePipeline

        total = max(len(audio) / SAMPLE_RATE, 1e-6)
        detected = language or "en"
        words: list[Word] = []
        for first in range(0, len(speech), CLIPS_PER_RUN):
            group = speech[first : first + CLIPS_PER_RUN]
            # A pipeline per run: it keeps state between the batches of one run.
            segments, info = BatchedInferencePipeline(self._model).transcribe(
                audio,
                language=language,
                beam_size=self._beam_size,
                temperature=list(self._temperatures),
                word_timestamps=True,
                batch_size=self._batch_size,
                clip_timestamps=[clip.as_clip_timestamp() for clip in group],
            )
            detected = info.language
            decoded: dict[int, tuple[clips.Decoded, list[Word]]] = {}
            for segment in segments:
                index = min(range(len(group)), key=lambda i: abs(group[i].start - float(segment.start)))
                clip_words = to_words(segment.words or [], 0.0)
                decoded[index] = (
                    clips.Decoded(
                        [w.word for w in clip_words],
                        float(segment.compression_ratio),
                        float(segment.avg_logprob),
                    ),
                    clip_words,
                )
            for index, clip in enumerate(group):
                found = decoded.get(index)
                if clips.needs_redecoding(clip, found[0] if found else None):
                    clip_words = self._decode_span(audio, clip.start, clip.end, detected)
                else:
                    clip_words = found[1] if found else []
                for start, end in clips.unheard(clip, [(w.start, w.end) for w in clip_words]):
                    clip_words.extend(
                        w for w in self._decode_span(audio, start, end, detected) if start <= w.start < end
                    )
                words.extend(sorted(clip_words, key=lambda w: w.start))
                if on_progress is not None:
                    on_progress(min(1.0, clip.end / total))
        return words, detected

    def _decode_span(self, audio: Samples, start: float, end: float, language: str) -> list[Word]:
        first, last = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        return self._window_by_window(audio[first:last], language, offset=start)[0]


# The rest of a figure that the tokenizer cut off as a word of its own: Whisper base writes "$43.99"
# as " $43" + ".99" and "6,752" as " 6" + ",752" (no leading space: the same word goes on).
FIGURE_GOES_ON = re.compile(r"[.,:/]?\d")
FIGURE_SO_FAR = re.compile(r"[$£€]?[\d.,:/]*\d$")


def to_words(words: Iterable[Any], offset: float) -> list[Word]:
    out: list[Word] = []
    for w in words:
        text = w.word.strip()
        if not text:
            continue
        start, end = round(float(w.start) + offset, 3), round(float(w.end) + offset, 3)
        probability = float(w.probability)
        previous = out[-1] if out else None
        if (
            previous is not None
            and not w.word.startswith(" ")
            and FIGURE_GOES_ON.match(text)
            and FIGURE_SO_FAR.fullmatch(previous.word)
        ):
            out[-1] = Word(previous.word + text, previous.start, end, min(previous.probability, probability))
        else:
            out.append(Word(text, start, end, probability))
    return out


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def remove_repetition_loops(words: list[Word]) -> list[Word]:
    """Keep at most LOOP_MAX_REPEATS consecutive repeats of any short phrase."""
    out: list[Word] = []
    i = 0
    while i < len(words):
        collapsed = False
        for size in range(1, LOOP_MAX_PHRASE + 1):
            phrase = [_norm(w.word) for w in words[i : i + size]]
            if len(phrase) < size or not any(phrase):
                break
            repeats = 1
            while [_norm(w.word) for w in words[i + repeats * size : i + (repeats + 1) * size]] == phrase:
                repeats += 1
            if repeats > LOOP_MAX_REPEATS:
                out.extend(words[i : i + LOOP_MAX_REPEATS * size])
                i += repeats * size
                collapsed = True
                break
        if not collapsed:
            out.append(words[i])
            i += 1
    return out
