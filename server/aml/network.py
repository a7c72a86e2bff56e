"""Network investigation: expand the transaction graph around seed accounts and explain its structure.

Two parts:

* :class:`TransactionGraph` indexes a transaction history once (NumPy CSR adjacency, both
  directions, edges sorted by time), so an investigation never scans the whole history.
* :func:`investigate` expands from seed accounts within bounds (hops, time window, minimum
  amount, maximum accounts), builds the subgraph in **rustworkx** (strongly connected
  components, condensation, longest layering chain, PageRank, shortest paths) and finds
  communities by weighted label propagation in NumPy (rustworkx has no community detection;
  NetworkX's Louvain took two thirds of an investigation's time). It finds fan-in and fan-out hubs, gather-scatter and
  scatter-gather shapes, bipartite layers, cycles and layering chains; ranks accounts by
  involvement with a role (origin, mule, hub, beneficiary, peripheral); and returns the edges,
  the money paths from origins to beneficiaries with their totals, and the patterns as evidence.

Expansion is breadth-first, hop by hop; when ``max_accounts`` would be exceeded the accounts
with the largest money flow to the already-visited set are kept (deterministic) and the result
is marked truncated.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import polars as pl
import rustworkx as rx
from numpy.typing import NDArray

from server.runtime.errors import FieldViolation, InvalidArgument, NotFound

DOMAIN = "aml.fintech"
ENGINE_NAME = "aml.network"
ENGINE_VERSION = "1.0.0"
DEFAULT_MAX_HOPS = 3
DEFAULT_MAX_ACCOUNTS = 2_000
MAX_TX_IDS_PER_EDGE = 50
MAX_PATHS = 50
HUB_MIN_COUNTERPARTIES = 5
MAX_PATTERNS_PER_TYPE = 20


class Role(enum.IntEnum):
    """Account role (numbers match ``fintech.aml.v1.AccountRole``)."""

    ORIGIN = 1
    MULE = 2
    HUB = 3
    BENEFICIARY = 4
    PERIPHERAL = 5


class Pattern(enum.IntEnum):
    """Typology found (numbers match ``fintech.aml.v1.PatternType``)."""

    FAN_IN = 1
    FAN_OUT = 2
    CYCLE = 3
    SCATTER_GATHER = 4
    GATHER_SCATTER = 5
    BIPARTITE = 6
    LAYERING_CHAIN = 7
    COMMUNITY = 8


@dataclass(frozen=True)
class InvestigationRequest:
    """Bounds of one investigation.

    Attributes:
        seed_account_ids: Where to start.
        max_hops: Hops to expand (0 means 3).
        window_start_us: Only transfers at or after this time (None = unbounded).
        window_end_us: Only transfers before this time (None = unbounded).
        min_amount_minor: Ignore transfers below this amount (minor units).
        max_accounts: Stop expanding past this many accounts (0 means 2,000).
    """

    seed_account_ids: tuple[str, ...]
    max_hops: int = 0
    window_start_us: int | None = None
    window_end_us: int | None = None
    min_amount_minor: int = 0
    max_accounts: int = 0


@dataclass(frozen=True)
class NetworkAccount:
    """An account of the network."""

    account_id: str
    role: Role
    involvement_score: float
    total_in_minor: int
    total_out_minor: int
    community: int
    distance: int


@dataclass(frozen=True)
class NetworkEdge:
    """All transfers from one account to another inside the network."""

    source_account_id: str
    target_account_id: str
    total_minor: int
    transaction_count: int
    transaction_ids: tuple[str, ...]
    first_time_us: int
    last_time_us: int


@dataclass(frozen=True)
class MoneyPath:
    """Money followed from an origin to a beneficiary; ``amount_minor`` is the path's bottleneck."""

    account_ids: tuple[str, ...]
    amount_minor: int
    transaction_ids: tuple[str, ...]


