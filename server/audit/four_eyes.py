"""Four-eyes approval of configuration that decides (rule sets, thresholds, playbooks, approved answers,
the role policy).

A change is proposed by one person and takes effect only when a different person approves it. Both
steps append an audit record in the same transaction; the effective version of a target advances by one
per approval. A proposal made against an older version than the effective one cannot be approved
(``STALE_PROPOSAL``): someone approved another change in between, so the proposer must look again.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audit.log import AuditLog
from server.audit.records import AuditEntry, AuditKind
from server.audit.tables import config_changes, config_effective
from server.crypto.subjects import Subject
from server.runtime.clock import Clock, SystemClock
from server.runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied

_DOMAIN = "audit.fintech"
# Configuration that decides, by target name prefix.
TARGET_KINDS = ("rule_set", "threshold", "playbook", "approved_answer", "role_policy")


class ChangeStatus(enum.StrEnum):
    PROPOSED = "PROPOSED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class ConfigChange:
    """A proposed or decided change."""

    change_id: str
    target: str
    base_version: int
    value: Mapping[str, Any]
    value_digest: str
    reason: str
    status: ChangeStatus
    proposed_by: str
    decided_by: str | None
    version: int | None


def _digest(value: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class FourEyes:
    """Proposals, approvals and the effective configuration, all in the caller's transaction."""

    def __init__(self, audit: AuditLog, *, clock: Clock | None = None, new_id: Callable[[], str] | None = None) -> None:
        self._audit = audit
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda: uuid.uuid4().hex)

    def _now_us(self) -> int:
        return int(self._clock.now().timestamp() * 1_000_000)

    async def effective_version(self, conn: AsyncConnection, target: str, *, lock: bool = False) -> int:
        """The effective version of ``target`` (0: never approved); ``lock`` holds it until commit (PostgreSQL)."""
        query = sa.select(config_effective.c.version).where(config_effective.c.target == target)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        return int(row.version) if row else 0

    async def effective(self, conn: AsyncConnection, target: str) -> ConfigChange | None:
        """The approved change in force for ``target``, or None."""
        row = (
            await conn.execute(
                sa.select(config_changes)
                .join(config_effective, config_effective.c.change_id == config_changes.c.change_id)
                .where(config_effective.c.target == target)
            )
        ).first()
        return self._change(row) if row else None

    async def propose(
        self,
        conn: AsyncConnection,
        *,
        target: str,
        value: Mapping[str, Any],
        proposer: str,
        reason: str,
        request_id: str = "",
    ) -> ConfigChange:
        """Record a proposal (audited); it has no effect until approved by someone else.

        Raises:
            InvalidArgument: an unknown target kind or an empty reason.
        """
        if target.split(":", 1)[0] not in TARGET_KINDS:
            raise InvalidArgument(
                f"target must start with one of {TARGET_KINDS}",
                reason="UNKNOWN_TARGET",
                domain=_DOMAIN,
                violations=[FieldViolation("target", "unknown configuration kind")],
            )
        if not reason.strip():
            raise InvalidArgument(
                "a reason is required",
                reason="REASON_REQUIRED",
                domain=_DOMAIN,
                violations=[FieldViolation("reason", "required")],
            )
        change_id = self._new_id()
        base = await self.effective_version(conn, target)
        digest = _digest(value)
        await conn.execute(
            config_changes.insert().values(
                change_id=change_id,
                target=target,
                base_version=base,
                value_json=json.dumps(value, sort_keys=True, separators=(",", ":")),
                value_digest=digest,
                reason=reason,
                status=ChangeStatus.PROPOSED.value,
                proposed_by=proposer,
                proposed_us=self._now_us(),
            )
        )
        await self._audit.append(
            conn,
            AuditEntry(
                kind=AuditKind.CONFIG_CHANGE,
                rpc="config.propose",
                decision="PROPOSED",
                caller=proposer,
                subject=Subject("config", change_id),
                request_id=request_id,
                input_digest=digest,
                rule_set_version=f"{target}@{base}",
                details={"target": target, "reason": reason, "base_version": base},
            ),
        )
        return ConfigChange(change_id, target, base, value, digest, reason, ChangeStatus.PROPOSED, proposer, None, None)

    async def approve(
        self, conn: AsyncConnection, *, change_id: str, approver: str, request_id: str = ""
    ) -> ConfigChange:
        """Approve a proposal: it becomes the effective version (audited, naming both people).

        Raises:
            NotFound: no such change.
            PermissionDenied: FOUR_EYES_SAME_PERSON when the approver proposed it.
            FailedPrecondition: already decided, or STALE_PROPOSAL.
        """
        change = await self._load(conn, change_id, lock=True)
        if change.proposed_by == approver:
            raise PermissionDenied(
                "a change must be approved by someone other than its proposer",
                reason="FOUR_EYES_SAME_PERSON",
                domain=_DOMAIN,
                metadata={"change_id": change_id},
            )
        current = await self.effective_version(conn, change.target, lock=True)
        if current != change.base_version:
            raise FailedPrecondition(
                f"{change.target} moved to version {current} since this proposal",
                reason="STALE_PROPOSAL",
                domain=_DOMAIN,
                metadata={"change_id": change_id},
            )
        version = current + 1
        await conn.execute(
            config_changes.update()
            .where(config_changes.c.change_id == change_id)
            .values(status=ChangeStatus.APPROVED.value, decided_by=approver, decided_us=self._now_us(), version=version)
        )
        if current == 0:
            await conn.execute(
                config_effective.insert().values(target=change.target, version=version, change_id=change_id)
            )
        else:
            await conn.execute(
                config_effective.update()
                .where(config_effective.c.target == change.target)
                .values(version=version, change_id=change_id)
            )
        await self._audit.append(
            conn,
            AuditEntry(
                kind=AuditKind.CONFIG_CHANGE,
                rpc="config.approve",
                decision="APPROVED",
                caller=approver,
                subject=Subject("config", change_id),
                request_id=request_id,
                input_digest=change.value_digest,
                rule_set_version=f"{change.target}@{version}",
                details={
                    "target": change.target,
                    "proposed_by": change.proposed_by,
                    "approved_by": approver,
                    "version": version,
                },
            ),
        )
        return ConfigChange(
            change.change_id,
            change.target,
            change.base_version,
            change.value,
            change.value_digest,
            change.reason,
            ChangeStatus.APPROVED,
            change.proposed_by,
            approver,
            version,
        )

    async def reject(self, conn: AsyncConnection, *, change_id: str, decider: str, reason: str) -> ConfigChange:
        """Reject a proposal (audited). The proposer may withdraw their own.

        Raises:
            NotFound: no such change.
            FailedPrecondition: already decided.
        """
        change = await self._load(conn, change_id, lock=True)
        await conn.execute(
            config_changes.update()
            .where(config_changes.c.change_id == change_id)
            .values(status=ChangeStatus.REJECTED.value, decided_by=decider, decided_us=self._now_us())
        )
        await self._audit.append(
            conn,
            AuditEntry(
                kind=AuditKind.CONFIG_CHANGE,
                rpc="config.reject",
                decision="REJECTED",
                caller=decider,
                subject=Subject("config", change_id),
                input_digest=change.value_digest,
                details={"target": change.target, "proposed_by": change.proposed_by, "reason": reason},
            ),
        )
        return ConfigChange(
            change.change_id,
            change.target,
            change.base_version,
            change.value,
            change.value_digest,
            change.reason,
            ChangeStatus.REJECTED,
            change.proposed_by,
            decider,
            None,
        )

    async def _load(self, conn: AsyncConnection, change_id: str, *, lock: bool) -> ConfigChange:
        query = sa.select(config_changes).where(config_changes.c.change_id == change_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"configuration change {change_id} not found", reason="CHANGE_NOT_FOUND", domain=_DOMAIN)
        change = self._change(row)
        if change.status != ChangeStatus.PROPOSED:
            raise FailedPrecondition(
                f"change {change_id} is already {change.status.value}", reason="ALREADY_DECIDED", domain=_DOMAIN
            )
        return change

    @staticmethod
    def _change(row: Any) -> ConfigChange:
        return ConfigChange(
            row.change_id,
            row.target,
            int(row.base_version),
            json.loads(row.value_json),
            row.value_digest,
            row.reason,
            ChangeStatus(row.status),
            row.proposed_by,
            row.decided_by,
            None if row.version is None else int(row.version),
        )
