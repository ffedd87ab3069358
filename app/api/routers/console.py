"""The web console: one page at /console that talks to the public API from the browser with the
user's key (kept in session storage, sent as a header, never in a URL). No build step, no CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
STATIC_PATH = "/console/static"

templates = Jinja2Templates(directory=CONSOLE_DIR / "templates")
static_files = StaticFiles(directory=CONSOLE_DIR / "static")

# The page handles an API key: only its own script and styles run; audio plays from blob: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src blob:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def root(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{request.scope.get('root_path', '')}/console", status_code=307)


@router.get("/console", response_class=HTMLResponse)
def console(request: Request) -> HTMLResponse:
    root_path = request.scope.get("root_path", "")
    response = templates.TemplateResponse(
        request, "console.html", {"api_base": root_path, "static_base": f"{root_path}{STATIC_PATH}"}
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
