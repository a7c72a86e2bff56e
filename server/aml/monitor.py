"""Screen-and-commit: the unit of work of ``IngestTransactions`` and ``ScreenTransactions``.

One micro-batch is screened by the incremental engine against the shared history and committed in
one database transaction: the new transactions (with their decisions), the alerts (created or
extended, with evidence) and the audit records (last); the engine's state blob is checkpointed apart.
Only after the commit are the decisions released or the batch acknowledged. When anything fails the
in-memory state is restored from the last committed blob, so a retry screens the batch afresh.

Transaction ids make it idempotent: ids already in the history are not screened again; the stored
decision is returned for them.

The history is the source of truth; the state blob is a checkpoint of it. The blob records the last
history ``seq`` it absorbed (``covered_seq``, its watermark) and is written after ``checkpoint_every``
micro-batches and ``checkpoint_min_transactions`` transactions, **off the stream's critical path**: right
after the commit of the batch that makes it due, the state is copied (~2 ms for 16 MB; the engine
changes its arrays in place), and a background task serialises the copy in a worker thread (~36 ms),
writes it in parts of ``CHECKPOINT_PART_BYTES``, each in its own short transaction (on SQLite under the
monitor's lock, so a micro-batch waits for one part, 3-7 ms alone, not for the whole 16 MB commit,
150-240 ms with ``synchronous=FULL``), and publishes it with a small optimistic update of the state row
naming the parts (a replica that lost the race has its checkpoint refused, not its batch).
At most one checkpoint is in flight; a failed one is logged, counted (``checkpoint_failures``, exported
as a metric) and retried after the next micro-batch; :meth:`TransactionMonitor.aclose` waits for it.
A batch never waits for a checkpoint, and nothing depends on one being written: before each
micro-batch, inside the write transaction, a process reloads the blob when another process
checkpointed a newer one, then replays into its engine every stored transaction after what it has
absorbed (another replica's batches, or its own lost by a restart). The engine's contract (any split
into micro-batches gives identical decisions) makes the replay exact. Write transactions are
serialised (SQLite's write lock; the state row's ``FOR UPDATE`` on PostgreSQL), so history ``seq``
order is commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.ext.asyncio import AsyncConnection

from server.aml import repository as repo
from server.aml.repository import StoredAlert
from server.aml.rules import RuleSet
from server.aml.screening import ENGINE_NAME, ENGINE_VERSION, ScreeningEngine, ScreeningResult
from server.aml.state import ScreeningState
from server.audit.log import AuditLog
from server.audit.records import AuditEntry, AuditKind
from server.crypto.keyring import Keyring
from server.crypto.subjects import Subject
from server.runtime.clock import Clock, SystemClock
from server.runtime.errors import Aborted
from server.storage.database import Database

ALERT_STATUS_OPEN = 1
MAX_ALERT_TRANSACTIONS = 1_000  # transaction ids kept per alert (the most recent)
MAX_ALERT_HITS = 200  # rule hits kept as an alert's evidence (the most recent)
# Part size of a checkpoint: one part per transaction; a 512 KiB part commits in ~3 ms (p50) on SQLite
# with synchronous=FULL where the whole 16 MB blob took 100-300 ms, and a micro-batch waits for one part.
CHECKPOINT_PART_BYTES = 512 * 1024

_log = logging.getLogger(__name__)


def alert_id_for(alert_key: str) -> str:
    """Stable alert id of an engine ``alert_key``: every replica names the same alert the same way."""
    return "AL-" + hashlib.sha256(alert_key.encode()).hexdigest()[:16].upper()


@dataclass(frozen=True)
class BatchOutcome:
    """What one committed micro-batch decided.

    Attributes:
        result: The engine's result for the transactions that were new (in their input order).
        known: Stored decision and score of transactions already in the history (resent).
        alert_ids: Stored alert id per ``alert_key`` touched by this batch.
        inserted: New transactions stored.
        duplicates: Transactions of the batch that were already stored (or repeated within it).
        watermark_us: Latest execution time in the history after the commit.
        new_alerts: Alerts this batch created.
        covered_seq: Last history ``seq`` the engine has absorbed after this batch.
        audit_record_ids: The audit records written with the batch.
    """

    result: ScreeningResult
    known: dict[str, tuple[int, float]]
    alert_ids: dict[str, str]
    inserted: int
    duplicates: int
    watermark_us: int
    new_alerts: int = 0
    covered_seq: int = 0
    audit_record_ids: list[str] = field(default_factory=list)


class _Spans:
    """Wall time per named phase (perf_counter marks), for the benchmark's breakdown."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.ms: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.ms[phase] = self.ms.get(phase, 0.0) + (now - self._last) * 1_000
        self._last = now


