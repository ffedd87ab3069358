"""Readiness of the pieces a request needs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from app.db import Database
from app.speech.registry import ModelRegistry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    database_ok: bool
    models: dict[str, str]
    """Each model's state, by name."""

    @property
    def ok(self) -> bool:
        return self.database_ok


def check(db: Database, models: ModelRegistry) -> Health:
    try:
        db.ping()
    except SQLAlchemyError as exc:
        logger.warning("health: database unavailable (%s)", type(exc).__name__)
        return Health(database_ok=False, models=models.status())
    return Health(database_ok=True, models=models.status())
