from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import CurrentPrincipal, RuntimeDep
from app.api.errors import error_responses
from app.api.schemas import CategoriesOut, CategoryOut, CategoryPreviewIn, ScorecardOut
from app.categories.rules import CategoryIn, ScorecardIn
from app.jobs import categorization
from app.jobs.categorization import StoredCategory
from app.speech.result import CategoryPreview

router = APIRouter(tags=["categories"], responses=error_responses(401, 429))


def _out(stored: StoredCategory) -> CategoryOut:
    return CategoryOut(
        **stored.definition.model_dump(), id=stored.id, created_at=stored.created_at, updated_at=stored.updated_at
    )


@router.get("/v1/categories", response_model=CategoriesOut)
def list_categories(principal: CurrentPrincipal, runtime: RuntimeDep) -> CategoriesOut:
    """Your categories, oldest first."""
    with runtime.db.transaction(read_only=True) as session:
        return CategoriesOut(
            categories=[_out(c) for c in categorization.list_categories(session, principal.account_id)]
        )


@router.post("/v1/categories", response_model=CategoryOut, status_code=201, responses=error_responses(400, 409))
def create_category(body: CategoryIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> CategoryOut:
    """A category: every call completed from now on is matched against it; older calls with
    `POST /v1/jobs/{id}/categorize`."""
    with runtime.db.transaction() as session:
        return _out(categorization.create_category(session, runtime.settings, principal.account_id, body))


@router.post("/v1/categories/preview", response_model=CategoryPreview, responses=error_responses(400, 404))
def preview_category(body: CategoryPreviewIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> CategoryPreview:
    """Try a category, saved or not, on one of your completed calls: whether it matches and each
    rule's outcome with its evidence. Nothing is stored and nothing is charged."""
    return categorization.preview(runtime.db, principal.account_id, body.job_id, body.category)


@router.get("/v1/categories/{category_id}", response_model=CategoryOut, responses=error_responses(404))
def get_category(category_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> CategoryOut:
    with runtime.db.transaction(read_only=True) as session:
        return _out(categorization.get_category(session, principal.account_id, category_id))


@router.put("/v1/categories/{category_id}", response_model=CategoryOut, responses=error_responses(400, 404, 409))
def replace_category(
    category_id: str, body: CategoryIn, principal: CurrentPrincipal, runtime: RuntimeDep
) -> CategoryOut:
    """Replace a category's name and rules."""
    with runtime.db.transaction() as session:
        return _out(categorization.replace_category(session, principal.account_id, category_id, body))


@router.delete("/v1/categories/{category_id}", status_code=204, response_class=Response, responses=error_responses(404))
def delete_category(category_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    with runtime.db.transaction() as session:
        categorization.delete_category(session, principal.account_id, category_id)
    return Response(status_code=204)


@router.get("/v1/scorecard", response_model=ScorecardOut)
def get_scorecard(principal: CurrentPrincipal, runtime: RuntimeDep) -> ScorecardOut:
    """The scorecard your calls are scored with: your own, or the default one."""
    with runtime.db.transaction(read_only=True) as session:
        card, own = categorization.scorecard(session, runtime.settings, principal.account_id)
    return ScorecardOut(**card.model_dump(), default=not own)


@router.put("/v1/scorecard", response_model=ScorecardOut, responses=error_responses(400))
def put_scorecard(body: ScorecardIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> ScorecardOut:
    """Score calls completed from now on with this scorecard (older ones with
    `POST /v1/jobs/{id}/categorize`)."""
    with runtime.db.transaction() as session:
        stored = categorization.put_scorecard(session, principal.account_id, body)
    return ScorecardOut(**stored.model_dump(), default=False)


@router.delete("/v1/scorecard", response_model=ScorecardOut)
def reset_scorecard(principal: CurrentPrincipal, runtime: RuntimeDep) -> ScorecardOut:
    """Go back to the default scorecard."""
    with runtime.db.transaction() as session:
        categorization.delete_scorecard(session, principal.account_id)
        card, _ = categorization.scorecard(session, runtime.settings, principal.account_id)
    return ScorecardOut(**card.model_dump(), default=True)
