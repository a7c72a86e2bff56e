"""The console's web application: ``create_app(settings)`` wires sessions, security, sign-in and pages.

Everything is wired here once: the session store and its signing key, the middleware (session cookie,
CSRF check on every POST, security headers), the template engine, the channels to the services
(opened at start-up, closed at shutdown), the sign-in routes, the page routers from
``pages/__init__.py`` and the error pages (sign-in redirect, role refused, service problem).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fintech.client import FintechError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fintech_console.auth import routes as auth_routes
from fintech_console.auth.guard import NotSignedIn, RoleDenied
from fintech_console.auth.middleware import SECURITY_HEADERS, ConsoleMiddleware
from fintech_console.auth.oidc import OidcClient
from fintech_console.auth.sessions import Clock, SessionStore, load_or_create_secret
from fintech_console.auth.throttle import SignInThrottle
from fintech_console.pages import load_pages
from fintech_console.services import Platform, describe_problem
from fintech_console.settings import ConsoleSettings
from fintech_console.web import format_duration, format_money, format_timestamp, render

PACKAGE = Path(__file__).resolve().parent
log = logging.getLogger("fintech_console")


def create_app(settings: ConsoleSettings, *, clock: Clock = time.time) -> FastAPI:
    """Build the console.

    Args:
        settings: The console's configuration.
        clock: Wall clock for session expiry (tests pass their own).

    Returns:
        The ASGI application (serve it with uvicorn; ``fintech console serve`` does).
    """
    platform = Platform(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await platform.open()
        try:
            yield
        finally:
            await platform.close()
            if app.state.oidc is not None:
                await app.state.oidc.close()

    app = FastAPI(
        title="Fintech operations console", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    store = SessionStore(
        load_or_create_secret(settings.session_secret_file),
        lifetime_seconds=settings.session_lifetime_seconds,
        idle_seconds=settings.session_idle_seconds,
        clock=clock,
    )
    templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
    templates.env.filters["timestamp"] = format_timestamp
    templates.env.filters["money"] = format_money
    templates.env.filters["duration"] = format_duration
    pages = load_pages()

    app.state.settings = settings
    app.state.sessions = store
    app.state.templates = templates
    app.state.platform = platform
    app.state.nav = pages.nav
    app.state.clock = clock
    app.state.sign_in_throttle = SignInThrottle(clock=clock)
    app.state.oidc = OidcClient(settings.oidc, clock=clock) if settings.sign_in == "oidc" and settings.oidc else None

    async def reject(request: Request, problem: str) -> Response:
        return render(request, "refused.html", {"title": "Refused", "reason": problem}, status_code=403)

    app.add_middleware(
        ConsoleMiddleware,
        store=store,
        cookie_secure=settings.cookie_secure,
        max_body_bytes=settings.max_form_bytes,
        reject=reject,
    )
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")
    app.include_router(auth_routes.router)
    for router in pages.routers:
        app.include_router(router)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, error: NotSignedIn) -> Response:
        query = {"next": error.next_path}
        if error.expired:
            query["expired"] = "1"
        if request.headers.get("accept", "").startswith("text/event-stream"):
            return Response("signed out", status_code=401)
        return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)

    @app.exception_handler(RoleDenied)
    async def role_denied(request: Request, error: RoleDenied) -> HTMLResponse:
        return render(
            request,
            "refused.html",
            {
                "title": "Not for your role",
                "reason": f"This page is for: {', '.join(error.allowed)}. You are signed in as {error.operator.role}.",
            },
            status_code=403,
        )

    @app.exception_handler(FintechError)
    async def service_failed(request: Request, error: FintechError) -> HTMLResponse:
        # A page that did not catch a failed call still names the service, never a stack trace.
        problem = describe_problem(error)
        log.warning("call failed: %s %s request_id=%s", error.method, error.code.name, error.request_id)
        return render(
            request, "problem.html", {"problem": problem, "title": problem.headline}, status_code=problem.status_code
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> HTMLResponse:
        title = "Page not found" if error.status_code == 404 else f"Error {error.status_code}"
        return render(
            request, "refused.html", {"title": title, "reason": str(error.detail)}, status_code=error.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, error: RequestValidationError) -> HTMLResponse:
        fields = sorted({".".join(str(part) for part in item.get("loc", ())[1:]) for item in error.errors()})
        return render(
            request,
            "refused.html",
            {"title": "Incomplete form", "reason": f"Missing or invalid: {', '.join(fields) or 'the request'}."},
            status_code=400,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> HTMLResponse:
        # Runs outside the console middleware (Starlette's outermost error handler): add the headers here.
        log.exception("unexpected error on %s", request.url.path)
        response = HTMLResponse(
            "<!doctype html><title>Console error</title><h1>Something went wrong</h1>"
            "<p>The console failed unexpectedly; the error is in its log.</p>",
            status_code=500,
        )
        for name, value in SECURITY_HEADERS:
            response.headers[name] = value
        return response

    return app
