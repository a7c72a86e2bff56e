"""Suspicious activity report drafting: the case's facts, the prompt, and the grounding check.

The facts are lines of text rendered from the case's stored investigation (accounts and roles,
money paths, transfers with ids, amounts and dates, alerts). The LLM writes the narrative from
them through validated generation; every amount, date, account and transaction id in the draft is
then checked against the same lines (``inference.grounding.find_unsupported``), and the draft must
name one of the case's accounts and carry no contact details or links. A draft with an
unsupported span is returned marked FAILED with the spans, never as a valid report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pydantic

from inference.grounding import UnsupportedSpan, find_contact_details, find_unsupported
from inference.prompts import PromptTemplate, parse_template
from server.aml.repository import StoredAlert, StoredCase

PROMPT_FILE = Path(__file__).resolve().parent / "prompts" / "sar_narrative.v1.toml"
MAX_FACT_TRANSFERS = 60  # transfers listed in the facts (the money paths' first)


class SarNarrative(pydantic.BaseModel):
    """What the model must return."""

    model_config = pydantic.ConfigDict(extra="forbid")
    narrative: str = pydantic.Field(min_length=1, max_length=8_000)


@cache
def sar_prompt() -> PromptTemplate:
    """The SAR narrative template (versioned, digested like the platform's templates)."""
    return parse_template(PROMPT_FILE.read_text(encoding="utf-8"), PROMPT_FILE.name)


def format_amount(minor: int, currency: str, digits: int = 2) -> str:
    """``1234567`` USD -> ``USD 12,345.67`` (how every amount is written in the facts)."""
    units, rest = divmod(abs(int(minor)), 10**digits)
    sign = "-" if minor < 0 else ""
    return f"{currency} {sign}{units:,}.{rest:0{digits}d}" if digits else f"{currency} {sign}{units:,}"


def format_date(micros: int) -> str:
    """Microseconds since the epoch as an ISO date (UTC)."""
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC).date().isoformat()


def case_facts(case: StoredCase, alerts: list[StoredAlert]) -> list[str]:
    """The fact lines of a case, the only ground the narrative may stand on."""
    facts: dict[str, Any] = case.facts
    cur = case.currency
    lines = [
        f"Case {case.case_id}: {len(case.account_ids)} accounts; total moved within the network "
        f"{format_amount(case.total_minor, cur)}.",
    ]
    if facts.get("first_time_us") is not None:
        lines.append(
            f"Activity between {format_date(facts['first_time_us'])} and {format_date(facts['last_time_us'])}."
        )
    for account in facts.get("accounts", []):
        lines.append(
            f"Account {account['account_id']} role {account['role']}: received "
            f"{format_amount(account['total_in_minor'], cur)}, sent {format_amount(account['total_out_minor'], cur)}."
        )
    for path in facts.get("money_paths", []):
        lines.append(
            f"Money path {' -> '.join(path['account_ids'])} carried {format_amount(path['amount_minor'], cur)} "
            f"through transactions {', '.join(path['transaction_ids'])}."
        )
    for pattern in facts.get("patterns", []):
        lines.append(f"Pattern {pattern['pattern']}: {pattern['description']}")
    for tx in facts.get("transfers", [])[:MAX_FACT_TRANSFERS]:
        lines.append(
            f"Transaction {tx['transaction_id']}: {tx['source_account_id']} paid {tx['target_account_id']} "
            f"{format_amount(tx['amount_minor'], cur)} on {format_date(tx['execute_time_us'])}."
        )
    for alert in alerts:
        lines.append(
            f"Alert {alert.alert_id} on account {alert.account_id}: rules {', '.join(alert.rules)}; "
            f"score {alert.score:.1f}."
        )
    return lines


@dataclass(frozen=True)
class CheckedDraft:
    """A narrative and what the grounding check found."""

    narrative: str
    unsupported: list[UnsupportedSpan]
    claims: list[tuple[int, int, str]]

    @property
    def passed(self) -> bool:
        """True when every checkable span is supported by the facts."""
        return not self.unsupported



def check_draft(
    narrative: str, facts: list[str], transaction_ids: list[str], account_ids: Sequence[str] = ()
) -> CheckedDraft:
    """Ground a narrative against the facts; list where it cites each transaction id.

    Besides every amount, date and id being in the facts, a narrative must be about this case: it names at
    least one of the case's accounts (text that says nothing checkable, such as a development model's
    unrelated story, would otherwise pass), and it carries no contact details or links.

    Args:
        narrative: The model's text.
        facts: The fact lines it was given.
        transaction_ids: Transaction ids of the case (for the claims).
        account_ids: The case's accounts; when given, the narrative must name one of them.
    """
    unsupported = list(find_unsupported(narrative, facts))
    unsupported += find_contact_details(narrative)
    if account_ids and not any(re.search(rf"(?<![\w-]){re.escape(a)}(?![\w-])", narrative) for a in account_ids):
        unsupported.append(UnsupportedSpan(0, len(narrative), narrative, "names none of the case's accounts"))
    unsupported.sort(key=lambda span: (span.start, span.end))
    claims: list[tuple[int, int, str]] = []
    for tx_id in sorted(set(transaction_ids), key=len, reverse=True):
        start = narrative.find(tx_id)
        while start >= 0:
            end = start + len(tx_id)
            if not any(s <= start < e for s, e, _ in claims):
                claims.append((start, end, tx_id))
            start = narrative.find(tx_id, end)
    return CheckedDraft(narrative, unsupported, sorted(claims))
