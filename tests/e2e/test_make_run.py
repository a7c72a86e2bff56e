"""The walkthrough `make run` shows, run end to end against the processes it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_walkthrough_runs_every_step_and_stops_what_it_started(tmp_path: Path) -> None:
    pythonpath = os.pathsep.join(str(REPO / p) for p in ("", "clients/python", "clients/console"))
    env = {**os.environ, "PYTHONPATH": pythonpath, "COLUMNS": "120"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.devrun",
            "--var",
            str(tmp_path),
            "--port",
            "0",
            "--metrics-port",
            "0",
            "--edge-port",
            "0",
            "--edge-admin-port",
            "0",
            "--console-port",
            "0",
            "--once",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "defect" not in out, out[-4000:]
    assert out.count("SERVING") >= 5
    assert "refused: UNAVAILABLE" in out
    assert "PERMISSION_DENIED" in out and "ROLE_NOT_ALLOWED" in out
    assert "applicant.credit_score" in out
    assert "gRPC RiskService/GetModelCard through Envoy as mobile-backend: PERMISSION_DENIED" in out
    assert "dev-primary" in out and "dev-fallback" in out and "HEALTHY" in out
    assert ", failed 0" in out  # the switching drill lost no request
    assert "HTTP 200" in out  # JSON over HTTPS through Envoy to the real CustomerService
    assert "answer_source APPROVED" in out and "SENSITIVE_INTENT" in out
    assert "APPROVE" in out and "REFER" in out and "DECLINE" in out
    assert "ScreenTransactions" in out and "InvestigateNetwork" in out
    assert "ReviewContracts" in out
    assert "chain verified" in out
    assert "The operations console: http://localhost:" in out and "(sign-in page HTTP 200)" in out
    assert "investigator-dev" in out and "stopped console" in out
    assert "stopped services" in out and "stopped envoy" in out and "stopped llm-primary" in out
    # Nothing it started is left running.
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(tmp_path / "dev.toml") not in ps
