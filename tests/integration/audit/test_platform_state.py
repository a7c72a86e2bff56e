"""The resources the lead wires at start-up: opened from settings, refusing a stale schema, checkpointing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.audit.records import AuditEntry, AuditKind
from server.storage.migrations import SchemaMismatchError
from server.storage.resources import open_state
from tests.integration.storage.stack import Stack


async def test_open_state_wires_everything_and_writes_a_last_checkpoint(stack: Stack) -> None:
    state = await open_state(stack.settings, clock=stack.clock)
    resources = state.resources()
    assert {"database", "keyring", "audit", "idempotency", "page_tokens"} <= set(resources)
    assert await state.database.ping() is None
    state.start_checkpointing()
    async with state.database.transaction() as conn:
        await state.audit.append(
            conn, AuditEntry(kind=AuditKind.SIGN_IN, rpc="console.sign_in", decision="OK", caller="staff:ana")
        )
    await state.close()
    checkpoints = state.checkpoints()
    assert [c.seq for c in checkpoints] == [1]


async def test_open_state_refuses_a_schema_the_code_does_not_match(stack: Stack) -> None:
    async with stack.db.transaction() as conn:
        await conn.execute(
            sa.text("UPDATE alembic_version SET version_num = 'audit_0099' WHERE version_num = 'audit_0001'")
        )
    with pytest.raises(SchemaMismatchError, match="newer release"):
        await open_state(stack.settings, clock=stack.clock)
