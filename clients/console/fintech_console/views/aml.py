"""View models of the investigator's pages: alert list and filters, evidence, workflow, transactions,
the case network as cytoscape elements, and the SAR draft with its claims and unsupported spans.

Every function takes the SDK's protobuf messages and returns plain frozen dataclasses (or, for the
graph, JSON-ready dicts); nothing decides: the workflow transitions listed here only choose which
buttons to offer, and the AML service still refuses an illegal one.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fintech.aml.v1 import aml_service_pb2 as aml_pb
from fintech.common.v1 import common_pb2

from fintech_console.views.formatting import (
    Mark,
    Segment,
    Span,
    enum_label,
    enum_slug,
    joined,
    money_text,
    segment_text,
    timestamp_iso,
    timestamp_text,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
ID_MAX_LEN = 128

# Which status changes the page offers (docs/aml.md, "UpdateAlert"); the service enforces them.
WORKFLOW: Mapping[int, tuple[int, ...]] = {
    aml_pb.ALERT_STATUS_OPEN: (aml_pb.ALERT_STATUS_INVESTIGATING,),
    aml_pb.ALERT_STATUS_INVESTIGATING: (aml_pb.ALERT_STATUS_ESCALATED, aml_pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE),
    aml_pb.ALERT_STATUS_ESCALATED: (aml_pb.ALERT_STATUS_SAR_FILED, aml_pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE),
}

# Roles as the AML contract names them, in the order the legend lists them, with their colours
# (colour-blind-safe Okabe-Ito palette; the role is also written in each node's tooltip and label).
ROLE_COLOURS: Mapping[str, str] = {
    "origin": "#D55E00",
    "mule": "#E69F00",
    "hub": "#CC79A7",
    "beneficiary": "#0072B2",
    "peripheral": "#999999",
    "unspecified": "#BBBBBB",
}


def status_label(status: int) -> str:
    """``"Investigating"`` for ``ALERT_STATUS_INVESTIGATING``."""
    return enum_label(aml_pb.AlertStatus.Name(status), "ALERT_STATUS_")


def status_slug(status: int) -> str:
    """``"investigating"``: the form value and CSS class of a status."""
    return enum_slug(aml_pb.AlertStatus.Name(status), "ALERT_STATUS_")


def status_from_slug(slug: str) -> int:
    """The ``AlertStatus`` value of a slug (``"closed-false-positive"``).

    Raises:
        ValueError: an unknown status, naming the value.
    """
    name = "ALERT_STATUS_" + slug.strip().upper().replace("-", "_")
    if slug.strip() and name in aml_pb.AlertStatus.keys() and name != "ALERT_STATUS_UNSPECIFIED":
        return int(aml_pb.AlertStatus.Value(name))
    raise ValueError(f"unknown alert status {slug!r}")


def role_slug(role: int) -> str:
    """``"beneficiary"`` for ``ACCOUNT_ROLE_BENEFICIARY``."""
    return enum_slug(aml_pb.AccountRole.Name(role), "ACCOUNT_ROLE_")


def severity_label(severity: int) -> str:
    """``"High"`` for ``SEVERITY_HIGH``; empty when unspecified."""
    if severity == common_pb2.SEVERITY_UNSPECIFIED:
        return ""
    return enum_label(common_pb2.Severity.Name(severity), "SEVERITY_")


def account_href(account_id: str, **query: str) -> str:
    """The URL of an account's transactions page (``ListAccountTransactions``)."""
    path = f"/aml/accounts/{quote(account_id, safe='')}/transactions"
    extra = {k: v for k, v in query.items() if v}
    return f"{path}?{urlencode(extra)}" if extra else path


def alert_href(alert_id: str) -> str:
    """The URL of an alert's evidence page."""
    return f"/aml/alerts/{quote(alert_id, safe='')}"


def case_href(case_id: str) -> str:
    """The URL of a case's page."""
    return f"/aml/cases/{quote(case_id, safe='')}"


