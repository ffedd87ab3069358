"""The reference's own client snippets (examples/) against a live server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.db import migrate
from app.runtime import Runtime
from tests.support import examples
from tests.support.factories import Customer, make_account
from tests.support.live import ROOT, LiveServer, live_server
from tests.support.synth import SynthCall

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_and_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Customer]]:
    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'live.db'}"
    migrate(url)
    runtime = Runtime.create(Settings(database_url=url))
    customer = make_account(runtime, credit_cents=1000)
    runtime.close()
    with live_server(url, folder / "server.log") as server:
        yield server, customer


def _run(command: list[str], server: LiveServer, customer: Customer) -> str:
    return examples.run(command, server.base_url, customer.key)


def test_python_requests_example(
    server_and_key: tuple[LiveServer, Customer], support_calls: dict[str, SynthCall]
) -> None:
    server, customer = server_and_key
    out = _run([sys.executable, "examples/python_requests.py", str(support_calls["mp3"].path)], server, customer)
    assert "Job created: " in out
    assert "Status: completed" in out
    assert "'transcript': " in out
    assert "Greenfield" in out


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_node_example(server_and_key: tuple[LiveServer, Customer], support_calls: dict[str, SynthCall]) -> None:
    server, customer = server_and_key
    out = _run(["node", "examples/node_fetch.js", str(support_calls["wav"].path)], server, customer)
    assert "Job: " in out
    assert "Status: completed" in out
    assert "transcript:" in out


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_example(server_and_key: tuple[LiveServer, Customer], support_calls: dict[str, SynthCall]) -> None:
    server, customer = server_and_key
    out = _run(["bash", "examples/curl_balance.sh", str(support_calls["ulaw"].path)], server, customer)
    assert '"balance_cents"' in out
    assert '"status":"completed"' in out
    assert "transcript_cleaned" in out


def test_cli_transcribe(support_calls: dict[str, SynthCall], tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "transcribe", str(support_calls["wav"].path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "VOXPARSE_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("Agent: Thank you for calling")
    assert any(line.startswith("Customer: ") for line in lines)
