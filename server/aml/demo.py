"""AML walkthrough steps for ``make run`` (``server.devrun``): ingest a slice of the development sample,
screen a stream of transactions, list the alerts, investigate one network, draft its report.

Each step takes a :class:`server.devrun.Platform` and prints rich panels; the steps derive what they
need from the running platform (the top alert, the newest case), so they can run one by one.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from server.aml.rules import RuleSet

if TYPE_CHECKING:
    from server.devrun import Platform

console = Console()
INGEST_COUNT = 30_000
STREAM_COUNT = 5_000
BATCH = 1_000


def sample_archive() -> Path:
    """The development AMLSim archive (``FINTECH_SHARED_DATA`` overrides the shared data folder)."""
    root = Path(os.environ.get("FINTECH_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
    return root / "amlsim" / "20K_fanin200.tgz"


def _sample() -> tuple[pl.DataFrame, RuleSet]:
    from server.aml.files import load_transactions
    from server.aml.rules import load_rule_set

    rules = load_rule_set()
    return load_transactions(sample_archive(), rules), rules


def step_aml_ingest(platform: Platform) -> None:
    """Ingest the first 30,000 transfers of the sample, acknowledged batch by batch."""
    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.client import AMLServiceSyncClient

    from server.aml.mapping import frame_to_transactions

    frame, rules = _sample()
    txs = frame_to_transactions(frame.head(INGEST_COUNT), rules)
    with platform.channel("core-banking") as channel:
        ack = AMLServiceSyncClient(channel).ingest_transactions(
            requests=iter(
                pb.IngestTransactionsRequest(batch_id=f"demo-{i}", transactions=txs[i : i + 5_000])
                for i in range(0, len(txs), 5_000)
            ),
            timeout=600,
        )
    console.print(
        Panel(
            f"{ack.received_count:,} transfers sent, {ack.inserted_count:,} new, "
            f"{ack.duplicate_count:,} already stored "
            f"(a rerun adds nothing)\nwatermark {ack.watermark.ToJsonString()}\n"
            "each batch was screened and committed (history, alerts, state, audit) before the acknowledgement",
            title="AML 1. IngestTransactions: the shared history (core banking)",
        )
    )


def step_aml_screen(platform: Platform) -> None:
    """Screen the next 5,000 transfers over the bidirectional stream in micro-batches of 1,000."""
    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.client import AMLServiceSyncClient

    from server.aml.mapping import frame_to_transactions

    frame, rules = _sample()
    txs = frame_to_transactions(frame.slice(INGEST_COUNT, STREAM_COUNT), rules)
    decisions: Counter[str] = Counter()
    flagged: list[pb.ScreeningResult] = []
    with platform.channel("core-banking") as channel:
        for response in AMLServiceSyncClient(channel).screen_transactions(
            requests=iter(
                pb.ScreenTransactionsRequest(transactions=txs[i : i + BATCH]) for i in range(0, len(txs), BATCH)
            ),
            timeout=600,
        ):
            for result in response.results:
                decisions[pb.ScreeningDecision.Name(result.decision).removeprefix("SCREENING_DECISION_")] += 1
                if result.decision != pb.SCREENING_DECISION_CLEAR:
                    flagged.append(result)
            version = response.rule_set_version
    lines = [f"rule set {version}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(decisions.items()))]
    for result in flagged[:5]:
        reasons = ", ".join(h.reason_code for h in result.rule_hits)
        lines.append(f"  {result.transaction_id}  score {result.score:.0f}  {reasons}  alert {result.alert_id or '-'}")
    console.print(Panel("\n".join(lines), title="AML 2. ScreenTransactions: one decision per transfer, in order"))


def step_aml_alerts(platform: Platform) -> None:
    """The alerts with their evidence (investigator)."""
    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.client import AMLServiceSyncClient

    with platform.channel("investigator") as channel:
        page = AMLServiceSyncClient(channel).list_alerts(request=pb.ListAlertsRequest(page_size=10, min_score=50))
    table = Table("alert", "account", "status", "score", "rules", "evidence (first)")
    for alert in page.alerts:
        hit = alert.rule_hits[0] if alert.rule_hits else None
        table.add_row(
            alert.alert_id,
            alert.account_id,
            pb.AlertStatus.Name(alert.status).removeprefix("ALERT_STATUS_"),
            f"{alert.score:.0f}",
            ", ".join(sorted({h.rule_id for h in alert.rule_hits})),
            hit.evidence.summary[:60] if hit else "",
        )
    console.print(Panel(table, title="AML 3. ListAlerts (score >= 50; investigator)"))


def step_aml_investigate(platform: Platform) -> None:
    """Investigate the network around the highest-scoring alert; a case is opened."""
    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.client import AMLServiceSyncClient

    with platform.channel("investigator") as channel:
        client = AMLServiceSyncClient(channel)
        alerts = client.list_alerts(request=pb.ListAlertsRequest(page_size=500)).alerts
        if not alerts:
            console.print(
                Panel("no alerts yet: run the ingest and screen steps first", title="AML 4. InvestigateNetwork")
            )
            return
        top = max(alerts, key=lambda a: a.score)
        network = client.investigate_network(
            request=pb.InvestigateNetworkRequest(request_id=str(uuid.uuid4()), alert_id=top.alert_id, max_hops=3),
            timeout=60,
        )
    roles = Counter(pb.AccountRole.Name(a.role).removeprefix("ACCOUNT_ROLE_") for a in network.accounts)
    lines = [
        f"from alert {top.alert_id} on {top.account_id}: {len(network.accounts)} accounts, {len(network.edges)} "
        f"edges, case {network.case_id}",
        "roles: " + ", ".join(f"{k} {v}" for k, v in sorted(roles.items())),
    ]
    for pattern in network.patterns[:4]:
        lines.append(
            f"  {pb.PatternType.Name(pattern.pattern_type).removeprefix('PATTERN_TYPE_')}: {pattern.description}"
        )
    for path in network.money_paths[:3]:
        lines.append(f"  path {' -> '.join(path.account_ids)}  {path.amount.units:,} {path.amount.currency_code}")
    console.print(Panel("\n".join(lines), title="AML 4. InvestigateNetwork: structure, roles, money paths"))


def step_aml_report(platform: Platform) -> None:
    """Draft the SAR narrative of the newest case; shown with its grounding outcome."""
    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.client import AMLServiceSyncClient, FintechError
    from fintech.common.v1 import common_pb2

    with platform.channel("investigator") as channel:
        client = AMLServiceSyncClient(channel)
        cases = client.list_cases(request=pb.ListCasesRequest(page_size=500)).cases
        if not cases:
            console.print(Panel("no case yet: run the investigate step first", title="AML 5. SAR draft"))
            return
        case = cases[-1]
        try:
            draft = client.draft_suspicious_activity_report(
                request=pb.DraftSuspiciousActivityReportRequest(request_id=str(uuid.uuid4()), case_id=case.case_id),
                timeout=180,
            ).draft
        except FintechError as error:
            console.print(Panel(f"{error.code.name} {error.reason}: {error.message}", title="AML 5. SAR draft"))
            return
    outcome = common_pb2.ValidationOutcome.Name(draft.validation_outcome).removeprefix("VALIDATION_OUTCOME_")
    # The narrative is model output: escaped, so brackets in it are shown, never taken as console markup.
    heading = f"case {case.case_id}: validation {outcome} (model {draft.provenance.llm_model})"
    lines = [heading, "", escape(draft.narrative)]
    for span in draft.unsupported_spans:
        lines.append(escape(f"  [unsupported] {span.text!r}: {span.reason}"))
    console.print(Panel("\n".join(lines), title="AML 5. DraftSuspiciousActivityReport: grounded against the case"))


STEPS = [step_aml_ingest, step_aml_screen, step_aml_alerts, step_aml_investigate, step_aml_report]