@dataclass(frozen=True)
class NetworkPattern:
    """A typology found, with the accounts that form it."""

    pattern: Pattern
    account_ids: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class NetworkInvestigation:
    """The result of :func:`investigate`."""

    accounts: tuple[NetworkAccount, ...]
    edges: tuple[NetworkEdge, ...]
    money_paths: tuple[MoneyPath, ...]
    patterns: tuple[NetworkPattern, ...]
    truncated: bool
    currency: str
    engine: str = ENGINE_NAME
    engine_version: str = ENGINE_VERSION
    timings_ms: dict[str, float] = field(default_factory=dict)


class TransactionGraph:
    """A time-sorted CSR index of a transaction history (both directions).

    Args:
        transactions: Columns ``transaction_id``, ``source_account_id``, ``target_account_id``,
            ``amount_minor``, ``currency``, ``execute_time_us``.
    """

    def __init__(self, transactions: pl.DataFrame) -> None:
        needed = ["transaction_id", "source_account_id", "target_account_id", "amount_minor", "execute_time_us"]
        missing = [c for c in needed if c not in transactions.columns]
        if missing:
            raise InvalidArgument(
                message=f"transactions lack {missing}",
                reason="MISSING_COLUMNS",
                domain=DOMAIN,
                violations=[FieldViolation(c, "required") for c in missing],
            )
        currencies = transactions["currency"].unique().to_list() if "currency" in transactions.columns else ["XXX"]
        # One currency per graph keeps totals meaningful; a multi-currency bank builds one per currency.
        if len(currencies) > 1:
            raise InvalidArgument(
                message="one currency per transaction graph",
                reason="MIXED_CURRENCIES",
                domain=DOMAIN,
                violations=[FieldViolation("currency", f"found {sorted(currencies)}")],
            )
        self.currency = str(currencies[0]) if currencies else "XXX"
        ids = pl.concat([transactions["source_account_id"], transactions["target_account_id"]]).unique().sort()
        self.account_ids = ids.rename("account_id")
        lookup = pl.DataFrame({"account_id": ids, "idx": np.arange(ids.len(), dtype=np.int64)})

        def encode(column: str) -> NDArray[np.int64]:
            return (
                transactions.select(pl.col(column).alias("account_id"))
                .join(lookup, on="account_id", how="left", maintain_order="left")["idx"]
                .to_numpy()
                .astype(np.int64)
            )

        self.src = encode("source_account_id")
        self.dst = encode("target_account_id")
        self.amount = transactions["amount_minor"].to_numpy().astype(np.int64)
        self.time_us = transactions["execute_time_us"].to_numpy().astype(np.int64)
        self.tx_ids = transactions["transaction_id"]
        k = ids.len()
        self.n_accounts = k
        # CSR by (node, time) for each direction.
        self.out_order = np.lexsort((self.time_us, self.src))
        self.in_order = np.lexsort((self.time_us, self.dst))
        self.out_ptr = np.searchsorted(self.src[self.out_order], np.arange(k + 1))
        self.in_ptr = np.searchsorted(self.dst[self.in_order], np.arange(k + 1))
        self._lookup = lookup

    def index_of(self, account_ids: list[str]) -> NDArray[np.int64]:
        """Internal indices of accounts; -1 for unknown ones."""
        frame = pl.DataFrame({"account_id": pl.Series(account_ids, dtype=pl.Utf8)})
        joined = frame.join(self._lookup, on="account_id", how="left", maintain_order="left")
        return joined["idx"].fill_null(-1).to_numpy().astype(np.int64)

    def incident_edges(self, nodes: NDArray[np.int64]) -> NDArray[np.int64]:
        """Edge indices touching any of ``nodes`` (both directions), unsorted, may repeat."""
        parts = []
        for order, ptr in ((self.out_order, self.out_ptr), (self.in_order, self.in_ptr)):
            lo, hi = ptr[nodes], ptr[nodes + 1]
            counts = hi - lo
            rep = np.repeat(lo, counts)
            offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            parts.append(order[rep + offset])
        return np.concatenate(parts)


