"""The screen-and-commit unit of work against a real database: a failed commit restores the state,
and a second replica (another monitor on the same database) continues the one shared history."""

from __future__ import annotations

import polars as pl
import pytest

from server.aml import repository as repo
from server.aml.monitor import TransactionMonitor
from server.aml.rules import RuleSet
from server.aml.screening import screen_all
from server.runtime.errors import InvalidArgument
from server.runtime.pki import DevPki
from tests.fixtures.runtime import settings_for, stateful_context


@pytest.fixture(scope="module")
async def platform(pki: DevPki, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    settings = settings_for(pki, tmp_path_factory.mktemp("aml-monitor"), server={"services": ["operations"]})
    return await stateful_context(settings)


def _monitor(ctx, rules: RuleSet) -> TransactionMonitor:  # type: ignore[no-untyped-def]
    return TransactionMonitor(
        ctx.require("database"), ctx.require("audit"), ctx.require("keyring"), rules, clock=ctx.clock
    )


async def test_failed_commit_restores_state_and_replicas_share_one_history(
    platform,
    sample: pl.DataFrame,
    rules: RuleSet,  # type: ignore[no-untyped-def]
) -> None:
    data = sample.head(6_000)
    expected = screen_all(rules, data).decisions
    first = _monitor(platform, rules)
    await first.process(data.slice(0, 2_000), None, rpc="test", caller="spiffe://test/first")
    await first.wait_checkpoint()  # written in the background after the commit
    version = first.state_version
    assert version == 1 and first.checkpoints_written == 1
    # No caller is bound outside an RPC: the audit append (last in the transaction) refuses, the
    # whole batch rolls back and the in-memory state goes back to the committed one.
    with pytest.raises(InvalidArgument):
        await first.process(data.slice(2_000, 2_000), None, rpc="test", caller="")
    assert first.state_version == version
    db = platform.require("database")
    async with db.read() as conn:
        assert await repo.last_transaction_seq(conn) == 2_000
    retried = await first.process(data.slice(2_000, 2_000), None, rpc="test", caller="spiffe://test/first")
    await first.wait_checkpoint()
    # A second replica picks the shared state up from the database and continues it.
    second = _monitor(platform, rules)
    third = await second.process(
        data.slice(4_000, 2_000), ["Acme Ltd"] * 2_000, rpc="test", caller="spiffe://test/second"
    )
    await second.wait_checkpoint()
    assert second.state_version == version + 2
    got = pl.concat([retried.result.decisions, third.result.decisions])
    want = expected.slice(2_000, 4_000)
    assert got["decision"].to_list() == want["decision"].to_list()
    assert got["score"].round(6).to_list() == want["score"].round(6).to_list()
    # The first replica is now behind; it reloads before screening and adds nothing for a resend.
    again = await first.process(data.slice(4_000, 500), None, rpc="test", caller="spiffe://test/first")
    assert (again.inserted, again.duplicates) == (0, 500)
    async with db.read() as conn:
        rows = await repo.transactions_by_id(conn, [data["transaction_id"][4_000]])
    assert rows[0].counterparty_name_sealed is not None and b"Acme" not in bytes(rows[0].counterparty_name_sealed)


async def test_restart_between_checkpoints_replays_the_history_and_decides_identically(
    pki: DevPki,
    tmp_path,
    sample: pl.DataFrame,
    rules: RuleSet,  # type: ignore[no-untyped-def]
) -> None:
    ctx = await stateful_context(settings_for(pki, tmp_path, server={"services": ["operations"]}))
    data = sample.head(3_500)
    expected = screen_all(rules, data).decisions

    def monitor() -> TransactionMonitor:
        return TransactionMonitor(
            ctx.require("database"), ctx.require("audit"), ctx.require("keyring"), rules, checkpoint_every=4
        )

    before = monitor()
    for start in range(0, 3_000, 500):
        await before.process(data.slice(start, 500), None, rpc="test", caller="spiffe://test/a")
    await before.wait_checkpoint()
    assert before.state_version == 1, "one checkpoint after the fourth batch"
    # The process dies here; the blob covers 2,000 transfers, the history holds 3,000.
    after = monitor()
    last = await after.process(data.slice(3_000, 500), None, rpc="test", caller="spiffe://test/b")
    assert after.replayed == 1_000
    assert last.result.decisions["decision"].to_list() == expected.slice(3_000)["decision"].to_list()
    assert last.result.decisions["score"].round(6).to_list() == expected.slice(3_000)["score"].round(6).to_list()