class TransactionMonitor:
    """The process's incremental engine over the shared history (one micro-batch at a time).

    Args:
        db: The database.
        audit: The audit log.
        keyring: Envelope encryption (counterparty names).
        rules: The rule set.
        clock: Time source.
    """

    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        keyring: Keyring,
        rules: RuleSet,
        *,
        clock: Clock | None = None,
        checkpoint_every: int = 1,
        checkpoint_min_transactions: int = 0,
    ) -> None:
        self._db = db
        self._audit = audit
        self._keyring = keyring
        self.rules = rules
        self._clock = clock or SystemClock()
        self._lock = asyncio.Lock()
        self._engine = ScreeningEngine(rules)
        self._version = 0
        self._blob: bytes | None = None
        self._blob_covered = 0
        self._covered = 0
        self._checkpoint_every = max(1, checkpoint_every)
        self._checkpoint_min_transactions = max(0, checkpoint_min_transactions)
        self._since_checkpoint = 0
        self._tx_since_checkpoint = 0
        self._watermark_us = 0
        self.replayed = 0
        """Transactions replayed from the history into the engine so far (restarts, other replicas)."""
        self.batches = 0
        """Micro-batches committed by this process."""
        self.timings_ms: dict[str, float] = {}
        """Wall milliseconds per phase of :meth:`process`, summed over the committed micro-batches."""
        self._spans = _Spans()
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._checkpoint_requested: str | None = None
        self.checkpoints_written = 0
        """State checkpoints this process published."""
        self.checkpoint_failures = 0
        """Background checkpoints that failed (logged; the next micro-batch starts another)."""
        self.last_checkpoint_error = ""
        """The last failure's message ("" when none yet)."""
        self.last_checkpoint_seconds = 0.0
        """Wall seconds of the last published checkpoint (serialise, write parts, publish)."""
        self.last_checkpoint_ms: dict[str, float] = {}
        """The last published checkpoint's wall milliseconds by step (``serialise``, ``parts``, ``publish``)
        and its size (``bytes``, ``parts_written``)."""

    @property
    def checkpoint_in_flight(self) -> bool:
        """Whether a background checkpoint is being written now."""
        return self._checkpoint_task is not None and not self._checkpoint_task.done()

    def request_checkpoint(self, *, inline: bool = False) -> None:
        """Checkpoint after the next committed micro-batch whatever the cadence (before a planned restart, to
        shorten its replay; the benchmark uses it to place a checkpoint inside a latency phase).

        Args:
            inline: Write it the way it was written before issue #10 instead: serialised and committed as one
                blob in one transaction while the micro-batch's caller and every later micro-batch wait
                (the benchmark's baseline in the same run; never used by the service).
        """
        self._checkpoint_requested = "inline" if inline else "background"

    async def wait_checkpoint(self) -> None:
        """Wait until no checkpoint is in flight (its failure is already logged and counted, not raised)."""
        while (task := self._checkpoint_task) is not None and not task.done():
            await asyncio.shield(task)

    async def aclose(self) -> None:
        """Shut down: wait for an in-flight checkpoint (the history alone would be enough; this saves a replay)."""
        await self.wait_checkpoint()

    @property
    def state_version(self) -> int:
        """Version of the state this process last committed or loaded."""
        return self._version

    def _now_us(self) -> int:
        return int(self._clock.now().timestamp() * 1_000_000)

    def _restore(self) -> None:
        """Back to the last committed state (after a failed commit)."""
        state = ScreeningState.from_bytes(self._blob, rule_set_version=self.rules.version) if self._blob else None
        self._engine = ScreeningEngine(self.rules, state)
        self._covered = self._blob_covered if self._blob else 0

    async def _sync(self, conn: AsyncConnection) -> None:
        """Reload the state when another replica (or an earlier process) advanced it."""
        # The version first (and the row lock on PostgreSQL); the blob (megabytes) only when it changed.
        current, last_seq = await repo.sync_point(conn)
        if current is None:
            if self._version != 0:
                self._version, self._blob, self._blob_covered = 0, None, 0
                self._restore()
        elif current[0] != self._version and (stored := await repo.load_state(conn)) is not None:
            state = await asyncio.to_thread(ScreeningState.from_bytes, stored.blob, rule_set_version=self.rules.version)
            self._engine = ScreeningEngine(self.rules, state)
            self._version, self._blob, self._blob_covered = stored.version, stored.blob, stored.covered_seq
            self._covered = stored.covered_seq
        if last_seq > self._covered:
            missing, last = await repo.history_frame(conn, after_seq=self._covered)
            await asyncio.to_thread(self._engine.screen, missing)
            self.replayed += missing.height
            self._covered = last

    async def process(
        self,
        frame: pl.DataFrame,
        names: Sequence[str] | None,
        *,
        rpc: str,
        request_id: str = "",
        caller: str = "",
    ) -> BatchOutcome:
        """Screen and commit one micro-batch (see the module docstring).

        Args:
            frame: The batch as a screening frame, in arrival order.
            names: Counterparty name per row ("" when none), stored sealed.
            rpc: The RPC on whose behalf (audit).
            request_id: The request id (audit).
            caller: Audit identity; empty takes the RPC's caller.

        Raises:
            Aborted: another writer changed the state under us (retry).
            InvalidArgument: the engine refused the batch (naming the field).
        """
        async with self._lock:
            self._spans = _Spans()
            try:
                async with self._db.transaction() as conn:
                    outcome = await self._process(conn, frame, names, rpc=rpc, request_id=request_id, caller=caller)
            except BaseException:
                self._restore()
                raise
            self._spans.mark("commit")
            self.batches += 1
            if outcome.inserted:
                self._since_checkpoint += 1
                self._tx_since_checkpoint += outcome.inserted
            self._covered = outcome.covered_seq
            self._watermark_us = outcome.watermark_us
            if self._checkpoint_requested == "inline" and not self.checkpoint_in_flight:
                self._checkpoint_requested = None
                await self._checkpoint_inline()
            else:
                self._maybe_checkpoint()
            self._spans.mark("checkpoint")
            for phase, ms in self._spans.ms.items():
                self.timings_ms[phase] = self.timings_ms.get(phase, 0.0) + ms
            return outcome

    def _maybe_checkpoint(self) -> None:
        """Start a background checkpoint of the state as committed now, when one is due and none is in flight.

        Called under the lock right after a commit: the copy taken here is exactly the engine after
        ``self._covered`` (the checkpoint's watermark), and no micro-batch can change the engine meanwhile.
        """
        if self.checkpoint_in_flight or self._since_checkpoint == 0:
            return
        if not self._checkpoint_requested and (
            self._since_checkpoint < self._checkpoint_every
            or self._tx_since_checkpoint < self._checkpoint_min_transactions
        ):
            return
        self._checkpoint_requested = None
        snapshot = self._engine.state.snapshot()
        self._checkpoint_task = asyncio.create_task(
            self._checkpoint(
                snapshot,
                covered=self._covered,
                base_version=self._version,
                batches=self._since_checkpoint,
                transactions=self._tx_since_checkpoint,
            ),
            name="aml-state-checkpoint",
        )

    async def _checkpoint_inline(self) -> None:
        """The pre-#10 checkpoint (one blob, one transaction, the stream waiting); caller holds the lock."""
        began = time.perf_counter()
        try:
            blob = await asyncio.to_thread(self._engine.state.to_bytes)
            serialised = time.perf_counter()
            async with self._db.transaction() as conn:
                if not await repo.save_state(
                    conn,
                    expected_version=self._version,
                    blob=blob,
                    covered_seq=self._covered,
                    rule_set_version=self.rules.version,
                    now_us=self._now_us(),
                ):
                    raise Aborted("screening state changed concurrently", reason="STATE_CONFLICT", domain="aml.fintech")
        except Exception as exc:  # reported and counted like a background checkpoint
            self.checkpoint_failures += 1
            self.last_checkpoint_error = f"{type(exc).__name__}: {exc}"
            _log.error("AML state checkpoint (inline) failed: %s", self.last_checkpoint_error, exc_info=exc)
            return
        done = time.perf_counter()
        self._version += 1
        self._blob, self._blob_covered = blob, self._covered
        self._since_checkpoint = self._tx_since_checkpoint = 0
        self.checkpoints_written += 1
        self.last_checkpoint_seconds = done - began
        self.last_checkpoint_ms = {
            "serialise": round((serialised - began) * 1_000, 1),
            "commit_one_blob": round((done - serialised) * 1_000, 1),
            "bytes": float(len(blob)),
        }

    async def _checkpoint(
        self, snapshot: ScreeningState, *, covered: int, base_version: int, batches: int, transactions: int
    ) -> None:
        """Serialise ``snapshot``, write it part by part, publish it (never raises: failures are counted)."""
        began = time.perf_counter()
        version = base_version + 1
        generation = f"{version}-{uuid.uuid4().hex}"
        try:
            blob = await asyncio.to_thread(snapshot.to_bytes)
            serialised = time.perf_counter()
            view = memoryview(blob)
            parts = max(1, -(-len(blob) // CHECKPOINT_PART_BYTES))
            for part in range(parts):
                data = bytes(view[part * CHECKPOINT_PART_BYTES : (part + 1) * CHECKPOINT_PART_BYTES])
                async with self._part_guard(), self._db.transaction() as conn:
                    await repo.insert_state_chunk(conn, generation=generation, version=version, part=part, data=data)
            written = time.perf_counter()
            # Published and adopted under the lock: a micro-batch's sync never sees our new version before
            # ``self._version`` names it (it would reload the blob it already has).
            async with self._lock:
                async with self._db.transaction() as conn:
                    current = await repo.state_version(conn, for_update=True)
                    stored = current[0] if current else 0
                    if stored != base_version:
                        raise Aborted(
                            f"state checkpoint {version} superseded: the stored state is at version {stored}",
                            reason="STATE_CONFLICT",
                            domain="aml.fintech",
                        )
                    if await repo.count_state_chunks(conn, generation) != parts:
                        raise RuntimeError(f"state checkpoint {generation}: parts missing before publishing")
                    await repo.save_state(
                        conn,
                        expected_version=base_version,
                        blob=repo.chunk_manifest(generation, parts, blob),
                        covered_seq=covered,
                        rule_set_version=self.rules.version,
                        now_us=self._now_us(),
                    )
                # Published: a restore goes back to this state, and the cadence counts again from it.
                self._version, self._blob, self._blob_covered = version, blob, covered
                self._since_checkpoint = max(0, self._since_checkpoint - batches)
                self._tx_since_checkpoint = max(0, self._tx_since_checkpoint - transactions)
            self.checkpoints_written += 1
            done = time.perf_counter()
            self.last_checkpoint_seconds = done - began
            self.last_checkpoint_ms = {
                "serialise": round((serialised - began) * 1_000, 1),
                "parts": round((written - serialised) * 1_000, 1),
                "publish": round((done - written) * 1_000, 1),
                "bytes": float(len(blob)),
                "parts_written": float(parts),
            }
        except Exception as exc:  # reported and counted, never raised: the next micro-batch retries
            self.checkpoint_failures += 1
            self.last_checkpoint_error = f"{type(exc).__name__}: {exc}"
            _log.error(
                "AML state checkpoint %s (watermark seq %d) failed; retried after the next micro-batch: %s",
                generation,
                covered,
                self.last_checkpoint_error,
                exc_info=exc,
            )
            return
        try:
            await self._collect_stale_chunks(version, generation)
        except Exception as exc:  # the parts stay; the next published checkpoint collects them
            _log.warning("AML state checkpoint %s: deleting superseded parts failed: %s", generation, exc)

    def _part_guard(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """What a part's transaction holds besides its own: the monitor's lock on SQLite, nothing elsewhere.

        SQLite has one writer: a part would make the next micro-batch poll for the write lock (busy
        handler sleeps of 1-25 ms); under the monitor's FIFO lock a micro-batch and a part alternate
        instead, and a batch waits for at most one part. On PostgreSQL parts go to their own table
        and lock nothing the stream needs.
        """
        return self._lock if self._db.dialect == "sqlite" else contextlib.nullcontext()

    async def _collect_stale_chunks(self, version: int, generation: str) -> None:
        """Delete parts of superseded or abandoned checkpoints, one part per transaction."""
        async with self._db.read() as conn:
            stale = await repo.stale_state_chunks(conn, published_version=version, published_generation=generation)
        for stale_generation, part in stale:
            async with self._part_guard(), self._db.transaction() as conn:
                await repo.delete_state_chunk(conn, stale_generation, part)

    async def _process(
        self,
        conn: AsyncConnection,
        frame: pl.DataFrame,
        names: Sequence[str] | None,
        *,
        rpc: str,
        request_id: str,
        caller: str,
    ) -> BatchOutcome:
        spans = self._spans
        await self._sync(conn)
        spans.mark("sync")
        ids = frame["transaction_id"].to_list()
        known = await repo.known_transactions(conn, ids)
        spans.mark("dedupe")
        if not known and len(set(ids)) == len(ids):
            # The usual case: nothing resent, nothing repeated (no frame operations on the hot path).
            fresh, rows_kept = frame, list(range(frame.height))
        else:
            first = frame.with_row_index("_row").unique("transaction_id", keep="first", maintain_order=True)
            fresh = first.filter(~pl.col("transaction_id").is_in(list(known))) if known else first
            rows_kept = fresh["_row"].to_list()
            fresh = fresh.drop("_row")
        result = await asyncio.to_thread(self._engine.screen, fresh)
        spans.mark("screen")
        now = self._now_us()
        if fresh.height == 0:
            watermark = await repo.watermark_us(conn)
            return BatchOutcome(result, known, {}, 0, frame.height, watermark, covered_seq=self._covered)
        await self._store_transactions(conn, fresh, [names[i] for i in rows_kept] if names else None, result, now)
        spans.mark("store_transactions")
        alert_ids, entries, new_alerts = await self._store_alerts(
            conn, result, now, rpc=rpc, request_id=request_id, caller=caller
        )
        spans.mark("store_alerts")
        covered = await repo.last_transaction_seq(conn)
        counts = np.bincount(result.decisions["decision"].to_numpy().astype(np.int64))
        summary = {str(d): int(n) for d, n in enumerate(counts.tolist()) if n}
        entries.insert(
            0,
            AuditEntry(
                kind=AuditKind.DECISION,
                rpc=rpc,
                decision="SCREENED",
                request_id=request_id,
                caller=caller,
                engine=ENGINE_NAME,
                engine_version=ENGINE_VERSION,
                rule_set_version=result.rule_set_version,
                input_digest=hashlib.sha256("\n".join(fresh["transaction_id"].to_list()).encode()).hexdigest(),
                # One record per micro-batch (not per transaction): the batch is named by its first and
                # last transaction and its history position; each alert it raised has its own record too.
                details={
                    "transactions": fresh.height,
                    "first_transaction_id": str(fresh["transaction_id"][0]),
                    "last_transaction_id": str(fresh["transaction_id"][-1]),
                    "decisions": summary,
                    "history_seq": covered,
                    "alert_ids": sorted(set(alert_ids.values())),
                    "new_alerts": new_alerts,
                },
            ),
        )
        watermark = max(self._watermark_us, int(fresh["execute_time_us"].max()))  # type: ignore[arg-type]
        # append_bulk: the same chained records as append_batch, sealed and inserted in bulk.
        receipts = await self._audit.append_bulk(conn, entries)
        spans.mark("audit")
        return BatchOutcome(
            result=result,
            known=known,
            alert_ids=alert_ids,
            inserted=fresh.height,
            duplicates=frame.height - fresh.height,
            watermark_us=watermark,
            new_alerts=new_alerts,
            covered_seq=covered,
            audit_record_ids=[r.record_id for r in receipts],
        )

    async def _store_transactions(
        self,
        conn: AsyncConnection,
        fresh: pl.DataFrame,
        names: Sequence[str] | None,
        result: ScreeningResult,
        now: int,
    ) -> None:
        decisions = result.decisions
        sealed: list[bytes | None] = [None] * fresh.height
        if names and any(names):
            # One seal_many pass (data keys loaded or created in a few statements), not a round trip per name.
            at = [i for i, name in enumerate(names) if name]
            tx_ids = fresh["transaction_id"].to_list()
            sources = fresh["source_account_id"].to_list()
            items = [(Subject("account", sources[i]), names[i].encode(), f"aml.counterparty:{tx_ids[i]}") for i in at]
            for i, value in zip(at, await self._keyring.seal_many(conn, items), strict=True):
                sealed[i] = value
        # Column-wise, straight to the driver in one executemany (no per-row dicts).
        height = fresh.height
        columns: dict[str, list[Any]] = {name: fresh[name].to_list() for name in fresh.columns}
        columns["counterparty_name_sealed"] = sealed
        columns["decision"] = decisions["decision"].to_list()
        columns["score"] = decisions["score"].to_list()
        columns["rule_set_version"] = [result.rule_set_version] * height
        columns["stored_us"] = [now] * height
        await repo.insert_transaction_columns(conn, columns)

    async def _store_alerts(
        self, conn: AsyncConnection, result: ScreeningResult, now: int, *, rpc: str, request_id: str, caller: str
    ) -> tuple[dict[str, str], list[AuditEntry], int]:
        if result.alerts.height == 0:
            return {}, [], 0
        hits_by_account: dict[str, list[dict[str, Any]]] = {}
        for hit in result.hits.iter_rows(named=True):
            hits_by_account.setdefault(hit["subject_account_id"], []).append(
                {
                    "transaction_id": hit["transaction_id"],
                    "rule_id": hit["rule_id"],
                    "reason_code": hit["reason_code"],
                    "score_contribution": hit["score_contribution"],
                    "window_start_us": hit["window_start_us"],
                    "window_end_us": hit["window_end_us"],
                    "evidence_transaction_ids": list(hit["evidence_transaction_ids"]),
                    "evidence_total_minor": hit["evidence_total_minor"],
                    "currency": hit["currency"],
                    "summary": hit["summary"],
                }
            )
        rows = list(result.alerts.iter_rows(named=True))
        existing = await repo.alerts_by_key(conn, [r["alert_key"] for r in rows])
        alert_ids: dict[str, str] = {}
        entries: list[AuditEntry] = []
        new_alerts = 0
        inserts: list[StoredAlert] = []
        updates: list[StoredAlert] = []
        for row in rows:
            key = row["alert_key"]
            tx_set = set(row["transaction_ids"])
            hits = [h for h in hits_by_account.get(row["account_id"], []) if h["transaction_id"] in tx_set]
            rules = {r.lower() for r in row["reason_codes"]}
            old = existing.get(key)
            if old is None:
                alert = StoredAlert(
                    seq=0,
                    alert_id=alert_id_for(key),
                    alert_key=key,
                    account_id=row["account_id"],
                    status=ALERT_STATUS_OPEN,
                    score=round(float(row["score"]), 6),
                    rules=tuple(sorted(rules)),
                    hits=tuple(hits[-MAX_ALERT_HITS:]),
                    transaction_ids=tuple(row["transaction_ids"][-MAX_ALERT_TRANSACTIONS:]),
                    first_time_us=int(row["first_time_us"]),
                    last_time_us=int(row["last_time_us"]),
                    rule_set_version=result.rule_set_version,
                    case_id="",
                    create_us=now,
                    update_us=now,
                )
                inserts.append(alert)
                decision = "ALERT_RAISED"
                new_alerts += 1
            else:
                txs = list(dict.fromkeys([*old.transaction_ids, *row["transaction_ids"]]))
                alert = StoredAlert(
                    **{
                        **old.__dict__,
                        "score": round(old.score + float(row["score"]), 6),
                        "rules": tuple(sorted(set(old.rules) | rules)),
                        "hits": tuple([*old.hits, *hits][-MAX_ALERT_HITS:]),
                        "transaction_ids": tuple(txs[-MAX_ALERT_TRANSACTIONS:]),
                        "first_time_us": min(old.first_time_us, int(row["first_time_us"])),
                        "last_time_us": max(old.last_time_us, int(row["last_time_us"])),
                        "rule_set_version": result.rule_set_version,
                        "update_us": now,
                    }
                )
                updates.append(alert)
                # Not an ALERT* decision: the daily figures count alerts raised, not evidence added.
                decision = "EVIDENCE_ADDED"
            alert_ids[key] = alert.alert_id
            entries.append(
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc=rpc,
                    decision=decision,
                    subject=Subject("account", alert.account_id),
                    request_id=request_id,
                    caller=caller,
                    engine=ENGINE_NAME,
                    engine_version=ENGINE_VERSION,
                    rule_set_version=result.rule_set_version,
                    details={
                        "alert_id": alert.alert_id,
                        "score": alert.score,
                        "rules": sorted(rules),
                        "transaction_ids": json.dumps(row["transaction_ids"][-50:]),
                    },
                )
            )
        await repo.insert_alerts(conn, inserts)
        await repo.replace_alerts_evidence(conn, updates)
        return alert_ids, entries, new_alerts