# ----------------------------------------------------------------------------------------- filters
@dataclass(frozen=True, slots=True)
class AlertFilter:
    """The alert list's filters as the page's query string gives them, validated.

    Attributes:
        status: An ``AlertStatus`` value, or 0 for any.
        rule_id: Only alerts with a hit of this rule.
        account_id: Only alerts on this account.
        min_score: Only alerts scoring at least this.
        created_from: Only alerts created on or after this day (UTC).
        created_to: Only alerts created on or before this day (UTC).
        page_size: Alerts per page.
        page_token: The service's token of the page to show; empty for the first.
        errors: Field name -> what is wrong with it (the field is then ignored).
    """

    status: int = 0
    rule_id: str = ""
    account_id: str = ""
    min_score: float = 0.0
    created_from: date | None = None
    created_to: date | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    page_token: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def status_slug(self) -> str:
        """The status as the form's select value ("" for any)."""
        return status_slug(self.status) if self.status else ""

    def to_request(self) -> aml_pb.ListAlertsRequest:
        """The ``ListAlertsRequest`` for this filter and page."""
        request = aml_pb.ListAlertsRequest(
            page_size=self.page_size,
            page_token=self.page_token,
            status=self.status,
            rule_id=self.rule_id,
            account_id=self.account_id,
            min_score=self.min_score,
        )
        if self.created_from is not None:
            request.create_time_range.start_time.FromDatetime(
                datetime(self.created_from.year, self.created_from.month, self.created_from.day, tzinfo=UTC)
            )
        if self.created_to is not None:
            # The day is inclusive; the range's end is exclusive: the next midnight.
            end = datetime(self.created_to.year, self.created_to.month, self.created_to.day, tzinfo=UTC)
            request.create_time_range.end_time.FromSeconds(int(end.timestamp()) + 86_400)
        return request

    def query(self, page_token: str = "") -> str:
        """The query string of this filter (and ``page_token``), for pagination links."""
        params = {
            "status": self.status_slug,
            "rule": self.rule_id,
            "account": self.account_id,
            "min_score": _score_text(self.min_score) if self.min_score else "",
            "from": self.created_from.isoformat() if self.created_from else "",
            "to": self.created_to.isoformat() if self.created_to else "",
            "page_size": str(self.page_size) if self.page_size != DEFAULT_PAGE_SIZE else "",
            "page_token": page_token,
        }
        return urlencode({k: v for k, v in params.items() if v})


def alert_filter_from_query(params: Mapping[str, str], default_page_size: int = DEFAULT_PAGE_SIZE) -> AlertFilter:
    """Parse and check the alert list's query parameters.

    A bad value never raises: it is reported in ``errors`` under its field name and left out of the
    request, so the page shows the list with a message naming what was ignored.

    Args:
        params: The query parameters (``status``, ``rule``, ``account``, ``min_score``, ``from``,
            ``to``, ``page_size``, ``page_token``).
        default_page_size: Alerts per page when the query does not say (the console's ``page_size``).
    """
    errors: dict[str, str] = {}
    status = 0
    if raw := params.get("status", "").strip():
        try:
            status = status_from_slug(raw)
        except ValueError:
            errors["status"] = f"unknown status {raw!r}"
    rule_id = params.get("rule", "").strip()
    if len(rule_id) > 64:
        errors["rule"] = "at most 64 characters"
        rule_id = ""
    account_id = params.get("account", "").strip()
    if len(account_id) > ID_MAX_LEN:
        errors["account"] = f"at most {ID_MAX_LEN} characters"
        account_id = ""
    min_score = 0.0
    if raw := params.get("min_score", "").strip():
        try:
            min_score = float(raw)
            if not (math.isfinite(min_score) and 0 <= min_score <= 1000):
                raise ValueError(raw)
        except ValueError:
            errors["min_score"] = "a number from 0 to 1000"
            min_score = 0.0
    created_from = _parse_day(params.get("from", ""), "from", errors)
    created_to = _parse_day(params.get("to", ""), "to", errors)
    if created_from and created_to and created_to < created_from:
        errors["to"] = "must not be before 'from'"
        created_to = None
    page_size = default_page_size
    if raw := params.get("page_size", "").strip():
        if raw.isdigit() and 1 <= int(raw) <= MAX_PAGE_SIZE:
            page_size = int(raw)
        else:
            errors["page_size"] = f"a whole number from 1 to {MAX_PAGE_SIZE}"
    page_token = params.get("page_token", "")
    if len(page_token) > 2048:
        errors["page_token"] = "too long"  # noqa: S105 (a field name, not a secret)
        page_token = ""
    return AlertFilter(status, rule_id, account_id, min_score, created_from, created_to, page_size, page_token, errors)


