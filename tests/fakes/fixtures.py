"""pytest fixtures for the scripted OpenAI-compatible server.

Use from any area's ``conftest.py`` (import both names: ``fake_openai`` builds on the factory)::

    from tests.fakes.fixtures import fake_openai, fake_openai_factory  # noqa: F401

``fake_openai_factory(count=1, **start_kwargs)`` starts ``count`` more server processes (stopped at the end of
the session) and returns them; ``fake_openai_factory.shared()`` is one server shared by the session;
``fake_openai`` is that shared server, reset to its defaults before each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAIServer


class FakeFactory:
    """Starts fake server processes and stops them all at the end."""

    def __init__(self) -> None:
        self._started: list[FakeOpenAIServer] = []
        self._shared: FakeOpenAIServer | None = None

    def __call__(self, count: int = 1, **kwargs: Any) -> list[FakeOpenAIServer]:
        servers = [FakeOpenAIServer.start(**kwargs) for _ in range(count)]
        self._started.extend(servers)
        return servers

    def shared(self) -> FakeOpenAIServer:
        """One plain server for the whole session."""
        if self._shared is None or self._shared.process.poll() is not None:
            self._shared = self(1)[0]
        return self._shared

    def stop_all(self) -> None:
        for server in self._started:
            server.stop()
        self._started.clear()


@pytest.fixture(scope="session")
def fake_openai_factory() -> Iterator[FakeFactory]:
    """Start fake servers on demand; all are stopped when the session ends."""
    factory = FakeFactory()
    yield factory
    factory.stop_all()


@pytest.fixture
def fake_openai(fake_openai_factory: FakeFactory) -> FakeOpenAIServer:
    """One fake server, reset to its defaults (no steps, answers ``ok``, healthy) before the test."""
    server = fake_openai_factory.shared()
    server.reset()
    return server
