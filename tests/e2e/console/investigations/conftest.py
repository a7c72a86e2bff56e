"""Fixtures of the investigation pages' browser tests, on top of the console's shared fixtures
(``tests/e2e/console/conftest.py``: ``console_platform``, ``tab``, ``tab_factory``, the scripted LLM).

``investigations`` starts AMLService and ComplianceService (once) and ingests the seed's planted
layering network (237 accounts, 1,856 transfers, ``server.aml.synthetic``) as core banking would,
which raises a few hundred alerts; ``investigator`` and ``officer`` are tabs signed in as those roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from fintech.aml.v1 import aml_service_pb2 as aml
from fintech.aml.v1 import aml_service_pb2_grpc as aml_grpc

from server.aml.mapping import frame_to_transactions
from server.aml.rules import load_rule_set
from server.aml.synthetic import PlantedNetwork, plant_layering_network
from tests.e2e.console.conftest import Tab
from tests.e2e.console.platform import SCREENSHOTS, ConsolePlatform
from tests.fakes.fixtures import FakeFactory
from tests.fakes.openai_server import FakeOpenAIServer

START_US = 1_767_225_600_000_000  # 2026-01-01T00:00Z
CORPUS = Path(__file__).resolve().parents[4] / "server" / "compliance" / "corpus"


@dataclass
class Investigations:
    """The platform with AML data loaded, the planted network and the scripted LLM."""

    platform: ConsolePlatform
    planted: PlantedNetwork
    llm: FakeOpenAIServer
    # The network page drawn by the escalation test (later tests open it instead of investigating again).
    network_url: str = ""

    def aml(self, channel: object) -> aml_grpc.AMLServiceStub:
        return aml_grpc.AMLServiceStub(channel)


@pytest.fixture(scope="package")
def investigations(console_platform: ConsolePlatform, fake_openai_factory: FakeFactory) -> Investigations:
    console_platform.ensure_investigations()
    planted = plant_layering_network(
        seed=11, start_us=START_US, background_accounts=[f"BG-{i:04d}" for i in range(300)]
    )
    frame = pl.concat([planted.transactions, planted.links]).sort("execute_time_us", "transaction_id")
    request = aml.IngestTransactionsRequest(
        batch_id="planted", transactions=frame_to_transactions(frame, load_rule_set())
    )
    with console_platform.channel("core-banking", service="investigations") as channel:
        reply = aml_grpc.AMLServiceStub(channel).IngestTransactions(iter([request]), timeout=120)
    assert reply.received_count == frame.height
    return Investigations(console_platform, planted, fake_openai_factory.shared())


@pytest.fixture
def investigator(tab: Tab, investigations: Investigations) -> Tab:
    tab.sign_in("investigator")
    return tab


@pytest.fixture
def officer(tab: Tab, investigations: Investigations) -> Tab:
    tab.sign_in("compliance-officer")
    return tab


def shot(tab: Tab, name: str) -> None:
    """A full-page screenshot ``tests/e2e/screenshots/investigations-<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / f"investigations-{name}.png"), full_page=True)
