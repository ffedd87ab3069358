"""Readiness of the pieces a request needs."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from app.runtime import Runtime
from app.schemas import HealthOut

logger = logging.getLogger(__name__)


def check(runtime: Runtime) -> HealthOut:
    try:
        runtime.db.ping()
        database = "ok"
    except SQLAlchemyError as exc:
        logger.warning("health: database unavailable (%s)", type(exc).__name__)
        database = "unavailable"
    return HealthOut(
        status="ok" if database == "ok" else "degraded",
        database="ok" if database == "ok" else "unavailable",
        models=runtime.model_status(),
    )
