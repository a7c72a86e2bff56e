"""Backup/restore round trip and "no plaintext at rest", read straight from the SQLite file and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.audit.log import VerifyProgress
from server.audit.records import AuditEntry, AuditKind
from server.crypto.subjects import Subject
from server.storage.backup import BackupFormatError, backup, restore
from server.storage.database import create_database
from server.storage.idempotency import remember
from server.storage.migrations import upgrade
from server.storage.settings import DatabaseSettings
from tests.fixtures.postgres import PostgresServer
from tests.integration.storage.stack import Stack

SECRETS = ["Zelda Quarrington-Fitzwilliam", "acct 4711-0815-SECRET", "raw model said: approve the Quarrington loan"]


async def store_secrets(stack: Stack) -> list[str]:
    subject = Subject("applicant", "app-77")
    async with stack.db.transaction() as conn:
        receipts = await stack.audit.append_batch(
            conn,
            [
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc="r",
                    decision="APPROVE",
                    caller="c",
                    subject=subject,
                    llm_output=SECRETS[2],
                    inputs={"name": SECRETS[0], "account": SECRETS[1]},
                ),
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc="r",
                    decision="REVIEW",
                    caller="c",
                    subject=subject,
                    details={"counterparty": SECRETS[0]},
                ),
            ],
        )
        for i, secret in enumerate(SECRETS):
            await stack.keyring.seal_text(conn, subject, secret, context=f"t:{i}")
    return [r.record_id for r in receipts]


def raw_database_bytes(stack: Stack, request: pytest.FixtureRequest) -> bytes:
    if stack.backend == "sqlite":
        root = Path(stack.url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in root.parent.glob(root.name + "*") if p.is_file())
    pg: PostgresServer = request.getfixturevalue("postgres")
    database = stack.url.rsplit("/", 1)[1]
    dump = [
        pg.psql(f"SELECT t::text FROM {table} t", database=database)
        for table in ("audit_records", "crypto_data_keys", "idempotency_records")
    ]
    # Row text shows bytea as hex, which would hide plaintext: read those columns with printable bytes as is.
    for table, column in (
        ("audit_records", "payload"),
        ("crypto_data_keys", "wrapped_key"),
        ("idempotency_records", "response"),
    ):
        dump.append(pg.psql(f"SELECT encode({column}, 'escape') FROM {table}", database=database))
    return "\n".join(dump).encode()


async def test_no_plaintext_reaches_the_database(stack: Stack, request: pytest.FixtureRequest) -> None:
    await store_secrets(stack)
    async with stack.db.transaction() as conn:  # a control: plaintext deliberately stored in a binary column
        await remember(
            conn, rpc="/control", request_id="c", digest="d", response=b"CONTROL-MARKER-IN-BYTES", created_us=0
        )
    await stack.db.close()  # checkpoint nothing on purpose: the WAL file is read too
    raw = raw_database_bytes(stack, request)
    assert b"APPROVE" in raw and b"CONTROL-MARKER-IN-BYTES" in raw, "the reader does see stored plaintext"
    for secret in SECRETS:
        for fragment in (secret, secret.split()[0]):
            assert fragment.encode() not in raw, fragment


async def test_backup_restore_round_trip(stack: Stack, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    record_ids = await store_secrets(stack)
    file = tmp_path / "backup.jsonl.gz"
    counts = await backup(stack.db, file)
    assert counts["audit_records"] == 2 and counts["crypto_data_keys"] == 1
    assert b"Quarrington" not in file.read_bytes()

    if stack.backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database("restored")
    target = create_database(DatabaseSettings(url=url), tmp_path)
    try:
        await upgrade(target)
        restored = await restore(target, file)
        assert restored == {k: v for k, v in counts.items() if v}
        events = [e async for e in stack.audit.verify(target)]
        report = events[-1]
        assert not isinstance(report, VerifyProgress) and report.ok and report.checked == 2
        async with target.read() as conn:
            record = await stack.audit.get(conn, record_ids[0], open_payload=True)
            head = await stack.audit.head(conn)
        async with stack.db.read() as conn:
            original_head = await stack.audit.head(conn)
        assert record.opened is not None and record.opened["inputs"]["name"] == SECRETS[0]
        assert head == original_head, "same chain id and head: checkpoints still apply"
        async with target.transaction() as conn:  # the restored database keeps working
            await stack.audit.append(conn, AuditEntry(kind=AuditKind.DECISION, rpc="r", decision="D", caller="c"))
        with pytest.raises(BackupFormatError):
            bad = tmp_path / "bad.gz"
            import gzip

            with gzip.open(bad, "wt") as out:
                out.write('{"format": "something else"}\n')
            await restore(target, bad)
    finally:
        await target.close()