def _parse_day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "a date as YYYY-MM-DD"
        return None


def _score_text(score: float) -> str:
    return f"{score:.1f}"


# -------------------------------------------------------------------------------------- alert list
@dataclass(frozen=True, slots=True)
class AlertRow:
    """One row of the alert list."""

    alert_id: str
    href: str
    account_id: str
    account_href: str
    status: str
    status_slug: str
    score: str
    severity: str
    reason_codes: str
    created: str
    created_iso: str
    updated: str
    case_id: str
    case_href: str


def alert_rows(alerts: Iterable[aml_pb.Alert]) -> list[AlertRow]:
    """The rows of the alert list, in the service's order.

    Args:
        alerts: ``ListAlertsResponse.alerts``.
    """
    rows = []
    for alert in alerts:
        codes = list(dict.fromkeys(hit.reason_code or hit.rule_id for hit in alert.rule_hits))
        rows.append(
            AlertRow(
                alert_id=alert.alert_id,
                href=alert_href(alert.alert_id),
                account_id=alert.account_id,
                account_href=account_href(alert.account_id),
                status=status_label(alert.status),
                status_slug=status_slug(alert.status),
                score=_score_text(alert.score),
                severity=severity_label(alert.severity),
                reason_codes=joined(codes),
                created=timestamp_text(alert.create_time),
                created_iso=timestamp_iso(alert.create_time),
                updated=timestamp_text(alert.update_time),
                case_id=alert.case_id,
                case_href=case_href(alert.case_id) if alert.case_id else "",
            )
        )
    return rows


# ----------------------------------------------------------------------------------------- evidence
@dataclass(frozen=True, slots=True)
class HitView:
    """One rule hit and its evidence."""

    rule_id: str
    reason_code: str
    score: str
    summary: str
    total: str
    window_start: str
    window_end: str
    transaction_ids: tuple[str, ...]
    transactions_href: str


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One status change of an alert."""

    from_status: str
    to_status: str
    reason: str
    changed_by: str
    changed: str


@dataclass(frozen=True, slots=True)
class StatusChoice:
    """A status the workflow form offers."""

    slug: str
    label: str


@dataclass(frozen=True, slots=True)
class AlertEvidence:
    """An alert's page: what fired, on which transactions, in which window, and its workflow."""

    alert_id: str
    account_id: str
    account_href: str
    status: str
    status_slug: str
    score: str
    severity: str
    rule_set_version: str
    created: str
    updated: str
    case_id: str
    case_href: str
    hits: tuple[HitView, ...]
    history: tuple[HistoryRow, ...]
    next_statuses: tuple[StatusChoice, ...]
    transaction_ids: tuple[str, ...]


