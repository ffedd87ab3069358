"""The database servers and Redis the suite runs against (real ones, on this machine)."""

from __future__ import annotations

import os

POSTGRES_ADMIN_DSN = os.environ.get("VOXPARSE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VOXPARSE_TEST_REDIS", "redis://127.0.0.1:6379/0")
BACKENDS = ["sqlite", "postgresql"]


def _sqlalchemy_pg_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{database}"
