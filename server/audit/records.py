"""Audit record types and the canonical encoding the hash chain is computed over.

``record_hash = SHA-256(prev_hash_hex || canonical(record))`` (hex), where ``canonical`` is the UTF-8
encoding of the label ``fintech-audit-record/1`` followed by every stored column in :data:`HASHED_FIELDS`
order, each preceded by one U+0000: integers in decimal, text as is, the sealed payload as lowercase hex
of the bytes stored. Text fields never contain U+0000 (appends refuse it, verification flags it), so the
record has exactly 20 separators and the encoding is injective; joining strings is also cheap enough to
verify tens of thousands of records a second in Python. The hash covers the ciphertext, not the
plaintext, so crypto-shredding or a master-key rotation leaves the chain verifiable.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from server.crypto.subjects import Subject

GENESIS_HASH = "0" * 64
ENCODING_LABEL = b"fintech-audit-record/1"

# Every stored column except the two hashes, in the order they are encoded.
HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "record_id",
    "time_us",
    "kind",
    "request_id",
    "caller",
    "rpc",
    "subject_type",
    "subject_id",
    "input_digest",
    "engine",
    "engine_version",
    "rule_set_version",
    "model_id",
    "prompt_template_id",
    "prompt_template_digest",
    "validation_outcome",
    "decision",
    "trace_id",
    "payload",
)
STORED_FIELDS: tuple[str, ...] = (*HASHED_FIELDS, "prev_hash", "record_hash")
_LABEL = ENCODING_LABEL.decode()
_SEPARATORS = len(HASHED_FIELDS)
CANONICAL_SEPARATORS = _SEPARATORS
"""U+0000 separators in a record's canonical text: one after the label, one between each two fields."""
_PAYLOAD_INDEX = HASHED_FIELDS.index("payload")


class AuditKind(enum.StrEnum):
    """What a record is about."""

    DECISION = "DECISION"
    """A decision of an engine: an answer, a loan assessment, an AML alert or status change, a review."""
    CONFIG_CHANGE = "CONFIG_CHANGE"
    """A proposal, approval or rejection of a change to configuration that decides (four eyes)."""
    SIGN_IN = "SIGN_IN"
    """An operator signed in."""
    DATA_ACCESS = "DATA_ACCESS"
    """A person read customer data (a conversation, an application, a SAR, an audit payload)."""
    KEY_MANAGEMENT = "KEY_MANAGEMENT"
    """A master-key rotation batch, or a subject's erasure (crypto-shredding)."""
    RETENTION = "RETENTION"
    """A retention purge."""


class ValidationOutcome(enum.StrEnum):
    """Outcome of validating LLM output (``fintech.common.v1.ValidationOutcome`` without the prefix)."""

    UNSPECIFIED = ""
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@dataclass(frozen=True)
class AuditEntry:
    """What a service appends. Sensitive parts (``inputs``, ``llm_output``, ``details``) are encrypted
    under the subject's data key before they reach the database; the rest is stored in clear for search.

    Attributes:
        kind: What the record is about.
        rpc: Full method name (``/fintech.risk.v1.RiskService/AssessLoanApplication``) or a job name.
        decision: The outcome, short and free of customer data (``APPROVE``, ``ESCALATED``, ``OPEN->CLOSED``).
        subject: Whose data it concerns; None for platform-level events.
        request_id: The request's id (AIP-155) or the x-request-id.
        caller: Who; empty takes ``current_caller().audit_identity``.
        input_digest: SHA-256 (hex) of the decision's inputs (``payload_digest(request)``).
        engine: The engine that decided (``risk.scorecard``).
        engine_version: Its version.
        rule_set_version: The rules or thresholds applied.
        model_id: Content hash of a trained artefact or the LLM model used.
        prompt_template_id: Prompt template id (and version) where an LLM was used.
        prompt_template_digest: SHA-256 of the rendered template source.
        validation_outcome: Validation of the LLM output.
        trace_id: W3C trace id.
        llm_output: The raw LLM output, encrypted.
        inputs: Decision inputs worth keeping verbatim (JSON-serialisable), encrypted.
        details: Anything else about the decision (JSON-serialisable), encrypted.
    """

    kind: AuditKind
    rpc: str
    decision: str
    subject: Subject | None = None
    request_id: str = ""
    caller: str = ""
    input_digest: str = ""
    engine: str = ""
    engine_version: str = ""
    rule_set_version: str = ""
    model_id: str = ""
    prompt_template_id: str = ""
    prompt_template_digest: str = ""
    validation_outcome: ValidationOutcome = ValidationOutcome.UNSPECIFIED
    trace_id: str = ""
    llm_output: str = ""
    inputs: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AuditReceipt:
    """Where an appended record landed."""

    record_id: str
    seq: int
    record_hash: str


@dataclass(frozen=True)
class AuditRecord:
    """One stored record, as read back (the payload still sealed unless ``opened``)."""

    seq: int
    record_id: str
    time_us: int
    kind: str
    request_id: str
    caller: str
    rpc: str
    subject_type: str
    subject_id: str
    input_digest: str
    engine: str
    engine_version: str
    rule_set_version: str
    model_id: str
    prompt_template_id: str
    prompt_template_digest: str
    validation_outcome: str
    decision: str
    trace_id: str
    payload: bytes
    prev_hash: str
    record_hash: str
    opened: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def time(self) -> datetime:
        """Record time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time_us / 1_000_000, UTC)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> AuditRecord:
        """Build from a row in :data:`STORED_FIELDS` order."""
        values = list(row)
        values[_PAYLOAD_INDEX] = bytes(values[_PAYLOAD_INDEX])
        return cls(*values)


def canonical_bytes(values: Sequence[Any]) -> bytes:
    """The canonical encoding of one record's :data:`HASHED_FIELDS` values (in that order).

    Raises:
        ValueError: a text field contains U+0000 (which would make the encoding ambiguous).
    """
    items = [str(v) for v in values]
    items[_PAYLOAD_INDEX] = bytes(values[_PAYLOAD_INDEX]).hex()
    encoded = _LABEL + "\x00" + "\x00".join(items)
    if encoded.count("\x00") != _SEPARATORS:
        raise ValueError("a text field contains U+0000")
    return encoded.encode("utf-8")


def record_hash(prev_hash: str, values: Sequence[Any]) -> str:
    """SHA-256 (hex) chaining ``prev_hash`` to the record with these hashed values.

    Equal to ``SHA-256(prev_hash.encode() + canonical_bytes(values))``, built as one string and hashed
    in one call because this runs once per record on every append and every verification.

    Raises:
        ValueError: a text field contains U+0000.
    """
    items = list(map(str, values[:_PAYLOAD_INDEX]))
    items.append(bytes(values[_PAYLOAD_INDEX]).hex())
    body = "\x00".join(items)
    if body.count("\x00") != _SEPARATORS - 1:
        raise ValueError("a text field contains U+0000")
    return hashlib.sha256(f"{prev_hash}{_LABEL}\x00{body}".encode()).hexdigest()
