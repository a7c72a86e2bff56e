"""Health of one endpoint: outlier ejection with back-off, a circuit breaker with half-open trials, throttling.

A small state machine driven by outcomes (request results, probe results) and a clock reading;
it does no I/O, so tests drive it with a fake clock.

- Ejection (passive outlier detection): ``eject_after_failures`` consecutive failures take the
  endpoint out for ``eject_base_seconds``, doubling with each ejection in a row (capped); a success
  resets the streak.
- Circuit breaker: over a rolling window of the last ``breaker_window`` outcomes, a failure ratio of
  ``breaker_failure_ratio`` (after ``breaker_min_requests``) opens the circuit for
  ``breaker_open_seconds``; then one trial request is let through (HALF_OPEN): success closes the
  circuit, failure opens it again.
- A 429 is not a failure: the endpoint is throttled until its ``Retry-After`` passes.
"""

from __future__ import annotations

import enum
from collections import deque

from inference.settings import HealthSettings


class EndpointState(enum.Enum):
    """What the pool thinks of an endpoint (OperationsService shows these names)."""

    HEALTHY = "HEALTHY"
    EJECTED = "EJECTED"
    CIRCUIT_OPEN = "CIRCUIT_OPEN"
    HALF_OPEN = "HALF_OPEN"
    DRAINING = "DRAINING"


class _Breaker(enum.Enum):
    CLOSED = 0
    OPEN = 1


class EndpointHealth:
    """Outcome-driven health of one endpoint."""

    def __init__(self, settings: HealthSettings) -> None:
        self._settings = settings
        self.consecutive_failures = 0
        self.ejections_total = 0
        self._ejection_streak = 0
        self.ejected_until = 0.0
        self._window: deque[bool] = deque(maxlen=settings.breaker_window)
        self._breaker = _Breaker.CLOSED
        self._open_until = 0.0
        self._trial_in_flight = False
        self.throttled_until = 0.0
        self.draining = False
        self.disabled = False

    def state(self, now: float) -> EndpointState:
        """The state at monotonic time ``now``."""
        if self.draining or self.disabled:
            return EndpointState.DRAINING
        if now < self.ejected_until:
            return EndpointState.EJECTED
        if self._breaker is _Breaker.OPEN:
            return EndpointState.CIRCUIT_OPEN if now < self._open_until else EndpointState.HALF_OPEN
        return EndpointState.HEALTHY

    def routable(self, now: float) -> bool:
        """Whether a new request may go here now."""
        state = self.state(now)
        if now < self.throttled_until:
            return False
        if state is EndpointState.HEALTHY:
            return True
        return state is EndpointState.HALF_OPEN and not self._trial_in_flight

    def on_dispatch(self, now: float) -> None:
        """A request is sent; in HALF_OPEN it is the single trial."""
        if self.state(now) is EndpointState.HALF_OPEN:
            self._trial_in_flight = True

    def on_success(self, now: float) -> None:
        """A request or probe succeeded."""
        self.consecutive_failures = 0
        self._ejection_streak = 0
        self._window.append(True)
        if self._breaker is _Breaker.OPEN and now >= self._open_until:
            self._breaker = _Breaker.CLOSED
            self._window.clear()
        self._trial_in_flight = False

    def on_failure(self, now: float) -> bool:
        """A request or probe failed; returns True when this failure ejected the endpoint."""
        settings = self._settings
        self.consecutive_failures += 1
        self._window.append(False)
        was_trial = self._trial_in_flight
        self._trial_in_flight = False
        if self._breaker is _Breaker.OPEN and (was_trial or now >= self._open_until):
            self._open_until = now + settings.breaker_open_seconds
        elif self._breaker is _Breaker.CLOSED and len(self._window) >= settings.breaker_min_requests:
            failures = sum(1 for ok in self._window if not ok)
            if failures / len(self._window) >= settings.breaker_failure_ratio:
                self._breaker = _Breaker.OPEN
                self._open_until = now + settings.breaker_open_seconds
        if self.consecutive_failures >= settings.eject_after_failures and now >= self.ejected_until:
            self._ejection_streak += 1
            self.ejections_total += 1
            backoff = settings.eject_base_seconds * 2 ** (self._ejection_streak - 1)
            self.ejected_until = now + min(backoff, settings.eject_max_seconds)
            self.consecutive_failures = 0
            return True
        return False

    def on_throttled(self, now: float, retry_after: float) -> None:
        """A 429: no new requests until ``retry_after`` seconds have passed (not a failure)."""
        self.throttled_until = max(self.throttled_until, now + retry_after)
        self._trial_in_flight = False