def _validate(request: InvestigationRequest) -> tuple[int, int]:
    violations: list[FieldViolation] = []
    if not request.seed_account_ids:
        violations.append(FieldViolation("seed_account_ids", "give at least one seed account"))
    if not 0 <= request.max_hops <= 8:
        violations.append(FieldViolation("max_hops", "must be 0..8"))
    if not 0 <= request.max_accounts <= 20_000:
        violations.append(FieldViolation("max_accounts", "must be 0..20000"))
    if request.min_amount_minor < 0:
        violations.append(FieldViolation("min_amount", "must not be negative"))
    if (
        request.window_start_us is not None
        and request.window_end_us is not None
        and request.window_end_us <= request.window_start_us
    ):
        violations.append(FieldViolation("window", "end_time must be after start_time"))
    if violations:
        raise InvalidArgument(
            message="invalid investigation", reason="INVALID_INVESTIGATION", domain=DOMAIN, violations=violations
        )
    return request.max_hops or DEFAULT_MAX_HOPS, request.max_accounts or DEFAULT_MAX_ACCOUNTS


def investigate(graph: TransactionGraph, request: InvestigationRequest) -> NetworkInvestigation:
    """Expand from the seeds within bounds and explain the network found.

    Args:
        graph: The indexed history.
        request: Seeds and bounds.

    Returns:
        Accounts with roles and involvement, aggregated edges, money paths, patterns.

    Raises:
        InvalidArgument: bad bounds (each named as a field).
        NotFound: no seed account has any transfer in the history.
    """
    import time

    started = time.perf_counter()
    max_hops, max_accounts = _validate(request)
    seeds = graph.index_of(list(request.seed_account_ids))
    seeds = np.unique(seeds[seeds >= 0])
    if seeds.size == 0:
        raise NotFound(message="no seed account has transfers", reason="SEEDS_NOT_FOUND", domain=DOMAIN)

    def admissible(edges: NDArray[np.int64]) -> NDArray[np.int64]:
        ok = graph.amount[edges] >= request.min_amount_minor
        if request.window_start_us is not None:
            ok &= graph.time_us[edges] >= request.window_start_us
        if request.window_end_us is not None:
            ok &= graph.time_us[edges] < request.window_end_us
        return edges[ok]

    # ---- breadth-first expansion, strongest flows first when the budget runs out
    distance = np.full(graph.n_accounts, -1, np.int64)
    distance[seeds] = 0
    visited = seeds.copy()
    frontier = seeds
    truncated = False
    for hop in range(1, max_hops + 1):
        if frontier.size == 0 or visited.size >= max_accounts:
            break
        edges = admissible(np.unique(graph.incident_edges(frontier)))
        other = np.concatenate([graph.dst[edges], graph.src[edges]])
        weight = np.concatenate([graph.amount[edges], graph.amount[edges]])
        fresh = distance[other] < 0
        other, weight = other[fresh], weight[fresh]
        if other.size == 0:
            break
        candidates, inverse = np.unique(other, return_inverse=True)
        flow = np.bincount(inverse, weights=weight.astype(np.float64))
        room = max_accounts - visited.size
        if candidates.size > room:
            truncated = True
            keep = np.lexsort((candidates, -flow))[:room]
            candidates = np.sort(candidates[keep])
        distance[candidates] = hop
        visited = np.concatenate([visited, candidates])
        frontier = candidates
    expand_ms = (time.perf_counter() - started) * 1000

    # ---- subgraph: admissible edges with both ends visited
    members = np.zeros(graph.n_accounts, np.bool_)
    members[visited] = True
    edges = admissible(np.unique(graph.incident_edges(visited)))
    edges = edges[members[graph.src[edges]] & members[graph.dst[edges]]]
    nodes = np.sort(visited)
    local = np.full(graph.n_accounts, -1, np.int64)
    local[nodes] = np.arange(nodes.size)
    e_src, e_dst = local[graph.src[edges]], local[graph.dst[edges]]
    agg = (
        pl.DataFrame(
            {
                "s": e_src,
                "d": e_dst,
                "amount": graph.amount[edges],
                "t": graph.time_us[edges],
                "tx": graph.tx_ids.gather(edges),
            }
        )
        .filter(pl.col("s") != pl.col("d"))
        .sort("t", "tx")
        .group_by("s", "d", maintain_order=True)
        .agg(
            pl.col("amount").sum().alias("total"),
            pl.len().alias("count"),
            pl.col("tx").head(MAX_TX_IDS_PER_EDGE).alias("tx_ids"),
            pl.col("t").min().alias("first"),
            pl.col("t").max().alias("last"),
        )
        .sort("s", "d")
    )
    k = nodes.size
    s_arr = agg["s"].to_numpy()
    d_arr = agg["d"].to_numpy()
    total = agg["total"].to_numpy().astype(np.int64)
    tot_in = np.bincount(d_arr, weights=total, minlength=k).astype(np.int64)
    tot_out = np.bincount(s_arr, weights=total, minlength=k).astype(np.int64)
    indeg = np.bincount(d_arr, minlength=k)
    outdeg = np.bincount(s_arr, minlength=k)

    digraph = rx.PyDiGraph(multigraph=False)
    digraph.add_nodes_from(list(range(k)))
    digraph.add_edges_from(list(zip(s_arr.tolist(), d_arr.tolist(), total.tolist(), strict=True)))
    names = graph.account_ids.gather(nodes).to_list()

    # ---- structure
    patterns: list[NetworkPattern] = []

    def ids(locals_: list[int] | NDArray[np.int64]) -> tuple[str, ...]:
        return tuple(names[i] for i in sorted(int(x) for x in locals_))

    # Hubs: many counterparties, against this network's own typical degree.
    degree = indeg + outdeg
    hub_degree = max(HUB_MIN_COUNTERPARTIES, int(3 * np.median(degree))) if k else HUB_MIN_COUNTERPARTIES
    hub_in = np.flatnonzero(indeg >= hub_degree)
    hub_out = np.flatnonzero(outdeg >= hub_degree)
    for h in hub_in[np.argsort(-tot_in[hub_in], kind="stable")][:MAX_PATTERNS_PER_TYPE]:
        if outdeg[h] >= hub_degree:
            members_ = [h, *digraph.predecessor_indices(h), *digraph.successor_indices(h)]
            patterns.append(
                NetworkPattern(
                    Pattern.GATHER_SCATTER,
                    ids(np.unique(members_)),
                    f"{names[h]} gathers from {indeg[h]} accounts and scatters to {outdeg[h]}",
                )
            )
        else:
            patterns.append(
                NetworkPattern(
                    Pattern.FAN_IN,
                    ids([h, *digraph.predecessor_indices(h)]),
                    f"{names[h]} receives from {indeg[h]} accounts, total {tot_in[h]}",
                )
            )
    for h in hub_out[np.argsort(-tot_out[hub_out], kind="stable")][:MAX_PATTERNS_PER_TYPE]:
        if indeg[h] < hub_degree:
            patterns.append(
                NetworkPattern(
                    Pattern.FAN_OUT,
                    ids([h, *digraph.successor_indices(h)]),
                    f"{names[h]} sends to {outdeg[h]} accounts, total {tot_out[h]}",
                )
            )
    # Scatter-gather: one account scatters to several intermediaries that gather into one account.
    for o in np.flatnonzero(outdeg >= 3):
        mids = digraph.successor_indices(int(o))
        sinks: dict[int, int] = {}
        for mid in mids:
            for s in digraph.successor_indices(int(mid)):
                if s != o:
                    sinks[s] = sinks.get(s, 0) + 1
        best = max(sinks.items(), key=lambda kv: (kv[1], -kv[0]), default=(None, 0))
        if (
            best[0] is not None
            and best[1] >= 3
            and sum(p.pattern == Pattern.SCATTER_GATHER for p in patterns) < (MAX_PATTERNS_PER_TYPE)
        ):
            via = [m for m in mids if digraph.has_edge(m, best[0])]
            patterns.append(
                NetworkPattern(
                    Pattern.SCATTER_GATHER,
                    ids([int(o), best[0], *via]),
                    f"{names[o]} scatters through {len(via)} accounts that gather into {names[best[0]]}",
                )
            )
    # Cycles: one shortest cycle per strongly connected component.
    sccs = [c for c in rx.strongly_connected_components(digraph) if len(c) >= 2]
    for comp in sccs:
        cycle = rx.digraph_find_cycle(digraph, comp[0])
        accounts_ = [a for a, _ in cycle] if cycle else list(comp)
        patterns.append(
            NetworkPattern(
                Pattern.CYCLE,
                ids(accounts_),
                f"funds return through {len(accounts_)} accounts ({len(comp)} in the loop)",
            )
        )
    # Layering chain: the longest path of the condensation (cycles collapsed), weighted by hops.
    condensed = rx.condensation(digraph)
    assert isinstance(condensed, rx.PyDiGraph)
    chain_nodes: list[int] = []
    if condensed.num_nodes():
        longest = rx.dag_longest_path(condensed)
        for cnode in longest:
            chain_nodes.extend(condensed[cnode])
        if len(longest) >= 3:
            patterns.append(
                NetworkPattern(Pattern.LAYERING_CHAIN, ids(chain_nodes), f"money moves through {len(longest)} layers")
            )
    # Bipartite layer: pure senders paying pure receivers, several of each.
    pure_src = (outdeg > 0) & (indeg == 0)
    pure_dst = (indeg > 0) & (outdeg == 0)
    bip = pure_src[s_arr] & pure_dst[d_arr]
    if bip.sum() >= 4 and np.unique(s_arr[bip]).size >= 2 and np.unique(d_arr[bip]).size >= 2:
        patterns.append(
            NetworkPattern(
                Pattern.BIPARTITE,
                ids(np.unique(np.concatenate([s_arr[bip], d_arr[bip]]))),
                f"{np.unique(s_arr[bip]).size} senders pay {np.unique(d_arr[bip]).size} receivers directly",
            )
        )
    # Communities: weighted label propagation on the undirected subgraph (vectorised, deterministic).
    community = _label_propagation(k, s_arr, d_arr, total.astype(np.float64))
    labels, sizes = np.unique(community, return_counts=True)
    if labels.size > 1:
        for label in labels[np.lexsort((labels, -sizes))][:MAX_PATTERNS_PER_TYPE]:
            comm = np.flatnonzero(community == label)
            if comm.size >= 3:
                patterns.append(
                    NetworkPattern(Pattern.COMMUNITY, ids(comm), f"community {int(label)}: {comm.size} accounts")
                )
    structure_ms = (time.perf_counter() - started) * 1000 - expand_ms

    # ---- roles and involvement
    money_flow: NDArray[np.float64] = np.maximum(tot_in, tot_out).astype(np.float64)
    pagerank: NDArray[np.float64] = np.zeros(k)
    if k:
        ranks = rx.pagerank(digraph, weight_fn=float)
        pagerank[np.fromiter(ranks.keys(), np.int64, len(ranks))] = np.fromiter(ranks.values(), np.float64, len(ranks))
    in_pattern: NDArray[np.float64] = np.zeros(k)
    position = {name: i for i, name in enumerate(names)}
    for p in patterns:
        if p.pattern != Pattern.COMMUNITY:
            in_pattern[[position[name] for name in p.account_ids]] += 1

    def norm(values: NDArray[np.float64]) -> NDArray[np.float64]:
        top = float(values.max()) if values.size else 0.0
        return values / top if top > 0 else np.zeros_like(values)

    weighted = 0.45 * norm(money_flow) + 0.25 * norm(pagerank) + 0.30 * norm(in_pattern)
    involvement = np.round(weighted, 6)
    # Roles by where the money goes inside the network: origins mostly send, beneficiaries mostly
    # receive, the rest pass it on (hubs when they have many counterparties, else mules).
    role = np.full(k, int(Role.MULE), np.int64)
    role[(indeg >= hub_degree) | (outdeg >= hub_degree)] = int(Role.HUB)
    role[(tot_out > 0) & (tot_out > 2 * tot_in)] = int(Role.ORIGIN)
    role[(tot_in > 0) & (tot_in > 2 * tot_out)] = int(Role.BENEFICIARY)
    role[(involvement < 0.02) & (in_pattern == 0)] = int(Role.PERIPHERAL)

    accounts = tuple(
        sorted(
            (
                NetworkAccount(
                    account_id=names[i],
                    role=Role(int(role[i])),
                    involvement_score=float(involvement[i]),
                    total_in_minor=int(tot_in[i]),
                    total_out_minor=int(tot_out[i]),
                    community=int(community[i]),
                    distance=int(distance[nodes[i]]),
                )
                for i in range(k)
            ),
            key=lambda a: (-a.involvement_score, a.account_id),
        )
    )
    edge_list = tuple(
        NetworkEdge(
            source_account_id=names[int(row[0])],
            target_account_id=names[int(row[1])],
            total_minor=int(row[2]),
            transaction_count=int(row[3]),
            transaction_ids=tuple(row[4]),
            first_time_us=int(row[5]),
            last_time_us=int(row[6]),
        )
        for row in agg.select("s", "d", "total", "count", "tx_ids", "first", "last").iter_rows()
    )
    paths = _money_paths(digraph, agg, names, role)
    return NetworkInvestigation(
        accounts=accounts,
        edges=edge_list,
        money_paths=paths,
        patterns=tuple(patterns),
        truncated=truncated,
        currency=graph.currency,
        timings_ms={
            "expand": round(expand_ms, 3),
            "structure": round(structure_ms, 3),
            "total": round((time.perf_counter() - started) * 1000, 3),
        },
    )


