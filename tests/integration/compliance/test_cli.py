"""``fintech compliance review DIR`` and ``fintech compliance analyze FILE`` against the running service."""

from __future__ import annotations

import asyncio
import csv
import shutil
from pathlib import Path

from typer.testing import CliRunner

from server.compliance.cli import app
from server.runtime.pki import DevPki
from tests.integration.compliance.conftest import ComplianceStack

CORPUS = Path(__file__).resolve().parents[3] / "server" / "compliance" / "corpus"


async def test_review_folder_writes_the_csv_report_and_reports_a_bad_file(
    compliance: ComplianceStack, pki: DevPki, tmp_path: Path
) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    names = ["01_loan.md", "02_loan.txt", "05_loan.pdf", "08_loan.docx", "15_guarantee.md"]
    for name in names:
        shutil.copy(CORPUS / "contracts" / name, folder / name)
    (folder / "zz_broken.pdf").write_bytes(b"this is not a PDF")
    (folder / "notes.csv").write_text("ignored")
    report = tmp_path / "report.csv"
    args = [
        "review",
        str(folder),
        "--report",
        str(report),
        "--target",
        f"localhost:{compliance.port}",
        "--certs",
        str(pki.root),
    ]
    # The CLI blocks on a sync channel: run it off the event loop that serves the call.
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 1, result.output  # one file failed
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert {r["file"] for r in rows} == {*names, "zz_broken.pdf"}
    assert [r["status"] for r in rows if r["file"] == "zz_broken.pdf"] == ["ERROR"]
    assert any(r["file"] == "02_loan.txt" and r["check_id"] == "loan.penalty_interest_cap" for r in rows)
    assert "5 contracts" in result.output or "6 contracts" in result.output
    assert "loan.penalty_interest_cap" in result.output


async def test_analyze_prints_the_timeline_and_obligations(compliance: ComplianceStack, pki: DevPki) -> None:
    args = [
        "analyze",
        str(CORPUS / "regulations" / "complaints_handling.txt"),
        "--target",
        f"localhost:{compliance.port}",
        "--certs",
        str(pki.root),
    ]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    assert "obligations" in result.output and "art3.p1" in result.output