def alert_evidence(alert: aml_pb.Alert) -> AlertEvidence:
    """The evidence page of one alert.

    Args:
        alert: ``GetAlertResponse.alert`` (or an ``UpdateAlertResponse.alert``).
    """
    hits = []
    all_ids: dict[str, None] = {}
    for hit in alert.rule_hits:
        evidence = hit.evidence
        window = evidence.window
        ids = tuple(evidence.transaction_ids)
        all_ids.update(dict.fromkeys(ids))
        hits.append(
            HitView(
                rule_id=hit.rule_id,
                reason_code=hit.reason_code,
                score=f"{hit.score_contribution:.1f}",
                summary=evidence.summary,
                total=money_text(evidence.total_amount) if evidence.HasField("total_amount") else "",
                window_start=timestamp_text(window.start_time),
                window_end=timestamp_text(window.end_time),
                transaction_ids=ids,
                transactions_href=account_href(
                    alert.account_id,
                    start=timestamp_iso(window.start_time),
                    end=timestamp_iso(window.end_time),
                    highlight=",".join(ids[:50]),
                ),
            )
        )
    history = tuple(
        HistoryRow(
            from_status=status_label(change.from_status) if change.from_status else "",
            to_status=status_label(change.to_status),
            reason=change.reason,
            changed_by=change.changed_by,
            changed=timestamp_text(change.change_time),
        )
        for change in alert.history
    )
    choices = tuple(StatusChoice(status_slug(s), status_label(s)) for s in WORKFLOW.get(alert.status, ()))
    return AlertEvidence(
        alert_id=alert.alert_id,
        account_id=alert.account_id,
        account_href=account_href(alert.account_id),
        status=status_label(alert.status),
        status_slug=status_slug(alert.status),
        score=_score_text(alert.score),
        severity=severity_label(alert.severity),
        rule_set_version=alert.rule_set_version,
        created=timestamp_text(alert.create_time),
        updated=timestamp_text(alert.update_time),
        case_id=alert.case_id,
        case_href=case_href(alert.case_id) if alert.case_id else "",
        hits=tuple(hits),
        history=history,
        next_statuses=choices,
        transaction_ids=tuple(all_ids),
    )


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A checked status-change form: the request to send, or what is wrong with the form."""

    request: aml_pb.UpdateAlertRequest | None
    errors: Mapping[str, str]


def status_change_from_form(alert_id: str, form: Mapping[str, str]) -> StatusChange:
    """Check the workflow form (``status``, ``reason``, ``request_id``) and build ``UpdateAlertRequest``.

    The form carries a ``request_id`` generated when the page was rendered, so a resubmitted form is
    deduplicated by the service instead of applied twice.

    Args:
        alert_id: The alert the form belongs to.
        form: The submitted fields.
    """
    errors: dict[str, str] = {}
    status = 0
    try:
        status = status_from_slug(form.get("status", ""))
    except ValueError:
        errors["status"] = "choose the new status"
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = "a reason is required"
    elif len(reason) > 4000:
        errors["reason"] = "at most 4,000 characters"
    request_id = form.get("request_id", "")
    try:
        request_id = str(uuid.UUID(request_id))
    except ValueError:
        errors["request_id"] = "the form is stale: reload the page"
    if errors:
        return StatusChange(None, errors)
    request = aml_pb.UpdateAlertRequest(request_id=request_id, alert_id=alert_id, status=status, reason=reason)
    return StatusChange(request, {})


# ------------------------------------------------------------------------------------ transactions
@dataclass(frozen=True, slots=True)
class TransactionRow:
    """One transfer on an account's page, seen from that account."""

    transaction_id: str
    time: str
    direction: str
    counterparty_id: str
    counterparty_href: str
    counterparty_name: str
    amount: str
    channel: str
    countries: str
    highlighted: bool


def transaction_rows(
    account_id: str, transactions: Iterable[aml_pb.Transaction], highlight: Iterable[str] = ()
) -> list[TransactionRow]:
    """The rows of an account's transactions page.

    Args:
        account_id: The account whose page it is (decides in/out).
        transactions: ``ListAccountTransactionsResponse.transactions``.
        highlight: Transaction ids to mark (the evidence the investigator came from).
    """
    marked = set(highlight)
    rows = []
    for tx in transactions:
        outgoing = tx.source_account_id == account_id
        other = tx.target_account_id if outgoing else tx.source_account_id
        countries = " → ".join(c for c in (tx.origin_country_code, tx.counterparty_country_code) if c)
        rows.append(
            TransactionRow(
                transaction_id=tx.transaction_id,
                time=timestamp_text(tx.execute_time),
                direction="out" if outgoing else "in",
                counterparty_id=other,
                counterparty_href=account_href(other),
                counterparty_name=tx.counterparty_name,
                amount=money_text(tx.amount),
                channel=enum_label(aml_pb.Channel.Name(tx.channel), "CHANNEL_") if tx.channel else "",
                countries=countries,
                highlighted=tx.transaction_id in marked,
            )
        )
    return rows


def transactions_request(
    account_id: str, params: Mapping[str, str], page_size: int = DEFAULT_PAGE_SIZE
) -> tuple[aml_pb.ListAccountTransactionsRequest, dict[str, str]]:
    """The ``ListAccountTransactionsRequest`` of the transactions page's query (``start``, ``end``,
    ``counterparty``, ``page_token``), with errors by field for values that were ignored."""
    errors: dict[str, str] = {}
    request = aml_pb.ListAccountTransactionsRequest(account_id=account_id, page_size=page_size)
    for name in ("start", "end"):
        raw = params.get(name, "").strip()
        if not raw:
            continue
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            errors[name] = "a time as YYYY-MM-DDTHH:MM:SSZ"
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        target = request.window.start_time if name == "start" else request.window.end_time
        # The evidence window's end is exclusive, as is the request's.
        target.FromDatetime(moment)
    if request.HasField("window") and request.window.HasField("start_time") and request.window.HasField("end_time"):
        if request.window.end_time.ToDatetime() <= request.window.start_time.ToDatetime():
            errors["end"] = "must be after 'start'"
            request.ClearField("window")
    counterparty = params.get("counterparty", "").strip()
    if len(counterparty) > ID_MAX_LEN:
        errors["counterparty"] = f"at most {ID_MAX_LEN} characters"
    else:
        request.counterparty_account_id = counterparty
    request.page_token = params.get("page_token", "")[:2048]
    return request, errors


