"""Every error rendered as `{"error": {"message", "code"}}`: the handlers and the OpenAPI entries."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import ApiError

logger = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    message: str
    code: int


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def error_response(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(message=message, code=status_code))
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring the error body for each status code."""
    return {code: {"model": ErrorBody, "description": HTTPStatus(code).phrase} for code in codes}


def _describe_validation_error(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header"))
        message = str(err.get("msg", "invalid value"))
        parts.append(f"{location}: {message}" if location else message)
    return "Invalid request: " + "; ".join(parts) if parts else "Invalid request."


async def _api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.message, exc.headers)


async def _validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, _describe_validation_error(exc))


async def _http_exception_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = "Not found."
    elif exc.status_code == 405:
        message = "Method not allowed."
    else:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, message, dict(exc.headers or {}))


async def _database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    # Connection refused, server restarting, SQLite busy past its timeout: worth a retry, not a 500.
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return error_response(503, "The database is unavailable right now; please retry shortly.", {"Retry-After": "5"})


async def _unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return error_response(500, ApiError.default_message)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(OperationalError, _database_error_handler)
    app.add_exception_handler(PoolTimeout, _database_error_handler)
    app.add_exception_handler(InterfaceError, _database_error_handler)
    app.add_exception_handler(Exception, _unhandled_error_handler)
