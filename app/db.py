"""Engine and session factory, and the transaction rules that keep the ledger consistent.

SQLite has no row locks, so a transaction that may write starts with BEGIN IMMEDIATE: writers are
serialised at the start of a transaction instead of failing when a read lock would have to be
upgraded. Read-only transactions (authentication, GET endpoints) begin deferred and, in WAL mode,
never wait for a writer. On PostgreSQL the ledger locks the account row (SELECT ... FOR UPDATE).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "voxparse_read_only"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_timeout=30,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
    )


class Database:
    """The process's engine and session factory."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Same pool; connections are taken only when the first query runs, never while a request
        # is still waiting for another dependency (that way lies pool exhaustion under load).
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
        )

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error.

        `read_only` transactions must not write: on SQLite they do not take the write lock.
        """
        factory = self._read_sessions if read_only else self.sessions
        with factory() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _alembic_config(database_url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Bring the database schema to `revision` with the Alembic migrations."""
    from alembic import command

    command.upgrade(_alembic_config(database_url), revision)


def schema_is_current(database_url: str) -> bool:
    """Whether the database is at the newest migration (processes that do not migrate check it)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(_alembic_config(database_url)).get_heads())
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads()) == heads
    finally:
        engine.dispose()
