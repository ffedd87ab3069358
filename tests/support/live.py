"""A real uvicorn server of ours in a subprocess, for the tests that need real sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from tests.support.factories import NUMBA_CACHE

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def live_server(
    database_url: str,
    log_path: Path,
    *,
    timeout: float = 180,
    env: dict[str, str] | None = None,
    entry_point: Literal["uvicorn", "voxparse serve"] = "uvicorn",
) -> Iterator[LiveServer]:
    """The app under plain uvicorn (its factory), or as users start it (`voxparse serve`, which
    migrates and applies VOXPARSE_ROOT_PATH)."""
    port = free_port()
    environment = {
        **os.environ,
        "VOXPARSE_DATABASE_URL": database_url,
        "VOXPARSE_NUMBA_CACHE_DIR": str(NUMBA_CACHE),
        "VOXPARSE_LOG_LEVEL": "INFO",
        **(env or {}),
    }
    serve = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-dev-key"]
    command = (
        serve
        if entry_point == "voxparse serve"
        else [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "5",
        ]
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{server.log()}")
            try:
                if httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{server.log()}")
            time.sleep(0.3)
        yield server
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM (a graceful stop), then SIGKILL if it has not stopped within `timeout`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
