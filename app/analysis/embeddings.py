"""Sentence embeddings for matching by meaning: WordLlama's static token embeddings (256 dims,
bundled in its wheel, numpy only), average-pooled and unit-normalised. About a millisecond per
hundred short texts on a CPU, so a long call's every sentence can be compared with a phrase."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DIMENSIONS = 256
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model() -> Any:
    import wordllama

    # Its default cache is the Hugging Face hub; the weights are in the package itself.
    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def warm_up() -> None:
    """Load the model at start-up rather than on the first call that needs it."""
    embed(["hello"])


def embed(texts: list[str]) -> npt.NDArray[np.float32]:
    """One unit-length row per text (zeros for a text with no known token)."""
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    said = [i for i, text in enumerate(texts) if text.strip()]
    if said:
        with _lock, np.errstate(invalid="ignore"):  # the tokenizer is shared; a text of unknown tokens is 0/0
            found = np.asarray(_model().embed([texts[i] for i in said], norm=True), dtype=np.float32)
        vectors[said] = np.nan_to_num(found)
    return vectors
