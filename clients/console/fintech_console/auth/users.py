"""Development accounts: a JSON file of usernames, argon2id password hashes and staff roles.

Written by ``fintech console users add``; read by the console at each sign-in (so adding an account
needs no restart). Production signs in with OIDC instead (``auth/oidc.py``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fintech_console.auth.roles import check_role

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# Verifying an unknown user against this hash costs the same time as a real check, so response
# times do not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-only-for-timing")


@dataclass(frozen=True)
class UserAccount:
    """One development account."""

    username: str
    role: str
    password_hash: str
    display_name: str


class UsersFileError(ValueError):
    """The users file is unreadable or malformed (the message names the file and the entry)."""


def check_username(username: str) -> str:
    """Return ``username`` when it is well formed (lower case letters, digits, ``.``, ``_``, ``-``)."""
    if not _USERNAME.match(username):
        raise ValueError(f"username: {username!r} must be 2-63 characters of a-z, 0-9, '.', '_', '-'")
    return username


def load_users(path: Path) -> dict[str, UserAccount]:
    """Read every account of the users file (an absent file has none).

    Raises:
        UsersFileError: the file is not valid JSON or an entry lacks a field.
    """
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UsersFileError(f"{path}: cannot read users file: {error}") from error
    accounts: dict[str, UserAccount] = {}
    for username, entry in dict(document.get("users", {})).items():
        try:
            accounts[username] = UserAccount(
                username=username,
                role=check_role(str(entry["role"])),
                password_hash=str(entry["password_hash"]),
                display_name=str(entry.get("display_name") or username),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise UsersFileError(f"{path}: user {username!r}: {error}") from error
    return accounts


def add_user(
    path: Path, username: str, password: str, role: str, *, display_name: str = "", force: bool = False
) -> UserAccount:
    """Create (or with ``force`` replace) an account, writing the file atomically with mode 0600.

    Raises:
        ValueError: a bad username, role or a password shorter than :data:`MIN_PASSWORD_LENGTH`,
            or the user exists and ``force`` is false.
    """
    check_username(username)
    check_role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")
    accounts = load_users(path)
    if username in accounts and not force:
        raise ValueError(f"username: {username!r} already exists in {path} (use --force to replace)")
    account = UserAccount(username, role, _hasher.hash(password), display_name or username)
    accounts[username] = account
    document = {
        "users": {
            a.username: {"role": a.role, "password_hash": a.password_hash, "display_name": a.display_name}
            for a in sorted(accounts.values(), key=lambda a: a.username)
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return account


def authenticate(path: Path, username: str, password: str) -> UserAccount | None:
    """The account when ``password`` matches, else None (same cost for unknown users)."""
    account = load_users(path).get(username)
    if account is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(account.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return account
