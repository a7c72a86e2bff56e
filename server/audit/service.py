"""The ``fintech.audit.v1.AuditService`` servicer: converts between protobuf and the audit log.

Authorisation (only ``auditor`` and ``sre``) is the role policy's job in the interceptor chain; this
module implements the RPCs. Reading a record's decrypted payload is itself audited (``DATA_ACCESS``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from fintech.audit.v1 import audit_service_pb2 as pb
from fintech.audit.v1 import audit_service_pb2_grpc as pb_grpc
from fintech.common.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from server.audit.chain import VerifyReport
from server.audit.checkpoints import Checkpoint, read_checkpoints
from server.audit.log import AuditFilter, AuditLog, VerifyProgress
from server.audit.records import AuditEntry, AuditKind, AuditRecord
from server.audit.settings import AuditSettings
from server.crypto.keyfiles import read_public_key
from server.crypto.keyring import SubjectErased
from server.runtime.context import AppContext, ServiceBinding
from server.runtime.errors import FailedPrecondition
from server.storage.database import Database
from server.storage.page_tokens import PageTokenCodec, filter_scope
from server.storage.resources import resolve, section

SERVICE = "fintech.audit.v1.AuditService"
DEFAULT_PAGE_SIZE = 50
_GET_RPC = f"/{SERVICE}/GetAuditRecord"
_LIST_RPC = f"/{SERVICE}/ListAuditRecords"


def _timestamp_us(ts: Timestamp) -> int:
    return int(ts.seconds) * 1_000_000 + int(ts.nanos) // 1000


def record_to_proto(
    record: AuditRecord, *, payload_state: int = pb.PAYLOAD_STATE_OMITTED, opened: dict[str, Any] | None = None
) -> pb.AuditRecord:
    """An :class:`AuditRecord` as its protobuf message."""
    message = pb.AuditRecord(
        record_id=record.record_id,
        sequence_number=record.seq,
        kind=_kind(record.kind),
        request_id=record.request_id,
        caller=record.caller,
        rpc=record.rpc,
        subject_type=record.subject_type,
        subject_id=record.subject_id,
        input_digest=record.input_digest,
        engine=record.engine,
        engine_version=record.engine_version,
        rule_set_version=record.rule_set_version,
        model_id=record.model_id,
        prompt_template_id=record.prompt_template_id,
        prompt_template_digest=record.prompt_template_digest,
        validation_outcome=_outcome(record.validation_outcome),
        decision=record.decision,
        trace_id=record.trace_id,
        previous_hash=record.prev_hash,
        record_hash=record.record_hash,
        payload_state=payload_state,
    )
    message.record_time.FromMicroseconds(record.time_us)
    if opened is not None:
        message.raw_llm_output = str(opened.get("llm_output", ""))
        message.inputs_json = json.dumps(opened.get("inputs", {}), sort_keys=True)
        message.details_json = json.dumps(opened.get("details", {}), sort_keys=True)
    return message


def _kind(kind: str) -> Any:
    return pb.AuditRecordKind.Value(f"AUDIT_RECORD_KIND_{kind}") if kind else pb.AUDIT_RECORD_KIND_UNSPECIFIED


def _outcome(outcome: str) -> Any:
    if not outcome:
        return common_pb2.VALIDATION_OUTCOME_UNSPECIFIED
    return common_pb2.ValidationOutcome.Value(f"VALIDATION_OUTCOME_{outcome}")


def report_to_proto(report: VerifyReport) -> pb.VerifyAuditChainResult:
    """A :class:`VerifyReport` as its protobuf message."""
    return pb.VerifyAuditChainResult(
        ok=report.ok,
        problem=pb.ChainProblem.Value(f"CHAIN_PROBLEM_{report.problem.value}"),
        first_bad_sequence_number=report.first_bad_seq,
        first_bad_record_id=report.first_bad_record_id,
        detail=report.detail,
        checkpoints_checked=report.checkpoints_checked,
        last_sequence_number=report.last_seq,
        last_hash=report.last_hash,
    )


class AuditServicer(pb_grpc.AuditServiceServicer):
    """The three read RPCs of the audit trail."""

    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        page_tokens: PageTokenCodec,
        checkpoints: Callable[[], Sequence[Checkpoint]],
        *,
        verify_batch_size: int = 5000,
    ) -> None:
        self._db = db
        self._audit = audit
        self._tokens = page_tokens
        self._checkpoints = checkpoints
        self._verify_batch_size = verify_batch_size

    async def ListAuditRecords(self, request: pb.ListAuditRecordsRequest, context: Any) -> pb.ListAuditRecordsResponse:
        query = AuditFilter(
            start_us=_timestamp_us(request.time_range.start_time)
            if request.time_range.HasField("start_time")
            else None,
            end_us=_timestamp_us(request.time_range.end_time) if request.time_range.HasField("end_time") else None,
            subject_type=request.subject_type,
            subject_id=request.subject_id,
            rpc=request.rpc,
            caller=request.caller,
            decision=request.decision,
            kind=pb.AuditRecordKind.Name(request.kind).removeprefix("AUDIT_RECORD_KIND_") if request.kind else "",
        )
        scope = filter_scope(_LIST_RPC, query.__dict__)
        after = 0
        if request.page_token:
            position = self._tokens.decode(request.page_token, scope=scope)
            after = int(position.get("after", 0))
        size = request.page_size or DEFAULT_PAGE_SIZE
        async with self._db.read() as conn:
            records = await self._audit.list_records(conn, query, limit=size + 1, after_seq=after)
        page = records[:size]
        token = self._tokens.encode({"after": page[-1].seq}, scope=scope) if len(records) > size else ""
        return pb.ListAuditRecordsResponse(audit_records=[record_to_proto(r) for r in page], next_page_token=token)

    async def GetAuditRecord(self, request: pb.GetAuditRecordRequest, context: Any) -> pb.GetAuditRecordResponse:
        async with self._db.transaction() as conn:
            record = await self._audit.get(conn, request.record_id)
            opened: dict[str, Any] | None = None
            if not record.payload:
                state = pb.PAYLOAD_STATE_EMPTY
            else:
                try:
                    opened = dict(await self._audit.open_payload(conn, record))
                    state = pb.PAYLOAD_STATE_AVAILABLE
                except SubjectErased:
                    state = pb.PAYLOAD_STATE_ERASED
            if opened is not None:
                await self._audit.append(
                    conn,
                    AuditEntry(
                        kind=AuditKind.DATA_ACCESS,
                        rpc=_GET_RPC,
                        decision="READ_PAYLOAD",
                        details={
                            "record_id": record.record_id,
                            "subject": f"{record.subject_type}/{record.subject_id}",
                        },
                    ),
                )
        return pb.GetAuditRecordResponse(audit_record=record_to_proto(record, payload_state=state, opened=opened))

    async def VerifyAuditChain(
        self, request: pb.VerifyAuditChainRequest, context: Any
    ) -> AsyncIterator[pb.VerifyAuditChainResponse]:
        checkpoints = self._checkpoints()
        total = 0
        async for event in self._audit.verify(
            self._db,
            start_seq=request.start_sequence_number or 1,
            end_seq=request.end_sequence_number,
            checkpoints=checkpoints,
            batch_size=self._verify_batch_size,
        ):
            if isinstance(event, VerifyProgress):
                total = event.total
                yield pb.VerifyAuditChainResponse(checked_count=event.checked, total_count=event.total)
            else:
                yield pb.VerifyAuditChainResponse(
                    checked_count=event.checked, total_count=total, result=report_to_proto(event)
                )


def checkpoint_loader(checkpoint_file: Path, public_key_file: Path) -> Callable[[], list[Checkpoint]]:
    """Reads the checkpoints on each call; a missing public key is reported, not skipped."""

    def load() -> list[Checkpoint]:
        if not checkpoint_file.exists():
            return []
        if not public_key_file.exists():
            raise FailedPrecondition(
                "audit checkpoint public key is not configured; cannot check checkpoints",
                reason="CHECKPOINT_KEY_MISSING",
                domain="audit.fintech",
            )
        return read_checkpoints(checkpoint_file, read_public_key(public_key_file))

    return load


async def build(ctx: AppContext) -> ServiceBinding:
    """The AuditService binding, from ``resources["database"]``, ``["audit"]`` and ``["page_tokens"]``."""
    db: Database = ctx.require("database")
    settings = section(ctx.settings, "audit", AuditSettings)
    data_dir = Path(ctx.settings.data_dir)
    servicer = AuditServicer(
        db,
        ctx.require("audit"),
        ctx.require("page_tokens"),
        checkpoint_loader(
            resolve(data_dir, settings.checkpoint_file), resolve(data_dir, settings.checkpoint_public_key_file)
        ),
        verify_batch_size=settings.verify_batch_size,
    )
    return ServiceBinding(
        name="audit",
        full_name=SERVICE,
        servicer=servicer,
        add_to_server=pb_grpc.add_AuditServiceServicer_to_server,
        readiness=db.ping,
    )
