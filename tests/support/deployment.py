"""A small deployment of real processes for the async-job tests: an API server (uvicorn) and, in
Celery mode, `voxparse worker` processes on the real Redis; plus a webhook receiver."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from app.db import Database
from tests.support.factories import NUMBA_CACHE
from tests.support.live import ROOT, LiveServer, free_port, live_server, stop_process

REDIS_BROKER = os.environ.get("VOXPARSE_TEST_REDIS", "redis://127.0.0.1:6379/0")
MAX_ATTEMPTS = 2
WEBHOOK_ATTEMPTS = 3


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class WebhookReceiver:
    """Answers POST /ok with 200, /down with 500, /flaky with 500 the first time for a job, then 200."""

    base_url: str
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def for_job(self, job_id: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.json()["job"]["id"] == job_id]

    def wait_for(self, job_id: str, count: int, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.for_job(job_id)
            if len(got) >= count:
                return got
            time.sleep(0.2)
        raise AssertionError(f"{len(self.for_job(job_id))} webhook(s) for {job_id}, expected {count}")


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver: WebhookReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            record = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            job_id = record.json()["job"]["id"]
            with receiver.lock:
                seen = sum(1 for r in receiver.received if r.path == self.path and r.json()["job"]["id"] == job_id)
                receiver.received.append(record)
            ok = self.path == "/ok" or (self.path == "/flaky" and seen >= 1)
            self.send_response(200 if ok else 500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = WebhookReceiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def worker_command() -> list[str]:
    return [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())", "worker"]


@dataclass
class Deployment:
    mode: str
    database_url: str
    env: dict[str, str]
    log_dir: Path
    stack: ExitStack
    api: LiveServer | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        assert self.api is not None
        return self.api.base_url

    @property
    def audio_dir(self) -> Path:
        return Path(self.env["VOXPARSE_AUDIO_STORE_DIR"])

    def settings(self) -> Settings:
        return Settings(_env_file=None, database_url=self.database_url)

    def database(self) -> Database:
        return Database(self.settings())

    def start_api(self, name: str) -> LiveServer:
        self.api = self.stack.enter_context(
            live_server(self.database_url, self.log_dir / f"{name}.log", env=self.env, timeout=240)
        )
        return self.api

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            worker_command(), cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.workers.append(process)
        return process

    def kill_runner(self) -> None:
        """SIGKILL whatever runs jobs: the worker (Celery) or the API server itself (in-process)."""
        if self.mode == "celery":
            for worker in self.workers:
                worker.send_signal(signal.SIGKILL)
                worker.wait()
            self.workers.clear()
        else:
            assert self.api is not None
            self.api.process.send_signal(signal.SIGKILL)
            self.api.process.wait()

    def start_runner(self, name: str) -> None:
        if self.mode == "celery":
            self.start_worker(name)
        else:
            self.start_api(name)

    def logs(self) -> str:
        return "\n".join(
            f"== {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(self.log_dir.iterdir())
        )


@contextmanager
def deployment(mode: str, database_url: str, tmp_path: Path, **extra_env: str) -> Iterator[Deployment]:
    audio_dir = tmp_path / "audio"
    audio_dir.mkdir()
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    env = {
        "VOXPARSE_DATABASE_URL": database_url,
        "VOXPARSE_NUMBA_CACHE_DIR": str(NUMBA_CACHE),
        "VOXPARSE_LOG_LEVEL": "INFO",
        "VOXPARSE_AUDIO_STORE_DIR": str(audio_dir),
        "VOXPARSE_WEBHOOK_ALLOW_PRIVATE": "true",
        "VOXPARSE_JOB_HEARTBEAT_SECONDS": "1",
        "VOXPARSE_JOB_STALE_SECONDS": "8",
        "VOXPARSE_JOB_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "VOXPARSE_JOB_RETRY_BACKOFF_SECONDS": "0.5",
        "VOXPARSE_WEBHOOK_MAX_ATTEMPTS": str(WEBHOOK_ATTEMPTS),
        "VOXPARSE_WEBHOOK_BACKOFF_SECONDS": "0.3",
        "VOXPARSE_BACKGROUND_WORKERS": "1",
        "VOXPARSE_PRELOAD_MODELS": "false",
        **extra_env,
    }
    if mode == "celery":
        queue = f"vxp-test-{secrets.token_hex(4)}"
        env |= {
            "VOXPARSE_BROKER_URL": REDIS_BROKER,
            "VOXPARSE_CELERY_QUEUE": queue,
            "VOXPARSE_CELERY_VISIBILITY_TIMEOUT_SECONDS": "30",
        }
    with ExitStack() as stack:
        dep = Deployment(mode, database_url, env, log_dir, stack)
        try:
            dep.start_api("api")
            if mode == "celery":
                dep.start_worker("worker-1")
            yield dep
        finally:
            for worker in dep.workers:
                stop_process(worker)
            if mode == "celery":
                _drop_queue(env["VOXPARSE_CELERY_QUEUE"])


def _drop_queue(queue: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_BROKER)
    try:
        client.delete(queue)
    finally:
        client.close()


def wait_for_job(
    base_url: str,
    headers: dict[str, str],
    job_id: str,
    until: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = 180,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base_url}/v1/jobs/{job_id}", headers=headers, timeout=10)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        job = response.json()
        if on_poll is not None:
            on_poll(job)
        if until(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s; last seen: {job}")


def ended(job: dict[str, Any]) -> bool:
    return job["status"] in ("completed", "failed")


__all__ = ["Deployment", "deployment", "ended", "free_port", "wait_for_job", "webhook_receiver"]