def _money_paths(
    digraph: rx.PyDiGraph, agg: pl.DataFrame, names: list[str], role: NDArray[np.int64]
) -> tuple[MoneyPath, ...]:
    """Widest (largest bottleneck) hop-shortest paths from each origin to each beneficiary."""
    origins = np.flatnonzero(role == int(Role.ORIGIN)).tolist()
    sinks = set(np.flatnonzero(role == int(Role.BENEFICIARY)).tolist())
    if not origins or not sinks:
        return ()
    tx_of = {(int(s), int(d)): list(tx) for s, d, tx in agg.select("s", "d", "tx_ids").iter_rows()}
    found: list[MoneyPath] = []
    for origin in origins:
        # Hop-shortest paths (unit weights: no Python callback per edge).
        paths = rx.digraph_dijkstra_shortest_paths(digraph, origin, target=None, default_weight=1.0)
        for target, path in paths.items():
            if target not in sinks or len(path) < 2:
                continue
            amounts = [int(digraph.get_edge_data(a, b)) for a, b in pairwise(path)]
            txs = [tx for a, b in pairwise(path) for tx in tx_of[(a, b)]]
            found.append(MoneyPath(tuple(names[i] for i in path), min(amounts), tuple(txs)))
    found.sort(key=lambda p: (-p.amount_minor, len(p.account_ids), p.account_ids))
    return tuple(found[:MAX_PATHS])


