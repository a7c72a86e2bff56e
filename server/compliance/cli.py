"""``fintech compliance``: review a folder of contracts over the bulk stream, analyse a regulation.

Mount with ``app.add_typer(server.compliance.cli.app, name="compliance")``. Both commands talk to a running
platform through the SDK over mTLS (``--target``, ``--certs``, ``--role``; see :mod:`server.cli_client`).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

import typer
from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as pb
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from server.cli_client import CertsOption, Connection, TargetOption, reported_errors

app = typer.Typer(help="Compliance: bulk contract review and regulation analysis.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

FORMATS = {
    ".txt": pb.DOCUMENT_FORMAT_PLAIN_TEXT,
    ".md": pb.DOCUMENT_FORMAT_MARKDOWN,
    ".markdown": pb.DOCUMENT_FORMAT_MARKDOWN,
    ".pdf": pb.DOCUMENT_FORMAT_PDF,
    ".docx": pb.DOCUMENT_FORMAT_DOCX,
}
RoleOption = Annotated[str, typer.Option("--role", help="Whose certificate to present.")]
SEVERITY_NAMES = {value: name.removeprefix("SEVERITY_") for name, value in common_pb2.Severity.items()}


def document_for(path: Path) -> pb.DocumentContent:
    """A file as ``DocumentContent``, its format from the extension.

    Raises:
        typer.BadParameter: an extension the service does not read.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise typer.BadParameter(f"{path.name}: unsupported extension (use {', '.join(sorted(FORMATS))})")
    return pb.DocumentContent(filename=path.name[:256], format=fmt, content=path.read_bytes())


def contract_id_for(path: Path) -> str:
    """A contract id from a file name (the characters the contract allows)."""
    cleaned = "".join(c if c.isalnum() or c in "._:-" else "-" for c in path.stem).lstrip("._:-")
    return (cleaned or "contract")[:128]


