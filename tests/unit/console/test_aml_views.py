"""The investigator's view models: alert filters and rows, evidence and workflow, transactions,
the network as cytoscape elements (on the engine's real output for the planted 237-account
network), and the SAR draft's claims and unsupported spans."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.common.v1 import common_pb2
from fintech_console.views.aml import (
    ROLE_COLOURS,
    ClaimLink,
    InvestigationRef,
    alert_evidence,
    alert_filter_from_query,
    alert_rows,
    investigation_ref_from_query,
    network_graph,
    sar_view,
    status_change_from_form,
    transaction_accounts,
    transaction_rows,
    transactions_request,
)


def usd(units: int, nanos: int = 0) -> common_pb2.Money:
    return common_pb2.Money(currency_code="USD", units=units, nanos=nanos)


def an_alert(status: int = pb.ALERT_STATUS_INVESTIGATING) -> pb.Alert:
    alert = pb.Alert(
        alert_id="AL-1",
        account_id="ACC/7",
        status=status,
        score=123.456,
        case_id="CASE-9",
        rule_set_version="aml-rules-2026.11.1",
        severity=common_pb2.SEVERITY_HIGH,
    )
    hit = alert.rule_hits.add(rule_id="structuring", reason_code="STRUCTURING_BELOW_THRESHOLD", score_contribution=60)
    hit.evidence.transaction_ids.extend(["T1", "T2", "T3"])
    hit.evidence.total_amount.CopyFrom(usd(28_500))
    hit.evidence.window.start_time.FromSeconds(1_767_225_600)  # 2026-01-01
    hit.evidence.window.end_time.FromSeconds(1_767_484_800)  # 2026-01-04
    hit.evidence.summary = "3 transfers in [8,500, 10,000) within 72h"
    alert.rule_hits.add(
        rule_id="fan_in", reason_code="FAN_IN", score_contribution=63.456
    ).evidence.transaction_ids.append("T3")
    alert.create_time.FromSeconds(1_767_500_000)
    alert.history.add(
        from_status=pb.ALERT_STATUS_OPEN,
        to_status=pb.ALERT_STATUS_INVESTIGATING,
        reason="looking",
        changed_by="staff:ivy via spiffe://fintech.local/console",
    )
    return alert


def test_filter_builds_the_request_and_round_trips_through_the_query() -> None:
    f = alert_filter_from_query(
        {
            "status": "investigating",
            "rule": "FAN_IN",
            "account": "ACC-1",
            "min_score": "50",
            "from": "2026-01-01",
            "to": "2026-01-31",
            "page_token": "tok",
        }
    )
    assert not f.errors
    request = f.to_request()
    assert request.status == pb.ALERT_STATUS_INVESTIGATING and request.rule_id == "FAN_IN"
    assert request.account_id == "ACC-1" and request.min_score == 50 and request.page_token == "tok"
    assert request.create_time_range.start_time.ToDatetime().date() == date(2026, 1, 1)
    # "to" is inclusive: the exclusive end is the next midnight.
    assert request.create_time_range.end_time.ToDatetime().date() == date(2026, 2, 1)
    again = alert_filter_from_query(dict(pair.split("=") for pair in f.query("next").split("&")))
    assert again.to_request().page_token == "next" and again.status == f.status and again.created_to == f.created_to


def test_bad_filter_values_are_named_and_left_out() -> None:
    f = alert_filter_from_query(
        {"status": "lost", "min_score": "nan", "from": "01/02/2026", "page_size": "9999", "account": "x" * 200}
    )
    assert set(f.errors) == {"status", "min_score", "from", "page_size", "account"}
    request = f.to_request()
    assert request.status == 0 and request.min_score == 0 and not request.HasField("create_time_range")
    assert request.page_size == 50 and request.account_id == ""
    assert "to" in alert_filter_from_query({"from": "2026-02-01", "to": "2026-01-01"}).errors


def test_alert_rows() -> None:
    (row,) = alert_rows([an_alert()])
    assert row.href == "/aml/alerts/AL-1" and row.account_href == "/aml/accounts/ACC%2F7/transactions"
    assert row.status == "Investigating" and row.status_slug == "investigating"
    assert row.score == "123.5" and row.severity == "High"
    assert row.reason_codes == "STRUCTURING_BELOW_THRESHOLD, FAN_IN" and row.case_href == "/aml/cases/CASE-9"


def test_evidence_lists_hits_window_transactions_and_the_next_statuses() -> None:
    view = alert_evidence(an_alert())
    first = view.hits[0]
    assert first.total == "USD 28,500.00" and first.transaction_ids == ("T1", "T2", "T3")
    assert first.window_start == "2026-01-01 00:00:00 UTC" and first.window_end == "2026-01-04 00:00:00 UTC"
    assert (
        "start=2026-01-01T00%3A00%3A00Z" in first.transactions_href
        and "highlight=T1%2CT2%2CT3" in first.transactions_href
    )
    assert view.transaction_ids == ("T1", "T2", "T3")
    assert [c.slug for c in view.next_statuses] == ["escalated", "closed-false-positive"]
    assert view.history[0].to_status == "Investigating" and view.history[0].changed_by.startswith("staff:ivy")
    assert alert_evidence(an_alert(pb.ALERT_STATUS_SAR_FILED)).next_statuses == ()


def test_status_form_requires_status_reason_and_a_request_id() -> None:
    rid = str(uuid.uuid4())
    ok = status_change_from_form("AL-1", {"status": "escalated", "reason": " structuring ", "request_id": rid})
    assert ok.request == pb.UpdateAlertRequest(
        request_id=rid, alert_id="AL-1", status=pb.ALERT_STATUS_ESCALATED, reason="structuring"
    )
    bad = status_change_from_form("AL-1", {"status": "unspecified", "reason": "  ", "request_id": "x"})
    assert bad.request is None and set(bad.errors) == {"status", "reason", "request_id"}


def test_transactions_are_seen_from_the_account_and_evidence_is_marked() -> None:
    out = pb.Transaction(
        transaction_id="T1",
        source_account_id="A",
        target_account_id="B",
        amount=usd(10),
        channel=pb.CHANNEL_WIRE,
        origin_country_code="US",
        counterparty_country_code="KY",
    )
    inc = pb.Transaction(transaction_id="T2", source_account_id="C", target_account_id="A", amount=usd(5))
    rows = transaction_rows("A", [out, inc], highlight=["T2"])
    assert [(r.direction, r.counterparty_id, r.highlighted) for r in rows] == [("out", "B", False), ("in", "C", True)]
    assert rows[0].channel == "Wire" and rows[0].countries == "US → KY"
    request, errors = transactions_request(
        "A", {"start": "2026-01-01T00:00:00Z", "end": "2026-01-04T00:00:00Z", "counterparty": "B"}
    )
    assert not errors and request.counterparty_account_id == "B" and request.window.end_time.seconds == 1_767_484_800
    request, errors = transactions_request("A", {"start": "2026-01-04T00:00:00Z", "end": "2026-01-01T00:00:00Z"})
    assert "end" in errors and not request.HasField("window")
    assert "start" in transactions_request("A", {"start": "yesterday"})[1]


def test_investigation_reference_round_trips_and_rejects_bad_fields() -> None:
    ref = InvestigationRef(str(uuid.uuid4()), alert_id="AL-1", max_hops=4, min_amount_units=5_000, currency="USD")
    params: dict[str, str] = {}
    seeds: list[str] = []
    for pair in ref.query().split("&"):
        key, value = pair.split("=")
        if key == "seed":
            seeds.append(value)
        else:
            params[key] = value
    assert investigation_ref_from_query(params, seeds) == ref
    request = ref.to_request()
    assert request.alert_id == "AL-1" and request.min_amount == usd(5_000) and request.max_hops == 4
    with pytest.raises(ValueError, match=r"^inv"):
        investigation_ref_from_query({"inv": "nope", "alert": "AL-1"})
    with pytest.raises(ValueError, match=r"^alert"):
        investigation_ref_from_query({"inv": ref.request_id})
    with pytest.raises(ValueError, match=r"^hops"):
        investigation_ref_from_query({"inv": ref.request_id, "alert": "A", "hops": "99"})
    with pytest.raises(ValueError, match=r"^cur"):
        investigation_ref_from_query({"inv": ref.request_id, "alert": "A", "min": "10"})


def small_network() -> pb.InvestigateNetworkResponse:
    """feeder -> O -> M1 -> M2 -> B, and O -> M3 (a side branch); one money path O..B."""
    r = pb.InvestigateNetworkResponse(case_id="CASE-1", truncated=True)
    for account_id, role, distance in [
        ("F", pb.ACCOUNT_ROLE_PERIPHERAL, 2),
        ("O", pb.ACCOUNT_ROLE_ORIGIN, 1),
        ("M1", pb.ACCOUNT_ROLE_MULE, 0),
        ("M2", pb.ACCOUNT_ROLE_MULE, 1),
        ("M3", pb.ACCOUNT_ROLE_HUB, 2),
        ("B", pb.ACCOUNT_ROLE_BENEFICIARY, 2),
    ]:
        r.accounts.add(account_id=account_id, role=role, distance=distance, involvement_score=0.5, total_in=usd(1))
    for source, target, units, ids in [
        ("F", "O", 100, ["X1"]),
        ("O", "M1", 9_500, ["T1", "T2"]),
        ("M1", "M2", 9_200, ["T3"]),
        ("M2", "B", 9_000, ["T4"]),
        ("O", "M3", 400, ["T5"]),
        ("Q", "O", 1, ["T6"]),
    ]:
        r.edges.add(
            source_account_id=source,
            target_account_id=target,
            total_amount=usd(units),
            transaction_count=len(ids),
            transaction_ids=ids,
        )
    r.money_paths.add(account_ids=["O", "M1", "M2", "B"], amount=usd(9_000), transaction_ids=["T1", "T3", "T4"])
    r.patterns.add(pattern_type=pb.PATTERN_TYPE_LAYERING_CHAIN, account_ids=["O", "M1", "M2", "B"], description="chain")
    return r


def test_network_elements_roles_paths_amounts_and_layered_positions() -> None:
    graph = network_graph(small_network())
    nodes = {e["data"]["id"]: e for e in graph.elements if e["group"] == "nodes"}
    edges = [e for e in graph.elements if e["group"] == "edges"]
    assert graph.node_count == 6 and set(nodes) == {"F", "O", "M1", "M2", "M3", "B"}
    # An edge to an account outside the network ("Q") is dropped, not drawn dangling.
    assert graph.edge_count == 5 and all(e["data"]["source"] != "Q" for e in edges)
    assert nodes["O"]["classes"] == "role-origin" and nodes["O"]["data"]["colour"] == ROLE_COLOURS["origin"]
    assert "seed" in nodes["M1"]["classes"] and nodes["B"]["data"]["role"] == "beneficiary"
    assert nodes["M2"]["data"]["href"] == "/aml/accounts/M2/transactions"
    on_path = {(e["data"]["source"], e["data"]["target"]) for e in edges if e["classes"] == "money-path"}
    assert on_path == {("O", "M1"), ("M1", "M2"), ("M2", "B")}
    label = {(e["data"]["source"], e["data"]["target"]): e["data"]["label"] for e in edges}
    assert label[("O", "M1")] == "USD 9,500.00"
    width = {(e["data"]["source"], e["data"]["target"]): e["data"]["width"] for e in edges}
    assert width[("O", "M1")] == 8 and 1 < width[("F", "O")] < width[("O", "M3")] < 8
    x = {k: v["position"]["x"] for k, v in nodes.items()}
    # Money flows left to right: the feeder before the origin, beneficiaries in the last column.
    assert x["F"] < x["O"] < x["M1"] < x["M2"] < x["B"]
    assert x["M3"] == x["M1"] and x["B"] == max(x.values())
    assert [p.account_ids for p in graph.money_paths] == [("O", "M1", "M2", "B")]
    assert graph.patterns[0].pattern == "Layering chain" and graph.truncated
    assert {entry.role: entry.count for entry in graph.legend} == {
        "origin": 1,
        "mule": 2,
        "hub": 1,
        "beneficiary": 1,
        "peripheral": 1,
    }
    assert graph.total_amount == "USD 28,200.00"


def test_planted_237_account_network_from_the_engine() -> None:
    """The engine's own investigation of the planted network, mapped by the service's own mapping."""
    import polars as pl

    from server.aml.mapping import investigation_to_proto
    from server.aml.network import InvestigationRequest, TransactionGraph, investigate
    from server.aml.rules import load_rule_set
    from server.aml.synthetic import plant_layering_network

    start = 1_767_225_600_000_000
    planted = plant_layering_network(seed=11, start_us=start, background_accounts=[f"BG{i}" for i in range(50)])
    data = pl.concat([planted.transactions, planted.links]).sort("execute_time_us")
    result = investigate(
        TransactionGraph(data),
        InvestigationRequest(seed_account_ids=(planted.layers[1][0],), max_hops=4, min_amount_minor=500_000),
    )
    graph = network_graph(investigation_to_proto(result, load_rule_set(), case_id="CASE-P"))
    nodes = {e["data"]["id"]: e for e in graph.elements if e["group"] == "nodes"}
    assert set(nodes) == set(planted.account_ids) and graph.node_count == 237
    xs = {k: v["position"]["x"] for k, v in nodes.items()}
    assert {xs[o] for o in planted.origins} == {0.0}
    assert {xs[b] for b in planted.beneficiaries} == {max(xs.values())}
    assert all(nodes[o]["data"]["role"] == "origin" for o in planted.origins)
    # No two nodes share a position (nothing hidden under another).
    assert len({(v["position"]["x"], v["position"]["y"]) for v in nodes.values()}) == 237
    assert graph.money_paths and any(e["classes"] == "money-path" for e in graph.elements if e["group"] == "edges")


def test_sar_claims_link_to_their_transactions_and_unsupported_spans_are_marked() -> None:
    narrative = "PL-O001 sent USD 9,500.00 to PL-L0-004 (T1). Funds reached PL-B002 (T4) on 2031-01-01."
    draft = pb.SarDraft(case_id="CASE-1", narrative=narrative, validation_outcome=common_pb2.VALIDATION_OUTCOME_FAILED)
    t1 = narrative.index("T1")
    t4 = narrative.index("T4")
    draft.claims.add(start=t1, end=t1 + 2, transaction_ids=["T1"])
    draft.claims.add(start=t4, end=t4 + 2, transaction_ids=["T4"])
    bad = narrative.index("2031-01-01")
    draft.unsupported_spans.add(start=bad, end=bad + 10, text="2031-01-01", reason="date not in facts")
    draft.provenance.prompt_template_id = "aml_sar_narrative"
    draft.provenance.prompt_template_version = "1"
    view = sar_view(draft, transaction_accounts(small_network()))
    assert not view.passed and view.outcome == "Failed" and view.prompt == "aml_sar_narrative/1"
    assert "".join(s.text for s in view.segments) == narrative
    claimed = [s for s in view.segments if s.has("claim")]
    assert [s.text for s in claimed] == ["T1", "T4"] and claimed[0].first("claim").ref == "claim-0"
    (unsupported,) = [s for s in view.segments if s.has("unsupported")]
    assert unsupported.text == "2031-01-01" and unsupported.first("unsupported").note == "date not in facts"
    assert view.claims[0].links == (
        ClaimLink("T1", "/aml/accounts/O/transactions?counterparty=M1&highlight=T1#tx-T1", "O", "M1"),
    )
    assert view.claims[1].links[0].href.startswith("/aml/accounts/M2/transactions?counterparty=B")
    # Without the network, a claim still lists its ids, unlinked.
    assert sar_view(draft).claims[0].links == () and sar_view(draft).claims[0].transaction_ids == ("T1",)
