"""``evaluate_archive``: screens an archive from scratch and scores it; labels only score."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np

from server.aml.evaluation import evaluate_archive


def _write_archive(path: Path) -> None:
    """A tiny archive in the 2019 format, without fraudStep: a cycle and a fan-in of small transfers."""
    rng = np.random.default_rng(0)
    nodes = ["nodeid,isFraud,init_balance"]
    tx = ["sourceNodeId,targetNodeId,value,time"]
    for node in range(300):
        nodes.append(f"{node},{1 if node < 8 else 0},{100 + node}")
    for step in range(1, 60):
        for _ in range(40):
            a, b = rng.integers(8, 300, 2)
            if a != b:
                tx.append(f"{a},{b},{rng.uniform(100, 600):.2f},{step}")
    # Laundering: 0..4 each send several small transfers to hub 5; 5 -> 6 -> 7 -> 5 round trip.
    for src in range(5):
        for _ in range(4):
            tx.append(f"{src},5,{rng.uniform(2.5, 5):.2f},{30 + src}")
    tx += ["5,6,300.00,40", "6,7,295.00,41", "7,5,290.00,42"]
    with tarfile.open(path, "w:gz") as tar:
        for name, lines in (("nodes.csv", nodes), ("transactions.csv", tx), ("metadata.txt", ["patterns: 1 cycle"])):
            data = ("\n".join(lines) + "\n").encode()
            info = tarfile.TarInfo(f"tiny/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_evaluate_archive_writes_the_figures(tmp_path: Path) -> None:
    archive = tmp_path / "tiny_cycle.tgz"
    _write_archive(archive)
    out = tmp_path / "out.json"
    figures = evaluate_archive(archive, out)
    assert json.loads(out.read_text()) == figures
    level = figures["account_level"]
    assert figures["accounts"] == 300 and figures["laundering_accounts"] == 8
    assert level["true_positives"] >= 5  # the hub, its small-transfer senders and the cycle's origin
    assert 0 < level["precision"] <= 1 and 0 < level["recall"] <= 1
    assert set(figures["recall_per_pattern"]) == {"cycle"}
    assert figures["seconds"]["total"] > 0
    assert "FREQUENT_SMALL_TRANSFERS" in figures["rules_fired"]