def _label_propagation(
    k: int, src: NDArray[np.int64], dst: NDArray[np.int64], weight: NDArray[np.float64], rounds: int = 20
) -> NDArray[np.int64]:
    """Community label per node: each node takes the label with the most edge weight around it.

    Semi-synchronous (even nodes, then odd nodes, per round) so that it cannot oscillate on
    bipartite layers; ties go to the smallest label; labels are renumbered by first node.
    """
    labels = np.arange(k, dtype=np.int64)
    if k == 0 or src.size == 0:
        return labels
    u = np.concatenate([src, dst])
    v = np.concatenate([dst, src])
    w = np.concatenate([weight, weight])
    for _ in range(rounds):
        changed = False
        for parity in (0, 1):
            cand = labels[v]
            order = np.lexsort((cand, u))
            uu, cc, ww = u[order], cand[order], w[order]
            start = np.flatnonzero(np.r_[True, (uu[1:] != uu[:-1]) | (cc[1:] != cc[:-1])])
            sums = np.add.reduceat(ww, start)
            node, label = uu[start], cc[start]
            # Best label per node: largest weight, then smallest label.
            pick = np.lexsort((label, -sums, node))
            node, label = node[pick], label[pick]
            first = np.r_[True, node[1:] != node[:-1]]
            node, label = node[first], label[first]
            update = (node % 2) == parity
            new = labels.copy()
            new[node[update]] = label[update]
            if not np.array_equal(new, labels):
                changed = True
                labels = new
        if not changed:
            break
    _, renumbered = np.unique(labels, return_inverse=True)
    return renumbered.astype(np.int64)
