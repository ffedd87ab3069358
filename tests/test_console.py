"""The console's page and files as the server serves them (the browser tests drive it for real)."""

from __future__ import annotations

import httpx

from app.main import create_app
from app.runtime import Runtime
from tests.support.factories import serve_asgi


async def test_root_redirects_to_the_console(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/console"


async def test_console_page_is_locked_down_and_needs_nothing_from_outside(client: httpx.AsyncClient) -> None:
    response = await client.get("/console")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    page = response.text
    assert 'src="/console/static/console.js"' in page
    assert 'href="/console/static/console.css"' in page
    assert "http://" not in page
    assert "https://" not in page
    for asset in ("console.js", "console.css"):
        served = await client.get(f"/console/static/{asset}")
        assert served.status_code == 200
        assert "https://" not in served.text
        assert "cdn" not in served.text.lower()
    assert (await client.get("/console/static/../../main.py")).status_code == 404


async def test_console_works_under_a_path_prefix(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    async with serve_asgi(app) as client:
        client._transport = httpx.ASGITransport(app=app, root_path="/voxparse")  # as uvicorn --root-path sets it
        page = (await client.get("/console")).text
        assert 'src="/voxparse/console/static/console.js"' in page
        assert 'data-api-base="/voxparse"' in page
        root = await client.get("/")
        assert root.headers["location"] == "/voxparse/console"


async def test_console_is_not_in_the_api_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not any(p == "/" or p.startswith("/console") for p in paths)
