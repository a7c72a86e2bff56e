"""Shared fixtures of the compliance unit tests (loaded once per session)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.compliance.domain import DocumentFormat, ProcessTaxonomy
from server.compliance.embedding import SentenceTransformerEmbedder, StaticTokenEmbedder
from server.compliance.impact import load_taxonomy
from server.compliance.playbooks import PlaybookRegistry
from server.compliance.review import ContractReviewer

CORPUS = Path(__file__).resolve().parents[3] / "server" / "compliance" / "corpus"
FORMATS = {
    ".txt": DocumentFormat.PLAIN_TEXT,
    ".md": DocumentFormat.MARKDOWN,
    ".pdf": DocumentFormat.PDF,
    ".docx": DocumentFormat.DOCX,
}


@pytest.fixture(scope="session")
def registry() -> PlaybookRegistry:
    return PlaybookRegistry.load()


@pytest.fixture(scope="session")
def reviewer(registry: PlaybookRegistry) -> ContractReviewer:
    return ContractReviewer(registry)


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEmbedder:
    """The real all-MiniLM-L6-v2 embedder, loaded once (5 s idle, up to 40 s on the busy shared box)."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def static_encoder() -> StaticTokenEmbedder:
    """The static token-embedding encoder (all-MiniLM-L6-v2's own table; a fraction of a second to load)."""
    return StaticTokenEmbedder()


@pytest.fixture(scope="session")
def taxonomy() -> ProcessTaxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def contract_labels() -> dict[str, Any]:
    return json.loads((CORPUS / "labels" / "contracts.json").read_text())


@pytest.fixture(scope="session")
def regulation_labels() -> dict[str, Any]:
    return json.loads((CORPUS / "labels" / "regulations.json").read_text())
