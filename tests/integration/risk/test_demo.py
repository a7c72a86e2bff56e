"""The walkthrough steps run against the real server and show each decision, its reasons, its explanation
and the model card."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from rich.console import Console

from server.risk import demo
from tests.integration.risk.conftest import RiskStack


async def test_the_walkthrough_shows_approve_refer_decline_and_the_card(
    risk_stack: RiskStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Console(record=True, width=200)
    monkeypatch.setattr(demo, "console", recorder)
    risk_stack.llm.reset()  # the fake answers "ok": not the schema, so the template is shown and labelled
    platform = SimpleNamespace(certs=risk_stack.pki.root, grpc_port=risk_stack.port)
    for step in demo.STEPS:
        await asyncio.to_thread(step, platform)
    text = recorder.export_text()
    for expected in (
        "APPROVE",
        "REFER",
        "DECLINE",
        "BUREAU_DELINQUENCIES",
        "LOAN_TERM",
        "TEMPLATE",
        "final decision RECOMMENDATION_APPROVE",
        "model card",
        "sha256:",
    ):
        assert expected in text, expected
