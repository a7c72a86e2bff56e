"""The screening-state checkpoint runs off the stream's critical path (issue #10), against a real SQLite.

A checkpoint in flight (its serialisation held back at the ``ScreeningState.to_bytes`` seam, no wall-clock
sleeps) does not delay the next micro-batch's decisions, and its parts interleave with micro-batches;
a restarted monitor assembles the checkpoint from its parts, replays the committed transactions after
its watermark and decides exactly like screening everything at once; a failing checkpoint is logged,
counted (and exported as a metric) and retried after the next micro-batch; shutdown waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from prometheus_client import CollectorRegistry

from server.aml import monitor as monitor_module
from server.aml import repository as repo
from server.aml.metrics import register_checkpoints
from server.aml.monitor import TransactionMonitor
from server.aml.rules import RuleSet
from server.aml.screening import screen_all
from server.aml.state import ScreeningState
from server.runtime.context import AppContext
from server.runtime.pki import DevPki
from tests.fixtures.runtime import settings_for, stateful_context

CALLER = "spiffe://test/checkpoint"


@pytest.fixture
async def ctx(pki: DevPki, tmp_path: Path) -> AsyncIterator[AppContext]:
    context = await stateful_context(settings_for(pki, tmp_path, server={"services": ["operations"]}))
    yield context
    for closer in reversed(context.closers):
        await closer()


def _monitor(ctx: AppContext, rules: RuleSet, **kwargs: Any) -> TransactionMonitor:
    return TransactionMonitor(
        ctx.require("database"), ctx.require("audit"), ctx.require("keyring"), rules, clock=ctx.clock, **kwargs
    )


class HeldSerialisation:
    """Holds ``ScreeningState.to_bytes`` (it runs in a worker thread) until released: a slow checkpoint."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        real = ScreeningState.to_bytes

        def held(state: ScreeningState) -> bytes:
            self.started.set()
            if not self.release.wait(timeout=60):
                raise TimeoutError("serialisation was never released")
            return real(state)

        monkeypatch.setattr(ScreeningState, "to_bytes", held)

    async def wait_started(self) -> None:
        """Until the checkpoint's worker thread is inside ``to_bytes``."""
        assert await asyncio.to_thread(self.started.wait, 30)


async def _process(monitor: TransactionMonitor, frame: pl.DataFrame) -> pl.DataFrame:
    outcome = await monitor.process(frame, None, rpc="test", caller=CALLER)
    return outcome.result.decisions


def _same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got["decision"].to_list() == want["decision"].to_list()
    assert got["score"].round(6).to_list() == want["score"].round(6).to_list()


