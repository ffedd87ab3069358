"""Whisper's log-mel features for a long recording, computed a block of frames at a time.

faster-whisper computes the spectrogram of the whole (VAD-trimmed) recording in one pass before it
decodes anything: for a 50-minute call its intermediate arrays (framed samples, the complex STFT,
its copy and magnitudes) came to about 3 GB. The frames are independent of one another, so the
same features can be built block by block: the peak is then one block's intermediates plus the
mel spectrogram itself (80 floats per 10 ms, about 100 MB for 50 minutes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper.feature_extractor import FeatureExtractor

# 30 s of frames per block: a few MB of intermediates.
BLOCK_FRAMES = 3000


class BlockedFeatureExtractor(FeatureExtractor):  # type: ignore[misc]
    """The library's extractor, with the same output, a block of frames at a time."""

    @classmethod
    def like(cls, original: Any) -> BlockedFeatureExtractor:
        return cls(
            feature_size=original.mel_filters.shape[0],
            sampling_rate=original.sampling_rate,
            hop_length=original.hop_length,
            chunk_length=original.chunk_length,
            n_fft=original.n_fft,
        )

    def _centred(self, waveform: npt.NDArray[np.float32], padding: int) -> npt.NDArray[np.float32]:
        """The library's padding (`padding` zeros after, then n_fft/2 reflected samples each side)
        in one new array rather than two."""
        half, length = self.n_fft // 2, len(waveform) + padding
        if length <= half:
            return np.pad(np.pad(waveform, (0, padding)), (half, half), mode="reflect")
        padded = np.zeros(length + 2 * half, dtype=np.float32)
        padded[half : half + len(waveform)] = waveform
        padded[:half] = padded[2 * half : half : -1]
        padded[half + length :] = padded[half + length - 2 : length - 2 : -1]
        return padded

    def __call__(
        self, waveform: npt.NDArray[Any], padding: int = 160, chunk_length: int | None = None
    ) -> npt.NDArray[np.float32]:
        if chunk_length is not None:
            self.n_samples = chunk_length * self.sampling_rate
            self.nb_max_frames = self.n_samples // self.hop_length
        padded = self._centred(np.asarray(waveform, dtype=np.float32), padding)
        frames = 1 + (len(padded) - self.n_fft) // self.hop_length
        kept = frames - 1  # the library drops the last frame
        window = np.hanning(self.n_fft + 1)[:-1].astype("float32")
        mel = np.empty((self.mel_filters.shape[0], max(kept, 0)), dtype=np.float32)
        for first in range(0, kept, BLOCK_FRAMES):
            last = min(first + BLOCK_FRAMES, kept)
            block = padded[first * self.hop_length : (last - 1) * self.hop_length + self.n_fft]
            stft = self.stft(block, self.n_fft, self.hop_length, window=window, center=False, return_complex=True)
            magnitudes = np.abs(stft.astype(np.complex64, copy=False)) ** 2
            mel[:, first:last] = self.mel_filters @ magnitudes
        log_spec = np.log10(np.clip(mel, a_min=1e-10, a_max=None, out=mel), out=mel)
        np.maximum(log_spec, log_spec.max(initial=-np.inf) - 8.0, out=log_spec)
        log_spec += 4.0
        log_spec /= 4.0
        return log_spec
