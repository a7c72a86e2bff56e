"""Sign-in and sign-out pages: the development users file, or OpenID Connect.

``GET /login`` shows the form (users file) or the "Sign in with the bank's identity provider" link
(OIDC). Signing in replaces the session (fresh id and CSRF token). The OIDC flow's state lives in a
separate signed cookie with ``SameSite=Lax`` because the provider's redirect back is a cross-site
navigation that would not carry the ``SameSite=Strict`` session cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from fintech_console.auth import users
from fintech_console.auth.middleware import session_of
from fintech_console.auth.oidc import OidcClient, OidcError, PendingSignIn, safe_next_path
from fintech_console.auth.sessions import Operator, SessionStore
from fintech_console.auth.throttle import SignInThrottle
from fintech_console.web import render, settings_of

router = APIRouter()

OIDC_COOKIE = "fintech_console_oidc"
_OIDC_COOKIE_PATH = "/auth/oidc"
_OIDC_MAX_AGE = 600


def _store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def _begin_session(request: Request, operator: Operator) -> None:
    previous = session_of(request)
    request.scope["fintech_session"] = _store(request).sign_in(previous, operator)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/", expired: str = "") -> Response:
    """The sign-in page."""
    session = session_of(request)
    if session.operator is not None:
        return RedirectResponse(safe_next_path(next), status_code=303)
    notice = "Your session has ended. Sign in again." if expired else ""
    return render(request, "auth/login.html", {"title": "Sign in", "next": safe_next_path(next), "notice": notice})


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check a development account's password and sign in."""
    settings = settings_of(request)
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else ""
    if settings.sign_in != "users_file":
        return render(
            request,
            "auth/login.html",
            {"title": "Sign in", "next": "/", "error": "Password sign-in is disabled."},
            status_code=403,
        )
    name = username.strip()
    if throttle.blocked(address, name):
        return render(
            request,
            "auth/login.html",
            {
                "title": "Sign in",
                "next": safe_next_path(next),
                "error": "Too many failed attempts. Wait a few minutes.",
                "username": username,
            },
            status_code=429,
        )
    account = users.authenticate(settings.users_file, name, password) if name and password else None
    if account is None:
        throttle.failed(address, name)
        return render(
            request,
            "auth/login.html",
            {
                "title": "Sign in",
                "next": safe_next_path(next),
                "error": "Unknown username or wrong password.",
                "username": username,
            },
            status_code=401,
        )
    throttle.succeeded(address, name)
    _begin_session(request, Operator(account.username, account.role, account.display_name, "users_file"))
    return RedirectResponse(safe_next_path(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session."""
    store = _store(request)
    store.end(session_of(request))
    request.scope["fintech_session"] = store.new()
    return RedirectResponse("/login", status_code=303)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return _store(request).serializer("fintech-console-oidc")


def _oidc(request: Request) -> OidcClient | None:
    client: OidcClient | None = request.app.state.oidc
    return client


@router.get("/auth/oidc/start")
async def oidc_start(request: Request, next: str = "/") -> Response:
    """Send the browser to the identity provider (a GET link, so CSP ``form-action`` is not involved)."""
    client = _oidc(request)
    if client is None:
        return render(
            request,
            "auth/login.html",
            {"title": "Sign in", "next": "/", "error": "OIDC sign-in is not configured."},
            status_code=404,
        )
    pending = client.begin(next)
    try:
        url = await client.authorization_url(pending)
    except OidcError as error:
        return render(
            request,
            "auth/login.html",
            {"title": "Sign in", "next": pending.next_path, "error": str(error)},
            status_code=502,
        )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        OIDC_COOKIE,
        _serializer(request).dumps(pending.as_dict()),
        max_age=_OIDC_MAX_AGE,
        path=_OIDC_COOKIE_PATH,
        httponly=True,
        secure=settings_of(request).cookie_secure,
        samesite="lax",
    )
    return response


@router.get("/auth/oidc/callback")
async def oidc_callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    """Finish the sign-in, then continue to the page asked for.

    The continuation is a same-site page (not a redirect) so that the browser sends the new
    ``SameSite=Strict`` session cookie with the next request.
    """
    client = _oidc(request)
    failure = ""
    operator: Operator | None = None
    pending: PendingSignIn | None = None
    raw = request.cookies.get(OIDC_COOKIE, "")
    if client is None:
        failure = "OIDC sign-in is not configured."
    elif error:
        failure = f"The identity provider did not sign you in ({error[:64]})."
    else:
        try:
            pending = PendingSignIn.from_dict(_serializer(request).loads(raw, max_age=_OIDC_MAX_AGE))
        except (BadSignature, KeyError, TypeError):
            failure = "The sign-in took too long or did not start here. Try again."
        else:
            try:
                operator = await client.complete(pending, state=state, code=code)
            except OidcError as problem:
                failure = str(problem)
    if operator is None or pending is None:
        response: Response = render(
            request, "auth/login.html", {"title": "Sign in", "next": "/", "error": failure}, status_code=401
        )
    else:
        _begin_session(request, operator)
        response = render(request, "auth/continue.html", {"title": "Signed in", "next": pending.next_path})
    response.delete_cookie(OIDC_COOKIE, path=_OIDC_COOKIE_PATH)
    return response
