"""Audit trail throughput: audited appends against plain inserts of the same rows, and verification rate.

Both sides run in the same process on the same database file, in transactions of the same size, in
alternating rounds (the median round is reported, so a change of machine load hits both sides alike):
* baseline: the same decision rows inserted into a plain table with the same columns and indexes (no
  encryption, no hash chain, no head lock);
* audited: ``AuditLog.append_batch`` (payload sealed with AES-256-GCM under the subject's data key,
  SHA-256 chain, chain-head row advanced) in the caller's transaction (group commit).
Then the whole chain is verified in one pass (records/s, against a plain read of the same rows in the same
batches, and CPU seconds per 100,000 records). Goals: ratio >= 0.5 on SQLite, >= 50,000 records/s.

Usage: ``python bench/audit.py [--records 20000] [--batch 100] [--database-url URL]``; writes
``bench/results/audit.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.audit.log import AuditLog, VerifyProgress
from server.audit.records import AuditEntry, AuditKind, ValidationOutcome
from server.audit.tables import audit_records
from server.crypto.keyring import Keyring, MasterKeys
from server.crypto.subjects import Subject
from server.storage.database import Database, create_database
from server.storage.migrations import upgrade
from server.storage.settings import DatabaseSettings

RESULTS = Path(__file__).resolve().parent / "results" / "audit.json"

# The baseline table has the audit table's columns, unique record id and search indexes, so that the
# ratio measures what auditing adds (encryption, hashing, chaining, serialisation), not indexing.
plain = sa.Table(
    "bench_plain_decisions",
    sa.MetaData(),
    *[sa.Column(c.name, c.type, primary_key=c.primary_key, unique=c.unique) for c in audit_records.columns],
    sa.Index("ix_bench_time", "time_us"),
    sa.Index("ix_bench_subject", "subject_type", "subject_id"),
    sa.Index("ix_bench_rpc", "rpc"),
    sa.Index("ix_bench_caller", "caller"),
    sa.Index("ix_bench_decision", "decision"),
)


def entries(start: int, count: int) -> list[AuditEntry]:
    return [
        AuditEntry(
            kind=AuditKind.DECISION,
            rpc="/fintech.risk.v1.RiskService/AssessLoanApplications",
            decision="APPROVE",
            subject=Subject("applicant", f"app-{(start + i) % 500}"),
            request_id=f"req-{start + i}",
            caller="spiffe://fintech.local/core-banking",
            input_digest=f"{start + i:064x}",
            engine="risk.scorecard",
            engine_version="1.4.0",
            rule_set_version="rs-2026-11",
            model_id="sha256:5f1c",
            prompt_template_id="explain@3",
            prompt_template_digest="c" * 64,
            validation_outcome=ValidationOutcome.PASSED,
            trace_id=f"{start + i:032x}",
            llm_output="The application was approved because the debt-to-income ratio is 0.21 and no arrears exist.",
            inputs={"income": 52000 + i, "debt": 11000, "term_months": 60},
        )
        for i in range(count)
    ]


_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def plain_row(entry: AuditEntry, seq: int) -> dict[str, Any]:
    # The same serialisation the audit log uses, without encryption, hashing or chaining.
    payload = _encode({"llm_output": entry.llm_output, "inputs": entry.inputs, "details": {}}).encode()
    assert entry.subject is not None
    return {
        "seq": seq,
        "record_id": os.urandom(16).hex(),  # random ids like the audit log's
        "time_us": int(time.time() * 1e6),
        "kind": entry.kind.value,
        "request_id": entry.request_id,
        "caller": entry.caller,
        "rpc": entry.rpc,
        "subject_type": entry.subject.type,
        "subject_id": entry.subject.id,
        "input_digest": entry.input_digest,
        "engine": entry.engine,
        "engine_version": entry.engine_version,
        "rule_set_version": entry.rule_set_version,
        "model_id": entry.model_id,
        "prompt_template_id": entry.prompt_template_id,
        "prompt_template_digest": entry.prompt_template_digest,
        "validation_outcome": entry.validation_outcome.value,
        "decision": entry.decision,
        "trace_id": entry.trace_id,
        "payload": payload,
        "prev_hash": "",
        "record_hash": "",
    }


async def run_plain(db: Database, total: int, batch: int) -> float:
    start = time.perf_counter()
    for offset in range(0, total, batch):
        batch_entries = entries(offset, min(batch, total - offset))
        async with db.transaction() as conn:
            await conn.execute(plain.insert(), [plain_row(e, offset + i + 1) for i, e in enumerate(batch_entries)])
    return total / (time.perf_counter() - start)


async def run_audited(db: Database, audit: AuditLog, total: int, batch: int) -> float:
    start = time.perf_counter()
    for offset in range(0, total, batch):
        batch_entries = entries(offset, min(batch, total - offset))
        async with db.transaction() as conn:
            await audit.append_batch(conn, batch_entries)
    return total / (time.perf_counter() - start)


async def run_verify(db: Database, audit: AuditLog) -> tuple[float, int, float]:
    """Records/s verified, records, and CPU seconds per 100,000 records (every thread of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    report = None
    async for event in audit.verify(db, batch_size=10_000):
        if not isinstance(event, VerifyProgress):
            report = event
    elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    assert report is not None and report.ok, report
    return report.checked / elapsed, report.checked, cpu_used / report.checked * 100_000


async def run_read(db: Database) -> float:
    """Baseline for verification: the same rows read in the same batches, nothing checked."""
    start, count, after = time.perf_counter(), 0, 0
    c = audit_records.c
    while True:
        async with db.read() as conn:
            batch = (
                await conn.execute(sa.select(audit_records).where(c.seq > after).order_by(c.seq).limit(10_000))
            ).all()
        if not batch:
            break
        count += len(batch)
        after = batch[-1][0]
    return count / (time.perf_counter() - start)


async def main(records: int, batch: int, single: int, url: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = create_database(DatabaseSettings(url=url), Path(tmp))
        await upgrade(db)
        async with db.transaction() as conn:
            await conn.run_sync(lambda c: plain.create(c, checkfirst=True))
        audit = AuditLog(Keyring(MasterKeys(os.urandom(32)), os.urandom(32)))
        # Warm-up (imports, statement caches, first data keys), not measured.
        await run_plain(db, 200, batch)
        await run_audited(db, audit, 200, batch)
        # Rounds alternate the two sides so that a change in machine load hits both alike; the ratio
        # of each round is computed from the same minute, and the median round is reported.
        group: list[tuple[float, float]] = []
        single_rounds: list[tuple[float, float]] = []
        for _ in range(rounds):
            async with db.transaction() as conn:
                await conn.execute(plain.delete())
            group.append((await run_plain(db, records, batch), await run_audited(db, audit, records, batch)))
            # One record per transaction: every commit a durable write, the worst case for both sides.
            async with db.transaction() as conn:
                await conn.execute(plain.delete())
            single_rounds.append((await run_plain(db, single, 1), await run_audited(db, audit, single, 1)))
        verify_runs = []
        read_rates = []
        for _ in range(rounds):
            read_rates.append(await run_read(db))
            verify_runs.append(await run_verify(db, audit))
        dialect = db.dialect
        await db.close()
    plain_rate, audited_rate = sorted(group, key=lambda r: r[1] / r[0])[len(group) // 2]
    plain_single, audited_single = sorted(single_rounds, key=lambda r: r[1] / r[0])[len(single_rounds) // 2]
    verify_rates = sorted(rate for rate, _, _ in verify_runs)
    read_rate = sorted(read_rates)[len(read_rates) // 2]
    return {
        "backend": dialect,
        "records": records,
        "batch_size": batch,
        "rounds": rounds,
        "plain_inserts_per_s": round(plain_rate),
        "audited_appends_per_s": round(audited_rate),
        "ratio": round(audited_rate / plain_rate, 3),
        "ratio_per_round": [round(a / p, 3) for p, a in group],
        "ratio_goal": 0.5,
        "single_record_transactions": single,
        "plain_inserts_per_s_single": round(plain_single),
        "audited_appends_per_s_single": round(audited_single),
        "ratio_single": round(audited_single / plain_single, 3),
        "verified_records": verify_runs[-1][1],
        "verify_records_per_s": round(verify_rates[len(verify_rates) // 2]),
        "verify_records_per_s_best": round(verify_rates[-1]),
        "verify_goal_per_s": 50_000,
        "verify_cpu_s_per_100k_records": round(sorted(c for _, _, c in verify_runs)[len(verify_runs) // 2], 2),
        "plain_read_records_per_s": round(read_rate),
        "verify_vs_plain_read": round(verify_rates[len(verify_rates) // 2] / read_rate, 3),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--single", type=int, default=300, help="records in one-per-transaction runs")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    args = parser.parse_args()
    results = asyncio.run(main(args.records, args.batch, args.single, args.database_url, args.rounds))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(
        f"audited/plain ratio {results['ratio']} (goal >= 0.5); single-record ratio {results['ratio_single']}; "
        f"verification {results['verify_records_per_s']} records/s (goal >= 50,000), "
        f"{results['verify_vs_plain_read']} of a plain read of the same rows"
    )
