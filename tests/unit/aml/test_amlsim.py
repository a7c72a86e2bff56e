"""The AMLSim loader and the enrichment: ids, time, scaling, archive variants, reproducibility."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import polars as pl
import pytest

from server.aml.amlsim import ArchiveError, amount_scale, load_archive, patterns_from_metadata
from server.aml.enrichment import EnrichmentConfig, enrich


def _archive(tmp_path: Path, files: dict[str, str], name: str = "tiny.tgz") -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        for file_name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name.split('.')[0]}/{file_name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_dev_archive_ids_come_from_row_numbers_and_keep_duplicates(dev_archive) -> None:
    tx = dev_archive.transactions
    assert tx.height == 118_250
    assert tx["transaction_id"].n_unique() == tx.height
    assert tx["transaction_id"][0] == "20K_fanin200:0"
    content = tx.select("source_node", "target_node", "value", "step")
    assert content.height - content.unique().height == 254  # exact repeats: separate transfers, separate ids
    assert dev_archive.labels["is_laundering"].sum() == 954
    assert set(dev_archive.labels.filter(pl.col("is_laundering"))["pattern"].unique()) == {"fan_in"}


def test_amount_scale_is_label_free_and_follows_the_median(dev_archive) -> None:
    assert amount_scale(dev_archive.transactions["value"]) == 10.0
    assert amount_scale(pl.Series([2_500.0, 2_600.0])) == 1.0
    assert amount_scale(pl.Series([0.5, 0.4])) == 5_000.0


def test_steps_become_days_and_enrichment_adds_time_of_day(dev_archive, dev_enriched) -> None:
    tx = dev_enriched.transactions
    start_of_step = 1_735_689_600_000_000 + tx["step"] * 86_400_000_000  # 2025-01-01 + step days
    offset = tx["execute_time_us"] - start_of_step
    assert offset.min() >= 0 and offset.max() < 86_400_000_000
    assert tx["execute_time_us"].is_sorted()
    assert tx["amount_minor"].min() == round(2.52 * 10 * 100)


def test_enrichment_is_reproducible_and_label_blind(dev_archive) -> None:
    first = enrich(dev_archive)
    again = enrich(dev_archive)
    assert first.transactions.equals(again.transactions)
    other_seed = enrich(dev_archive, EnrichmentConfig(seed=1))
    assert not first.transactions.equals(other_seed.transactions)
    flipped = type(dev_archive)(
        name=dev_archive.name,
        transactions=dev_archive.transactions,
        accounts=dev_archive.accounts,
        labels=dev_archive.labels.with_columns(~pl.col("is_laundering")),
        metadata=dev_archive.metadata,
    )
    assert enrich(flipped).transactions.equals(first.transactions)
    shares = first.profiles["segment"].value_counts(normalize=True).sort("segment")
    assert 0.8 < float(shares.filter(pl.col("segment") == "RETAIL")["proportion"][0]) < 0.9


def test_archive_without_fraud_step_and_with_newer_columns(tmp_path: Path) -> None:
    path = _archive(
        tmp_path,
        {
            "accounts.csv": "acct_id,is_sar\n1,true\n2,false\n3,false\n",
            "transactions.csv": "orig_acct,bene_acct,base_amt,step\n1,2,10.5,0\n1,2,10.5,0\n2,3,99.0,4\n",
            "metadata.txt": "patterns: 3 cycle\n",
        },
    )
    archive = load_archive(path)
    assert archive.transactions["transaction_id"].to_list() == ["tiny:0", "tiny:1", "tiny:2"]
    assert archive.labels.filter(pl.col("is_laundering"))["pattern"].to_list() == ["cycle"]
    enriched = enrich(archive)
    assert enriched.transactions.height == 3


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"nodes.csv": "nodeid,isFraud\n1,0\n"}, "no transactions.csv"),
        ({"transactions.csv": "sourceNodeId,targetNodeId,value,time\n1,2,3.0,1\n"}, "no nodes.csv"),
        (
            {"nodes.csv": "nodeid,isFraud\n1,0\n", "transactions.csv": "sourceNodeId,value,time\n1,3.0,1\n"},
            "target account",
        ),
        (
            {"nodes.csv": "nodeid\n1\n", "transactions.csv": "sourceNodeId,targetNodeId,value,time\n1,2,3.0,1\n"},
            "laundering label",
        ),
        (
            {
                "nodes.csv": "nodeid,isFraud\n1,0\n",
                "transactions.csv": "sourceNodeId,targetNodeId,value,time\n1,2,-3,1\n",
            },
            "non-positive",
        ),
    ],
)
def test_bad_archives_name_what_is_missing(tmp_path: Path, files: dict[str, str], message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        load_archive(_archive(tmp_path, files))


def test_patterns_from_metadata() -> None:
    assert patterns_from_metadata(("nodes: 20,000", "patterns: 200 fan-in, 100 cycle")) == ["fan_in", "cycle"]
    assert patterns_from_metadata(()) == []
