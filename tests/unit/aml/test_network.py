"""Network investigation: the planted layering network, bounds, structure, errors."""

from __future__ import annotations

import polars as pl
import pytest

from server.aml.network import InvestigationRequest, Pattern, Role, TransactionGraph, investigate
from server.aml.synthetic import plant_layering_network
from server.runtime.errors import InvalidArgument, NotFound

from .conftest import DAY, HOUR, T0, frame


@pytest.fixture(scope="module")
def planted(dev_enriched):
    data = dev_enriched.transactions.drop("row", "step")
    start = int(data["execute_time_us"].min()) + 60 * DAY
    network = plant_layering_network(
        seed=5, start_us=start, background_accounts=dev_enriched.segments["account_id"].to_list()[:3_000]
    )
    graph = TransactionGraph(pl.concat([data, network.transactions, network.links]).sort("execute_time_us"))
    return network, graph, start


def test_planted_network_is_found_with_roles_and_paths(planted) -> None:
    network, graph, start = planted
    assert network.transactions.height == 1_856 and len(network.account_ids) == 237
    request = InvestigationRequest(
        seed_account_ids=(network.layers[1][0], network.layers[2][7], network.layers[0][3]),
        max_hops=4,
        min_amount_minor=500_000,
        window_start_us=start - 5 * DAY,
        window_end_us=start + 45 * DAY,
    )
    result = investigate(graph, request)
    found = {a.account_id for a in result.accounts}
    assert found == set(network.account_ids)
    roles = {a.account_id: a.role for a in result.accounts}
    assert {a for a, r in roles.items() if r == Role.ORIGIN} == set(network.origins)
    assert {a for a, r in roles.items() if r == Role.BENEFICIARY} == set(network.beneficiaries)
    kinds = {p.pattern for p in result.patterns}
    assert {Pattern.LAYERING_CHAIN, Pattern.CYCLE} <= kinds
    chain = next(p for p in result.patterns if p.pattern == Pattern.LAYERING_CHAIN)
    assert len(chain.account_ids) >= 6
    path = result.money_paths[0]
    assert path.account_ids[0] in network.origins and path.account_ids[-1] in network.beneficiaries
    assert path.amount_minor > 500_000 and len(path.transaction_ids) >= len(path.account_ids) - 1
    edge_total = sum(e.total_minor for e in result.edges)
    assert edge_total == int(network.transactions["amount_minor"].sum())
    assert not result.truncated
    assert result.timings_ms["total"] > 0


def test_bounds_truncate_and_filter(planted) -> None:
    network, graph, start = planted
    seeds = (network.layers[1][0],)
    small = investigate(
        graph, InvestigationRequest(seed_account_ids=seeds, max_hops=4, max_accounts=50, min_amount_minor=500_000)
    )
    assert small.truncated and len(small.accounts) == 50
    one_hop = investigate(graph, InvestigationRequest(seed_account_ids=seeds, max_hops=1, min_amount_minor=500_000))
    assert max(a.distance for a in one_hop.accounts) == 1
    # Outside the network's time window nothing of it is left but the seed.
    before = investigate(
        graph,
        InvestigationRequest(seed_account_ids=seeds, max_hops=2, min_amount_minor=500_000, window_end_us=start - DAY),
    )
    assert {a.account_id for a in before.accounts} <= {seeds[0]} | set(graph.account_ids.to_list())
    assert not ({a.account_id for a in before.accounts} - {seeds[0]}) & set(network.account_ids)


def test_small_cycle_and_fan_in_are_recognised() -> None:
    rows = [
        {"transaction_id": "ab", "src": "A", "dst": "B", "amount": 500_000, "time": T0},
        {"transaction_id": "bc", "src": "B", "dst": "C", "amount": 490_000, "time": T0 + HOUR},
        {"transaction_id": "ca", "src": "C", "dst": "A", "amount": 480_000, "time": T0 + 2 * HOUR},
    ] + [
        {"transaction_id": f"f{i}", "src": f"S{i}", "dst": "H", "amount": 100_000, "time": T0 + i * HOUR}
        for i in range(6)
    ]
    graph = TransactionGraph(frame(rows))
    cyc = investigate(graph, InvestigationRequest(seed_account_ids=("A",), max_hops=3))
    cycle = next(p for p in cyc.patterns if p.pattern == Pattern.CYCLE)
    assert set(cycle.account_ids) == {"A", "B", "C"}
    fan = investigate(graph, InvestigationRequest(seed_account_ids=("H",), max_hops=1))
    assert any(p.pattern == Pattern.FAN_IN and "H" in p.account_ids for p in fan.patterns)
    assert {a.account_id: a.role for a in fan.accounts}["H"] == Role.BENEFICIARY


def test_bad_requests() -> None:
    graph = TransactionGraph(frame([{"src": "A", "dst": "B", "amount": 100, "time": T0}]))
    with pytest.raises(NotFound):
        investigate(graph, InvestigationRequest(seed_account_ids=("nobody",)))
    with pytest.raises(InvalidArgument) as error:
        investigate(graph, InvestigationRequest(seed_account_ids=("A",), max_hops=9))
    assert error.value.violations[0].field == "max_hops"
    with pytest.raises(InvalidArgument) as error:
        investigate(graph, InvestigationRequest(seed_account_ids=("A",), window_start_us=T0, window_end_us=T0))
    assert error.value.violations[0].field == "window"


def test_investigation_maps_to_the_contract(planted, rules) -> None:
    from fintech.aml.v1 import aml_service_pb2 as pb

    from server.aml.mapping import investigation_to_proto

    network, graph, start = planted
    result = investigate(
        graph,
        InvestigationRequest(
            seed_account_ids=(network.layers[0][0],),
            max_hops=4,
            min_amount_minor=500_000,
            window_start_us=start - 5 * DAY,
            window_end_us=start + 45 * DAY,
        ),
    )
    response = investigation_to_proto(result, rules, case_id="case-1")
    assert response.case_id == "case-1" and not response.truncated
    assert len(response.accounts) == len(result.accounts) == 237
    origin = next(a for a in response.accounts if a.account_id == network.origins[0])
    assert origin.role == pb.ACCOUNT_ROLE_ORIGIN and origin.total_out.currency_code == "USD"
    assert sum(e.transaction_count for e in response.edges) == 1_856
    assert response.money_paths[0].amount.units > 5_000
    assert response.provenance.rule_set_version == rules.version
    assert {p.pattern_type for p in response.patterns} >= {pb.PATTERN_TYPE_LAYERING_CHAIN, pb.PATTERN_TYPE_CYCLE}
