"""A separate process appending audit records, for the concurrency and crash tests.

Usage: ``python -m tests.integration.audit.append_worker URL ROOT TAG COUNT BATCH ACK_FILE [GO_FILE]``. With
GO_FILE it creates ``ACK_FILE.ready`` once started and waits for GO_FILE, so several workers start appending
together. After each commit it writes the committed record ids to ACK_FILE (flushed and fsynced): those
are acknowledged.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from server.audit.log import AuditLog
from server.audit.records import AuditEntry, AuditKind
from server.crypto.keyfiles import read_key_file
from server.crypto.keyring import Keyring, MasterKeys
from server.crypto.subjects import Subject
from server.storage.database import create_database
from server.storage.settings import DatabaseSettings


async def main(url: str, root: Path, tag: str, count: int, batch: int, ack: Path, go: Path | None) -> None:
    db = create_database(DatabaseSettings(url=url), root)
    keyring = Keyring(
        MasterKeys(read_key_file(root / "secrets" / "master.key", purpose="master key")),
        read_key_file(root / "secrets" / "blind-index.key", purpose="blind index key"),
    )
    audit = AuditLog(keyring)
    with ack.open("a", encoding="utf-8") as out:
        done = 0
        while done < count:
            size = min(batch, count - done)
            entries = [
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc="worker",
                    decision=tag,
                    caller=f"worker:{tag}",
                    subject=Subject("customer", f"{tag}-{(done + i) % 7}"),
                    llm_output=f"{tag} {done + i}",
                )
                for i in range(size)
            ]
            async with db.transaction() as conn:
                receipts = await audit.append_batch(conn, entries)
            out.write("".join(f"{r.record_id}\n" for r in receipts))
            out.flush()
            os.fsync(out.fileno())
            done += size
    await db.close()


if __name__ == "__main__":
    url, root, tag, count, batch, ack = sys.argv[1:7]
    go = Path(sys.argv[7]) if len(sys.argv) > 7 else None
    if go is not None:  # started: wait for the signal to go, so that workers append together
        Path(f"{ack}.ready").touch()
        while not go.exists():
            time.sleep(0.01)
    asyncio.run(main(url, Path(root), tag, int(count), int(batch), Path(ack), go))
