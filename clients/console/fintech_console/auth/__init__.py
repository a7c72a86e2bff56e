"""Who is signed in: development accounts, OIDC sign-in, sessions, CSRF and the role guard for pages."""

from __future__ import annotations

from fintech_console.auth.guard import NotSignedIn, RoleDenied, current_operator, require_role
from fintech_console.auth.sessions import Operator, Session, SessionStore

__all__ = ["NotSignedIn", "Operator", "RoleDenied", "Session", "SessionStore", "current_operator", "require_role"]
