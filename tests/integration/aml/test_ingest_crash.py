"""A server process killed (SIGKILL) in the middle of an ingestion stream loses nothing it acknowledged,
and resending everything after a restart adds each transaction exactly once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import polars as pl
import pytest
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.aml.v1 import aml_service_pb2_grpc as pb_grpc

from server.aml.mapping import frame_to_transactions
from server.aml.rules import RuleSet
from server.runtime.pki import DevPki
from tests.fixtures.runtime import ServerProcess, aio_channel

BATCH = 1_000


def _config(path: Path, pki: DevPki, data_dir: Path) -> Path:
    path.write_text(
        f"""data_dir = "{data_dir}"
[server]
port = 0
metrics_port = 0
grace_seconds = 5
services = ["operations"]
[tls]
ca_file = "{pki.ca}"
cert_file = "{pki.server.cert}"
key_file = "{pki.server.key}"
crl_file = "{pki.crl}"
reload_interval_seconds = 0.2
""",
        encoding="utf-8",
    )
    return path


def _stored(db_file: Path) -> int:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM aml_transactions").fetchone()[0])


def _batches(txs: list[pb.Transaction], tag: str) -> list[pb.IngestTransactionsRequest]:
    return [
        pb.IngestTransactionsRequest(batch_id=f"{tag}-{i}", transactions=txs[i : i + BATCH])
        for i in range(0, len(txs), BATCH)
    ]


async def test_killed_mid_stream_loses_nothing_acknowledged(
    pki: DevPki, tmp_path: Path, sample: pl.DataFrame, rules: RuleSet
) -> None:
    data_dir = tmp_path / "data"
    config = _config(tmp_path / "aml.toml", pki, data_dir)
    db_file = data_dir / "fintech.db"
    txs = frame_to_transactions(sample.head(8_000), rules)
    acked, interrupted = _batches(txs[:3_000], "acked"), _batches(txs[3_000:], "cut")
    server = ServerProcess(config, module="tests.integration.aml.aml_server").start(timeout=60)
    try:
        async with aio_channel(pki, "core-banking", server.port) as channel:
            stub = pb_grpc.AMLServiceStub(channel)
            ack = await stub.IngestTransactions(iter(acked))
            assert ack.inserted_count == 3_000

            async def cut_stream() -> AsyncIterator[pb.IngestTransactionsRequest]:
                yield interrupted[0]
                for _ in range(600):  # until the first batch of this stream is committed (at most 30 s)
                    if _stored(db_file) >= 4_000:
                        break
                    await asyncio.sleep(0.05)
                server.proc.kill()  # type: ignore[union-attr]
                server.proc.wait(10)  # type: ignore[union-attr]
                for request in interrupted[1:]:
                    yield request

            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.IngestTransactions(cut_stream())
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop()
    assert _stored(db_file) >= 3_000
    server = ServerProcess(config, module="tests.integration.aml.aml_server").start(timeout=60)
    try:
        async with aio_channel(pki, "core-banking", server.port) as channel:
            stub = pb_grpc.AMLServiceStub(channel)
            resent = await stub.IngestTransactions(iter(acked))
            assert (resent.inserted_count, resent.duplicate_count) == (0, 3_000), "an acknowledged batch was lost"
            rest = await stub.IngestTransactions(iter(interrupted))
            assert rest.inserted_count + rest.duplicate_count == 5_000
            assert rest.duplicate_count >= BATCH, "the batch committed before the kill is in the history"
    finally:
        server.stop()
    assert _stored(db_file) == 8_000