async def test_a_checkpoint_in_flight_does_not_delay_the_next_micro_batch(
    ctx: AppContext, sample: pl.DataFrame, rules: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sample.head(4_000)
    expected = screen_all(rules, data).decisions
    held = HeldSerialisation(monkeypatch)
    # Small parts, so that the state of 1,000 transfers (~1 MB) is written in many (16 MB: 32 parts of 512 KiB).
    monkeypatch.setattr(monitor_module, "CHECKPOINT_PART_BYTES", 64 * 1024)
    monitor = _monitor(ctx, rules, checkpoint_every=1)
    _same(await _process(monitor, data.slice(0, 1_000)), expected.slice(0, 1_000))
    await held.wait_started()
    assert monitor.checkpoint_in_flight and monitor.state_version == 0
    # The checkpoint cannot finish until released, yet the next micro-batches are decided and committed.
    _same(await _process(monitor, data.slice(1_000, 1_000)), expected.slice(1_000, 1_000))
    _same(await _process(monitor, data.slice(2_000, 500)), expected.slice(2_000, 500))
    assert monitor.checkpoint_in_flight and monitor.state_version == 0, "at most one checkpoint in flight"

    # Released: the parts are written one transaction each; a micro-batch that arrives meanwhile goes
    # between two parts (FIFO on the monitor's lock) rather than after the whole blob.
    parts_written: list[int] = []
    second_part = asyncio.Event()
    real_insert = repo.insert_state_chunk

    async def recording_insert(conn: Any, *, generation: str, version: int, part: int, data: bytes) -> None:
        await real_insert(conn, generation=generation, version=version, part=part, data=data)
        parts_written.append(part)
        if part == 1:
            second_part.set()

    monkeypatch.setattr(repo, "insert_state_chunk", recording_insert)
    held.release.set()
    await second_part.wait()
    _same(await _process(monitor, data.slice(2_500, 500)), expected.slice(2_500, 500))
    assert monitor.checkpoint_in_flight
    assert 2 <= len(parts_written) <= 3, f"the batch waited for {len(parts_written)} parts"
    await monitor.wait_checkpoint()
    assert (monitor.state_version, monitor.checkpoints_written, monitor.checkpoint_failures) == (1, 1, 0)
    assert len(parts_written) > 3, "written in several parts"

    # The checkpoint is the state as committed after the first batch (its watermark), not later.
    async with ctx.require("database").read() as conn:
        stored = await repo.load_state(conn)
    assert stored is not None and stored.covered_seq == 1_000

    # A restart assembles the parts, replays what was committed after the watermark, decides identically.
    restarted = _monitor(ctx, rules)
    _same(await _process(restarted, data.slice(3_000, 1_000)), expected.slice(3_000, 1_000))
    assert restarted.replayed == 2_000
    await restarted.wait_checkpoint()
    await monitor.aclose()


async def test_a_failing_checkpoint_is_reported_counted_and_retried(
    ctx: AppContext,
    sample: pl.DataFrame,
    rules: RuleSet,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = sample.head(3_000)
    expected = screen_all(rules, data).decisions
    monitor = _monitor(ctx, rules, checkpoint_every=1)
    registry = CollectorRegistry()
    register_checkpoints(monitor, registry)
    real_insert = repo.insert_state_chunk
    calls = 0

    async def failing_second_part(conn: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first part is stored: the failure leaves a part behind
            raise OSError("disk full (injected)")
        await real_insert(conn, **kwargs)

    monkeypatch.setattr(repo, "insert_state_chunk", failing_second_part)
    with caplog.at_level(logging.ERROR, logger=monitor_module.__name__):
        _same(await _process(monitor, data.slice(0, 1_000)), expected.slice(0, 1_000))
        await monitor.wait_checkpoint()
    assert (monitor.state_version, monitor.checkpoint_failures, monitor.checkpoints_written) == (0, 1, 0)
    assert "disk full (injected)" in monitor.last_checkpoint_error
    assert any("checkpoint" in r.getMessage() and "disk full" in r.getMessage() for r in caplog.records)
    assert registry.get_sample_value("fintech_aml_state_checkpoints_total", {"outcome": "failed"}) == 1.0
    async with ctx.require("database").read() as conn:
        assert await repo.load_state(conn) is None, "nothing half-written is published"

    # The next micro-batch starts the checkpoint again; it covers both batches and removes the failed parts.
    _same(await _process(monitor, data.slice(1_000, 1_000)), expected.slice(1_000, 1_000))
    await monitor.wait_checkpoint()
    assert (monitor.state_version, monitor.checkpoint_failures, monitor.checkpoints_written) == (1, 1, 1)
    assert registry.get_sample_value("fintech_aml_state_checkpoints_total", {"outcome": "published"}) == 1.0
    async with ctx.require("database").read() as conn:
        stored = await repo.load_state(conn)
        assert stored is not None and stored.covered_seq == 2_000
        leftovers = await repo.stale_state_chunks(conn, published_version=1, published_generation="")
    assert len({generation for generation, _ in leftovers}) == 1, "only the published checkpoint's parts remain"

    restarted = _monitor(ctx, rules)
    _same(await _process(restarted, data.slice(2_000, 1_000)), expected.slice(2_000, 1_000))
    assert restarted.replayed == 0, "the retried checkpoint covers everything committed before it"
    await restarted.wait_checkpoint()


async def test_shutdown_waits_for_the_checkpoint_in_flight(
    ctx: AppContext, sample: pl.DataFrame, rules: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldSerialisation(monkeypatch)
    monitor = _monitor(ctx, rules, checkpoint_every=1)
    await _process(monitor, sample.head(500))
    await held.wait_started()
    closing = asyncio.create_task(monitor.aclose())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not closing.done(), "shutdown returned with a checkpoint in flight"
    held.release.set()
    await closing
    assert (monitor.state_version, monitor.checkpoint_in_flight) == (1, False)
