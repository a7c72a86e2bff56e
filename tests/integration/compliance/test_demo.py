"""The ``make run`` walkthrough steps of ComplianceService against the running service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from server.compliance.demo import STEPS
from server.devrun import Platform
from server.runtime.pki import DevPki
from tests.fakes.openai_server import FakeOpenAIServer
from tests.integration.compliance.conftest import ComplianceStack


async def test_walkthrough_steps_run(
    compliance: ComplianceStack, llm: FakeOpenAIServer, pki: DevPki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The scripted model answers every map step with a summary citing art3.p1 (grounded in that chunk).
    llm.set_default(
        {
            "kind": "ok",
            "content": json.dumps(
                {
                    "items": [
                        {"clause_ids": ["art3.p1"], "summary": "Firms acknowledge complaints within 5 business days."}
                    ]
                }
            ),
        }
    )
    (tmp_path / "certs").symlink_to(pki.root)
    platform = Platform(var=tmp_path, grpc_port=compliance.port)
    for step in STEPS:
        await asyncio.to_thread(step, platform)
    printed = capsys.readouterr().out
    assert "AnalyzeRegulation" in printed and "LLM summary" in printed
    assert "CompareRegulationVersions" in printed and "STRICTER" in printed
    assert "44 reviewed, 1 failed" in printed and "broken.pdf" in printed
