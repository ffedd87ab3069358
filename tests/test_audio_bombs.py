"""Money before work (issue 14, row 1): an account that cannot pay is refused before its audio is
decoded. Before the fix a 2.4 MB FLAC of 175 minutes of stereo silence, sent by an account with no
credit, was decoded whole (24.6 s, RSS 1.59 -> 6.19 GB) before its 402; ten at once grew the
server by 11.5 GB."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.db import migrate
from app.runtime import Runtime
from tests.support.factories import Customer, make_account
from tests.support.live import LiveServer, live_server

pytestmark = pytest.mark.slow

BOMB_MINUTES = 175


def silent_flac(path: Path, seconds: int, channels: int = 2, rate: int = 16000) -> Path:
    """Digital silence (no dither), which FLAC stores in almost nothing: 175 minutes in ~0.7 MB."""
    subprocess.run(
        ["sox", "-D", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", str(path), "trim", "0", str(seconds)],
        check=True,
        capture_output=True,
    )
    return path


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = silent_flac(tmp_path_factory.mktemp("bombs") / "bomb.flac", BOMB_MINUTES * 60)
    assert path.stat().st_size < 25 * 1024 * 1024
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Runtime]]:
    folder = tmp_path_factory.mktemp("bomb-server")
    url = f"sqlite:///{folder / 'bombs.db'}"
    migrate(url)
    runtime = Runtime.create(Settings(database_url=url))
    with live_server(url, folder / "server.log", env={"VOXPARSE_PRELOAD_MODELS": "false"}) as live:
        yield live, runtime
    runtime.close()


def post(live: LiveServer, customer: Customer, path: Path, **data: str) -> httpx.Response:
    with path.open("rb") as f:
        return httpx.post(
            f"{live.base_url}/v1/transcribe",
            headers=customer.headers,
            files={"file": (path.name, f)},
            data=data,
            timeout=120,
        )


def ledger_total(live: LiveServer, customer: Customer) -> int:
    return int(httpx.get(f"{live.base_url}/v1/balance", headers=customer.headers).json()["balance_cents"])


@pytest.mark.parametrize("mode", [{}, {"async": "true"}])
def test_an_account_without_credit_is_refused_before_decoding(
    server: tuple[LiveServer, Runtime], bomb: Path, mode: dict[str, str]
) -> None:
    live, runtime = server
    broke = make_account(runtime, credit_cents=0)
    post(live, broke, bomb, **mode)  # the first request loads the recognizer (language check)
    started = time.perf_counter()
    response = post(live, broke, bomb, **mode)
    elapsed = time.perf_counter() - started
    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == 402
    assert elapsed < 2.0, elapsed
    assert ledger_total(live, broke) == 0
    assert httpx.get(f"{live.base_url}/v1/jobs", headers=broke.headers).json()["jobs"] == []


def test_ten_bombs_at_once_do_not_grow_the_server(server: tuple[LiveServer, Runtime], bomb: Path) -> None:
    live, runtime = server
    broke = make_account(runtime, credit_cents=0)
    post(live, broke, bomb)  # warm: models loaded, allocator settled
    pid = live.process.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
    before = rss_kb(pid, "VmRSS")
    started = time.perf_counter()
    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda _: post(live, broke, bomb), range(10)))
    elapsed = time.perf_counter() - started
    peak = rss_kb(pid, "VmHWM")
    assert [r.status_code for r in responses] == [402] * 10
    assert (peak - before) / 1024 < 200, f"peak RSS grew by {(peak - before) / 1024:.0f} MB"
    print(f"\nten {BOMB_MINUTES}-minute bombs: answered in {elapsed:.2f} s, peak RSS +{(peak - before) / 1024:.0f} MB")


def test_a_funded_account_is_refused_over_the_longest_duration_before_decoding(
    server: tuple[LiveServer, Runtime], tmp_path: Path
) -> None:
    live, runtime = server
    rich = make_account(runtime, credit_cents=1_000_000)
    ten_hours = silent_flac(tmp_path / "ten-hours.flac", 10 * 3600, channels=1, rate=8000)
    started = time.perf_counter()
    response = post(live, rich, ten_hours)
    assert response.status_code == 400, response.text
    assert "longer than the maximum" in response.json()["error"]["message"]
    assert time.perf_counter() - started < 2.0
    assert ledger_total(live, rich) == 1_000_000