def contract_files(folder: Path) -> list[Path]:
    """Readable contracts in ``folder`` (not recursive), by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FORMATS)


def review_requests(files: Sequence[Path], *, advice: bool, playbook: str) -> Iterator[pb.ReviewContractsRequest]:
    """One stream item per file, read lazily (a large folder is never all in memory)."""
    for path in files:
        yield pb.ReviewContractsRequest(
            item_id=path.name[:128],
            contract=pb.ReviewContractRequest(
                request_id=str(uuid.uuid4()),
                contract_id=contract_id_for(path),
                document=document_for(path),
                playbook_id=playbook,
                include_llm_advice=advice,
            ),
        )


def report_rows(response: pb.ReviewContractsResponse) -> list[dict[str, str]]:
    """CSV rows for one stream response: one per finding, one for a clean review, one for an error."""
    if response.WhichOneof("result") == "error":
        return [
            {
                "file": response.item_id,
                "status": "ERROR",
                "review_id": "",
                "playbook": "",
                "check_id": "",
                "finding_type": "",
                "severity": "",
                "advisory": "",
                "clause_id": "",
                "evidence": response.error.message,
            }
        ]
    review = response.review
    base = {
        "file": response.item_id,
        "status": "REVIEWED",
        "review_id": review.review_id,
        "playbook": f"{review.playbook_id}@{review.playbook_version}",
    }
    if not review.findings:
        return [
            {
                **base,
                "check_id": "",
                "finding_type": "",
                "severity": "",
                "advisory": "",
                "clause_id": "",
                "evidence": "",
            }
        ]
    return [
        {
            **base,
            "check_id": f.check_id,
            "finding_type": pb.FindingType.Name(f.finding_type).removeprefix("FINDING_TYPE_"),
            "severity": SEVERITY_NAMES.get(f.severity, ""),
            "advisory": str(f.advisory).lower(),
            "clause_id": f.clause_id,
            "evidence": f.evidence,
        }
        for f in review.findings
    ]


@app.command("review")
def review_command(
    folder: Annotated[Path, typer.Argument(help="Folder of contracts (.txt, .md, .pdf, .docx).")],
    report: Annotated[Path, typer.Option("--report", help="CSV report to write.")] = Path("compliance-review.csv"),
    advice: Annotated[bool, typer.Option("--advice/--no-advice", help="Ask the LLM for advisory findings.")] = False,
    playbook: Annotated[str, typer.Option("--playbook", help="Playbook id (default: by contract type).")] = "",
    target: TargetOption = "localhost:50051",
    certs: CertsOption = Path("var/certs"),
    role: RoleOption = "compliance-officer",
) -> None:
    """Review every contract in FOLDER over the bulk stream: progress bar, summary table, CSV report."""
    from fintech.client import ComplianceServiceSyncClient

    if not folder.is_dir():
        err.print(f"[red]not a folder:[/red] {folder}")
        raise typer.Exit(code=2)
    files = contract_files(folder)
    if not files:
        err.print(f"[red]no contracts (.txt, .md, .pdf, .docx) in[/red] {folder}")
        raise typer.Exit(code=2)
    by_severity: dict[str, int] = {}
    by_check: dict[str, int] = {}
    errors: list[tuple[str, str]] = []
    fields = [
        "file",
        "status",
        "review_id",
        "playbook",
        "check_id",
        "finding_type",
        "severity",
        "advisory",
        "clause_id",
        "evidence",
    ]
    with (
        reported_errors(),
        Connection(target, certs, role).channel() as channel,
        report.open("w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        progress = Progress(
            TextColumn("reviewing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=err,
        )
        with progress:
            task = progress.add_task("review", total=len(files), failed=0)
            client = ComplianceServiceSyncClient(channel)
            for response in client.review_contracts(
                requests=review_requests(files, advice=advice, playbook=playbook), timeout=max(60.0, 2.0 * len(files))
            ):
                writer.writerows(report_rows(response))
                if response.WhichOneof("result") == "error":
                    errors.append((response.item_id, response.error.message))
                else:
                    worst = SEVERITY_NAMES.get(response.review.max_severity, "") or "NONE"
                    by_severity[worst] = by_severity.get(worst, 0) + 1
                    for finding in response.review.findings:
                        by_check[finding.check_id] = by_check.get(finding.check_id, 0) + 1
                progress.update(
                    task,
                    completed=response.progress.completed + response.progress.failed,
                    failed=response.progress.failed,
                )
    summary = Table("highest severity", "contracts", title=f"{len(files)} contracts reviewed")
    for name in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE"):
        if name in by_severity:
            summary.add_row(name, str(by_severity[name]))
    out.print(summary)
    checks = Table("check", "findings", title="findings by check")
    for check, count in sorted(by_check.items(), key=lambda kv: (-kv[1], kv[0])):
        checks.add_row(check, str(count))
    out.print(checks)
    for name, message in errors:
        err.print(f"[red]{name}[/red]: {message}")
    out.print(f"report written to {report}")
    if errors:
        raise typer.Exit(code=1)


@app.command("analyze")
def analyze_command(
    file: Annotated[Path, typer.Argument(help="The regulation (.txt, .md, .pdf, .docx).")],
    regulation_id: Annotated[str, typer.Option("--id", help="Regulation id (default: from the file name).")] = "",
    summaries: Annotated[bool, typer.Option("--summaries/--no-summaries", help="Clause summaries by the LLM.")] = False,
    target: TargetOption = "localhost:50051",
    certs: CertsOption = Path("var/certs"),
    role: RoleOption = "compliance-officer",
) -> None:
    """Analyse a regulation: obligations, timeline, impact, risk points, and optionally clause summaries."""
    from fintech.client import ComplianceServiceSyncClient

    if not file.is_file():
        err.print(f"[red]no such file:[/red] {file}")
        raise typer.Exit(code=2)
    request = pb.AnalyzeRegulationRequest(
        request_id=str(uuid.uuid4()),
        regulation_id=regulation_id or contract_id_for(file),
        document=document_for(file),
        include_summaries=summaries,
    )
    with reported_errors(), Connection(target, certs, role).channel() as channel:
        analysis = ComplianceServiceSyncClient(channel).analyze_regulation(request=request, timeout=600).analysis
    print_analysis(analysis, out)


def print_analysis(analysis: pb.RegulationAnalysis, console: Console, *, limit: int = 12) -> None:
    """An analysis as rich tables (the first ``limit`` rows of each)."""
    console.print(
        Panel(
            f"{analysis.title}: {analysis.word_count} words, {len(analysis.clauses)} clauses, "
            f"{len(analysis.obligations)} obligations, audit record {analysis.provenance.audit_record_id}",
            title=f"regulation {analysis.regulation_id}",
        )
    )
    timeline = Table("clause", "event", "date", "description", title="timeline")
    for event in analysis.timeline[:limit]:
        when = f"{event.date.year:04d}-{event.date.month:02d}-{event.date.day:02d}" if event.date.year else ""
        timeline.add_row(
            event.clause_id,
            pb.TimelineEventType.Name(event.event_type).removeprefix("TIMELINE_EVENT_TYPE_"),
            when,
            event.description[:80],
        )
    console.print(timeline)
    obligations = Table("clause", "modality", "who", "what", title="obligations")
    for item in analysis.obligations[:limit]:
        obligations.add_row(
            item.clause_id,
            pb.Modality.Name(item.modality).removeprefix("MODALITY_"),
            item.subject[:30],
            item.action[:70],
        )
    console.print(obligations)
    risks = Table("clause", "severity", "why", title="risk points")
    for risk in sorted(analysis.risk_points, key=lambda r: -r.severity)[:limit]:
        risks.add_row(risk.clause_id, SEVERITY_NAMES.get(risk.severity, ""), risk.description[:90])
    console.print(risks)
    if analysis.summaries:
        outcome = common_pb2.ValidationOutcome.Name(analysis.overall_summary.validation_outcome)
        failed = sum(1 for s in analysis.summaries if s.validation_outcome != common_pb2.VALIDATION_OUTCOME_PASSED)
        console.print(
            Panel(
                escape(analysis.overall_summary.summary) or "(no grounded overall summary)",
                title=f"LLM summary: {outcome}; {failed} of {len(analysis.summaries)} clause items failed",
            )
        )
