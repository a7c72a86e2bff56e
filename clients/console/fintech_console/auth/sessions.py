"""Sessions: server-side state keyed by a random id carried in a signed, HttpOnly cookie.

Every visitor gets a session (anonymous until sign-in) so that the sign-in form has a CSRF token too.
Signing in replaces the session with a fresh id (no fixation). A session ends at its absolute
lifetime, after ``idle`` seconds unused, or at sign-out; the store is bounded and forgets the
oldest anonymous sessions first. Sessions live in the console's memory: a restart signs everyone
out, and running several console replicas needs sticky sessions (docs/console.md, limitations).
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

COOKIE_NAME = "fintech_console_session"
_SALT = "fintech-console-session"
# Anonymous sessions (a sign-in page opened) are cheap to create: keep them short and bounded.
ANONYMOUS_LIFETIME_SECONDS = 15 * 60
MAX_SESSIONS = 10_000

Clock = Callable[[], float]


@dataclass(frozen=True)
class Operator:
    """The signed-in member of staff, as forwarded to the services.

    Attributes:
        staff_id: Forwarded in ``x-fintech-staff-id``; audit records name ``staff:<staff_id>``.
        role: One of the staff roles, forwarded in ``x-fintech-staff-role``.
        display_name: Shown in the header.
        signed_in_with: ``users_file`` or ``oidc``.
    """

    staff_id: str
    role: str
    display_name: str
    signed_in_with: str


@dataclass
class Session:
    """One browser's session."""

    id: str
    csrf_token: str
    created_at: float
    expires_at: float
    last_seen: float
    operator: Operator | None = None
    # The OIDC flow in progress: state, nonce, PKCE verifier and where to return.
    pending_oidc: dict[str, str] = field(default_factory=dict)
    # One message shown on the next page (for example "Escalation resolved").
    flash: str = ""

    def check_csrf(self, token: str) -> bool:
        """Whether ``token`` is this session's CSRF token (constant-time comparison)."""
        return bool(token) and hmac.compare_digest(token, self.csrf_token)


class SessionStore:
    """Sessions in memory, bounded, with a clock passed in."""

    def __init__(
        self,
        secret: bytes,
        *,
        lifetime_seconds: float,
        idle_seconds: float,
        clock: Clock = time.time,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        """Create an empty store.

        Args:
            secret: Key signing the cookie value (at least 32 bytes).
            lifetime_seconds: Absolute lifetime of a signed-in session.
            idle_seconds: A session unused this long ends.
            clock: Wall clock in seconds (tests pass their own).
            max_sessions: Bound on the sessions held.
        """
        if len(secret) < 32:
            raise ValueError("session secret must be at least 32 bytes")
        self._secret = secret
        self._signer = Signer(secret, salt=_SALT)
        self._lifetime = lifetime_seconds
        self._idle = idle_seconds
        self._clock = clock
        self._max = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def serializer(self, salt: str) -> URLSafeTimedSerializer:
        """A timed serializer under the same key, for other short-lived signed cookies."""
        return URLSafeTimedSerializer(self._secret, salt=salt)

    def cookie_value(self, session: Session) -> str:
        """The signed value of the session cookie."""
        return self._signer.sign(session.id).decode("ascii")

    def _live(self, session: Session, now: float) -> bool:
        return now < session.expires_at and now - session.last_seen < self._idle

    def from_cookie(self, value: str | None) -> Session | None:
        """The live session a cookie names, or None (bad signature, unknown, expired or idle)."""
        if not value:
            return None
        try:
            session_id = self._signer.unsign(value).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if not self._live(session, now):
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def new(self, operator: Operator | None = None) -> Session:
        """Start a session: anonymous (short-lived) or signed in as ``operator``."""
        now = self._clock()
        lifetime = self._lifetime if operator is not None else min(self._lifetime, ANONYMOUS_LIFETIME_SECONDS)
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
            last_seen=now,
            operator=operator,
        )
        with self._lock:
            if len(self._sessions) >= self._max:
                self._evict(now)
            self._sessions[session.id] = session
        return session

    def sign_in(self, previous: Session | None, operator: Operator) -> Session:
        """End ``previous`` and return a fresh signed-in session (a new id and CSRF token)."""
        if previous is not None:
            self.end(previous)
        return self.new(operator)

    def end(self, session: Session) -> None:
        """Forget ``session`` (sign-out)."""
        with self._lock:
            self._sessions.pop(session.id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _evict(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if not self._live(s, now)]:
            del self._sessions[key]
        if len(self._sessions) < self._max:
            return
        # Still full: drop the oldest anonymous sessions, then the oldest of all.
        ordered = sorted(self._sessions.values(), key=lambda s: (s.operator is not None, s.last_seen))
        for session in ordered[: max(1, len(ordered) // 10)]:
            del self._sessions[session.id]


def load_or_create_secret(path: Path) -> bytes:
    """The session signing key from ``path``, created (64 random bytes, mode 0600) when missing."""
    if path.exists():
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise ValueError(f"session_secret_file: {path} holds fewer than 32 bytes")
        return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
    return secret
