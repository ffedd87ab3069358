"""Async throughput: submit a batch of short calls and measure how fast workers clear it.

    .venv/bin/python -m bench.throughput                      # Celery + Redis, 1 then 2 workers
    .venv/bin/python -m bench.throughput --mode inprocess     # the server's own worker threads
    .venv/bin/python -m bench.throughput --jobs 50 --workers 1 2 --seconds 20 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

For each worker count it starts a real deployment (uvicorn API server, plus `voxparse worker`
processes on the Redis at VOXPARSE_TEST_REDIS or 127.0.0.1:6379 in Celery mode), warms every
worker with one job, then submits the batch over HTTP and waits for it. Prints jobs per minute,
the queue latency (created -> started) and the processing time (started -> completed), from the
job rows. Each run gets a fresh database (a SQLite file unless --database-url names a PostgreSQL
server, whose database is then used as the admin connection to create one per run).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import select

from app.db import migrate
from app.models import Job, JobStatus
from app.runtime import Runtime
from tests.support.callscript import script
from tests.support.deployment import Deployment, deployment, ended, wait_for_job
from tests.support.factories import Customer, make_account, settings_for
from tests.support.synth import SynthCall, synthesize_call


def _database(base_url: str | None, folder: Path, run: int) -> str:
    if base_url is None:
        return f"sqlite:///{folder / f'throughput-{run}.db'}"
    admin = base_url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"vxp_bench_{int(time.time())}_{run}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url.rsplit('/', 1)[0]}/{name}"


def _submit(dep: Deployment, customer: Customer, call: SynthCall) -> str:
    with call.path.open("rb") as f:
        response = httpx.post(
            f"{dep.base_url}/v1/transcribe",
            headers=customer.headers,
            files={"file": (call.path.name, f)},
            data={"async": "true"},
            timeout=60,
        )
    response.raise_for_status()
    return str(response.json()["job_id"])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(mode: str, workers: int, jobs: int, call: SynthCall, database_url: str, folder: Path) -> None:
    migrate(database_url)
    extra = {"VOXPARSE_BACKGROUND_WORKERS": str(workers), "VOXPARSE_PRELOAD_MODELS": "true"}
    with deployment(mode, database_url, folder, **extra) as dep:
        for n in range(2, workers + 1 if mode == "celery" else 1):
            dep.start_worker(f"worker-{n}")
        runtime = Runtime.create(settings_for(database_url))
        customer = make_account(runtime, credit_cents=100_000)

        started = time.perf_counter()
        warmups = [_submit(dep, customer, call) for _ in range(workers)]
        for job_id in warmups:
            wait_for_job(dep.base_url, customer.headers, job_id, ended, timeout=600)
        print(f"  {workers} worker(s) warm in {time.perf_counter() - started:.0f} s")

        submitted = time.perf_counter()
        ids = [_submit(dep, customer, call) for _ in range(jobs)]
        submit_seconds = time.perf_counter() - submitted
        for job_id in ids:
            wait_for_job(dep.base_url, customer.headers, job_id, ended, timeout=3600)
        elapsed = time.perf_counter() - submitted

        with runtime.db.transaction(read_only=True) as session:
            rows = list(session.scalars(select(Job).where(Job.id.in_(ids))))
        runtime.close()
        failed = sum(1 for job in rows if job.status != JobStatus.COMPLETED)
        waits = [(j.started_at - j.created_at).total_seconds() for j in rows if j.started_at]
        work = [(j.completed_at - j.started_at).total_seconds() for j in rows if j.started_at and j.completed_at]
        print(
            f"  {mode}, {workers} worker(s): {jobs} jobs of {call.duration:.0f} s audio in {elapsed:.0f} s "
            f"(submitted in {submit_seconds:.1f} s) -> {jobs / elapsed * 60:.1f} jobs/min, "
            f"{jobs * call.duration / elapsed:.1f}x real time, {failed} failed\n"
            f"    queue latency: median {statistics.median(waits):.1f} s, p95 {_percentile(waits, 0.95):.1f} s, "
            f"max {max(waits):.1f} s; processing: median {statistics.median(work):.1f} s per job"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["celery", "inprocess"], default="celery")
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each call")
    parser.add_argument("--database-url", help="a PostgreSQL URL (a fresh database is created per run)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        call = synthesize_call(script(args.seconds), folder / "short.wav")
        print(f"batch of {args.jobs} calls of {call.duration:.1f} s each, {args.mode} mode")
        for run_no, workers in enumerate(args.workers):
            run_folder = folder / f"run-{run_no}"
            run_folder.mkdir()
            url = _database(args.database_url, folder, run_no)
            run(args.mode, workers, args.jobs, call, url, run_folder)


if __name__ == "__main__":
    main()
