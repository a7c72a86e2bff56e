"""The console's ASGI middleware: the session cookie, the CSRF check on every POST, security headers.

It is pure ASGI (no ``BaseHTTPMiddleware``) so the request body it reads for the CSRF check is
replayed intact to the route, and so the check covers every router, including ones added later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fintech_console.auth.sessions import COOKIE_NAME, Session, SessionStore

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)

RenderRejection = Callable[[Request, str], Awaitable[Response]]


def session_of(request: Request) -> Session:
    """The session the middleware attached to ``request``."""
    session: Session = request.scope["fintech_session"]
    return session


class ConsoleMiddleware:
    """Attach a session to every request, check CSRF on unsafe methods, add security headers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: SessionStore,
        cookie_secure: bool,
        max_body_bytes: int,
        reject: RenderRejection | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.cookie_secure = cookie_secure
        self.max_body_bytes = max_body_bytes
        self.reject = reject

    def cookie_header(self, session: Session) -> str:
        """The ``Set-Cookie`` value for ``session``: signed id, HttpOnly, SameSite=Strict, path /."""
        parts = [f"{COOKIE_NAME}={self.store.cookie_value(session)}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if self.cookie_secure:
            parts.append("Secure")
        return "; ".join(parts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        presented = request.cookies.get(COOKIE_NAME)
        session = self.store.from_cookie(presented)
        fresh = session is None
        # A cookie naming no live session: it expired, idled out, or the console restarted.
        scope["fintech_session_lapsed"] = bool(presented) and session is None
        if session is None:
            session = self.store.new()
        scope["fintech_session"] = session

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if not scope["path"].startswith("/static/"):
                    headers.setdefault("cache-control", "no-store")
                current: Session = scope["fintech_session"]
                # The route may have replaced the session (sign-in) or ended it (sign-out).
                if fresh or current is not session or scope.get("fintech_session_changed"):
                    headers.append("set-cookie", self.cookie_header(current))
            await send(message)

        if scope["method"] in _UNSAFE_METHODS:
            body = await self._read_body(receive)
            if body is None:
                await self._send_rejection(scope, send_with_headers, "The form is too large.", 413)
                return
            problem = await self._csrf_problem(scope, body, session)
            if problem:
                await self._send_rejection(scope, send_with_headers, problem, 403)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send_with_headers)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _csrf_problem(self, scope: Scope, body: bytes, session: Session) -> str:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin and origin != "null":
            host = headers.get("host", "")
            if urlsplit(origin).netloc != host:
                return "This form was sent from another site (Origin does not match): refused."
        token = headers.get(CSRF_HEADER, "")
        if not token:
            form_request = Request(scope, receive=_replay(body))
            form = await form_request.form(max_files=50, max_fields=1000)
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else ""
            await form.close()
        if not session.check_csrf(token):
            return (
                "The form's security token is missing or out of date (CSRF check failed). "
                "Reload the page and try again."
            )
        return ""

    async def _send_rejection(self, scope: Scope, send: Send, problem: str, status: int) -> None:
        request = Request(scope)
        response: Response
        if self.reject is not None:
            response = await self.reject(request, problem)
            response.status_code = status
        else:
            response = HTMLResponse(f"<h1>Refused</h1><p>{problem}</p>", status_code=status)
        await response(scope, _empty_receive, send)


def _replay(body: bytes, then: Receive | None = None) -> Receive:
    """A ``receive`` that hands out ``body`` once, then waits on ``then`` (the client's disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


async def _empty_receive() -> MutableMapping[str, Any]:
    return {"type": "http.disconnect"}
