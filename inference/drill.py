"""The switching drill: under steady synthetic load, take a model group out, then put it back, and measure.

``fintech inference drill`` (OperationsService.RunInferenceDrill) calls :func:`run_drill`. While
requests arrive at a steady rate, the group is disabled (its endpoints stop receiving new requests,
in-flight ones finish), traffic must move to the next group, and after a while the group is enabled
again and traffic must come back. The report says how long each switch took and how many requests
failed in each phase (goal: none while a healthy endpoint remains).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inference.errors import InferenceError
from inference.pool import InferencePool, Priority

DRILL_MESSAGES: Sequence[Mapping[str, Any]] = ({"role": "user", "content": "Reply with OK."},)


@dataclass
class _Sample:
    started: float
    finished: float = 0.0
    group: str = ""
    error: str = ""


@dataclass(frozen=True)
class DrillReport:
    """What the drill measured.

    Attributes:
        group: The group taken out.
        fallback_groups: Groups that served while it was out.
        requests: Requests sent in total.
        failures_before: Failed requests before the switch.
        failures_during: Failed requests while the group was out.
        failures_after: Failed requests after it came back.
        switch_over_seconds: From taking the group out to the first answer from another group
            (None when no other group answered).
        switch_back_seconds: From putting it back to its first answer (None when it never answered).
        served_by_group_while_out: Requests the group still answered after it was taken out (in flight).
        error_kinds: Failure reasons and counts.
    """

    group: str
    fallback_groups: tuple[str, ...]
    requests: int
    failures_before: int
    failures_during: int
    failures_after: int
    switch_over_seconds: float | None
    switch_back_seconds: float | None
    served_by_group_while_out: int
    error_kinds: Mapping[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """All failed requests."""
        return self.failures_before + self.failures_during + self.failures_after


async def run_drill(
    pool: InferencePool,
    *,
    group: str | None = None,
    rate_per_second: float = 20.0,
    warmup_seconds: float = 1.0,
    out_seconds: float = 3.0,
    back_seconds: float = 2.0,
    request_timeout_seconds: float = 10.0,
    max_tokens: int = 4,
) -> DrillReport:
    """Run the switching drill on ``pool`` (the primary group by default).

    Args:
        pool: The running pool.
        group: Group to take out.
        rate_per_second: Synthetic requests per second (steady, open-loop).
        warmup_seconds: Load before the switch.
        out_seconds: How long the group stays out.
        back_seconds: Load after it comes back.
        request_timeout_seconds: Deadline of each synthetic request.
        max_tokens: Completion tokens per synthetic request (kept tiny).

    Returns:
        The measurements.

    Raises:
        KeyError: unknown group.
    """
    target = group or pool.group_names[0]
    if target not in pool.group_names:
        raise KeyError(f"unknown model group {target!r}; known: {pool.group_names}")
    loop = asyncio.get_running_loop()
    samples: list[_Sample] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(sample: _Sample) -> None:
        try:
            result = await pool.chat(
                list(DRILL_MESSAGES),
                group=target,
                max_tokens=max_tokens,
                time_remaining=request_timeout_seconds,
                priority=Priority.BATCH,
            )
            sample.group = result.served_by.group
        except InferenceError as error:
            sample.error = error.reason
        sample.finished = loop.time()

    async def load(seconds: float) -> None:
        interval = 1.0 / rate_per_second
        until = loop.time() + seconds
        next_at = loop.time()
        while next_at < until:
            sample = _Sample(started=loop.time())
            samples.append(sample)
            task = asyncio.create_task(one(sample))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    try:
        await load(warmup_seconds)
        taken_out = loop.time()
        pool.set_group_enabled(target, False)
        await load(out_seconds)
        put_back = loop.time()
        pool.set_group_enabled(target, True)
        await load(back_seconds)
        if tasks:
            await asyncio.gather(*tasks)
    finally:
        pool.set_group_enabled(target, True)

    def failures(start: float, end: float) -> int:
        return sum(1 for s in samples if s.error and start <= s.started < end)

    others = sorted({s.group for s in samples if s.group and s.group != target})
    over = [s.finished for s in samples if s.group and s.group != target and s.finished >= taken_out]
    back = [s.finished for s in samples if s.group == target and s.started >= put_back]
    kinds: dict[str, int] = {}
    for s in samples:
        if s.error:
            kinds[s.error] = kinds.get(s.error, 0) + 1
    return DrillReport(
        group=target,
        fallback_groups=tuple(others),
        requests=len(samples),
        failures_before=failures(float("-inf"), taken_out),
        failures_during=failures(taken_out, put_back),
        failures_after=failures(put_back, float("inf")),
        switch_over_seconds=(min(over) - taken_out) if over else None,
        switch_back_seconds=(min(back) - put_back) if back else None,
        served_by_group_while_out=sum(1 for s in samples if s.group == target and taken_out <= s.started < put_back),
        error_kinds=kinds,
    )
