"""Database URL resolution, settings validation and the shape of the migration history."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.storage.database import resolve_url
from server.storage.migrations import (
    BASE_REVISION,
    SchemaMismatchError,
    alembic_config,
    check_history,
    version_locations,
)
from server.storage.settings import DatabaseSettings


def test_default_is_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    url = resolve_url(DatabaseSettings(), tmp_path / "var")
    assert url.drivername == "sqlite+aiosqlite" and url.database == str((tmp_path / "var" / "fintech.db").resolve())


def test_password_comes_from_a_file_never_the_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="password_file"):
        resolve_url(DatabaseSettings(url="postgresql+asyncpg://u:secret@db/fintech"), tmp_path)
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    url = resolve_url(DatabaseSettings(url="postgresql+asyncpg://u@db/fintech", password_file=secret), tmp_path)
    assert url.password == "s3cret" and "s3cret" not in repr(url)
    with pytest.raises(ValueError, match="unreadable"):
        resolve_url(DatabaseSettings(url="postgresql+asyncpg://u@db/f", password_file=tmp_path / "missing"), tmp_path)


def test_unsupported_driver_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mysql"):
        resolve_url(DatabaseSettings(url="mysql+aiomysql://u@db/f"), tmp_path)


def test_settings_reject_bad_values() -> None:
    with pytest.raises(ValidationError):
        DatabaseSettings(sqlite_synchronous="SOMETIMES")
    with pytest.raises(ValidationError):
        DatabaseSettings(retention_days={"idempotency": 0})
    with pytest.raises(ValidationError):
        DatabaseSettings(unknown_key=1)  # type: ignore[call-arg]


def test_history_has_one_head_per_domain_branch_rooted_at_storage() -> None:
    heads = check_history()
    assert {"audit_0001", "crypto_0001"} <= set(heads)
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    for location in version_locations()[1:]:
        domain = location.parent.parent.name
        # Alembic gives a branch's label to every revision on it: one root on storage, the rest chained.
        branch = [r for r in script.walk_revisions() if r.branch_labels and domain in r.branch_labels]
        roots = [r for r in branch if r.down_revision == BASE_REVISION]
        ids = {r.revision for r in branch}
        assert len(roots) == 1 and all(r.down_revision in ids for r in branch if r not in roots), domain


def test_two_heads_on_one_branch_are_refused(tmp_path: Path) -> None:
    server = Path(__file__).resolve().parents[3] / "server"
    fake = tmp_path / "server"
    shutil.copytree(server / "storage" / "migrations" / "versions", fake / "storage" / "migrations" / "versions")
    versions = fake / "demo" / "migrations" / "versions"
    versions.mkdir(parents=True)
    header = "import sqlalchemy as sa\nfrom alembic import op\n"
    (versions / "demo_0001.py").write_text(
        f'{header}revision = "demo_0001"\ndown_revision = "{BASE_REVISION}"\nbranch_labels = ("demo",)\n'
        "depends_on = None\ndef upgrade(): pass\ndef downgrade(): pass\n"
    )
    for name in ("demo_0002", "demo_0002b"):  # two people added the next revision in parallel
        (versions / f"{name}.py").write_text(
            f'{header}revision = "{name}"\ndown_revision = "demo_0001"\nbranch_labels = None\n'
            "depends_on = None\ndef upgrade(): pass\ndef downgrade(): pass\n"
        )
    config = alembic_config(fake)
    with pytest.raises(SchemaMismatchError, match="two heads"):
        check_history(config)
