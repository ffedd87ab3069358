"""An account's categories and scorecard: stored, listed, and applied to its calls, when a job
completes and again on demand on a stored result (no transcription; free, see README).

Definitions are stored as validated JSON and validated again when read, so a row written by an
older version that no longer validates is skipped (and logged), never fatal to a job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import redaction
from app.categories.default_scorecard import default_scorecard
from app.categories.evaluate import Evaluator
from app.categories.rules import CategoryIn, ScorecardIn
from app.config import Settings
from app.db import Database
from app.errors import BadRequest, Conflict, NotFound
from app.jobs import records
from app.models import Category, Job, JobCategory, JobResult, Scorecard, utcnow
from app.speech.result import CategoryPreview, TranscriptionResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredCategory:
    id: str
    definition: CategoryIn
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Definitions:
    categories: list[CategoryIn]
    scorecard: ScorecardIn


def _masked(definition: CategoryIn | ScorecardIn) -> dict[str, Any]:
    """What is stored: a card number typed into a phrase is masked like one spoken in a call."""
    body: dict[str, Any] = redaction.redact_result(
        definition.model_dump(mode="json", exclude_none=True), redact_pii=False
    )
    return body


def _stored(row: Category) -> StoredCategory:
    return StoredCategory(row.id, CategoryIn.model_validate(row.definition), row.created_at, row.updated_at)


def _row(session: Session, account_id: str, category_id: str) -> Category:
    row = session.get(Category, category_id)
    if row is None or row.account_id != account_id:
        raise NotFound("Category not found.")
    return row


def _name_taken(session: Session, account_id: str, name: str, other_than: str | None = None) -> bool:
    query = select(Category.id).where(Category.account_id == account_id, func.lower(Category.name) == name.lower())
    return any(found != other_than for found in session.scalars(query))


def _rows(session: Session, account_id: str) -> list[Category]:
    query = select(Category).where(Category.account_id == account_id)
    return list(session.scalars(query.order_by(Category.created_at, Category.id)))


def list_categories(session: Session, account_id: str) -> list[StoredCategory]:
    return [_stored(row) for row in _rows(session, account_id)]


def get_category(session: Session, account_id: str, category_id: str) -> StoredCategory:
    return _stored(_row(session, account_id, category_id))


def create_category(session: Session, settings: Settings, account_id: str, definition: CategoryIn) -> StoredCategory:
    count = session.scalar(select(func.count()).select_from(Category).where(Category.account_id == account_id)) or 0
    if count >= settings.max_categories_per_account:
        raise BadRequest(f"An account may keep at most {settings.max_categories_per_account} categories.")
    if _name_taken(session, account_id, definition.name):
        raise Conflict(f"A category named '{definition.name}' exists already.")
    body = _masked(definition)
    row = Category(account_id=account_id, name=body["name"], definition=body)
    session.add(row)
    session.flush()
    return _stored(row)


def replace_category(session: Session, account_id: str, category_id: str, definition: CategoryIn) -> StoredCategory:
    row = _row(session, account_id, category_id)
    if _name_taken(session, account_id, definition.name, other_than=category_id):
        raise Conflict(f"A category named '{definition.name}' exists already.")
    row.definition = _masked(definition)
    row.name = row.definition["name"]
    row.updated_at = utcnow()
    session.flush()
    return _stored(row)


def delete_category(session: Session, account_id: str, category_id: str) -> None:
    """The category goes; calls it matched keep it in their stored results until re-categorized."""
    session.delete(_row(session, account_id, category_id))
    session.flush()


def scorecard(session: Session, settings: Settings, account_id: str) -> tuple[ScorecardIn, bool]:
    """The account's scorecard, and whether it is the account's own (else the default)."""
    row = session.get(Scorecard, account_id)
    if row is not None:
        try:
            return ScorecardIn.model_validate(row.definition), True
        except ValidationError:
            logger.error("account %s: stored scorecard no longer valid; using the default", account_id)
    return default_scorecard(settings.metrics_silence_seconds), False


def put_scorecard(session: Session, account_id: str, definition: ScorecardIn) -> ScorecardIn:
    row = session.get(Scorecard, account_id)
    body = _masked(definition)
    if row is None:
        session.add(Scorecard(account_id=account_id, definition=body))
    else:
        row.definition = body
        row.updated_at = utcnow()
    session.flush()
    return ScorecardIn.model_validate(body)


def delete_scorecard(session: Session, account_id: str) -> None:
    session.execute(delete(Scorecard).where(Scorecard.account_id == account_id))


def definitions(session: Session, settings: Settings, account_id: str) -> Definitions:
    categories = []
    for row in _rows(session, account_id):
        try:
            categories.append(CategoryIn.model_validate(row.definition))
        except ValidationError:
            logger.error("category %s no longer valid; skipped", row.id)
    return Definitions(categories, scorecard(session, settings, account_id)[0])


def categorized(result: TranscriptionResult, found: Definitions) -> TranscriptionResult:
    """The result with its `categories` and `scorecard` (evaluated afresh)."""
    evaluator = Evaluator(result)
    return result.model_copy(
        update={"categories": evaluator.categories(found.categories), "scorecard": evaluator.scorecard(found.scorecard)}
    )


def apply(db: Database, settings: Settings, job_id: str, result: TranscriptionResult) -> TranscriptionResult:
    """For a job about to complete (its matches are stored with it). A fault here costs the call
    its categories, never its transcript: it is logged and the result goes out without them."""
    try:
        with db.transaction(read_only=True) as session:
            job = session.get(Job, job_id)
            if job is None:
                return result
            found = definitions(session, settings, job.account_id)
        return categorized(result, found)
    except Exception:
        logger.exception("job %s: categories and scorecard not evaluated", job_id)
        return result


def record_matches(session: Session, job_id: str, result: TranscriptionResult) -> None:
    session.execute(delete(JobCategory).where(JobCategory.job_id == job_id))
    records.add_categories(session, job_id, [c.name for c in result.categories])


def recategorize(db: Database, settings: Settings, account_id: str, job_id: str) -> TranscriptionResult:
    """A completed job's stored result evaluated against the account's current categories and
    scorecard, stored in its place."""
    with db.transaction() as session:
        stored = _stored_result(session, account_id, job_id, for_update=True)
        found = definitions(session, settings, account_id)
        result = categorized(TranscriptionResult.model_validate(stored.body), found)
        stored.body = result.model_dump(mode="json")
        record_matches(session, stored.job_id, result)
        return result


def preview(db: Database, account_id: str, job_id: str, definition: CategoryIn) -> CategoryPreview:
    """A category, saved or not, tried on a completed job's stored result; nothing is stored."""
    with db.transaction(read_only=True) as session:
        body = _stored_result(session, account_id, job_id, for_update=False).body
    masked = CategoryIn.model_validate(_masked(definition))
    return Evaluator(TranscriptionResult.model_validate(body)).preview(masked)


def _stored_result(session: Session, account_id: str, job_id: str, *, for_update: bool) -> JobResult:
    job = records.get_job(session, account_id, job_id)
    stored = session.get(JobResult, job.id, with_for_update=for_update)
    if stored is None or job.result_location is None:
        raise NotFound(f"Result not available: the job is {job.status.value}.")
    return stored
