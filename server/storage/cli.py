"""``fintech db``: migrate, check, back up and restore the database, and purge expired records.

Mount with ``app.add_typer(server.storage.cli.app, name="db")``.
"""

from __future__ import annotations

import asyncio
import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from server.runtime.config import load_settings
from server.storage import backup as backup_module
from server.storage.database import create_database
from server.storage.migrations import SchemaMismatchError, check_schema, upgrade
from server.storage.resources import open_state, section
from server.storage.settings import DatabaseSettings

app = typer.Typer(help="Database: migrations, backup and restore, retention.", no_args_is_help=True)
console = Console(stderr=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", envvar="FINTECH_CONFIG", help="TOML config file")]


def _settings(config: Path | None) -> Any:
    return load_settings(config)


def _database(config: Path | None) -> Any:
    settings = _settings(config)
    return create_database(section(settings, "database", DatabaseSettings), Path(settings.data_dir))


@app.command("upgrade")
def upgrade_command(config: ConfigOption = None, target: str = typer.Option("heads", help="Alembic target")) -> None:
    """Migrate the schema (once per deployment, under a database-wide lock)."""

    async def run() -> None:
        db = _database(config)
        try:
            state = await upgrade(
                db,
                target=target,
                lock_timeout_seconds=section(
                    _settings(config), "database", DatabaseSettings
                ).migration_lock_timeout_seconds,
            )
        finally:
            await db.close()
        console.print(f"schema at {sorted(state.current)}")

    asyncio.run(run())


@app.command("check")
def check_command(config: ConfigOption = None) -> None:
    """Exit non-zero when the schema does not match this code."""

    async def run() -> None:
        db = _database(config)
        try:
            await check_schema(db)
        finally:
            await db.close()

    try:
        asyncio.run(run())
    except SchemaMismatchError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print("schema matches")


@app.command("backup")
def backup_command(file: Path, config: ConfigOption = None) -> None:
    """Write a consistent backup (with the wrapped data keys; the master key is escrowed separately)."""

    async def run() -> dict[str, int]:
        db = _database(config)
        try:
            return await backup_module.backup(db, file)
        finally:
            await db.close()

    counts = asyncio.run(run())
    console.print(f"backed up {sum(counts.values())} rows from {len(counts)} tables to {file}")


@app.command("restore")
def restore_command(
    file: Path,
    config: ConfigOption = None,
    yes: bool = typer.Option(False, "--yes", help="confirm replacing the database content"),
) -> None:
    """Replace the database content with a backup (the database must be migrated to the backup's schema)."""
    if not yes:
        console.print("[red]restore replaces every table's content; pass --yes[/red]")
        raise typer.Exit(2)

    async def run() -> dict[str, int]:
        db = _database(config)
        try:
            return await backup_module.restore(db, file)
        finally:
            await db.close()

    try:
        counts = asyncio.run(run())
    except (backup_module.BackupFormatError, SchemaMismatchError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"restored {sum(counts.values())} rows; run `fintech audit verify` to check the chain")


@app.command("purge")
def purge_command(
    config: ConfigOption = None, actor: str = typer.Option("", help="who runs it (default: OS user)")
) -> None:
    """Delete records past their retention period (audited)."""
    from server.crypto.lifecycle import IDEMPOTENCY_TARGET, purge_expired

    async def run() -> dict[str, int]:
        settings = _settings(config)
        state = await open_state(settings, checkpoints=False)
        try:
            return await purge_expired(
                state.database,
                state.audit,
                targets=[IDEMPOTENCY_TARGET],
                retention_days=section(settings, "database", DatabaseSettings).retention_days,
                now=datetime.now(UTC),
                actor=actor or f"operator:{getpass.getuser()}",
            )
        finally:
            await state.close()

    for name, count in asyncio.run(run()).items():
        console.print(f"{name}: {count} purged")
