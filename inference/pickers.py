"""Endpoint pickers: strategies that choose one endpoint from immutable snapshots.

Every picker has the same async signature (:class:`Picker`) and is chosen by config name from
:data:`PICKERS`. Affinity (conversation or prompt prefix) is applied before the picker: the
preferred replica by rendezvous hashing wins unless it is overloaded.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from inference.settings import AffinitySettings


@dataclass(frozen=True)
class EndpointSnapshot:
    """What a picker may know about one routable endpoint at one instant.

    Attributes:
        endpoint_id: Stable id (``group/host:port``).
        weight: Configured weight.
        limit: Concurrency limit.
        outstanding: Requests this pool has in flight there.
        waiting: vLLM's waiting queue (0 when not scraped).
        running: vLLM's running batch (0 when not scraped).
        kv_cache_usage: KV-cache fill in [0, 1], None when unknown.
    """

    endpoint_id: str
    weight: float
    limit: int
    outstanding: int
    waiting: float = 0.0
    running: float = 0.0
    kv_cache_usage: float | None = None


class Picker(Protocol):
    """Chooses the endpoint for one attempt from candidates that all have a free slot."""

    async def pick(self, candidates: Sequence[EndpointSnapshot]) -> str:
        """The id of the chosen endpoint; ``candidates`` is never empty."""
        ...


class LeastOutstanding:
    """Fewest in-flight requests per unit of weight; ties rotate so equal endpoints share load."""

    def __init__(self) -> None:
        self._turn = 0

    async def pick(self, candidates: Sequence[EndpointSnapshot]) -> str:
        self._turn += 1
        count = len(candidates)
        best = candidates[self._turn % count]
        best_score = best.outstanding / best.weight
        for offset in range(1, count):
            snapshot = candidates[(self._turn + offset) % count]
            score = snapshot.outstanding / snapshot.weight
            if score < best_score:
                best, best_score = snapshot, score
        return best.endpoint_id


class QueueAware:
    """Least loaded by the engine's own view: waiting queue, running batch, KV-cache pressure, our in-flight.

    Waiting requests weigh most (they add latency directly); a nearly full KV cache forces
    preemption, so usage above 0.9 is penalised steeply.
    """

    def __init__(self) -> None:
        self._turn = 0

    @staticmethod
    def score(snapshot: EndpointSnapshot) -> float:
        """Lower is better."""
        kv = snapshot.kv_cache_usage or 0.0
        kv_penalty = 4.0 * kv + (20.0 * (kv - 0.9) if kv > 0.9 else 0.0)
        load = 2.0 * snapshot.waiting + 0.5 * snapshot.running + snapshot.outstanding + kv_penalty
        return load / snapshot.weight

    async def pick(self, candidates: Sequence[EndpointSnapshot]) -> str:
        self._turn += 1
        count = len(candidates)
        best = candidates[self._turn % count]
        best_score = self.score(best)
        for offset in range(1, count):
            snapshot = candidates[(self._turn + offset) % count]
            score = self.score(snapshot)
            if score < best_score:
                best, best_score = snapshot, score
        return best.endpoint_id


class RoundRobin:
    """Each endpoint in turn, ignoring load (the baseline the benchmark compares against)."""

    def __init__(self) -> None:
        self._turn = 0

    async def pick(self, candidates: Sequence[EndpointSnapshot]) -> str:
        self._turn += 1
        return candidates[self._turn % len(candidates)].endpoint_id


class WeightedRandom:
    """Random in proportion to weight."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - load spreading, not security

    async def pick(self, candidates: Sequence[EndpointSnapshot]) -> str:
        chosen = self._rng.choices(candidates, weights=[c.weight for c in candidates], k=1)[0]
        return chosen.endpoint_id


PICKERS: dict[str, Callable[[], Picker]] = {
    "least_outstanding": LeastOutstanding,
    "queue_aware": QueueAware,
    "round_robin": RoundRobin,
    "weighted_random": WeightedRandom,
}


def make_picker(name: str) -> Picker:
    """The picker registered under ``name``.

    Raises:
        ValueError: naming the unknown picker and the known ones.
    """
    try:
        return PICKERS[name]()
    except KeyError:
        raise ValueError(f"unknown picker {name!r}; known: {sorted(PICKERS)}") from None


def affinity_key_for(messages: Sequence[dict[str, object]], settings: AffinitySettings) -> str | None:
    """A key for the prompt prefix when it is long enough to be worth a prefix-cache hit."""
    parts: list[str] = []
    total = 0
    for message in messages:
        text = f"{message.get('role', '')}\x1f{message.get('content', '')}\x1e"
        parts.append(text)
        total += len(text)
        if total >= settings.prefix_chars:
            break
    prefix = "".join(parts)[: settings.prefix_chars]
    if len(prefix) < settings.min_prefix_chars:
        return None
    return "prefix:" + hashlib.sha256(prefix.encode()).hexdigest()


def is_overloaded(snapshot: EndpointSnapshot, settings: AffinitySettings) -> bool:
    """Whether affinity should give way to load balancing for this endpoint."""
    if snapshot.outstanding >= max(1, math.floor(snapshot.limit * settings.overload_fraction)):
        return True
    if snapshot.waiting >= settings.overload_waiting > 0:
        return True
    return snapshot.kv_cache_usage is not None and snapshot.kv_cache_usage >= settings.overload_kv_usage


def preferred_by_affinity(key: str, candidates: Sequence[EndpointSnapshot]) -> EndpointSnapshot:
    """Weighted rendezvous hashing: the same key maps to the same endpoint while it is a candidate."""

    def score(snapshot: EndpointSnapshot) -> float:
        digest = hashlib.blake2b(f"{key}|{snapshot.endpoint_id}".encode(), digest_size=8).digest()
        uniform = (int.from_bytes(digest, "big") + 1) / (2**64 + 1)
        return -snapshot.weight / math.log(uniform)

    return max(candidates, key=score)
