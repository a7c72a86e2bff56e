"""``fintech audit``: list, show, verify (database or export file, with a progress bar), export, checkpoint.

Mount with ``app.add_typer(server.audit.cli.app, name="audit")``.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from server.audit.chain import VerifyReport
from server.audit.checkpoints import read_checkpoints
from server.audit.export import export_range, verify_export_file
from server.audit.log import AuditFilter, VerifyProgress
from server.audit.records import AuditEntry, AuditKind
from server.crypto.keyfiles import read_public_key
from server.runtime.config import load_settings
from server.storage.resources import PlatformState, open_state

app = typer.Typer(help="The audit trail: list, show, verify, export.", no_args_is_help=True)
console = Console(stderr=True)
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", envvar="FINTECH_CONFIG", help="TOML config file")]


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise typer.BadParameter(f"give a time zone (for example {value}+00:00)")
    return parsed


async def _state(config: Path | None) -> PlatformState:
    return await open_state(load_settings(config), checkpoints=False)


@app.command("list")
def list_command(
    config: ConfigOption = None,
    start: str = typer.Option("", "--from", help="inclusive start time (ISO 8601 with zone)"),
    end: str = typer.Option("", "--to", help="exclusive end time"),
    subject_type: str = typer.Option(""),
    subject_id: str = typer.Option(""),
    rpc: str = typer.Option(""),
    caller: str = typer.Option(""),
    decision: str = typer.Option(""),
    kind: str = typer.Option(""),
    limit: int = typer.Option(50, min=1, max=10_000),
    after: int = typer.Option(0, help="only records after this seq"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line instead of a table"),
) -> None:
    """List records (metadata only) matching the filters, oldest first."""
    start_time, end_time = _time(start), _time(end)

    async def run() -> list[Any]:
        state = await _state(config)
        try:
            query = AuditFilter(
                start_us=int(start_time.timestamp() * 1e6) if start_time else None,
                end_us=int(end_time.timestamp() * 1e6) if end_time else None,
                subject_type=subject_type,
                subject_id=subject_id,
                rpc=rpc,
                caller=caller,
                decision=decision,
                kind=kind,
            )
            async with state.database.read() as conn:
                return await state.audit.list_records(conn, query, limit=limit, after_seq=after)
        finally:
            await state.close()

    records = asyncio.run(run())
    if as_json:
        for record in records:
            document = {k: v for k, v in record.__dict__.items() if k not in {"payload", "opened"}}
            print(json.dumps({**document, "time": record.time.isoformat()}, sort_keys=True))
        return
    table = Table("seq", "time", "kind", "rpc", "subject", "decision", "caller", "record id")
    for record in records:
        table.add_row(
            str(record.seq),
            record.time.isoformat(timespec="seconds"),
            record.kind,
            record.rpc,
            f"{record.subject_type}/{record.subject_id}" if record.subject_type else "",
            record.decision,
            record.caller,
            record.record_id,
        )
    Console().print(table)


@app.command("show")
def show_command(
    record_id: str,
    config: ConfigOption = None,
    payload: bool = typer.Option(False, help="decrypt the inputs and raw LLM output (audited)"),
    actor: str = typer.Option("", help="who reads it (default: OS user)"),
) -> None:
    """Show one record as JSON; ``--payload`` decrypts its sensitive part and records that read."""

    async def run() -> dict[str, Any]:
        state = await _state(config)
        try:
            async with state.database.transaction() as conn:
                record = await state.audit.get(conn, record_id, open_payload=payload)
                if payload:
                    await state.audit.append(
                        conn,
                        AuditEntry(
                            kind=AuditKind.DATA_ACCESS,
                            rpc="cli.audit.show",
                            decision="READ_PAYLOAD",
                            caller=actor or f"operator:{getpass.getuser()}",
                            details={"record_id": record_id},
                        ),
                    )
            document = {k: v for k, v in record.__dict__.items() if k not in {"payload", "opened"}}
            document["time"] = record.time.isoformat()
            document["payload_bytes"] = len(record.payload)
            if payload:
                document["payload"] = record.opened
            return document
        finally:
            await state.close()

    print(json.dumps(asyncio.run(run()), indent=2, sort_keys=True, default=str))


def _print_report(report: VerifyReport) -> None:
    if report.ok:
        console.print(
            f"[green]chain verified[/green]: {report.checked} records, "
            f"{report.checkpoints_checked} signed checkpoints matched, head {report.last_seq}"
        )
    else:
        console.print(
            f"[red]chain broken[/red] at record {report.first_bad_seq} "
            f"{report.first_bad_record_id or ''} ({report.problem.value}): {report.detail}"
        )


@app.command("verify")
def verify_command(
    config: ConfigOption = None,
    start_seq: int = typer.Option(1, "--from-seq", min=1),
    end_seq: int = typer.Option(0, "--to-seq", min=0),
    file: Annotated[Path | None, typer.Option("--file", help="verify an export file offline, not the database")] = None,
    checkpoints: Annotated[Path | None, typer.Option(help="checkpoint file (default from config)")] = None,
    public_key: Annotated[Path | None, typer.Option(help="checkpoint public key (default from config)")] = None,
) -> None:
    """Verify the chain in one pass (and against the signed checkpoints); exit 1 naming the first bad record."""
    if file is not None and checkpoints is not None and public_key is not None:
        # Fully offline: no configuration, no database.
        report = verify_export_file(file, checkpoints=read_checkpoints(checkpoints, read_public_key(public_key)))
        _print_report(report)
        raise typer.Exit(0 if report.ok else 1)

    async def run() -> VerifyReport:
        state = await _state(config)
        try:
            cps = (
                read_checkpoints(checkpoints, read_public_key(public_key or state.checkpoint_public_key_file))
                if checkpoints
                else state.checkpoints()
            )
            if file is not None:
                return verify_export_file(file, checkpoints=cps)
            report: VerifyReport | None = None
            columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=console) as progress:
                task = progress.add_task("verify", total=None)
                async for event in state.audit.verify(
                    state.database,
                    start_seq=start_seq,
                    end_seq=end_seq,
                    checkpoints=cps,
                    batch_size=state.audit_settings.verify_batch_size,
                ):
                    if isinstance(event, VerifyProgress):
                        progress.update(task, completed=event.checked, total=event.total)
                    else:
                        report = event
            assert report is not None
            return report
        finally:
            await state.close()

    report = asyncio.run(run())
    _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


@app.command("export")
def export_command(
    file: Path,
    config: ConfigOption = None,
    start: str = typer.Option("", "--from", help="inclusive start time (ISO 8601 with zone)"),
    end: str = typer.Option("", "--to", help="exclusive end time"),
) -> None:
    """Export the records of a time range as JSON Lines with their chain hashes (``-`` for stdout)."""
    start_time, end_time = _time(start), _time(end)

    async def run() -> int:
        state = await _state(config)
        try:
            async with state.database.read() as conn:
                first, last = await state.audit.seq_range_for_time(conn, start_time, end_time)
            if str(file) == "-":
                return await export_range(state.audit, state.database, sys.stdout, start_seq=first, end_seq=last)
            with file.open("w", encoding="utf-8") as out:
                return await export_range(state.audit, state.database, out, start_seq=first, end_seq=last)
        finally:
            await state.close()

    count = asyncio.run(run())
    console.print(f"exported {count} records; verify with `fintech audit verify --file {file}`")


@app.command("checkpoint")
def checkpoint_command(config: ConfigOption = None) -> None:
    """Sign and append a checkpoint of the current chain head now."""

    async def run() -> str:
        state = await open_state(load_settings(config), checkpoints=True)
        try:
            if state.checkpointer is None:
                raise typer.BadParameter("audit.checkpoint_signing_key_file is not configured")
            checkpoint = await state.checkpointer.checkpoint_now()
            return (
                f"checkpoint at record {checkpoint.seq}" if checkpoint else "head unchanged since the last checkpoint"
            )
        finally:
            await state.close()

    console.print(asyncio.run(run()))
