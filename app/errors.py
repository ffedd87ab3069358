"""The error type every layer raises: each carries the HTTP status it means, so the web layer
(`app.api.errors`) renders it without looking at its message.

Domain errors subclass `ApiError` next to the service that raises them.
"""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    status_code: ClassVar[int] = 500
    default_message: ClassVar[str] = "Unexpected internal error."

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(ApiError):
    status_code = 400
    default_message = "Bad request."


class Unauthorized(ApiError):
    status_code = 401
    default_message = "Invalid API key."


class PaymentRequired(ApiError):
    status_code = 402
    default_message = "Insufficient balance for the requested operation."


class NotFound(ApiError):
    status_code = 404
    default_message = "Not found."


class Conflict(ApiError):
    status_code = 409
    default_message = "The request conflicts with the resource's current state."


class Unprocessable(ApiError):
    status_code = 422
    default_message = "The request cannot be processed as sent."


class PayloadTooLarge(ApiError):
    status_code = 413
    default_message = "Request body too large."


class TooManyRequests(ApiError):
    status_code = 429
    default_message = "Too many requests."


class BadGateway(ApiError):
    status_code = 502
    default_message = "Upstream provider error."


class ServiceUnavailable(ApiError):
    status_code = 503
    default_message = "Service unavailable."
