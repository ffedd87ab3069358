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
    report = health.check(runtime)
    return JSONResponse(report.model_dump(), status_code=200 if report.status == "ok" else 503)
