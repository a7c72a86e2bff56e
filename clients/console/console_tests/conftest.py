"""Fixtures of the console's in-process tests: a development PKI, a users file, an app with no services.

These tests need no platform and no browser (under a few seconds); the browser tests against the
real platform are in ``tests/e2e/console``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from server.runtime.pki import DevPki, init_dev_pki

from fintech_console.app import create_app
from fintech_console.auth.users import add_user
from fintech_console.settings import ConsoleSettings, load_console_settings

PASSWORD = "unit-test-password-1"  # noqa: S105 - a test account's password


@pytest.fixture(scope="session")
def console_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return init_dev_pki(tmp_path_factory.mktemp("console-pki"), roles=("console",))


class Clock:
    """A settable wall clock for session expiry."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One account per role used by the tests (argon2 is deliberately slow: hash once per session)."""
    users = tmp_path_factory.mktemp("console-users") / "users.json"
    for role in ("agent", "loan-officer", "auditor", "sre"):
        add_user(users, f"u-{role}", PASSWORD, role)
    return users


@pytest.fixture
def settings(console_pki: DevPki, users_file: Path, tmp_path: Path) -> ConsoleSettings:
    users = users_file
    client = console_pki.client("console")
    return load_console_settings(
        None,
        # A closed port: every call fails UNAVAILABLE, as when a service is down.
        service_address="127.0.0.1:9",
        users_file=users,
        session_secret_file=tmp_path / "session.key",
        session_lifetime_seconds=3600,
        session_idle_seconds=600,
        cookie_secure=False,
        tls={"ca_file": console_pki.ca, "cert_file": client.cert, "key_file": client.key},
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(settings: ConsoleSettings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as http:
            yield http