# ------------------------------------------------------------------------------------------ network
@dataclass(frozen=True, slots=True)
class InvestigationRef:
    """Enough to ask ``InvestigateNetwork`` again for a stored investigation: its request.

    The console keeps no data of its own; a case's network page carries the investigation's request
    in its URL and re-sends it with the same ``request_id``, so the service answers from its
    idempotency record (the same network, no second case update or audit record).
    """

    request_id: str
    alert_id: str = ""
    seed_account_ids: tuple[str, ...] = ()
    max_hops: int = 0
    min_amount_units: int = 0
    currency: str = ""
    max_accounts: int = 0

    def to_request(self) -> aml_pb.InvestigateNetworkRequest:
        """The ``InvestigateNetworkRequest`` this reference stands for."""
        request = aml_pb.InvestigateNetworkRequest(
            request_id=self.request_id,
            alert_id=self.alert_id,
            seed_account_ids=list(self.seed_account_ids),
            max_hops=self.max_hops,
            max_accounts=self.max_accounts,
        )
        if self.min_amount_units:
            request.min_amount.CopyFrom(common_pb2.Money(currency_code=self.currency, units=self.min_amount_units))
        return request

    def query(self) -> str:
        """The query string that carries this reference."""
        pairs: list[tuple[str, str]] = [("inv", self.request_id)]
        if self.alert_id:
            pairs.append(("alert", self.alert_id))
        pairs.extend(("seed", s) for s in self.seed_account_ids)
        for key, value in (("hops", self.max_hops), ("min", self.min_amount_units), ("max", self.max_accounts)):
            if value:
                pairs.append((key, str(value)))
        if self.currency:
            pairs.append(("cur", self.currency))
        return urlencode(pairs)


def investigation_ref_from_query(params: Mapping[str, str], seeds: Sequence[str] = ()) -> InvestigationRef:
    """Parse an investigation reference from a query string (or an investigate form).

    Args:
        params: ``inv`` (or ``request_id``), ``alert``, ``hops``, ``min``, ``cur``, ``max``.
        seeds: The repeated ``seed`` values.

    Raises:
        ValueError: a field is malformed; the message names it.
    """
    raw_id = params.get("inv") or params.get("request_id") or ""
    try:
        request_id = str(uuid.UUID(raw_id))
    except ValueError:
        raise ValueError("inv: not an investigation id") from None
    alert_id = params.get("alert", "").strip()
    cleaned = tuple(s.strip() for s in seeds if s.strip())
    if not alert_id and not cleaned:
        raise ValueError("alert: give an alert or seed accounts")
    numbers: dict[str, int] = {}
    for key, upper in (("hops", 8), ("min", 10**12), ("max", 20_000)):
        raw = params.get(key, "").strip() or "0"
        if not raw.isdigit() or int(raw) > upper:
            raise ValueError(f"{key}: a whole number from 0 to {upper}")
        numbers[key] = int(raw)
    currency = params.get("cur", "").strip().upper()
    if currency and (len(currency) != 3 or not currency.isalpha()):
        raise ValueError("cur: a three-letter currency code")
    if numbers["min"] and not currency:
        raise ValueError("cur: required with a minimum amount")
    return InvestigationRef(request_id, alert_id, cleaned, numbers["hops"], numbers["min"], currency, numbers["max"])


@dataclass(frozen=True, slots=True)
class MoneyPathView:
    """A money path for the side panel."""

    index: int
    account_ids: tuple[str, ...]
    amount: str
    transaction_count: int
    transaction_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PatternView:
    """A laundering typology found in the network."""

    pattern: str
    description: str
    accounts: str
    account_count: int


@dataclass(frozen=True, slots=True)
class LegendEntry:
    """A role, its colour and how many accounts hold it."""

    role: str
    label: str
    colour: str
    count: int


