"""``fintech risk``: assess a batch file over the bidirectional stream, and show the model card.

Mount with ``app.add_typer(server.risk.cli.app, name="risk")``. Both commands reach a running platform
over mTLS with a role's certificate (:mod:`server.cli_client`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from server.cli_client import CertsOption, Connection, TargetOption, reported_errors

app = typer.Typer(no_args_is_help=True, help="Loan assessment: batch files and the model card.")
RoleOption = Annotated[str, typer.Option("--role", help="Whose client certificate to present.")]


@app.command("assess")
def assess(
    source: Annotated[Path, typer.Argument(help="A .csv or .jsonl file of applications (docs/risk.md).")],
    target: TargetOption = "localhost:50051",
    certs: CertsOption = Path("var/certs"),
    role: RoleOption = "core-banking",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds for the whole batch.")] = 3600.0,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            min=1,
            max=1000,
            help="Applications per stream message (micro-batches; 1 sends one application per message).",
        ),
    ] = 200,
) -> None:
    """Stream a file through AssessLoanApplications; results go beside it as ``<name>.results.jsonl``.

    Rows travel in micro-batch messages of ``--batch-size`` applications (one message's transport cost
    for many applications); a row asking for an explanation travels on its own (micro-batches carry
    none). Results are written in the file's order either way.
    """
    from fintech.client import RiskServiceSyncClient
    from fintech.risk.v1 import risk_service_pb2 as pb

    from server.risk import batchfile

    console = Console()
    if not source.exists():
        console.print(f"[red]no such file:[/red] {source}")
        raise typer.Exit(code=2)
    try:
        rows = batchfile.read_rows(source)
        total = batchfile.count_rows(source)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from None
    out = batchfile.results_path(source)
    counts: Counter[str] = Counter()
    unreadable: list[tuple[str, batchfile.RowError]] = []

    def items() -> Iterator[pb.AssessLoanApplicationsRequest]:
        for row in rows:
            if row.item is not None:
                yield row.item
            elif row.error is not None:
                unreadable.append((row.item_id, row.error))

    batches: dict[str, list[str]] = {}  # micro-batch id -> its items' ids (to attribute a whole-batch error)

    def messages() -> Iterator[pb.AssessLoanApplicationsRequest]:
        if batch_size == 1:
            yield from items()
            return
        pending: list[pb.AssessLoanApplicationsRequest] = []

        def flush() -> pb.AssessLoanApplicationsRequest:
            batch_id = f"batch-{len(batches) + 1}"
            batches[batch_id] = [item.item_id for item in pending]
            message = pb.AssessLoanApplicationsRequest(item_id=batch_id, items=pending)
            pending.clear()
            return message

        for item in items():
            if item.application.include_explanation:
                if pending:
                    yield flush()
                yield item
                continue
            pending.append(item)
            if len(pending) >= batch_size:
                yield flush()
        if pending:
            yield flush()

    def results(response: pb.AssessLoanApplicationsResponse) -> Iterator[pb.AssessLoanApplicationsResponse]:
        if response.results:
            yield from response.results
        elif response.item_id in batches and response.WhichOneof("result") == "error":
            for item_id in batches[response.item_id]:  # the whole message was refused
                yield pb.AssessLoanApplicationsResponse(item_id=item_id, error=response.error)
        else:
            yield response

    progress = Progress(
        TextColumn("[bold]assessing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )
    with (
        reported_errors(),
        Connection(target, certs, role).channel() as channel,
        out.open("w", encoding="utf-8") as handle,
        progress,
    ):
        task = progress.add_task("assess", total=total)
        client = RiskServiceSyncClient(channel)
        for result in (
            r
            for message in client.assess_loan_applications(requests=messages(), timeout=timeout)
            for r in results(message)
        ):
            response = result
            kind = response.WhichOneof("result")
            record = batchfile.result_record(
                response.item_id,
                response.assessment if kind == "assessment" else None,
                response.error if kind == "error" else None,
            )
            counts[pb.Recommendation.Name(response.assessment.recommendation) if kind == "assessment" else "ERROR"] += 1
            handle.write(json.dumps(record) + "\n")
            # Unreadable rows are written as they are found (the reader runs ahead of the responses).
            while unreadable:
                item_id, row_error = unreadable.pop(0)
                handle.write(
                    json.dumps(batchfile.result_record(item_id, None, batchfile.row_error_status(row_error))) + "\n"
                )
                counts["UNREADABLE"] += 1
                progress.advance(task)
            progress.advance(task)
        for item_id, row_error in unreadable:
            record = batchfile.result_record(item_id, None, batchfile.row_error_status(row_error))
            handle.write(json.dumps(record) + "\n")
            counts["UNREADABLE"] += 1
            progress.advance(task)
    summary = ", ".join(f"{name.removeprefix('RECOMMENDATION_')} {count}" for name, count in sorted(counts.items()))
    console.print(f"{sum(counts.values())} results ({summary}) written to {out}")


@app.command("model-card")
def model_card(
    target: TargetOption = "localhost:50051",
    certs: CertsOption = Path("var/certs"),
    role: RoleOption = "loan-officer",
) -> None:
    """The scorecard's model card: id, data, metrics, features, exclusions, limitations, drift."""
    from fintech.client import RiskServiceSyncClient
    from fintech.risk.v1 import risk_service_pb2 as pb

    with reported_errors(), Connection(target, certs, role).channel() as channel:
        card = RiskServiceSyncClient(channel).get_model_card(request=pb.GetModelCardRequest()).model_card
    print_model_card(card, Console())


def print_model_card(card: object, console: Console) -> None:
    """Render a ``ModelCard`` message (shared with the walkthrough)."""
    import math

    from fintech.risk.v1 import risk_service_pb2 as pb

    assert isinstance(card, pb.ModelCard)
    psi = card.population_stability_index
    drift = "not enough recent assessments yet" if math.isnan(psi) else f"{psi:.4f} (< 0.1 stable, > 0.25 shifted)"
    metrics = Table("metric", "mean", "sd", "protocol", title="measured")
    for metric in card.metrics:
        metrics.add_row(metric.name, f"{metric.mean:.3f}", f"{metric.std:.3f}", metric.protocol)
    body = (
        f"[bold]model[/bold] {card.model_id}\n[bold]version[/bold] {card.version}   "
        f"[bold]rules[/bold] {card.rule_set_version}\n[bold]trained[/bold] {card.training_time.ToDatetime():%Y-%m-%d}"
        f"   [bold]data[/bold] {card.training_data}\n[bold]drift (PSI)[/bold] {drift}\n\n"
        f"[bold]intended use[/bold] {card.intended_use}\n\n[bold]features[/bold]\n"
        + "\n".join(f"  - {f}" for f in card.features)
        + "\n[bold]not used[/bold]\n"
        + "\n".join(f"  - {e}" for e in card.excluded_attributes)
        + "\n[bold]limitations[/bold]\n"
        + "\n".join(f"  - {limit}" for limit in card.limitations)
    )
    console.print(Panel(body, title="RiskService model card"), metrics)
