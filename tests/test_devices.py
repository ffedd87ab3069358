"""Where the models run: cores from the CPU quota, and a GPU profile that falls back to the CPU."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from app.config import Settings
from app.speech import devices
from app.speech.audio import SAMPLE_RATE
from app.speech.registry import ModelRegistry


def test_cores_follow_a_cgroup_quota(tmp_path: Path) -> None:
    v2, quota, period = tmp_path / "cpu.max", tmp_path / "quota", tmp_path / "period"
    v2.write_text("150000 100000\n")
    assert devices._quota_cores(v2, quota, period) == 2
    v2.write_text("max 100000\n")
    assert devices._quota_cores(v2, quota, period) is None
    v2.unlink()
    quota.write_text("50000\n")
    period.write_text("100000\n")
    assert devices._quota_cores(v2, quota, period) == 1
    quota.write_text("-1\n")
    assert devices._quota_cores(v2, quota, period) is None
    assert 1 <= devices.available_cores() <= len(os.sched_getaffinity(0))


@pytest.mark.skipif(devices.cuda_devices() > 0, reason="this machine has a GPU")
def test_asking_for_a_gpu_without_one_runs_on_the_cpu(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert devices.whisper_device("cuda", "float16") == ("cpu", "int8")
        assert devices.whisper_device("auto", "int8") == ("cpu", "int8")
        assert devices.torch_device("cuda") == "cpu"
    assert "no CUDA device" in caplog.text
    assert "torch sees no GPU" in caplog.text


@pytest.mark.slow
@pytest.mark.skipif(devices.cuda_devices() > 0, reason="this machine has a GPU")
def test_the_gpu_profile_loads_and_transcribes_on_a_cpu_machine() -> None:
    settings = Settings(whisper_device="cuda", whisper_compute_type="float16", diarizer_device="cuda")
    models = ModelRegistry(settings)
    recognition = models.transcriber().transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), "en")
    assert recognition.language == "en"
    assert models.status()["transcription"] == "ready"
