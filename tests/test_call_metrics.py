"""`call_metrics`: the definitions on hand-made words and turns, then on synthesized calls whose
timing is known (a scripted hold, talk shares, an interruption in a stereo call)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.speech import audio, metrics, pipeline
from app.speech.diarization import SpeakerTurn
from app.speech.registry import ModelRegistry
from app.transcript import Word
from tests.support.synth import SynthCall, Turn, synthesize_call

ROLES = {"SPEAKER_00": "Agent", "SPEAKER_01": "Customer"}


def w(text: str, start: float, end: float, speaker: str) -> Word:
    return Word(text, start, end, speaker=speaker)


def test_the_definitions_on_known_words_and_turns() -> None:
    words = [
        w("Thanks", 1.0, 1.4, "SPEAKER_00"),
        w("for", 1.45, 1.6, "SPEAKER_00"),
        w("calling.", 1.65, 2.0, "SPEAKER_00"),
        w("How", 2.3, 2.5, "SPEAKER_00"),  # a 0.3 s pause: still talking
        w("can", 2.55, 2.7, "SPEAKER_00"),
        w("I", 2.75, 2.8, "SPEAKER_00"),
        w("help?", 2.85, 3.0, "SPEAKER_00"),
        w("My", 3.5, 3.7, "SPEAKER_01"),
        w("bill.", 3.75, 4.0, "SPEAKER_01"),
        w("One", 16.0, 16.5, "SPEAKER_00"),  # after a 12 s hold
        w("moment?", 16.5, 17.0, "SPEAKER_00"),
    ]
    turns = [
        SpeakerTurn(1.0, 3.2, "SPEAKER_00"),
        SpeakerTurn(2.6, 4.0, "SPEAKER_01"),  # starts 0.6 s before the agent stops: an interruption
        SpeakerTurn(16.0, 17.0, "SPEAKER_00"),
    ]
    result = metrics.compute(words, turns, duration=20.0, roles=ROLES, thresholds=metrics.Thresholds())
    agent, customer = result.participants["Agent"], result.participants["Customer"]
    assert agent.talk_seconds == pytest.approx(3.0)  # 1.0-3.0 merged, plus 16.0-17.0
    assert customer.talk_seconds == pytest.approx(0.5)
    assert agent.talk_share == pytest.approx(3.0 / 3.5, abs=1e-3)
    assert (agent.words, agent.turns, agent.questions) == (9, 2, 2)
    assert agent.words_per_minute == pytest.approx(9 / (3.0 / 60), abs=0.1)
    assert agent.longest_monologue is not None
    assert (agent.longest_monologue.seconds, agent.longest_monologue.start) == (2.0, 1.0)
    assert (customer.interruptions, agent.interruptions) == (1, 0)
    assert result.overlap_seconds == pytest.approx(0.6)
    assert result.talk_seconds == pytest.approx(3.5)
    assert result.non_talk_seconds == pytest.approx(16.5)
    assert result.non_talk_share == pytest.approx(16.5 / 20, abs=1e-3)
    assert [(s.start, s.end, s.seconds) for s in result.silences] == [(4.0, 16.0, 12.0)]
    assert result.time_to_first_agent_words == 1.0


def test_thresholds_and_shared_roles() -> None:
    words = [w("hi", 0.0, 0.5, "SPEAKER_00"), w("hello", 6.0, 6.5, "SPEAKER_01"), w("yo", 7.0, 7.2, "SPEAKER_02")]
    turns = [SpeakerTurn(0.0, 0.5, "SPEAKER_00"), SpeakerTurn(0.4, 6.5, "SPEAKER_01")]
    roles = {"SPEAKER_00": "Agent", "SPEAKER_01": "Customer", "SPEAKER_02": "Customer"}
    strict = metrics.Thresholds(silence_seconds=5.0, interruption_overlap_seconds=0.2)
    result = metrics.compute(words, turns, duration=8.0, roles=roles, thresholds=strict)
    # Two customers: each keeps its label rather than share one key.
    assert set(result.participants) == {"Agent", "SPEAKER_01", "SPEAKER_02"}
    assert [s.seconds for s in result.silences] == [5.5]
    assert result.participants["SPEAKER_01"].interruptions == 0  # 0.1 s of overlap: under the threshold
    assert metrics.compute([], [], duration=3.0, roles={}, thresholds=strict).non_talk_share == 1.0


HOLD_CALL = [
    Turn("agent", "Thank you for calling Greenfield support. My name is Karen. How can I help you today?"),
    Turn("customer", "Hi Karen. My internet connection keeps dropping every evening."),
    Turn("agent", "Let me check your line. Please hold for a moment while I look at your account."),
    Turn("agent", "Thank you for holding. I have reset the router from here, so it should stay up now."),
    Turn("customer", "That is great, thank you so much for your help today."),
]


def _script_shares(call: SynthCall) -> dict[str, float]:
    spoken = {"agent": 0.0, "customer": 0.0}
    for turn in call.turns:
        spoken[turn.speaker] += turn.end - turn.start
    total = sum(spoken.values())
    return {speaker: seconds / total for speaker, seconds in spoken.items()}


@pytest.mark.slow
def test_a_scripted_hold_and_the_talk_shares_are_measured(models: ModelRegistry, tmp_path: Path) -> None:
    call = synthesize_call(HOLD_CALL, tmp_path / "hold.wav", gaps={2: ("silence", 12.0)})
    with call.path.open("rb") as f:
        decoded = audio.decode(f, max_seconds=600)
    result = pipeline.run(models, decoded, pipeline.TranscriptionOptions())
    assert result.call_metrics is not None
    holds = result.call_metrics.silences
    assert len(holds) == 1, holds
    assert holds[0].start == pytest.approx(call.turns[2].end, abs=0.5)
    assert holds[0].end == pytest.approx(call.turns[3].start, abs=0.5)
    shares = _script_shares(call)
    participants = result.call_metrics.participants
    assert participants["Agent"].talk_share == pytest.approx(shares["agent"], abs=0.05)
    assert participants["Customer"].talk_share == pytest.approx(shares["customer"], abs=0.05)
    assert result.call_metrics.time_to_first_agent_words == pytest.approx(call.turns[0].start, abs=0.5)


@pytest.mark.slow
def test_an_interruption_in_a_stereo_call_is_counted(models: ModelRegistry, tmp_path: Path) -> None:
    turns = [
        Turn("agent", "Thank you for calling Greenfield support. Your plan renews next month at the same price."),
        Turn("customer", "Sorry, sorry, I need to cancel it today, not renew it."),
        Turn("agent", "I understand. I can cancel it for you right now."),
    ]
    call = synthesize_call(turns, tmp_path / "interrupted.wav", fmt="stereo", overlaps={1: 1.5})
    with call.path.open("rb") as f:
        decoded = audio.decode(f, max_seconds=600)
    result = pipeline.run(models, decoded, pipeline.TranscriptionOptions(channels="split"))
    assert result.call_metrics is not None
    assert result.call_metrics.participants["Customer"].interruptions == 1
    assert result.call_metrics.participants["Agent"].interruptions == 0
    assert result.call_metrics.overlap_seconds == pytest.approx(1.5, abs=0.5)
