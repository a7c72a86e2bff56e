"""Round-tripping: funds returning to their origin through a short, time-respecting cycle.

Exhaustive cycle enumeration does not scale, so the search starts only from each *closing*
transfer ``u -> s`` of the current batch and walks backwards from ``u`` over earlier transfers
into it: every step must be strictly earlier (in arrival order) than the one after it, inside the
round-trip window, and each later hop must carry between ``min_hop_ratio`` and
``max_hop_ratio`` of the hop before it (fees and partial skims, not arbitrary sums). The search
stops when it reaches ``s`` (a cycle of ``2..max_hops`` transfers) or runs out of hops. All
steps are NumPy operations over whole frontiers (``searchsorted`` into transfers sorted by
receiver and time), never a per-transfer loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from server.aml.rules import RoundTrip

TIME_BITS = 36


@dataclass(frozen=True)
class Edges:
    """Transfers available to the search (one row each), any order."""

    src: NDArray[np.int64]
    dst: NDArray[np.int64]
    amount: NDArray[np.int64]
    t: NDArray[np.int64]
    seq: NDArray[np.int64]


@dataclass(frozen=True)
class Cycles:
    """One cycle per closing transfer that closes one.

    Attributes:
        closing: Index (into the edges) of the closing transfer.
        path: Edge indices of the cycle in time order, the closing one last; -1 padded,
            shape (cycles, max_hops).
        hops: Number of transfers in each cycle.
        start_amount: Amount of the first transfer (the one that left the origin).
        start_t: Time of the first transfer.
        truncated: True when ``max_frontier`` cut the search short.
    """

    closing: NDArray[np.int64]
    path: NDArray[np.int64]
    hops: NDArray[np.int64]
    start_amount: NDArray[np.int64]
    start_t: NDArray[np.int64]
    truncated: bool


def find_round_trips(
    edges: Edges,
    closing: NDArray[np.int64],
    window_seconds: int,
    bounds: RoundTrip,
    *,
    sorted_prefix: int = 0,
) -> Cycles:
    """Find, for each closing transfer, the shortest cycle back to its receiver.

    Args:
        edges: Every transfer the cycle may use (history tail and the current batch).
        closing: Indices of the transfers to test as the last step of a cycle.
        window_seconds: The whole cycle lies within this many seconds before the closing transfer.
        bounds: Hop and amount-conservation bounds.
        sorted_prefix: The first this many edges are already sorted by (receiver, arrival) (the
            engine's tail); only the rest is sorted and merged into them. Same result as 0.

    Returns:
        The cycles found, at most one per closing transfer (fewest hops, then earliest edges).
    """
    hops_max = bounds.max_hops
    empty = Cycles(
        closing=np.zeros(0, np.int64),
        path=np.zeros((0, hops_max), np.int64),
        hops=np.zeros(0, np.int64),
        start_amount=np.zeros(0, np.int64),
        start_t=np.zeros(0, np.int64),
        truncated=False,
    )
    if closing.size == 0 or edges.src.size == 0:
        return empty
    # Edges sorted by (receiver, time): the incoming transfers of a node are a contiguous run.
    # Time is monotone in arrival order, so (receiver, arrival) order is (receiver, time) order.
    order = _receiver_order((edges.dst << TIME_BITS) | edges.seq, sorted_prefix)
    key = (edges.dst[order] << TIME_BITS) | edges.t[order]
    src_s = edges.src[order]
    amt_s = edges.amount[order]
    seq_s = edges.seq[order]
    t_s = edges.t[order]

    # The closing edge itself is not allowed back into the path: a path is simple.
    origin = edges.dst[closing]
    node = edges.src[closing]
    cur_amt = edges.amount[closing]
    cur_seq = edges.seq[closing]
    cur_t = edges.t[closing]
    t_limit = edges.t[closing] - window_seconds
    owner = np.arange(closing.size, dtype=np.int64)
    # path[:, 0] is the closing edge; earlier edges are appended as the walk goes back.
    path = np.full((closing.size, hops_max), -1, dtype=np.int64)
    path[:, 0] = closing
    visited = np.full((closing.size, hops_max + 1), -1, dtype=np.int64)
    visited[:, 0] = origin
    visited[:, 1] = node
    # A self-transfer or a node equal to the origin is not a cycle of two or more hops.
    alive = node != origin

    found_owner: list[NDArray[np.int64]] = []
    found_path: list[NDArray[np.int64]] = []
    found_hops: list[NDArray[np.int64]] = []
    truncated = False
    for hop in range(1, hops_max):
        owner, node, cur_amt, cur_seq, cur_t, t_limit, path, visited = (
            owner[alive],
            node[alive],
            cur_amt[alive],
            cur_seq[alive],
            cur_t[alive],
            t_limit[alive],
            path[alive],
            visited[alive],
        )
        if owner.size == 0:
            break
        # Walk the frontier in key order: sorted queries keep searchsorted cache-friendly.
        fo = np.argsort((node << TIME_BITS) | cur_t)
        owner, node, cur_amt, cur_seq, cur_t, t_limit, path, visited = (
            owner[fo],
            node[fo],
            cur_amt[fo],
            cur_seq[fo],
            cur_t[fo],
            t_limit[fo],
            path[fo],
            visited[fo],
        )
        lo = np.searchsorted(key, (node << TIME_BITS) | t_limit, side="right")
        hi = np.searchsorted(key, (node << TIME_BITS) | cur_t, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total > bounds.max_frontier:
            truncated = True
            # Keep whole frontier entries, in order, up to the bound (deterministic).
            keep = np.cumsum(counts) <= bounds.max_frontier
            counts = np.where(keep, counts, 0)
            total = int(counts.sum())
        if total == 0:
            break
        rep = np.repeat(np.arange(owner.size), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        cand = lo[rep] + (np.arange(total) - starts)
        # Strictly earlier in arrival order, and amount-conserving: the later hop carries
        # between min_hop_ratio and max_hop_ratio of the earlier one.
        later = cur_amt[rep].astype(np.float64)
        earlier = amt_s[cand].astype(np.float64)
        ok = (seq_s[cand] < cur_seq[rep]) & (later >= bounds.min_hop_ratio * earlier)
        ok &= later <= bounds.max_hop_ratio * earlier
        prev = src_s[cand]
        # Simple paths: the predecessor may be the origin (closing the cycle) but no other visited node.
        on_path = (visited[rep, 1 : hop + 1] == prev[:, None]).any(axis=1)
        ok &= ~on_path
        rep, cand, prev = rep[ok], cand[ok], prev[ok]
        new_path = path[rep].copy()
        new_path[:, hop] = order[cand]
        closes = prev == visited[rep, 0]
        if closes.any():
            found_owner.append(owner[rep][closes])
            found_path.append(new_path[closes])
            found_hops.append(np.full(int(closes.sum()), hop + 1, dtype=np.int64))
        cont = ~closes
        owner = owner[rep][cont]
        node = prev[cont]
        cur_amt = amt_s[cand][cont]
        cur_seq = seq_s[cand][cont]
        cur_t = t_s[cand][cont]
        t_limit = t_limit[rep][cont]
        path = new_path[cont]
        visited = visited[rep][cont].copy()
        visited[:, hop + 1] = node
        # Owners already closed do not need longer cycles.
        done = np.unique(np.concatenate(found_owner)) if found_owner else np.zeros(0, np.int64)
        alive = ~np.isin(owner, done)

    if not found_owner:
        return Cycles(empty.closing, empty.path, empty.hops, empty.start_amount, empty.start_t, truncated)
    f_owner = np.concatenate(found_owner)
    f_path = np.concatenate(found_path)
    f_hops = np.concatenate(found_hops)
    # Shortest first, then the earliest first edge; one cycle per closing transfer.
    last_idx = f_path[np.arange(f_path.shape[0]), f_hops - 1]
    pick_order = np.lexsort((edges.seq[last_idx], f_hops, f_owner))
    f_owner, f_path = f_owner[pick_order], f_path[pick_order]
    f_hops, last_idx = f_hops[pick_order], last_idx[pick_order]
    first = np.r_[True, f_owner[1:] != f_owner[:-1]]
    f_owner, f_path, f_hops, last_idx = f_owner[first], f_path[first], f_hops[first], last_idx[first]
    # The return must conserve enough of what left the origin.
    start_amount = edges.amount[last_idx]
    returned = edges.amount[closing[f_owner]]
    keep = returned >= bounds.min_return_ratio * start_amount
    f_owner, f_path, f_hops, last_idx = f_owner[keep], f_path[keep], f_hops[keep], last_idx[keep]
    # Reverse each path into time order (first edge first, closing edge last).
    ordered = np.full_like(f_path, -1)
    for length in np.unique(f_hops):
        rows = f_hops == length
        ordered[rows, :length] = f_path[rows, :length][:, ::-1]
    return Cycles(
        closing=closing[f_owner],
        path=ordered,
        hops=f_hops,
        start_amount=edges.amount[last_idx],
        start_t=edges.t[last_idx],
        truncated=truncated,
    )


def _receiver_order(keys: NDArray[np.int64], sorted_prefix: int) -> NDArray[np.int64]:
    """``argsort(keys)`` (unique keys) when ``keys[:sorted_prefix]`` is sorted: sort the rest and merge."""
    if sorted_prefix <= 0:
        return np.argsort(keys)
    head = keys[:sorted_prefix]
    rest = sorted_prefix + np.argsort(keys[sorted_prefix:])
    at = np.searchsorted(head, keys[rest]) + np.arange(rest.size)
    order = np.empty(keys.size, np.int64)
    from_head = np.ones(keys.size, np.bool_)
    from_head[at] = False
    order[at] = rest
    order[from_head] = np.arange(sorted_prefix)
    return order
