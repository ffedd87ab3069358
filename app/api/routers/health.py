from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app import health
from app.api.deps import RuntimeDep
from app.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def get_health(runtime: RuntimeDep) -> JSONResponse:
    """Database and model readiness. No authentication."""
    report = health.check(runtime.db, runtime.models)
    body = HealthOut(
        status="ok" if report.ok else "degraded",
        database="ok" if report.database_ok else "unavailable",
        models=report.models,
    )
    return JSONResponse(body.model_dump(), status_code=200 if report.ok else 503)