@dataclass(frozen=True, slots=True)
class NetworkGraph:
    """A case's network, ready for cytoscape (``elements`` is JSON-serialisable) and the side panels."""

    case_id: str
    elements: list[dict[str, Any]]
    node_count: int
    edge_count: int
    legend: tuple[LegendEntry, ...]
    money_paths: tuple[MoneyPathView, ...]
    patterns: tuple[PatternView, ...]
    truncated: bool
    total_amount: str


COLUMN_SPACING = 220.0
ROW_SPACING = 46.0


def network_graph(response: aml_pb.InvestigateNetworkResponse) -> NetworkGraph:
    """Turn an investigation into cytoscape elements with a layered, preset layout.

    Nodes carry the account's role (colour via a ``role-<role>`` class), involvement (size), totals
    and the URL of its transactions page; edges carry the amount as their label, a width by amount,
    the transaction count, and the class ``money-path`` with the indexes of the money paths they lie
    on. Positions put the flow left to right: origins in the first column, each account at its hop
    distance from the origins, beneficiaries in the last column; accounts that only feed the network
    are placed before the accounts they pay. Positions are computed here (deterministic, no layout
    work in the browser) so a 237-account network draws at once.

    Args:
        response: ``InvestigateNetworkResponse``.
    """
    accounts = list(response.accounts)
    ids = [a.account_id for a in accounts]
    index = {account_id: i for i, account_id in enumerate(ids)}
    roles = [role_slug(a.role) for a in accounts]
    edges = [e for e in response.edges if e.source_account_id in index and e.target_account_id in index]

    path_of_edge: dict[tuple[str, str], list[int]] = {}
    path_views = []
    for p, path in enumerate(response.money_paths):
        chain = list(path.account_ids)
        for source, target in itertools.pairwise(chain):
            path_of_edge.setdefault((source, target), []).append(p)
        path_views.append(
            MoneyPathView(
                p, tuple(chain), money_text(path.amount), len(path.transaction_ids), tuple(path.transaction_ids)
            )
        )

    columns = _columns(ids, roles, [(index[e.source_account_id], index[e.target_account_id]) for e in edges])
    positions = _positions(ids, roles, columns)

    # Read each edge's fields once (protobuf attribute access dominates a 1,600-edge network).
    edge_rows = [(e.source_account_id, e.target_account_id, _minor(e.total_amount), e.transaction_count) for e in edges]
    currency = next((e.total_amount.currency_code for e in edges if e.total_amount.currency_code), "")
    max_minor = max((row[2] for row in edge_rows), default=1) or 1
    elements: list[dict[str, Any]] = []
    for i, account in enumerate(accounts):
        role = roles[i]
        account_id = ids[i]
        distance = account.distance
        involvement = account.involvement_score
        elements.append(
            {
                "group": "nodes",
                "data": {
                    "id": account_id,
                    "label": account_id,
                    "role": role,
                    "colour": ROLE_COLOURS.get(role, ROLE_COLOURS["unspecified"]),
                    "involvement": round(involvement, 4),
                    "size": round(18 + 30 * max(0.0, min(1.0, involvement)), 1),
                    "total_in": money_text(account.total_in),
                    "total_out": money_text(account.total_out),
                    "community": account.community,
                    "distance": distance,
                    "href": account_href(account_id),
                },
                "position": {"x": positions[i][0], "y": positions[i][1]},
                "classes": f"role-{role} seed" if distance == 0 else f"role-{role}",
            }
        )
    for k, (source, target, minor, count) in enumerate(edge_rows):
        paths = path_of_edge.get((source, target), [])
        elements.append(
            {
                "group": "edges",
                "data": {
                    "id": f"e{k}",
                    "source": source,
                    "target": target,
                    "label": _minor_text(minor, currency),
                    "count": count,
                    # Width grows with the square root of the amount, between 1 and 8 pixels.
                    "width": round(1 + 7 * math.sqrt(max(minor, 0) / max_minor), 2),
                    "paths": paths,
                },
                "classes": "money-path" if paths else "",
            }
        )
    counts: dict[str, int] = {}
    for role in roles:
        counts[role] = counts.get(role, 0) + 1
    legend = tuple(
        LegendEntry(role, role.capitalize(), colour, counts.get(role, 0))
        for role, colour in ROLE_COLOURS.items()
        if counts.get(role, 0)
    )
    patterns = tuple(
        PatternView(
            enum_label(aml_pb.PatternType.Name(p.pattern_type), "PATTERN_TYPE_"),
            p.description,
            joined(list(p.account_ids), 5),
            len(p.account_ids),
        )
        # The largest structures first: a layering chain of 167 accounts before a 5-account scatter-gather.
        for p in sorted(response.patterns, key=lambda p: -len(p.account_ids))
    )
    total_text = _minor_text(sum(row[2] for row in edge_rows), currency)
    return NetworkGraph(
        case_id=response.case_id,
        elements=elements,
        node_count=len(accounts),
        edge_count=len(edges),
        legend=legend,
        money_paths=tuple(path_views),
        patterns=patterns,
        truncated=response.truncated,
        total_amount=total_text if edges else "",
    )


