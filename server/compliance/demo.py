"""Walkthrough steps of ``make run`` for ComplianceService: analyse a regulation (with LLM clause summaries,
validated), compare a regulation's two versions, review the sample contracts over the bulk stream.

Each step takes the running :class:`server.devrun.Platform` and prints rich panels; the lead adds them to
``server.devrun.STEPS``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from fintech.client import (
    ComplianceServiceSyncClient,
    DeadlineExceeded,
    FailedPrecondition,
    Unavailable,
    secure_channel_sync,
)
from fintech.compliance.v1 import compliance_service_pb2 as pb
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from server.compliance.cli import SEVERITY_NAMES, contract_files, document_for, print_analysis, review_requests

if TYPE_CHECKING:
    from server.devrun import Platform

CORPUS = Path(__file__).resolve().parent / "corpus"
console = Console()


def _client(platform: Platform) -> tuple[ComplianceServiceSyncClient, object]:
    channel = secure_channel_sync(
        f"localhost:{platform.grpc_port}",
        ca_file=platform.certs / "ca.pem",
        cert_file=platform.certs / "clients" / "compliance-officer.pem",
        key_file=platform.certs / "clients" / "compliance-officer-key.pem",
    )
    return ComplianceServiceSyncClient(channel), channel


def step_compliance_analyze(platform: Platform) -> None:
    """Analyse the complaints-handling rule; ask the LLM for clause summaries and show how they validated."""
    client, channel = _client(platform)
    path = CORPUS / "regulations" / "complaints_handling.txt"
    request = pb.AnalyzeRegulationRequest(
        request_id=str(uuid.uuid4()),
        regulation_id="complaints-handling-2026",
        document=document_for(path),
        include_summaries=True,
    )
    try:
        try:
            analysis = client.analyze_regulation(request=request, timeout=300).analysis
        except (FailedPrecondition, DeadlineExceeded, Unavailable) as error:
            # No LLM, or it could not answer in time: say so, then show the deterministic analysis alone.
            console.print(
                Panel(f"{error.code.name} {error.reason}: {error.message}", title="clause summaries unavailable")
            )
            request.include_summaries = False
            request.request_id = str(uuid.uuid4())
            analysis = client.analyze_regulation(request=request, timeout=300).analysis
    finally:
        channel.close()  # type: ignore[attr-defined]
    console.rule("Compliance 1. AnalyzeRegulation: deterministic extraction; LLM summaries checked clause by clause")
    print_analysis(analysis, console, limit=8)


def step_compliance_compare(platform: Platform) -> None:
    """Compare the two versions of the customer due diligence rule."""
    client, channel = _client(platform)
    old = CORPUS / "regulations" / "customer_due_diligence_v1.txt"
    new = CORPUS / "regulations" / "customer_due_diligence_v2.txt"
    try:
        result = client.compare_regulation_versions(
            request=pb.CompareRegulationVersionsRequest(
                request_id=str(uuid.uuid4()), old_version=document_for(old), new_version=document_for(new)
            )
        )
    finally:
        channel.close()  # type: ignore[attr-defined]
    changes = Table("change", "old clause", "new clause", "similarity")
    for change in result.clause_changes[:12]:
        changes.add_row(
            pb.ClauseChangeType.Name(change.change_type).removeprefix("CLAUSE_CHANGE_TYPE_"),
            change.old_clause_id,
            change.new_clause_id,
            f"{change.similarity:.2f}",
        )
    strictness = Table("strictness", "clause", "explanation")
    for item in result.obligation_changes[:10]:
        strictness.add_row(
            pb.StrictnessChange.Name(item.strictness).removeprefix("STRICTNESS_CHANGE_"),
            item.new_obligation.clause_id or item.old_obligation.clause_id,
            item.explanation[:80],
        )
    console.print(
        Panel(
            changes,
            title=f"Compliance 2. CompareRegulationVersions: {len(result.clause_changes)} "
            f"clause changes (audit record {result.provenance.audit_record_id})",
        )
    )
    console.print(
        Panel(
            strictness,
            title=f"{len(result.obligation_changes)} obligation changes, "
            f"{len(result.timeline_changes)} timeline changes",
        )
    )


def _with_one_bad_item(files: list[Path]) -> Iterator[pb.ReviewContractsRequest]:
    yield from review_requests(files, advice=False, playbook="")
    # A deliberately broken item: the stream reports it and goes on.
    yield pb.ReviewContractsRequest(
        item_id="broken.pdf",
        contract=pb.ReviewContractRequest(
            request_id=str(uuid.uuid4()),
            contract_id="broken-sample",
            document=pb.DocumentContent(filename="broken.pdf", format=pb.DOCUMENT_FORMAT_PDF, content=b"not a pdf"),
        ),
    )


def step_compliance_review(platform: Platform) -> None:
    """Review the 44 sample contracts (and one broken file) over the ReviewContracts stream."""
    client, channel = _client(platform)
    files = contract_files(CORPUS / "contracts")
    worst: dict[str, int] = {}
    errors: list[str] = []
    try:
        for response in client.review_contracts(requests=_with_one_bad_item(files), timeout=300):
            if response.WhichOneof("result") == "error":
                errors.append(f"{response.item_id}: {response.error.message}")
            else:
                name = SEVERITY_NAMES.get(response.review.max_severity, "") or "NONE"
                worst[name] = worst.get(name, 0) + 1
            last = response.progress
    finally:
        channel.close()  # type: ignore[attr-defined]
    table = Table("highest severity", "contracts")
    for name in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE"):
        if name in worst:
            table.add_row(name, str(worst[name]))
    lines = [
        f"progress: {last.completed} reviewed, {last.failed} failed",
        *errors,
        "(same as: fintech compliance review server/compliance/corpus/contracts)",
    ]
    console.print(Panel(table, title="Compliance 3. ReviewContracts: bulk review over one bidirectional stream"))
    console.print(Panel("\n".join(lines), title="per-item errors do not end the stream"))


STEPS = [step_compliance_analyze, step_compliance_compare, step_compliance_review]
