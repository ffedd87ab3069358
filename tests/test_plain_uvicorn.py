"""`uvicorn app.main:app`, as FastAPI users start an app: it works, and it believes X-Forwarded-For
only from VOXPARSE_TRUSTED_PROXIES (uvicorn on its own believes any from 127.0.0.1), and keys in
query strings never reach its access log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.db import migrate
from tests.support.live import ROOT, free_port, stop_process


def test_plain_uvicorn_serves_the_app_and_trusts_only_the_configured_proxies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    migrate(url)
    port = free_port()
    env = {
        **os.environ,
        "VOXPARSE_DATABASE_URL": url,
        "VOXPARSE_PRELOAD_MODELS": "false",
        "VOXPARSE_TRUSTED_PROXIES": '["10.9.9.9"]',
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    log_path = tmp_path / "uvicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        key = "vxp_live_" + "Zz9" * 14
        response = httpx.get(f"{base}/v1/balance?api_key={key}", headers={"X-Forwarded-For": "203.0.113.99"})
        assert response.status_code == 401
        time.sleep(0.5)
        logged = log_path.read_text()
        assert "/v1/balance" in logged
        assert "203.0.113.99" not in logged, logged
        assert key not in logged, logged
    finally:
        stop_process(process)
