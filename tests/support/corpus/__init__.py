"""The evaluation corpus: generated calls with their truth, in two splits by seed.

`dev` is for tuning; `test` is for reporting only. Never read the test split's failures to change a
rule: that is what makes its figures mean something on calls nobody here wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.corpus import conversational
from tests.support.corpus.render import VARIANTS, render
from tests.support.corpus.scenarios import FAMILIES, Script, make_script

SPLIT_SEEDS = {"dev": 10_000, "test": 50_000}
CALLS_PER_FAMILY = 3
GENERATOR_VERSION = 1
# "scripted": the first style (`scenarios`), espeak-ng voices. "conversational": long rambling turns,
# names spelled and corrected, amounts without currency words (`conversational`), mostly voiced by
# Piper. Each style has its own seeds, so its splits are calls of their own.
STYLES: dict[str, tuple[Callable[[str, int], Script], int, str]] = {
    "scripted": (make_script, 0, f"v{GENERATOR_VERSION}"),
    "conversational": (conversational.make_script, 5_000, "conversational-v1"),
}


@dataclass(frozen=True)
class CorpusCall:
    call_id: str
    folder: Path
    truth: dict[str, Any]

    def audio(self, variant: str) -> Path:
        return self.folder / ("mp3.mp3" if variant == "mp3" else f"{variant}.wav")

    @property
    def rttm(self) -> Path:
        return self.folder / "ref.rttm"

    @property
    def reference_text(self) -> str:
        return (self.folder / "transcript.txt").read_text()


def calls_of(split: str, per_family: int = CALLS_PER_FAMILY, style: str = "scripted") -> list[tuple[str, str, int]]:
    """(call id, family, seed) of every call in a split, in a fixed order."""
    base = SPLIT_SEEDS[split] + STYLES[style][1]
    out = []
    for round_ in range(per_family):
        for index, family in enumerate(FAMILIES):
            seed = base + round_ * 100 + index
            out.append((f"{family}-{seed}", family, seed))
    return out


def build(
    root: Path,
    split: str,
    per_family: int = CALLS_PER_FAMILY,
    variants: tuple[str, ...] = VARIANTS,
    style: str = "scripted",
    families: Collection[str] | None = None,
) -> list[CorpusCall]:
    """Render what is missing (cached by style and generator version), return the split's calls
    (those of `families` only, if given)."""
    write, _, version = STYLES[style]
    calls = []
    for call_id, family, seed in calls_of(split, per_family, style):
        if families is not None and family not in families:
            continue
        folder = root / version / split / call_id
        truth_file = folder / "truth.json"
        missing = [v for v in variants if not (folder / ("mp3.mp3" if v == "mp3" else f"{v}.wav")).exists()]
        if missing or not truth_file.exists():
            render(write(family, seed), seed, folder, variants=tuple(VARIANTS), neural=style != "scripted")
        calls.append(CorpusCall(call_id, folder, json.loads(truth_file.read_text())))
    return calls
