"""``fintech keys``: create development keys, rotate the master key, erase a subject.

Mount with ``app.add_typer(server.crypto.cli.app, name="keys")``.
"""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from server.audit.settings import AuditSettings
from server.crypto.keyfiles import create_key_file, create_signing_key
from server.crypto.lifecycle import erase_subject, rotate_master_key
from server.crypto.settings import CryptoSettings
from server.crypto.subjects import Subject
from server.runtime.config import load_settings
from server.storage.resources import open_state, resolve, section
from server.storage.settings import DatabaseSettings

app = typer.Typer(help="Encryption keys: create, rotate, erase subjects.", no_args_is_help=True)
console = Console(stderr=True)
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", envvar="FINTECH_CONFIG", help="TOML config file")]


@app.command("init")
def init_command(
    config: ConfigOption = None, force: bool = typer.Option(False, help="overwrite existing keys")
) -> None:
    """Create the development key files the configuration names (never used for production keys)."""
    for line in ensure_keys(load_settings(config), force=force):
        console.print(line)


def ensure_keys(settings: object, *, force: bool = False) -> list[str]:
    """Create every key file the configuration names that does not exist yet; one line per file."""
    data_dir = Path(getattr(settings, "data_dir", "var"))
    crypto = section(settings, "crypto", CryptoSettings)
    database = section(settings, "database", DatabaseSettings)
    audit = section(settings, "audit", AuditSettings)
    lines = []
    for path in (crypto.master_key_file, crypto.blind_index_key_file, database.page_token_key_file):
        target = resolve(data_dir, path)
        if target.exists() and not force:
            lines.append(f"kept {target}")
            continue
        create_key_file(target, force=force)
        lines.append(f"created {target}")
    if audit.checkpoint_signing_key_file is not None:
        private = resolve(data_dir, audit.checkpoint_signing_key_file)
        if private.exists() and not force:
            lines.append(f"kept {private}")
        else:
            create_signing_key(private, resolve(data_dir, audit.checkpoint_public_key_file), force=force)
            lines.append(f"created {private}")
    return lines


@app.command("rotate")
def rotate_command(
    config: ConfigOption = None,
    actor: str = typer.Option("", help="who runs it (default: OS user)"),
    batch_size: int = typer.Option(0, help="data keys per transaction (default from config)"),
) -> None:
    """Re-wrap every data key under the current master key (old keys in crypto.previous_master_key_files).

    Resumable: run it again after a crash and it continues with the keys not yet re-wrapped.
    """

    async def run() -> None:
        settings = load_settings(config)
        size = batch_size or section(settings, "crypto", CryptoSettings).rotation_batch_size
        state = await open_state(settings, checkpoints=False)
        try:
            with Progress(console=console) as progress:
                task = progress.add_task("re-wrapping data keys", total=None)

                async def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                report = await rotate_master_key(
                    state.database,
                    state.keyring,
                    state.audit,
                    actor=actor or f"operator:{getpass.getuser()}",
                    batch_size=size,
                    progress=advance,
                )
        finally:
            await state.close()
        console.print(
            f"re-wrapped {report.rewrapped} data keys in {report.batches} batches "
            f"under master key {report.master_key_id}"
        )

    asyncio.run(run())


@app.command("erase")
def erase_command(
    subject_type: str,
    subject_id: str,
    config: ConfigOption = None,
    actor: str = typer.Option("", help="who runs it (default: OS user)"),
) -> None:
    """Crypto-shred one subject: its data key is destroyed and its values become unreadable."""

    async def run() -> bool:
        state = await open_state(load_settings(config), checkpoints=False)
        try:
            return await erase_subject(
                state.database,
                state.keyring,
                state.audit,
                Subject(subject_type, subject_id),
                actor=actor or f"operator:{getpass.getuser()}",
            )
        finally:
            await state.close()

    console.print("erased" if asyncio.run(run()) else "nothing to erase (no live key)")
