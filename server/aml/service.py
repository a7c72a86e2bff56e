"""The ``fintech.aml.v1.AMLService`` servicer: protobuf in and out, the AML engines and store behind it.

Streams: ``IngestTransactions`` and ``ScreenTransactions`` validate each message
(:func:`server.aml.validation.checked_columns`: exact to protovalidate, whose violations are raised
for a broken message), convert it with :mod:`server.aml.mapping` and hand it to the
:class:`~server.aml.monitor.TransactionMonitor`, which screens and commits it before anything is
acknowledged or released. Unary RPCs are validated by the interceptor; authorisation (investigator,
core-banking roles) is the role policy's. Network investigation runs on a
:class:`~server.aml.network.TransactionGraph` built from the stored history, cached and rebuilt when
the history grew. The SAR narrative comes from the inference pool and is grounded against the case.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import polars as pl
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.aml.v1 import aml_service_pb2_grpc as pb_grpc
from fintech.common.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from inference.generation import generate_structured
from inference.pool import InferencePool, Priority
from server.aml import repository as repo
from server.aml.mapping import (
    check_amounts,
    checked_columns_to_frame,
    columns_to_frame,
    investigation_request_from_proto,
    investigation_to_proto,
    minor_to_money,
    screening_answers,
    us_to_timestamp,
)
from server.aml.metrics import register_checkpoints
from server.aml.monitor import TransactionMonitor
from server.aml.network import ENGINE_NAME as NETWORK_ENGINE
from server.aml.network import ENGINE_VERSION as NETWORK_ENGINE_VERSION
from server.aml.network import NetworkInvestigation, TransactionGraph, investigate
from server.aml.repository import AlertQuery, StatusChange, StoredAlert, StoredCase
from server.aml.rules import RuleSet, load_rule_set
from server.aml.sar import SarNarrative, case_facts, check_draft, sar_prompt
from server.aml.settings import AmlSettings
from server.aml.validation import TransactionColumns, checked_columns
from server.audit.log import AuditLog
from server.audit.records import AuditEntry, AuditKind, ValidationOutcome
from server.crypto.keyring import Keyring
from server.crypto.subjects import Subject
from server.runtime.clock import Clock
from server.runtime.context import AppContext, ServiceBinding
from server.runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from server.runtime.identity import current_caller
from server.storage.database import Database
from server.storage.idempotency import Idempotency, lookup, payload_digest
from server.storage.page_tokens import PageTokenCodec, filter_scope
from server.storage.resources import section

SERVICE = "fintech.aml.v1.AMLService"
DOMAIN = "aml.fintech"
DEFAULT_PAGE_SIZE = 50
MAX_CASE_TRANSFERS = 500  # transfers kept in a case's facts

INGEST_RPC = f"/{SERVICE}/IngestTransactions"
SCREEN_RPC = f"/{SERVICE}/ScreenTransactions"
UPDATE_RPC = f"/{SERVICE}/UpdateAlert"
INVESTIGATE_RPC = f"/{SERVICE}/InvestigateNetwork"
SAR_RPC = f"/{SERVICE}/DraftSuspiciousActivityReport"

# The alert workflow: which status may follow which (anything else is FAILED_PRECONDITION).
TRANSITIONS: dict[int, frozenset[int]] = {
    pb.ALERT_STATUS_OPEN: frozenset({pb.ALERT_STATUS_INVESTIGATING}),
    pb.ALERT_STATUS_INVESTIGATING: frozenset({pb.ALERT_STATUS_ESCALATED, pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE}),
    pb.ALERT_STATUS_ESCALATED: frozenset({pb.ALERT_STATUS_SAR_FILED, pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE}),
    pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE: frozenset(),
    pb.ALERT_STATUS_SAR_FILED: frozenset(),
}


def _status_name(status: int) -> str:
    return str(pb.AlertStatus.Name(status)).removeprefix("ALERT_STATUS_")


def _timestamp_us(ts: Timestamp) -> int:
    return int(ts.seconds) * 1_000_000 + int(ts.nanos) // 1_000


def severity_of(score: float) -> int:
    """Alert severity from its score (the decision bands of the RETAIL segment)."""
    if score >= 220:
        return int(common_pb2.SEVERITY_CRITICAL)
    if score >= 110:
        return int(common_pb2.SEVERITY_HIGH)
    if score >= 50:
        return int(common_pb2.SEVERITY_MEDIUM)
    return int(common_pb2.SEVERITY_LOW)


_STREAM_QUEUE_MESSAGES = 256
"""Messages read ahead of the micro-batch being screened on one stream (each up to 1,000 transfers)."""
_PREPARE_IN_THREAD = 64
"""Messages with at least this many transfers are validated and converted in a worker thread."""


@dataclass(frozen=True)
class _PreparedScreening:
    """One validated ``ScreenTransactionsRequest`` as columns (the frame is built per micro-batch)."""

    columns: TransactionColumns

    @property
    def size(self) -> int:
        return len(self.columns)


class AmlServicer(pb_grpc.AMLServiceServicer):
    """Every RPC of the AML service."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        keyring: Keyring,
        idempotency: Idempotency,
        page_tokens: PageTokenCodec,
        rules: RuleSet,
        settings: AmlSettings,
        clock: Clock,
        pool: InferencePool | None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._keyring = keyring
        self._idempotency = idempotency
        self._tokens = page_tokens
        self._rules = rules
        self._settings = settings
        self._clock = clock
        self._pool = pool
        self.monitor = TransactionMonitor(
            db,
            audit,
            keyring,
            rules,
            clock=clock,
            checkpoint_every=settings.state_checkpoint_batches,
            checkpoint_min_transactions=settings.state_checkpoint_transactions,
        )
        self._graph: TransactionGraph | None = None
        self._graph_seq = -1
        self._graph_lock = asyncio.Lock()

    def _now_us(self) -> int:
        return int(self._clock.now().timestamp() * 1_000_000)

    def _digits(self, currency: str) -> int:
        spec = self._rules.currencies.get(currency)
        return spec.minor_digits if spec else 2

    # ------------------------------------------------------------------------------ streams
    async def IngestTransactions(
        self, request_iterator: AsyncIterator[pb.IngestTransactionsRequest], context: Any
    ) -> pb.IngestTransactionsResponse:
        received = inserted = duplicates = 0
        watermark = 0
        index = 0
        async for request in request_iterator:
            columns = checked_columns(request)
            frame = columns_to_frame(columns, self._rules, field=f"requests[{index}].transactions")
            outcome = await self.monitor.process(
                frame,
                columns.counterparty_name,
                rpc=INGEST_RPC,
                request_id=request.batch_id,
            )
            received += frame.height
            inserted += outcome.inserted
            duplicates += outcome.duplicates
            watermark = max(watermark, outcome.watermark_us)
            index += 1
        return pb.IngestTransactionsResponse(
            received_count=received,
            inserted_count=inserted,
            duplicate_count=duplicates,
            watermark=us_to_timestamp(watermark),
        )

    async def ScreenTransactions(
        self, request_iterator: AsyncIterator[pb.ScreenTransactionsRequest], context: Any
    ) -> AsyncIterator[pb.ScreenTransactionsResponse]:
        # Messages are validated and converted as they arrive (the reader task), which overlaps the
        # screening and commit of the previous micro-batch. Messages already waiting are then screened
        # together (up to max_stream_batch transfers): the engine's cost is mostly fixed per call, and
        # any split gives the same decisions, so coalescing keeps the queue short without changing a
        # single answer. Each message is answered only after its micro-batch is committed.
        # Bounded: a client that sends faster than the server commits is held back by gRPC flow control.
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=_STREAM_QUEUE_MESSAGES)
        end = object()

        async def read() -> None:
            index = 0
            try:
                async for request in request_iterator:
                    if len(request.transactions) >= _PREPARE_IN_THREAD:
                        prepared = await asyncio.to_thread(self._prepare_screening, request, index)
                    else:
                        prepared = self._prepare_screening(request, index)
                    await queue.put(prepared)
                    index += 1
            except Exception as error:  # handed to the writer, which raises it after the earlier messages
                await queue.put(error)
                return
            await queue.put(end)

        # Responses go out through their own queue: sending one response per message is an await per
        # message in gRPC, and doing it between micro-batches held up the next batch's screening (with one
        # transfer per message, a backlog of 100 messages cost ~100 ms of sends before the next commit).
        # Bounded too, so a client that stops reading holds the screener, then the reader, then the wire.
        responses: asyncio.Queue[Any] = asyncio.Queue(maxsize=_STREAM_QUEUE_MESSAGES)

        async def screen() -> None:
            try:
                await self._screen_stream(queue, end, responses)
            except Exception as error:  # raised by the generator below, after the earlier responses
                await responses.put(error)
                return
            await responses.put(end)

        reader = asyncio.create_task(read())
        screener = asyncio.create_task(screen())
        try:
            while True:
                item = await responses.get()
                if item is end:
                    break
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            reader.cancel()
            screener.cancel()

    async def _screen_stream(self, queue: asyncio.Queue[Any], end: object, responses: asyncio.Queue[Any]) -> None:
        """Coalesce waiting messages into micro-batches, screen and commit each, queue their responses."""
        limit = self._settings.max_stream_batch
        linger = self._settings.stream_linger_ms / 1_000
        pending: Any = None
        while True:
            item = pending if pending is not None else await queue.get()
            pending = None
            if item is end:
                return
            if isinstance(item, Exception):
                raise item
            group: list[_PreparedScreening] = [item]
            size = item.size
            lingered = False
            while True:
                while pending is None and not queue.empty():
                    following = queue.get_nowait()
                    if not isinstance(following, _PreparedScreening) or size + following.size > limit:
                        pending = following
                        break
                    group.append(following)
                    size += following.size
                if pending is not None or lingered or linger <= 0 or size >= limit:
                    break
                # Group commit (only when configured): give messages already on the wire a short, bounded
                # moment to join this micro-batch (one engine call and one commit for all of them).
                lingered = True
                await self._clock.sleep(linger)
            # One frame per micro-batch (not per message: a frame's fixed cost is ~0.4 ms).
            columns = TransactionColumns.concat([g.columns for g in group])
            frame = checked_columns_to_frame(columns, self._rules)
            outcome = await self.monitor.process(frame, columns.counterparty_name, rpc=SCREEN_RPC)
            # Only after the commit: the decisions are released.
            answers = screening_answers(outcome.result, self._rules, outcome.alert_ids)
            for prepared in group:
                response = pb.ScreenTransactionsResponse(rule_set_version=self._rules.version)
                answers.fill(response, prepared.columns.transaction_id, outcome.known)
                await responses.put(response)

    def _prepare_screening(self, request: pb.ScreenTransactionsRequest, index: int) -> _PreparedScreening:
        """Validate one stream message and convert it column-wise (raises naming ``requests[index]``)."""
        columns = checked_columns(request)  # exact to protovalidate; its violations when broken
        check_amounts(columns, self._rules, field=f"requests[{index}].transactions")
        return _PreparedScreening(columns=columns)

    # ------------------------------------------------------------------------------ alerts
    async def _alert_to_proto(self, conn: Any, alert: StoredAlert) -> pb.Alert:
        message = pb.Alert(
            alert_id=alert.alert_id,
            account_id=alert.account_id,
            status=alert.status,
            score=alert.score,
            case_id=alert.case_id,
            rule_set_version=alert.rule_set_version,
            severity=severity_of(alert.score),
            create_time=us_to_timestamp(alert.create_us),
            update_time=us_to_timestamp(alert.update_us),
        )
        for hit in alert.hits:
            message.rule_hits.append(
                pb.RuleHit(
                    rule_id=hit["rule_id"],
                    reason_code=hit["reason_code"],
                    score_contribution=hit["score_contribution"],
                    evidence=pb.Evidence(
                        transaction_ids=hit["evidence_transaction_ids"],
                        total_amount=minor_to_money(
                            hit["evidence_total_minor"], hit["currency"], self._digits(hit["currency"])
                        ),
                        window=common_pb2.TimeRange(
                            start_time=us_to_timestamp(hit["window_start_us"]),
                            end_time=us_to_timestamp(hit["window_end_us"]),
                        ),
                        summary=hit["summary"],
                    ),
                )
            )
        subject = Subject("account", alert.account_id)
        for change in alert.history:
            reason = await self._keyring.open_text(
                conn, subject, change.reason_sealed, context=f"aml.alert-reason:{alert.alert_id}"
            )
            message.history.append(
                pb.AlertStatusChange(
                    from_status=change.from_status,
                    to_status=change.to_status,
                    reason=reason,
                    changed_by=change.changed_by,
                    change_time=us_to_timestamp(change.change_us),
                )
            )
        return message

    async def ListAlerts(self, request: pb.ListAlertsRequest, context: Any) -> pb.ListAlertsResponse:
        window = request.create_time_range if request.HasField("create_time_range") else None
        query = AlertQuery(
            status=request.status,
            rule_id=request.rule_id,
            account_id=request.account_id,
            start_us=_timestamp_us(window.start_time) if window and window.HasField("start_time") else None,
            end_us=_timestamp_us(window.end_time) if window and window.HasField("end_time") else None,
            min_score=request.min_score,
        )
        scope = filter_scope(f"/{SERVICE}/ListAlerts", query.__dict__)
        after = int(self._tokens.decode(request.page_token, scope=scope).get("after", 0)) if request.page_token else 0
        size = request.page_size or DEFAULT_PAGE_SIZE
        async with self._db.read() as conn:
            found = await repo.list_alerts(conn, query, after_seq=after, limit=size + 1)
            page = found[:size]
            alerts = [await self._alert_to_proto(conn, a) for a in page]
        token = self._tokens.encode({"after": page[-1].seq}, scope=scope) if len(found) > size else ""
        return pb.ListAlertsResponse(alerts=alerts, next_page_token=token)

    async def _require_alert(self, conn: Any, alert_id: str, *, for_update: bool = False) -> StoredAlert:
        alert = await repo.get_alert(conn, alert_id, for_update=for_update)
        if alert is None:
            raise NotFound("no such alert", reason="ALERT_NOT_FOUND", domain=DOMAIN, metadata={"alert_id": alert_id})
        return alert

    async def GetAlert(self, request: pb.GetAlertRequest, context: Any) -> pb.GetAlertResponse:
        async with self._db.read() as conn:
            alert = await self._require_alert(conn, request.alert_id)
            return pb.GetAlertResponse(alert=await self._alert_to_proto(conn, alert))

    async def UpdateAlert(self, request: pb.UpdateAlertRequest, context: Any) -> pb.UpdateAlertResponse:
        caller = current_caller()

        async def work(conn: Any) -> pb.UpdateAlertResponse:
            alert = await self._require_alert(conn, request.alert_id, for_update=True)
            if request.status not in TRANSITIONS.get(alert.status, frozenset()):
                raise FailedPrecondition(
                    f"an alert in {_status_name(alert.status)} cannot move to {_status_name(request.status)}",
                    reason="ILLEGAL_STATUS_TRANSITION",
                    domain=DOMAIN,
                    metadata={
                        "alert_id": alert.alert_id,
                        "from": _status_name(alert.status),
                        "to": _status_name(request.status),
                    },
                )
            subject = Subject("account", alert.account_id)
            now = self._now_us()
            sealed = await self._keyring.seal_text(
                conn, subject, request.reason, context=f"aml.alert-reason:{alert.alert_id}"
            )
            change = StatusChange(alert.status, request.status, sealed, caller.audit_identity, now)
            await repo.set_alert_status(conn, alert.alert_id, request.status, change)
            updated = await self._require_alert(conn, alert.alert_id)
            message = await self._alert_to_proto(conn, updated)
            await self._audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc=UPDATE_RPC,
                    decision=f"ALERT:{_status_name(alert.status)}->{_status_name(request.status)}",
                    subject=subject,
                    request_id=request.request_id,
                    input_digest=payload_digest(request),
                    rule_set_version=alert.rule_set_version,
                    details={"alert_id": alert.alert_id, "reason": request.reason},
                ),
            )
            return pb.UpdateAlertResponse(alert=message)

        return await self._idempotency.run(
            rpc=UPDATE_RPC,
            request_id=request.request_id,
            request=request,
            response_type=pb.UpdateAlertResponse,
            work=work,
        )

    # ------------------------------------------------------------------------------ cases
    def _case_to_proto(self, case: StoredCase) -> pb.Case:
        return pb.Case(
            case_id=case.case_id,
            title=case.title,
            status=case.status,
            alert_ids=list(case.alert_ids),
            account_ids=list(case.account_ids),
            create_time=us_to_timestamp(case.create_us),
            update_time=us_to_timestamp(case.update_us),
            total_amount=minor_to_money(case.total_minor, case.currency, self._digits(case.currency)),
        )

    async def ListCases(self, request: pb.ListCasesRequest, context: Any) -> pb.ListCasesResponse:
        scope = filter_scope(f"/{SERVICE}/ListCases", {"status": request.status})
        after = int(self._tokens.decode(request.page_token, scope=scope).get("after", 0)) if request.page_token else 0
        size = request.page_size or DEFAULT_PAGE_SIZE
        async with self._db.read() as conn:
            found = await repo.list_cases(conn, status=request.status, after_seq=after, limit=size + 1)
        page = found[:size]
        token = self._tokens.encode({"after": page[-1].seq}, scope=scope) if len(found) > size else ""
        return pb.ListCasesResponse(cases=[self._case_to_proto(c) for c in page], next_page_token=token)

    async def _require_case(self, conn: Any, case_id: str) -> StoredCase:
        case = await repo.get_case(conn, case_id)
        if case is None:
            raise NotFound("no such case", reason="CASE_NOT_FOUND", domain=DOMAIN, metadata={"case_id": case_id})
        return case

    async def GetCase(self, request: pb.GetCaseRequest, context: Any) -> pb.GetCaseResponse:
        async with self._db.read() as conn:
            case = await self._require_case(conn, request.case_id)
            alerts = [await self._alert_to_proto(conn, a) for a in await repo.alerts_of_case(conn, case.case_id)]
        return pb.GetCaseResponse(case=self._case_to_proto(case), alerts=alerts)

    # ------------------------------------------------------------------------------ history
    async def ListAccountTransactions(
        self, request: pb.ListAccountTransactionsRequest, context: Any
    ) -> pb.ListAccountTransactionsResponse:
        if not request.account_id:
            raise InvalidArgument(
                "account_id is required",
                reason="ACCOUNT_REQUIRED",
                domain=DOMAIN,
                violations=[FieldViolation("account_id", "required")],
            )
        window = request.window if request.HasField("window") else None
        start = _timestamp_us(window.start_time) if window and window.HasField("start_time") else None
        end = _timestamp_us(window.end_time) if window and window.HasField("end_time") else None
        scope = filter_scope(
            f"/{SERVICE}/ListAccountTransactions",
            {"account": request.account_id, "start": start, "end": end, "cp": request.counterparty_account_id},
        )
        after = int(self._tokens.decode(request.page_token, scope=scope).get("after", 0)) if request.page_token else 0
        size = request.page_size or DEFAULT_PAGE_SIZE
        async with self._db.read() as conn:
            rows = await repo.account_transactions(
                conn,
                request.account_id,
                start_us=start,
                end_us=end,
                counterparty_id=request.counterparty_account_id,
                after_seq=after,
                limit=size + 1,
            )
            page = rows[:size]
            out = []
            for row in page:
                name = ""
                if row.counterparty_name_sealed is not None:
                    name = await self._keyring.open_text(
                        conn,
                        Subject("account", row.source_account_id),
                        bytes(row.counterparty_name_sealed),
                        context=f"aml.counterparty:{row.transaction_id}",
                    )
                out.append(
                    pb.Transaction(
                        transaction_id=row.transaction_id,
                        source_account_id=row.source_account_id,
                        target_account_id=row.target_account_id,
                        amount=minor_to_money(row.amount_minor, row.currency, self._digits(row.currency)),
                        execute_time=us_to_timestamp(row.execute_time_us),
                        channel=row.channel,
                        origin_country_code=row.origin_country,
                        counterparty_country_code=row.counterparty_country,
                        counterparty_name=name,
                    )
                )
        token = self._tokens.encode({"after": int(page[-1].seq)}, scope=scope) if len(rows) > size else ""
        return pb.ListAccountTransactionsResponse(transactions=out, next_page_token=token)

    # ------------------------------------------------------------------------------ networks
    async def graph(self) -> TransactionGraph:
        """The transaction graph of the stored history (rebuilt when the history grew)."""
        async with self._graph_lock:
            async with self._db.read() as conn:
                last = await repo.last_transaction_seq(conn)
                if self._graph is not None and last == self._graph_seq:
                    return self._graph
                frame, last = await repo.history_frame(conn)
            currency = self._settings.default_currency
            # One currency per graph keeps totals meaningful (see TransactionGraph).
            frame = frame.filter(pl.col("currency") == currency)
            self._graph = await asyncio.to_thread(TransactionGraph, frame)
            self._graph_seq = last
            return self._graph

    def _case_facts(self, result: NetworkInvestigation, graph: TransactionGraph) -> dict[str, Any]:
        edges = sorted(result.edges, key=lambda e: -e.total_minor)
        path_ids = [t for p in result.money_paths for t in p.transaction_ids]
        wanted = list(dict.fromkeys([*path_ids, *(t for e in edges for t in e.transaction_ids)]))[:MAX_CASE_TRANSFERS]
        frame = pl.DataFrame(
            {
                "transaction_id": graph.tx_ids,
                "source_account_id": graph.account_ids.gather(graph.src),
                "target_account_id": graph.account_ids.gather(graph.dst),
                "amount_minor": graph.amount,
                "execute_time_us": graph.time_us,
            }
        ).filter(pl.col("transaction_id").is_in(wanted))
        order = {t: i for i, t in enumerate(wanted)}
        transfers = sorted(frame.to_dicts(), key=lambda r: order[r["transaction_id"]])
        return {
            "accounts": [
                {
                    "account_id": a.account_id,
                    "role": a.role.name,
                    "total_in_minor": a.total_in_minor,
                    "total_out_minor": a.total_out_minor,
                }
                for a in result.accounts
            ],
            "money_paths": [
                {
                    "account_ids": list(p.account_ids),
                    "amount_minor": p.amount_minor,
                    "transaction_ids": list(p.transaction_ids),
                }
                for p in result.money_paths[:20]
            ],
            "patterns": [{"pattern": p.pattern.name, "description": p.description} for p in result.patterns[:20]],
            "transfers": transfers,
            "first_time_us": min((e.first_time_us for e in result.edges), default=None),
            "last_time_us": max((e.last_time_us for e in result.edges), default=None),
        }

    async def InvestigateNetwork(
        self, request: pb.InvestigateNetworkRequest, context: Any
    ) -> pb.InvestigateNetworkResponse:
        seeds: list[str] | None = None
        alert: StoredAlert | None = None
        if request.alert_id:
            async with self._db.read() as conn:
                alert = await self._require_alert(conn, request.alert_id)
            seeds = list(dict.fromkeys([alert.account_id, *request.seed_account_ids]))
        bounds = investigation_request_from_proto(request, self._rules, seeds)
        if not bounds.max_hops or not bounds.max_accounts:
            bounds = replace(
                bounds,
                max_hops=bounds.max_hops or self._settings.investigation_max_hops,
                max_accounts=bounds.max_accounts or self._settings.investigation_max_accounts,
            )
        graph = await self.graph()
        result = await asyncio.to_thread(investigate, graph, bounds)
        facts = self._case_facts(result, graph)
        account_ids = [a.account_id for a in result.accounts]
        total = sum(e.total_minor for e in result.edges)
        seed_text = alert.alert_id if alert else ", ".join(bounds.seed_account_ids[:3])
        case_id = (alert.case_id if alert and alert.case_id else "") or (
            "CASE-" + hashlib.sha256(request.request_id.encode()).hexdigest()[:12].upper()
        )

        async def work(conn: Any) -> pb.InvestigateNetworkResponse:
            now = self._now_us()
            existing = await repo.get_case(conn, case_id)
            case = StoredCase(
                seq=0,
                case_id=case_id,
                title=f"Network of {len(account_ids)} accounts from {seed_text}",
                status=pb.CASE_STATUS_OPEN,
                account_ids=tuple(account_ids),
                total_minor=total,
                currency=result.currency,
                facts=facts,
                create_us=existing.create_us if existing else now,
                update_us=now,
            )
            await repo.upsert_case(conn, case)
            await repo.attach_alerts(conn, account_ids, case_id, now)
            receipt = await self._audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc=INVESTIGATE_RPC,
                    decision="CASE_UPDATED" if existing else "CASE_OPENED",
                    request_id=request.request_id,
                    input_digest=payload_digest(request),
                    engine=NETWORK_ENGINE,
                    engine_version=NETWORK_ENGINE_VERSION,
                    rule_set_version=self._rules.version,
                    details={"case_id": case_id, "accounts": len(account_ids), "seeds": list(bounds.seed_account_ids)},
                ),
            )
            provenance = common_pb2.Provenance(
                engine=NETWORK_ENGINE,
                engine_version=NETWORK_ENGINE_VERSION,
                rule_set_version=self._rules.version,
                validation_outcome=common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE,
                audit_record_id=receipt.record_id,
            )
            return investigation_to_proto(result, self._rules, case_id=case_id, provenance=provenance)

        return await self._idempotency.run(
            rpc=INVESTIGATE_RPC,
            request_id=request.request_id,
            request=request,
            response_type=pb.InvestigateNetworkResponse,
            work=work,
        )

    # ------------------------------------------------------------------------------ SAR
    async def DraftSuspiciousActivityReport(
        self, request: pb.DraftSuspiciousActivityReportRequest, context: Any
    ) -> pb.DraftSuspiciousActivityReportResponse:
        async with self._db.read() as conn:
            stored = await lookup(conn, rpc=SAR_RPC, request_id=request.request_id, digest=payload_digest(request))
            if stored is not None:
                # A retry: answer from the idempotency record without asking the model again.
                return await self._idempotency.run(
                    rpc=SAR_RPC,
                    request_id=request.request_id,
                    request=request,
                    response_type=pb.DraftSuspiciousActivityReportResponse,
                    work=self._no_replay,
                )
            case = await self._require_case(conn, request.case_id)
            alerts = await repo.alerts_of_case(conn, case.case_id)
        if self._pool is None:
            raise FailedPrecondition(
                "no LLM is configured on this server; a SAR draft cannot be written",
                reason="INFERENCE_NOT_CONFIGURED",
                domain=DOMAIN,
            )
        facts = case_facts(case, alerts)
        prompt = sar_prompt()
        caller = current_caller()
        remaining = context.time_remaining() if context is not None else None
        generated = await generate_structured(
            self._pool,
            SarNarrative,
            prompt.render({"facts": "\n".join(facts)}),
            prompt=prompt,
            time_remaining=remaining,
            caller=caller.principal,
            priority=Priority.INTERACTIVE,
        )
        tx_ids = [t["transaction_id"] for t in case.facts.get("transfers", [])]
        checked = check_draft(generated.value.narrative, facts, tx_ids, list(case.account_ids))
        outcome = ValidationOutcome.PASSED if checked.passed else ValidationOutcome.FAILED
        pb_outcome = common_pb2.VALIDATION_OUTCOME_PASSED if checked.passed else common_pb2.VALIDATION_OUTCOME_FAILED

        async def work(conn: Any) -> pb.DraftSuspiciousActivityReportResponse:
            receipt = await self._audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc=SAR_RPC,
                    decision="SAR_DRAFTED" if checked.passed else "SAR_DRAFT_REJECTED",
                    request_id=request.request_id,
                    input_digest=hashlib.sha256("\n".join(facts).encode()).hexdigest(),
                    engine=NETWORK_ENGINE,
                    engine_version=NETWORK_ENGINE_VERSION,
                    rule_set_version=self._rules.version,
                    model_id=f"{generated.served_by.group}/{generated.served_by.model}",
                    prompt_template_id=prompt.ref,
                    prompt_template_digest=prompt.digest,
                    validation_outcome=outcome,
                    llm_output=generated.raw_output,
                    details={
                        "case_id": case.case_id,
                        "unsupported": [(s.start, s.end, s.reason) for s in checked.unsupported],
                    },
                ),
            )
            draft = pb.SarDraft(
                case_id=case.case_id,
                narrative=checked.narrative,
                validation_outcome=pb_outcome,
                unsupported_spans=[
                    common_pb2.UnsupportedSpan(start=s.start, end=s.end, text=s.text, reason=s.reason)
                    for s in checked.unsupported
                ],
                claims=[pb.SarClaim(start=s, end=e, transaction_ids=[t]) for s, e, t in checked.claims],
                provenance=common_pb2.Provenance(
                    engine=NETWORK_ENGINE,
                    engine_version=NETWORK_ENGINE_VERSION,
                    rule_set_version=self._rules.version,
                    prompt_template_id=prompt.template_id,
                    prompt_template_version=str(prompt.version),
                    llm_model=f"{generated.served_by.group}/{generated.served_by.model}",
                    llm_endpoint=generated.served_by.endpoint_id,
                    validation_outcome=pb_outcome,
                    audit_record_id=receipt.record_id,
                ),
            )
            return pb.DraftSuspiciousActivityReportResponse(draft=draft)

        return await self._idempotency.run(
            rpc=SAR_RPC,
            request_id=request.request_id,
            request=request,
            response_type=pb.DraftSuspiciousActivityReportResponse,
            work=work,
        )

    @staticmethod
    async def _no_replay(conn: Any) -> pb.DraftSuspiciousActivityReportResponse:
        # Only reached if the stored record vanished between the look-up and the run (retention purge).
        raise FailedPrecondition(
            "the stored draft is gone; retry with a new request_id", reason="DRAFT_GONE", domain=DOMAIN
        )


async def build(ctx: AppContext) -> ServiceBinding:
    """The AMLService binding from the database, audit log, keyring, idempotency, page tokens and the LLM pool.

    The pool is optional: without it ``DraftSuspiciousActivityReport`` answers FAILED_PRECONDITION.
    """
    settings = section(ctx.settings, "aml", AmlSettings)
    db: Database = ctx.require("database")
    servicer = AmlServicer(
        db=db,
        audit=ctx.require("audit"),
        keyring=ctx.require("keyring"),
        idempotency=ctx.require("idempotency"),
        page_tokens=ctx.require("page_tokens"),
        rules=load_rule_set(settings.rules_file),
        settings=settings,
        clock=ctx.clock,
        pool=ctx.resources.get("inference"),
    )
    register_checkpoints(servicer.monitor, ctx.resources.get("metrics_registry"))
    return ServiceBinding(
        name="aml",
        full_name=SERVICE,
        servicer=servicer,
        add_to_server=pb_grpc.add_AMLServiceServicer_to_server,
        readiness=db.ping,
        # Shutdown waits for a state checkpoint in flight (nothing is lost without it; it saves a replay).
        close=servicer.monitor.aclose,
    )


__all__ = ["SERVICE", "AmlServicer", "build"]
