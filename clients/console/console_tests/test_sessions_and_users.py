"""Sessions (expiry, rotation, signatures, bounds) and the development users file and its CLI."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fintech_console.auth.sessions import ANONYMOUS_LIFETIME_SECONDS, Operator, SessionStore, load_or_create_secret
from fintech_console.auth.throttle import SignInThrottle
from fintech_console.auth.users import add_user, authenticate, load_users
from fintech_console.cli import app as cli

from .conftest import Clock

SECRET = b"k" * 32
ALICE = Operator("alice", "agent", "Alice", "users_file")


def store(clock: Clock, **kwargs: float) -> SessionStore:
    return SessionStore(
        SECRET, lifetime_seconds=kwargs.get("lifetime", 100), idle_seconds=kwargs.get("idle", 50), clock=clock
    )


def test_a_session_ends_at_its_lifetime_even_when_used(clock: Clock) -> None:
    sessions = store(clock)
    session = sessions.sign_in(None, ALICE)
    cookie = sessions.cookie_value(session)
    for _ in range(3):
        clock.now += 30
        assert sessions.from_cookie(cookie) is session
    clock.now += 11  # 101 s after sign-in
    assert sessions.from_cookie(cookie) is None
    assert len(sessions) == 0


def test_an_idle_session_ends(clock: Clock) -> None:
    sessions = store(clock)
    cookie = sessions.cookie_value(sessions.sign_in(None, ALICE))
    clock.now += 50
    assert sessions.from_cookie(cookie) is None


def test_sign_in_rotates_the_id_and_csrf_token_and_ends_the_anonymous_session(clock: Clock) -> None:
    sessions = store(clock)
    anonymous = sessions.new()
    assert anonymous.expires_at - anonymous.created_at == min(100, ANONYMOUS_LIFETIME_SECONDS)
    signed_in = sessions.sign_in(anonymous, ALICE)
    assert signed_in.id != anonymous.id and signed_in.csrf_token != anonymous.csrf_token
    assert sessions.from_cookie(sessions.cookie_value(anonymous)) is None


def test_a_forged_or_foreign_cookie_names_no_session(clock: Clock) -> None:
    sessions = store(clock)
    session = sessions.sign_in(None, ALICE)
    assert sessions.from_cookie(session.id) is None  # unsigned id
    other = SessionStore(b"o" * 32, lifetime_seconds=100, idle_seconds=50, clock=clock)
    assert other.from_cookie(sessions.cookie_value(session)) is None
    assert sessions.from_cookie("") is None and sessions.from_cookie(None) is None


def test_the_csrf_check_is_exact(clock: Clock) -> None:
    session = store(clock).new()
    assert session.check_csrf(session.csrf_token)
    assert not session.check_csrf("") and not session.check_csrf(session.csrf_token[:-1])


def test_the_store_stays_bounded_dropping_anonymous_sessions_first(clock: Clock) -> None:
    sessions = SessionStore(SECRET, lifetime_seconds=100, idle_seconds=50, clock=clock, max_sessions=20)
    kept = sessions.sign_in(None, ALICE)
    for _ in range(100):
        sessions.new()
    assert len(sessions) <= 20
    assert sessions.from_cookie(sessions.cookie_value(kept)) is kept


def test_short_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SessionStore(b"short", lifetime_seconds=1, idle_seconds=1)
    key = tmp_path / "key"
    secret = load_or_create_secret(key)
    assert load_or_create_secret(key) == secret and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_users_file_holds_argon2_hashes_and_authenticates(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "bob", "a-long-password", "loan-officer", display_name="Bob B")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())["users"]["bob"]
    assert stored["password_hash"].startswith("$argon2id$") and "a-long-password" not in path.read_text()
    account = authenticate(path, "bob", "a-long-password")
    assert account is not None and account.role == "loan-officer" and account.display_name == "Bob B"
    assert authenticate(path, "bob", "wrong-password!") is None
    assert authenticate(path, "nobody", "a-long-password") is None


@pytest.mark.parametrize(
    ("username", "password", "role", "field"),
    [
        ("Bob!", "a-long-password", "agent", "username"),
        ("bob", "short", "agent", "password"),
        ("bob", "a-long-password", "admin", "role"),
    ],
)
def test_bad_accounts_are_refused_naming_the_field(
    tmp_path: Path, username: str, password: str, role: str, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        add_user(tmp_path / "users.json", username, password, role)


def test_cli_adds_a_user_from_a_password_file_and_never_lists_hashes(tmp_path: Path) -> None:
    users, secret = tmp_path / "users.json", tmp_path / "pw.txt"
    secret.write_text("cli-password-123\n")
    runner = CliRunner()
    added = runner.invoke(
        cli, ["users", "add", "carol", "--role", "auditor", "--password-file", str(secret), "--users-file", str(users)]
    )
    assert added.exit_code == 0, added.output
    assert authenticate(users, "carol", "cli-password-123") is not None
    again = runner.invoke(
        cli, ["users", "add", "carol", "--role", "auditor", "--password-file", str(secret), "--users-file", str(users)]
    )
    assert again.exit_code == 2 and "already exists" in again.output
    listed = runner.invoke(cli, ["users", "list", "--users-file", str(users)])
    assert "carol\tauditor" in listed.output and "argon2" not in listed.output
    assert load_users(users)["carol"].role == "auditor"


def test_sign_in_throttle_counts_per_address_and_user_in_a_window(clock: Clock) -> None:
    throttle = SignInThrottle(clock=clock, window_seconds=60, max_per_user=3, max_per_address=5)
    for _ in range(3):
        assert not throttle.blocked("10.0.0.1", "alice")
        throttle.failed("10.0.0.1", "Alice")
    assert throttle.blocked("10.0.0.1", "alice")
    assert not throttle.blocked("10.0.0.2", "alice")  # a colleague elsewhere is not locked out
    throttle.failed("10.0.0.1", "bob")
    throttle.failed("10.0.0.1", "carol")
    assert throttle.blocked("10.0.0.1", "dave")  # five failures from one address: every user refused there
    clock.now += 61
    assert not throttle.blocked("10.0.0.1", "alice") and not throttle.blocked("10.0.0.1", "dave")
    throttle.failed("10.0.0.3", "erin")
    throttle.succeeded("10.0.0.3", "erin")
    assert not throttle.blocked("10.0.0.3", "erin")
