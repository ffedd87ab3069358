"""The load test of bench/load.py at a small size, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.load import run_load

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_small_load_loses_nothing_and_balances_to_the_cent(
    backend: str, make_database: Callable[[str], str], tmp_path: Path
) -> None:
    report = run_load(make_database(backend), tmp_path, clients=20, seconds=6, transcribe_share=0.05, limit="30/minute")
    print("\n".join(report.lines()))
    assert report.requests > 100
    assert report.transport_errors == 0
    assert not [s for s in report.statuses if s >= 500], report.statuses
    assert report.ledger_mismatches == []
    assert report.latencies["transcribe"], "no transcription ran"
    # Each key gets its 30 a minute and no more (the run is shorter than a minute).
    assert report.limited_key_429s > 0
    assert report.limited_key_200s <= 30
    assert max(report.accepted_per_key.values()) <= 30
