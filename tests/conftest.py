"""Shared fixtures: a migrated database per backend (SQLite and PostgreSQL), apps over ASGI, factories."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from app.db import migrate
from app.main import create_app
from app.runtime import Runtime
from app.speech.registry import ModelRegistry
from tests.support.factories import Customer, make_account, serve_asgi, settings_for
from tests.support.fake_stripe import FakeStripe, fake_stripe
from tests.support.services import BACKENDS, POSTGRES_ADMIN_DSN, _sqlalchemy_pg_url
from tests.support.stripe_events import with_stripe
from tests.support.synth import SUPPORT_CALL, SynthCall, synthesize_call


@pytest.fixture(scope="session")
def make_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """Creates an empty database of a backend and returns its URL; PostgreSQL ones are dropped at the end."""
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / f"{secrets.token_hex(4)}.db"
            return f"sqlite:///{path}"
        name = f"vxp_test_{secrets.token_hex(6)}"
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _sqlalchemy_pg_url(POSTGRES_ADMIN_DSN, name)

    yield make
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, make_database: Callable[[str], str]) -> str:
    """A database of each backend, migrated once for the session."""
    url = make_database(request.param)
    migrate(url)
    return url


@pytest.fixture(scope="session")
def models() -> ModelRegistry:
    """The speech models, shared by every runtime of the session and loaded on first use."""
    return ModelRegistry(settings_for("sqlite://"))


@pytest.fixture(scope="session")
def runtime(database_url: str, models: ModelRegistry) -> Iterator[Runtime]:
    rt = Runtime.create(settings_for(database_url), models=models)
    yield rt
    rt.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_asgi(create_app(runtime=runtime)) as c:
        yield c


@pytest.fixture
def account(runtime: Runtime) -> Customer:
    return make_account(runtime, credit_cents=10_000)


@pytest.fixture(scope="session")
def call_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("calls")


@pytest.fixture(scope="session")
def support_calls(call_dir: Path) -> dict[str, SynthCall]:
    """The support call in every accepted format, with 20 s of a tone (hold music) after turn 1."""
    formats = ["wav", "mp3", "ulaw", "stereo", "flac", "ogg", "m4a", "webm"]
    return {
        fmt: synthesize_call(SUPPORT_CALL, call_dir / f"support.{fmt}", fmt=fmt, gaps={1: ("tone", 20.0)})
        for fmt in formats
    }


@pytest.fixture
def stripe_api() -> Iterator[FakeStripe]:
    with fake_stripe() as server:
        yield server


@pytest.fixture
async def stripe_client(runtime: Runtime, stripe_api: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    """The app, configured for the fake Stripe server."""
    async with serve_asgi(create_app(runtime=with_stripe(runtime, stripe_api.api_base))) as c:
        yield c
