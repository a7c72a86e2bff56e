"""Password sign-in throttling: too many failures from one address slow an attacker down.

Failures are counted per (client address, username) and per client address in a sliding window;
past either limit, sign-in from that address (for that user, or at all) is refused until the window
has passed, without checking the password. Counting per address rather than per username alone keeps
an attacker from locking a colleague out from elsewhere. State is in memory (one console process).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from fintech_console.auth.sessions import Clock

WINDOW_SECONDS = 15 * 60
MAX_PER_USER = 5
MAX_PER_ADDRESS = 30
_MAX_KEYS = 50_000


class SignInThrottle:
    """Sliding-window failure counts with a clock passed in."""

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        window_seconds: float = WINDOW_SECONDS,
        max_per_user: int = MAX_PER_USER,
        max_per_address: int = MAX_PER_ADDRESS,
    ) -> None:
        """Create an empty throttle.

        Args:
            clock: Wall clock in seconds (tests pass their own).
            window_seconds: How long a failure counts.
            max_per_user: Failures allowed per (address, username) in the window.
            max_per_address: Failures allowed per address in the window.
        """
        self._clock = clock
        self._window = window_seconds
        self._max_user = max_per_user
        self._max_address = max_per_address
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self._window:
            times.popleft()
        return times

    def blocked(self, address: str, username: str) -> bool:
        """Whether a sign-in attempt from ``address`` for ``username`` is refused now."""
        now = self._clock()
        with self._lock:
            return (
                len(self._recent((address, username.lower()), now)) >= self._max_user
                or len(self._recent((address, ""), now)) >= self._max_address
            )

    def failed(self, address: str, username: str) -> None:
        """Count a failed attempt."""
        now = self._clock()
        with self._lock:
            if len(self._failures) >= _MAX_KEYS:
                # Bounded memory: forget keys whose failures have all aged out, then the oldest.
                for key in [k for k, v in self._failures.items() if not v or now - v[-1] >= self._window]:
                    del self._failures[key]
                if len(self._failures) >= _MAX_KEYS:
                    self._failures.clear()
            self._recent((address, username.lower()), now).append(now)
            self._recent((address, ""), now).append(now)

    def succeeded(self, address: str, username: str) -> None:
        """Forget the user's failures from this address after a good sign-in."""
        with self._lock:
            self._failures.pop((address, username.lower()), None)
