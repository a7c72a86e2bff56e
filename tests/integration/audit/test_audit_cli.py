"""The ``fintech audit``, ``db`` and ``keys`` sub-apps end to end on both backends, and offline export checks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from server.audit import cli as audit_cli
from server.crypto import cli as keys_cli
from server.crypto.keyfiles import create_key_file
from server.storage import cli as db_cli
from tests.integration.audit.test_audit_chain import fill
from tests.integration.storage.stack import Stack, settings_namespace

runner = CliRunner()


@pytest.fixture
def configured(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    # Settings has no database/crypto/audit fields until the lead adds them: hand the CLIs ours.
    for module in (audit_cli, db_cli, keys_cli):
        monkeypatch.setattr(module, "load_settings", lambda _path: stack.settings)
    return stack


async def invoke(app: Any, *args: str) -> Any:
    # The CLI runs its own event loop: call it from a thread.
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    return result


async def test_audit_cli_round_trip(configured: Stack, tmp_path: Path) -> None:
    stack = configured
    await fill(stack, 30)
    result = await invoke(audit_cli.app, "checkpoint")
    assert result.exit_code == 0 and "checkpoint at record 30" in result.output, result.output
    result = await invoke(audit_cli.app, "verify")
    assert result.exit_code == 0 and "chain verified" in result.output and "1 signed checkpoints" in result.output

    result = await invoke(audit_cli.app, "list", "--decision", "APPROVE", "--limit", "3", "--json")
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["seq"] for r in listed] == [2, 4, 6] and {r["decision"] for r in listed} == {"APPROVE"}

    async with stack.db.read() as conn:
        record_id = (await conn.execute(sa.text("SELECT record_id FROM audit_records WHERE seq = 4"))).scalar_one()
    result = await invoke(audit_cli.app, "show", record_id, "--payload", "--actor", "staff:auditor-1")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["payload"]["llm_output"] == "explanation 3" and shown["seq"] == 4
    async with stack.db.read() as conn:
        access = (await conn.execute(sa.text("SELECT caller FROM audit_records WHERE kind = 'DATA_ACCESS'"))).all()
    assert [tuple(r) for r in access] == [("staff:auditor-1",)]

    export = tmp_path / "export.jsonl"
    result = await invoke(
        audit_cli.app, "export", str(export), "--from", "2020-01-01T00:00:00+00:00", "--to", "2030-01-01T00:00:00+00:00"
    )
    assert result.exit_code == 0 and "exported 31 records" in result.output, result.output
    offline = [
        "verify",
        "--file",
        str(export),
        "--checkpoints",
        str(stack.root / "audit" / "checkpoints.jsonl"),
        "--public-key",
        str(stack.secrets / "audit-checkpoint.pub.pem"),
    ]
    result = await invoke(audit_cli.app, *offline)
    assert result.exit_code == 0 and "1 signed checkpoints matched" in result.output, result.output

    lines = export.read_text().splitlines()
    record = json.loads(lines[9])
    record["decision"] = "FORGED"
    lines[9] = json.dumps(record)
    export.write_text("\n".join(lines) + "\n")
    result = await invoke(audit_cli.app, *offline)
    assert result.exit_code == 1 and "at record 9" in result.output and "HASH_MISMATCH" in result.output


async def test_db_and_keys_cli(configured: Stack, tmp_path: Path) -> None:
    stack = configured
    await fill(stack, 12)
    result = await invoke(db_cli.app, "check")
    assert result.exit_code == 0 and "schema matches" in result.output
    result = await invoke(db_cli.app, "upgrade")
    assert result.exit_code == 0
    result = await invoke(db_cli.app, "backup", str(tmp_path / "b.gz"))
    assert result.exit_code == 0 and "backed up" in result.output
    result = await invoke(db_cli.app, "restore", str(tmp_path / "b.gz"))
    assert result.exit_code == 2  # refuses without --yes
    result = await invoke(db_cli.app, "restore", str(tmp_path / "b.gz"), "--yes")
    assert result.exit_code == 0, result.output

    create_key_file(stack.secrets / "master-2.key")
    stack.settings = settings_namespace(
        stack.root,
        stack.url,
        master_key_file=Path("secrets/master-2.key"),
        previous_master_key_files=(Path("secrets/master.key"),),
    )
    result = await invoke(keys_cli.app, "rotate", "--batch-size", "5", "--actor", "operator:sre-1")
    assert result.exit_code == 0 and "re-wrapped 12 data keys in 3 batches" in result.output, result.output
    result = await invoke(keys_cli.app, "erase", "applicant", "app-3")
    assert result.exit_code == 0 and "erased" in result.output
    result = await invoke(audit_cli.app, "verify")
    assert result.exit_code == 0, result.output
    result = await invoke(db_cli.app, "purge", "--actor", "job:retention")
    assert result.exit_code == 0 and "idempotency: 0 purged" in result.output
