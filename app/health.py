"""Readiness of the pieces a request needs."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from app.api.schemas import HealthOut
from app.runtime import Runtime

logger = logging.getLogger(__name__)


def check(runtime: Runtime) -> HealthOut:
    try:
        runtime.db.ping()
    except SQLAlchemyError as exc:
        logger.warning("health: database unavailable (%s)", type(exc).__name__)
        return HealthOut(status="degraded", database="unavailable", models=runtime.model_status())
    return HealthOut(status="ok", database="ok", models=runtime.model_status())
