"""Assertions many tests make about responses."""

from __future__ import annotations

import httpx


def assert_error(response: httpx.Response, code: int) -> str:
    assert response.status_code == code, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "code"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return str(body["error"]["message"])