def _minor(money: common_pb2.Money) -> int:
    """Hundredths of a unit (the graph's amounts are whole cents; finer nanos are truncated)."""
    return int(money.units * 100 + int(money.nanos / 10_000_000))


def _minor_text(minor: int, currency: str) -> str:
    """``"USD 9,500.00"`` from hundredths (same format as :func:`money_text`)."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{currency} {sign}{units:,}.{cents:02d}".strip()


def _bfs(starts: Iterable[int], adjacency: list[list[int]]) -> list[int]:
    """Hop distances from ``starts`` (-1 where unreachable)."""
    distance = [-1] * len(adjacency)
    queue: deque[int] = deque()
    for s in starts:
        distance[s] = 0
        queue.append(s)
    while queue:
        node = queue.popleft()
        for nxt in adjacency[node]:
            if distance[nxt] < 0:
                distance[nxt] = distance[node] + 1
                queue.append(nxt)
    return distance


def _columns(ids: Sequence[str], roles: Sequence[str], edges: Sequence[tuple[int, int]]) -> list[int]:
    """A column per account: the hop distance from the origins along the money's direction."""
    n = len(ids)
    forward: list[list[int]] = [[] for _ in range(n)]
    backward: list[list[int]] = [[] for _ in range(n)]
    for s, t in edges:
        if s != t:
            forward[s].append(t)
            backward[t].append(s)
    origins = [i for i in range(n) if roles[i] == "origin"]
    beneficiaries = [i for i in range(n) if roles[i] == "beneficiary"]
    from_origin = _bfs(origins, forward) if origins else [-1] * n
    depth = max([d for i, d in enumerate(from_origin) if roles[i] != "beneficiary"] + [0])
    last = depth + 1
    to_beneficiary = _bfs(beneficiaries, backward) if beneficiaries else [-1] * n
    columns = []
    for i in range(n):
        if roles[i] == "origin":
            columns.append(0)
        elif roles[i] == "beneficiary":
            columns.append(last)
        elif from_origin[i] >= 0:
            columns.append(min(from_origin[i], depth))
        elif to_beneficiary[i] >= 0:
            # Upstream of the origins (an account feeding them) lands left of them.
            columns.append(last - to_beneficiary[i])
        else:
            columns.append(last // 2)
    shift = min(columns, default=0)
    return [c - shift for c in columns]


ROLE_ORDER = {role: k for k, role in enumerate(ROLE_COLOURS)}


def _positions(ids: Sequence[str], roles: Sequence[str], columns: Sequence[int]) -> list[tuple[float, float]]:
    by_column: dict[int, list[int]] = {}
    for i, column in enumerate(columns):
        by_column.setdefault(column, []).append(i)
    tallest = max((len(members) for members in by_column.values()), default=1)
    gaps = max(1, max(by_column, default=0))
    # Spread the columns so the drawing is about 1.6 times as wide as it is tall (a screen's shape):
    # a layering network has few, tall columns, which would otherwise fit as a thin strip.
    spacing = max(COLUMN_SPACING, 1.6 * (tallest - 1) * ROW_SPACING / gaps)
    positions: list[tuple[float, float]] = [(0.0, 0.0)] * len(ids)
    for column, members in by_column.items():
        members.sort(key=lambda i: (ROLE_ORDER.get(roles[i], 99), ids[i]))
        height = (len(members) - 1) * ROW_SPACING
        for row, i in enumerate(members):
            positions[i] = (round(column * spacing, 1), round(row * ROW_SPACING - height / 2, 1))
    return positions


# ---------------------------------------------------------------------------------------------- SAR
@dataclass(frozen=True, slots=True)
class ClaimLink:
    """A transaction a claim cites: where to see it (the payer's transactions with the payee), and who paid whom."""

    transaction_id: str
    href: str
    payer: str
    payee: str


@dataclass(frozen=True, slots=True)
class ClaimView:
    """A statement of the draft and the transactions behind it."""

    index: int
    text: str
    transaction_ids: tuple[str, ...]
    links: tuple[ClaimLink, ...]


@dataclass(frozen=True, slots=True)
class UnsupportedView:
    """A span of the draft the case's facts do not support."""

    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class SarView:
    """The SAR draft page: the narrative cut into segments (claims linked, unsupported spans marked)."""

    case_id: str
    outcome: str
    passed: bool
    segments: tuple[Segment, ...]
    claims: tuple[ClaimView, ...]
    unsupported: tuple[UnsupportedView, ...]
    model: str
    prompt: str
    audit_record_id: str


def sar_view(draft: aml_pb.SarDraft, transaction_accounts: Mapping[str, tuple[str, str]] | None = None) -> SarView:
    """The SAR draft with each claim linked to its transactions and every unsupported span marked.

    Args:
        draft: ``DraftSuspiciousActivityReportResponse.draft``.
        transaction_accounts: Transaction id -> (payer, payee), from the case's network edges, so a
            claim links to the payer's transactions with that payee; without it, a claim lists the ids.
    """
    known = transaction_accounts or {}
    spans: list[Span] = []
    claims = []
    for k, claim in enumerate(draft.claims):
        spans.append(Span(claim.start, claim.end, Mark("claim", f"claim-{k}", ", ".join(claim.transaction_ids))))
        links = tuple(
            ClaimLink(
                tx_id,
                account_href(known[tx_id][0], counterparty=known[tx_id][1], highlight=tx_id) + f"#tx-{tx_id}",
                known[tx_id][0],
                known[tx_id][1],
            )
            for tx_id in claim.transaction_ids
            if tx_id in known
        )
        claims.append(ClaimView(k, draft.narrative[claim.start : claim.end], tuple(claim.transaction_ids), links))
    for span in draft.unsupported_spans:
        spans.append(Span(span.start, span.end, Mark("unsupported", "", span.reason)))
    provenance = draft.provenance
    prompt = "/".join(x for x in (provenance.prompt_template_id, provenance.prompt_template_version) if x)
    outcome = draft.validation_outcome
    return SarView(
        case_id=draft.case_id,
        outcome=enum_label(common_pb2.ValidationOutcome.Name(outcome), "VALIDATION_OUTCOME_"),
        passed=outcome == common_pb2.VALIDATION_OUTCOME_PASSED,
        segments=tuple(segment_text(draft.narrative, spans)),
        claims=tuple(claims),
        unsupported=tuple(UnsupportedView(s.text, s.reason) for s in draft.unsupported_spans),
        model=provenance.llm_model,
        prompt=prompt,
        audit_record_id=provenance.audit_record_id,
    )


def transaction_accounts(response: aml_pb.InvestigateNetworkResponse) -> dict[str, tuple[str, str]]:
    """Transaction id -> (payer, payee) from a network's edges (to link SAR claims)."""
    return {
        tx_id: (edge.source_account_id, edge.target_account_id)
        for edge in response.edges
        for tx_id in edge.transaction_ids
    }


# --------------------------------------------------------------------------------------------- case
@dataclass(frozen=True, slots=True)
class CaseView:
    """A case's header and its alerts."""

    case_id: str
    title: str
    status: str
    account_count: int
    total: str
    created: str
    updated: str
    alerts: tuple[AlertRow, ...]


def case_view(response: aml_pb.GetCaseResponse) -> CaseView:
    """The case page's header and alert table from ``GetCaseResponse``."""
    case = response.case
    return CaseView(
        case_id=case.case_id,
        title=case.title,
        status=enum_label(aml_pb.CaseStatus.Name(case.status), "CASE_STATUS_"),
        account_count=len(case.account_ids),
        total=money_text(case.total_amount),
        created=timestamp_text(case.create_time),
        updated=timestamp_text(case.update_time),
        alerts=tuple(alert_rows(response.alerts)),
    )
