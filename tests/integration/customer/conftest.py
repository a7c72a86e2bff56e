"""Fixtures of the customer engine tests: a small test knowledge base, the scripted OpenAI server, engines.

The LLM is always reached through the real inference pool over HTTP to the scripted fake server
(``tests/fakes``, a real process); retrieval and intents use the keyword fakes of ``fakes.py`` (declared
seams, contract-tested) so each test knows exactly which chunks are retrieved.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from inference.pool import InferencePool
from inference.settings import InferenceSettings
from retrieval.chunking import chunk_article
from retrieval.documents import ApprovedAnswer, Article
from server.customer.answering.adapters import PoolAnswerModel
from server.customer.answering.engine import AnsweringEngine
from server.customer.answering.memory import MemoryArticleCatalog, MemoryConversationStore
from server.customer.settings import CustomerSettings
from server.runtime.clock import FakeClock
from tests.fakes.fixtures import fake_openai, fake_openai_factory  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer, closed_port_url
from tests.integration.customer.fakes import KeywordIndex, KeywordIntents

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _article(
    doc_id: str, title: str, intents: tuple[str, ...], body: str, approved: ApprovedAnswer | None = None
) -> Article:
    return Article(doc_id, title, intents, "en-GB", date(2026, 10, 1), body, approved)


ARTICLES = [
    _article(
        "card-delivery",
        "Card delivery times",
        ("card_arrival", "card_delivery_estimate"),
        "Cards arrive within 3 to 5 working days in the UK. Delivery abroad takes up to 10 working days. "
        "Express delivery costs £5 and arrives the next working day.",
    ),
    _article(
        "transfer-fees",
        "Transfer fees",
        ("transfer_fee_charged",),
        "Transfers in pounds within the UK are free. International transfers cost 0.5% of the amount, "
        "with a minimum fee of £1.50. The fee is shown before you confirm the transfer.",
    ),
    _article(
        "top-up-limits",
        "Top-up limits",
        ("top_up_limits",),
        "You can top up at most £10,000 per day by card. Bank transfer top-ups have no daily limit.",
    ),
    _article(
        "atm-fees",
        "ATM withdrawal fees",
        ("cash_withdrawal_charge",),
        "Standard plans withdraw £200 a month without a fee. Above the allowance each withdrawal costs 2%.",
        ApprovedAnswer(
            "On Standard you can withdraw £200 a month from ATMs without a fee; above that each "
            "withdrawal costs 2% of the amount.",
            "payments-compliance",
            3,
            date(2027, 4, 30),
        ),
    ),
    _article(
        "lost-card",
        "Lost or stolen card",
        ("lost_or_stolen_card",),
        "Freeze your card in the app straight away, then report it lost or stolen.",
        ApprovedAnswer(
            "Freeze your card in the app now under Card > Freeze. A colleague will contact you about a replacement.",
            "card-operations",
            2,
            date(2027, 1, 31),
        ),
    ),
    _article(
        "pin-change",
        "Changing your PIN",
        ("change_pin",),
        "You can change your PIN at any ATM that offers PIN services. Choose four digits that are not easy to guess.",
        ApprovedAnswer("Expired text about the PIN.", "card-operations", 1, date(2026, 1, 31)),
    ),
    _article(
        "exchange-weekend",
        "Weekend exchange rates",
        ("exchange_rate",),
        "At weekends a markup of 1% is added to the exchange rate because markets are closed.",
    ),
]

RULES = [
    (r"\b(?:lost|stolen)\b.*\bcard\b|\bcard\b.*\b(?:lost|stolen)\b", "lost_or_stolen_card", 0.95),
    (r"\batm\b|withdraw", "cash_withdrawal_charge", 0.9),
    (r"\bpin\b", "change_pin", 0.9),
    (r"deliver|arriv", "card_delivery_estimate", 0.8),
    (r"transfer", "transfer_fee_charged", 0.8),
    (r"top.?up", "top_up_limits", 0.8),
    (r"exchange|weekend", "exchange_rate", 0.8),
]


def chunk_of(doc_id: str) -> str:
    """The (single) chunk id of a test article."""
    article = next(a for a in ARTICLES if a.id == doc_id)
    return chunk_article(article)[0].chunk_id


def settings_for(url: str) -> InferenceSettings:
    return InferenceSettings.model_validate(
        {
            "groups": [{"name": "dev", "model": "fake-model", "endpoints": [{"url": url}], "scrape_metrics": False}],
            "health": {
                "probe_interval_seconds": 60,
                "eject_after_failures": 50,
                "breaker_min_requests": 100,
                "breaker_window": 100,
            },
            "retry": {"max_attempts": 2, "backoff_base_seconds": 0.0, "backoff_max_seconds": 0.0},
            "request_timeout_seconds": 5,
            "first_token_timeout_seconds": 2,
            "connect_timeout_seconds": 1,
            "affinity": {"enabled": False},
            "budgets": {"enabled": False},
        }
    )


class Harness:
    """One engine with its fakes and store, for one test."""

    def __init__(
        self,
        engine: AnsweringEngine,
        store: MemoryConversationStore,
        index: KeywordIndex,
        catalog: MemoryArticleCatalog,
        clock: FakeClock,
        fake: FakeOpenAIServer | None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.index = index
        self.catalog = catalog
        self.clock = clock
        self.fake = fake


HarnessFactory = Callable[..., Harness]


@pytest.fixture
async def harness(fake_openai: FakeOpenAIServer) -> AsyncIterator[HarnessFactory]:  # noqa: F811
    """Build engines wired to the scripted server (or to a closed port with ``llm="down"``)."""
    pools: list[InferencePool] = []

    def make(llm: str = "up", settings: CustomerSettings | None = None, **_: Any) -> Harness:
        url = fake_openai.base_url if llm == "up" else closed_port_url()
        pool = InferencePool(settings_for(url), registry=CollectorRegistry())
        pools.append(pool)
        counter = itertools.count(1)
        clock = FakeClock(NOW)
        store = MemoryConversationStore()
        index = KeywordIndex(ARTICLES)
        catalog = MemoryArticleCatalog(ARTICLES)
        model = None if llm == "none" else PoolAnswerModel(pool, default_timeout=5.0)
        engine = AnsweringEngine(
            settings or CustomerSettings(),
            index=index,
            intents=KeywordIntents(RULES),
            catalog=catalog,
            model=model,
            store=store,
            clock=clock,
            new_id=lambda: f"id{next(counter):04d}",
        )
        return Harness(engine, store, index, catalog, clock, fake_openai if llm == "up" else None)

    yield make
    for pool in pools:
        await pool.close()
