"""Page guards: who is signed in, and whether their role may open a page.

The console hides and refuses what a role may not use; the services enforce the same rule on every
RPC (``server/config/roles.toml``), so a bypassed console still gets ``PERMISSION_DENIED``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request

from fintech_console.auth.middleware import session_of
from fintech_console.auth.roles import check_role
from fintech_console.auth.sessions import Operator


class NotSignedIn(Exception):
    """No operator is signed in (or the session expired); the app redirects to the sign-in page."""

    def __init__(self, next_path: str, expired: bool = False) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


class RoleDenied(Exception):
    """The operator's role may not use this page; the app answers 403 with a page saying so."""

    def __init__(self, operator: Operator, allowed: tuple[str, ...]) -> None:
        super().__init__(operator.role)
        self.operator = operator
        self.allowed = allowed


def _next_path(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


async def current_operator(request: Request) -> Operator:
    """Dependency: the signed-in operator.

    Raises:
        NotSignedIn: no operator, or the session that named one has expired.
    """
    session = session_of(request)
    if session.operator is None:
        raise NotSignedIn(_next_path(request), expired=bool(request.scope.get("fintech_session_lapsed")))
    request.state.operator = session.operator
    return session.operator


def require_role(*roles: str) -> Callable[[Request], Coroutine[Any, Any, Operator]]:
    """Dependency factory: the signed-in operator, when their role is one of ``roles``.

    Usage::

        @router.get("/loans")
        async def loans(request: Request, operator: Operator = Depends(require_role("loan-officer"))): ...

    Raises:
        ValueError: at import time, when a name is not a staff role.
    """
    allowed = tuple(check_role(role) for role in roles)

    async def dependency(request: Request) -> Operator:
        operator = await current_operator(request)
        if operator.role not in allowed:
            raise RoleDenied(operator, allowed)
        return operator

    return dependency
