"""``fintech aml``: ingest a transaction file into the shared history, and list alerts.

Mount with ``app.add_typer(server.aml.cli.app, name="aml")``. Commands reach a running platform over
mTLS with a role's certificate (:mod:`server.cli_client`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from server.cli_client import CertsOption, Connection, TargetOption, reported_errors

app = typer.Typer(no_args_is_help=True, help="AML: ingest transactions, list alerts.")
RoleOption = Annotated[str, typer.Option("--role", help="Whose client certificate to present.")]


@app.command("ingest")
def ingest(
    source: Annotated[Path, typer.Argument(help="An AMLSim archive (.tgz) or a CSV (docs/aml.md).")],
    target: TargetOption = "localhost:50051",
    certs: CertsOption = Path("var/certs"),
    role: RoleOption = "core-banking",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=10_000, help="Transactions per batch.")] = 5_000,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Only the first N transactions (0 = all).")] = 0,
) -> None:
    """Load a file through IngestTransactions; the bar advances as batches are durably committed."""
    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.client import AMLServiceSyncClient

    from server.aml.files import load_transactions
    from server.aml.mapping import frame_to_transactions
    from server.aml.rules import load_rule_set

    console = Console()
    if not source.exists():
        console.print(f"[red]no such file:[/red] {source}")
        raise typer.Exit(code=2)
    rules = load_rule_set()
    try:
        frame = load_transactions(source, rules)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from None
    if limit:
        frame = frame.head(limit)
    inserted = duplicates = 0
    watermark = ""
    progress = Progress(
        TextColumn("[bold]ingest[/bold]"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )
    with reported_errors(), Connection(target, certs, role).channel() as channel, progress:
        client = AMLServiceSyncClient(channel)
        task = progress.add_task("ingest", total=frame.height)
        for start in range(0, frame.height, batch_size):
            part = frame.slice(start, batch_size)
            txs = frame_to_transactions(part, rules)
            for tx, name in zip(txs, part["counterparty_name"].to_list(), strict=True):
                tx.counterparty_name = name or ""
            # One call per batch: its response is the acknowledgement that the batch is committed.
            ack = client.ingest_transactions(
                requests=iter([pb.IngestTransactionsRequest(batch_id=f"{source.name}:{start}", transactions=txs)]),
                timeout=600,
            )
            inserted += ack.inserted_count
            duplicates += ack.duplicate_count
            watermark = ack.watermark.ToJsonString()
            progress.advance(task, part.height)
    console.print(f"{frame.height:,} sent, {inserted:,} new, {duplicates:,} already stored; watermark {watermark}")


@app.command("alerts")
def alerts(
    target: TargetOption = "localhost:50051",
    certs: CertsOption = Path("var/certs"),
    role: RoleOption = "investigator",
    status: Annotated[str, typer.Option("--status", help="OPEN, INVESTIGATING, ... (empty = any).")] = "",
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=500)] = 20,
) -> None:
    """The first page of alerts, newest rules and evidence summarised."""
    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.client import AMLServiceSyncClient

    request = pb.ListAlertsRequest(page_size=page_size)
    if status:
        try:
            request.status = pb.AlertStatus.Value(f"ALERT_STATUS_{status.upper()}")
        except ValueError:
            Console().print(f"[red]--status: unknown status {status!r}[/red]")
            raise typer.Exit(code=2) from None
    with reported_errors(), Connection(target, certs, role).channel() as channel:
        page = AMLServiceSyncClient(channel).list_alerts(request=request)
    table = Table("alert", "account", "status", "score", "rules", "evidence")
    for alert in page.alerts:
        table.add_row(
            alert.alert_id,
            alert.account_id,
            pb.AlertStatus.Name(alert.status).removeprefix("ALERT_STATUS_"),
            f"{alert.score:.1f}",
            ", ".join(sorted({h.rule_id for h in alert.rule_hits})),
            str(sum(len(h.evidence.transaction_ids) for h in alert.rule_hits)),
        )
    Console().print(table)
