"""Four-eyes approval of configuration changes, on both backends."""

from __future__ import annotations

import pytest

from server.audit.four_eyes import ChangeStatus, FourEyes
from server.audit.log import AuditFilter
from server.runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from tests.integration.storage.stack import Stack


async def test_change_takes_effect_only_after_another_person_approves(stack: Stack) -> None:
    four_eyes = FourEyes(stack.audit, clock=stack.clock)
    async with stack.db.transaction() as conn:
        change = await four_eyes.propose(
            conn,
            target="threshold:aml.structuring",
            value={"amount": 9000},
            proposer="staff:ana",
            reason="regulator guidance 2026-11",
        )
        assert await four_eyes.effective(conn, "threshold:aml.structuring") is None
    with pytest.raises(PermissionDenied) as caught:
        async with stack.db.transaction() as conn:
            await four_eyes.approve(conn, change_id=change.change_id, approver="staff:ana")
    assert caught.value.reason == "FOUR_EYES_SAME_PERSON"
    async with stack.db.transaction() as conn:
        approved = await four_eyes.approve(conn, change_id=change.change_id, approver="staff:ben")
    assert (approved.status, approved.version, approved.decided_by) == (ChangeStatus.APPROVED, 1, "staff:ben")
    async with stack.db.read() as conn:
        effective = await four_eyes.effective(conn, "threshold:aml.structuring")
        records = await stack.audit.list_records(conn, AuditFilter(kind="CONFIG_CHANGE"), limit=10)
        approval = await stack.audit.get(conn, records[1].record_id, open_payload=True)
    assert effective is not None and effective.value == {"amount": 9000}
    assert [(r.decision, r.caller) for r in records] == [("PROPOSED", "staff:ana"), ("APPROVED", "staff:ben")]
    assert approval.opened is not None
    assert approval.opened["details"]["proposed_by"] == "staff:ana"
    assert approval.opened["details"]["approved_by"] == "staff:ben"
    with pytest.raises(FailedPrecondition):
        async with stack.db.transaction() as conn:
            await four_eyes.approve(conn, change_id=change.change_id, approver="staff:cy")


async def test_stale_proposal_cannot_be_approved(stack: Stack) -> None:
    four_eyes = FourEyes(stack.audit, clock=stack.clock)
    async with stack.db.transaction() as conn:
        first = await four_eyes.propose(conn, target="rule_set:aml", value={"v": 1}, proposer="staff:a", reason="r")
        second = await four_eyes.propose(conn, target="rule_set:aml", value={"v": 2}, proposer="staff:b", reason="r")
        await four_eyes.approve(conn, change_id=first.change_id, approver="staff:c")
    with pytest.raises(FailedPrecondition) as caught:
        async with stack.db.transaction() as conn:
            await four_eyes.approve(conn, change_id=second.change_id, approver="staff:c")
    assert caught.value.reason == "STALE_PROPOSAL"
    async with stack.db.transaction() as conn:
        rejected = await four_eyes.reject(conn, change_id=second.change_id, decider="staff:b", reason="superseded")
        assert rejected.status == ChangeStatus.REJECTED
        assert (await four_eyes.effective(conn, "rule_set:aml")).value == {"v": 1}  # type: ignore[union-attr]


async def test_unknown_target_is_refused(stack: Stack) -> None:
    four_eyes = FourEyes(stack.audit, clock=stack.clock)
    with pytest.raises(InvalidArgument) as caught:
        async with stack.db.transaction() as conn:
            await four_eyes.propose(conn, target="colour:ui", value={}, proposer="staff:a", reason="r")
    assert caught.value.violations[0].field == "target"
