"""Batched recognition (issue 16): speech cut into clips, and the clips sent back to
window-by-window decoding when their batched decoding failed."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from app.speech import clips
from app.speech.asr import WhisperTranscriber
from app.speech.audio import SAMPLE_RATE
from app.speech.registry import ModelRegistry
from tests.support.scoring import wer
from tests.support.synth import speak

SENTENCE = "Thanks for calling, my name is Robert and I can help you with your bill today."


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


@pytest.fixture(scope="module")
def sentence() -> np.ndarray:
    return speak(SENTENCE, "en-us+m1", 165)


def _decoded(words: list[str], compression: float = 1.5, logprob: float = -0.3) -> clips.Decoded:
    return clips.Decoded(words, compression, logprob)


def test_a_good_clip_is_kept() -> None:
    clip = clips.Clip(0.0, 4.0, 4.0)
    assert not clips.needs_redecoding(clip, _decoded(SENTENCE.split()))


@pytest.mark.parametrize(
    "decoded",
    [
        None,  # no segment at all for 4 s of speech
        _decoded([]),
        _decoded(["I", "want", "the", ".", "0", ".", "0", ".", "0", ".", "0", "fee"]),  # a loop
        _decoded(["Hi.", "Hi.", "Hi.", "next", "all,", "thank", "you."]),  # a hallucinated phrase
        _decoded(SENTENCE.split(), compression=2.6),
        _decoded(SENTENCE.split(), logprob=-1.3),
        _decoded(["will", "be", "in", "your", "inbox"]),  # 5 words for 4 s of speech: the rest was dropped
    ],
)
def test_a_failed_clip_is_decoded_again(decoded: clips.Decoded | None) -> None:
    assert clips.needs_redecoding(clips.Clip(0.0, 4.0, 4.0), decoded)


def test_a_short_clip_is_not_judged_by_its_word_rate() -> None:
    clip = clips.Clip(0.0, 1.0, 1.0)
    assert not clips.needs_redecoding(clip, None)
    assert not clips.needs_redecoding(clip, _decoded(["Yes."]))


def test_clips_break_at_long_pauses_and_stay_within_a_window(sentence: np.ndarray) -> None:
    audio = np.concatenate(
        [_silence(1.0), sentence, _silence(0.3), sentence, _silence(3.0), *[sentence, _silence(0.2)] * 12]
    )
    found = clips.speech_clips(audio)
    assert all(c.end - c.start <= clips.CLIP_SECONDS + 1e-6 for c in found)
    assert all(b.start >= a.end for a, b in itertools.pairwise(found))  # in order, never overlapping
    pause = 1.0 + 2 * len(sentence) / SAMPLE_RATE + 0.3
    # The 3 s pause is never inside a clip; the 0.3 s one is.
    assert not any(c.start < pause + 1.5 < c.end for c in found)
    assert any(c.start < 1.0 + len(sentence) / SAMPLE_RATE + 0.15 < c.end for c in found)
    assert len(found) >= 3  # 12 sentences of about 4 s do not fit in one window


def _transcriber(models: ModelRegistry) -> WhisperTranscriber:
    transcriber = models.transcriber()
    assert isinstance(transcriber, WhisperTranscriber)
    return transcriber


def test_batched_and_window_by_window_hear_the_same(
    models: ModelRegistry, sentence: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    transcriber = _transcriber(models)
    audio = np.concatenate([_silence(0.5), sentence, _silence(2.5), sentence, _silence(0.5)])
    assert transcriber._batch_size > 1  # the default decodes in batches
    batched = transcriber.transcribe(audio, None).words
    monkeypatch.setattr(transcriber, "_batch_size", 1)
    one_by_one = transcriber.transcribe(audio, None).words
    text = " ".join(w.word for w in batched)
    assert wer(f"{SENTENCE} {SENTENCE}", text) < 0.2
    assert wer(" ".join(w.word for w in one_by_one), text) < 0.2
    second = len(sentence) / SAMPLE_RATE + 3.0
    assert any(w.start >= second for w in batched)  # times are the call's, not the clip's


def test_a_rejected_clip_gets_the_window_by_window_words(
    models: ModelRegistry, sentence: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    transcriber = _transcriber(models)
    audio = np.concatenate([_silence(0.5), sentence, _silence(2.5), sentence, _silence(0.5)])
    found = clips.speech_clips(audio)
    assert len(found) == 2
    expected = []
    for clip in found:
        part = audio[int(clip.start * SAMPLE_RATE) : int(clip.end * SAMPLE_RATE)]
        expected += transcriber._window_by_window(part, "en", offset=clip.start)[0]
    monkeypatch.setattr(clips, "needs_redecoding", lambda clip, decoded: True)
    assert transcriber.transcribe(audio, None).words == expected


def test_speech_no_word_covers_is_found() -> None:
    clip = clips.Clip(0.1, 12.0, 10.4, ((0.1, 2.0), (2.2, 4.5), (4.8, 12.0)))
    # The opening (0.1-4.5 s) came back without a word; the rest was heard.
    heard = [(5.0 + 0.5 * i, 5.4 + 0.5 * i) for i in range(14)]
    assert clips.unheard(clip, heard) == [(0.1, 4.5)]
    # A word in it, or a stretch shorter than a second, is not a hole.
    assert clips.unheard(clip, [(1.0, 1.5), (3.0, 3.4), *heard]) == []
    assert clips.unheard(clips.Clip(0.0, 3.0, 0.8, ((0.0, 0.8),)), []) == []


def test_a_phrase_batched_decoding_left_out_is_decoded_on_its_own(
    models: ModelRegistry, sentence: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whisper now and then leaves out a whole phrase of a long window, most often the first, and
    the rest reads well enough to pass every check."""
    from faster_whisper import BatchedInferencePipeline

    transcriber = _transcriber(models)
    audio = np.concatenate([_silence(0.5), sentence, _silence(0.4), sentence, _silence(0.5)])
    second = 0.5 + len(sentence) / SAMPLE_RATE + 0.4
    real = BatchedInferencePipeline.transcribe

    def losing_the_first(self: BatchedInferencePipeline, *args: object, **kwargs: object) -> object:
        segments, info = real(self, *args, **kwargs)
        kept = [dataclasses.replace(s, words=[w for w in s.words or [] if w.start >= second - 0.2]) for s in segments]
        return [s for s in kept if s.words], info

    monkeypatch.setattr(BatchedInferencePipeline, "transcribe", losing_the_first)
    monkeypatch.setattr(clips, "needs_redecoding", lambda clip, decoded: False)
    words = transcriber.transcribe(audio, None).words
    first = " ".join(w.word for w in words if w.start < second - 0.2)
    assert wer(SENTENCE, first) < 0.3, first
    assert [w.start for w in words] == sorted(w.start for w in words)
