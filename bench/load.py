"""A bounded load test against a live server on loopback, and the ledger check that follows it.

    .venv/bin/python -m bench.load --clients 200 --seconds 60             # SQLite
    .venv/bin/python -m bench.load --database postgresql://postgres@127.0.0.1:5432/test --clients 200

Starts the server, gives each client an account with credit, mixes balance and job-list reads with
small transcriptions, then prints throughput, p50/p99 latency per kind, status counts, and whether
every account's balance equals its credit minus the sum of its jobs' costs, to the cent.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.config import Settings
from app.db import migrate
from app.models import Job, JobStatus, LedgerEntry
from app.runtime import Runtime
from tests.support.factories import Customer, make_account
from tests.support.live import live_server
from tests.support.synth import SUPPORT_CALL, synthesize_call

CREDIT_CENTS = 10_000


@dataclass
class LoadReport:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    transport_errors: int = 0
    seconds: float = 0.0
    ledger_mismatches: list[str] = field(default_factory=list)
    limited_key_429s: int = 0
    limited_key_200s: int = 0
    accepted_per_key: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        out = [
            f"{self.requests} requests in {self.seconds:.1f} s ({self.requests / max(self.seconds, 1e-9):.0f}/s), "
            f"statuses {dict(sorted(self.statuses.items()))}, transport errors {self.transport_errors}"
        ]
        for kind, values in sorted(self.latencies.items()):
            values = sorted(values)
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
            p50 = statistics.median(values)
            out.append(f"  {kind:<11} n={len(values):<6} p50 {p50 * 1000:8.1f} ms   p99 {p99 * 1000:8.1f} ms")
        busiest = max(self.accepted_per_key.values(), default=0)
        out.append(
            f"most requests accepted for one key: {busiest}; the hammering key: {self.limited_key_200s} accepted, "
            f"{self.limited_key_429s} refused with 429"
        )
        out.append(
            "ledger balances to the cent"
            if not self.ledger_mismatches
            else f"LEDGER MISMATCHES: {self.ledger_mismatches}"
        )
        return out


async def _client(
    base: str, customer: Customer, audio: bytes, until: float, transcribe_share: float, report: LoadReport
) -> None:
    rng = random.Random(customer.key_id)
    async with httpx.AsyncClient(base_url=base, headers=customer.headers, timeout=120) as client:
        while time.monotonic() < until:
            roll = rng.random()
            kind = "transcribe" if roll < transcribe_share else "balance" if roll < 0.6 else "jobs"
            started = time.monotonic()
            try:
                if kind == "transcribe":
                    response = await client.post("/v1/transcribe", files={"file": ("call.wav", audio)})
                else:
                    response = await client.get("/v1/balance" if kind == "balance" else "/v1/jobs")
            except httpx.HTTPError:
                report.transport_errors += 1
                continue
            report.requests += 1
            report.statuses[response.status_code] += 1
            if response.status_code != 429:
                report.accepted_per_key[customer.key_id] += 1
            report.latencies[kind].append(time.monotonic() - started)


# After the others stop, the hammering key goes on until it is refused once (a slow machine may not
# serve it its whole limit during the run), within the same minute as the run.
HAMMER_GRACE_SECONDS = 30.0


async def _hammer(base: str, customer: Customer, until: float, report: LoadReport) -> None:
    """One key asking far faster than its limit: the limit must hold."""
    async with httpx.AsyncClient(base_url=base, headers=customer.headers, timeout=30) as client:
        while time.monotonic() < until or (
            report.limited_key_429s == 0 and time.monotonic() < until + HAMMER_GRACE_SECONDS
        ):
            try:
                response = await client.get("/v1/balance")
            except httpx.HTTPError:
                report.transport_errors += 1
                continue
            if response.status_code == 429:
                report.limited_key_429s += 1
            elif response.status_code == 200:
                report.limited_key_200s += 1
            await asyncio.sleep(0.005)


def check_ledger(runtime: Runtime, customers: list[Customer]) -> list[str]:
    mismatches = []
    with runtime.db.transaction() as session:
        for customer in customers:
            balance = session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                    LedgerEntry.account_id == customer.account_id
                )
            )
            jobs = session.scalars(select(Job).where(Job.account_id == customer.account_id)).all()
            costs = sum(j.cost_cents or 0 for j in jobs if j.status == JobStatus.COMPLETED)
            if any(j.status == JobStatus.PROCESSING for j in jobs):
                mismatches.append(f"{customer.account_id}: a job is still processing")
            if balance != CREDIT_CENTS - costs:
                mismatches.append(f"{customer.account_id}: balance {balance} != {CREDIT_CENTS} - {costs}")
    return mismatches


def run_load(
    database_url: str, folder: Path, *, clients: int, seconds: float, transcribe_share: float, limit: str
) -> LoadReport:
    migrate(database_url)
    runtime = Runtime.create(Settings(database_url=database_url))
    customers = [make_account(runtime, credit_cents=CREDIT_CENTS) for _ in range(clients)]
    hammered = make_account(runtime, credit_cents=CREDIT_CENTS)
    audio = synthesize_call(SUPPORT_CALL[:2], folder / "short.wav").path.read_bytes()
    report = LoadReport()
    env = {"VOXPARSE_RATE_LIMIT": limit, "VOXPARSE_MAX_CONCURRENT_TRANSCRIPTIONS": "2"}
    with live_server(database_url, folder / "server.log", env=env) as server:

        async def main() -> None:
            until = time.monotonic() + seconds
            await asyncio.gather(
                *(_client(server.base_url, c, audio, until, transcribe_share, report) for c in customers),
                _hammer(server.base_url, hammered, until, report),
            )

        started = time.monotonic()
        asyncio.run(main())
        report.seconds = time.monotonic() - started
    report.ledger_mismatches = check_ledger(runtime, [*customers, hammered])
    runtime.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--transcribe-share", type=float, default=0.02)
    parser.add_argument("--database", default=None, help="a PostgreSQL URL; a temporary SQLite file otherwise")
    parser.add_argument("--limit", default="1000/minute", help="per-key rate limit during the run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database or f"sqlite:///{folder / 'load.db'}"
        if url.startswith("postgresql://"):
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        report = run_load(
            url,
            folder,
            clients=args.clients,
            seconds=args.seconds,
            transcribe_share=args.transcribe_share,
            limit=args.limit,
        )
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
