"""Configuration of the compliance service: ``ComplianceSettings`` (the ``compliance`` section)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from server.runtime.section import Section

_HERE = Path(__file__).resolve().parent


class ComplianceSettings(Section):
    """Settings of regulation analysis and contract review."""

    playbook_dir: Path = _HERE / "playbooks"
    """Directory of the playbook TOML files and the shared ``lexicon.toml``."""
    taxonomy_file: Path = _HERE / "taxonomy.toml"
    """Process taxonomy that regulation impact is mapped to."""
    max_document_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    """Largest document accepted (the contract allows 32 MiB)."""
    max_document_words: int = Field(250_000, ge=1000)
    """Documents with more words are refused (bounds CPU and memory per request)."""
    summary_token_budget: int = Field(1500, ge=64)
    """Largest map chunk sent to the LLM, in estimated tokens."""
    summary_fan_in: int = Field(8, ge=2)
    """Map outputs combined per reduce step."""
    summary_concurrency: int = Field(4, ge=1)
    """LLM calls in flight per analysis (map steps)."""
    impact_min_score: float = Field(0.15, ge=0.0, le=1.0)
    """Process impacts scoring below this are left out."""
    impact_embedding_weight: float = Field(0.4, ge=0.0, le=1.0)
    """Share of the embedding score in the impact score when an embedder is wired."""
    bulk_review_workers: int = Field(2, ge=1)
    """Worker threads for CPU-bound contract review in ``ReviewContracts``."""
    review_processes: int = Field(0, ge=0, le=64)
    """Worker processes for contract review (0: the ``bulk_review_workers`` threads). Threads share the GIL;
    processes use every core, at the cost of a spawn at start-up and pickling each result back."""
    review_micro_batch: int = Field(32, ge=1, le=1024)
    """Most stream items reviewed in one executor call (one embedding call for the batch); items that arrive
    while a batch is reviewed form the next one."""
    bulk_review_queue: int = Field(64, ge=1)
    """Items buffered per bulk-review stream before the reader waits (back-pressure)."""
    semantic_matching: bool = True
    """Look for required clauses the lexicon misses with sentence embeddings and the playbooks' example
    sentences (``server/compliance/semantic.py``); off: lexical only."""
    semantic_encoder: Literal["static", "minilm"] = "static"
    """Sentence vectors for semantic matching: ``static``, the mean of all-MiniLM-L6-v2's token-embedding rows
    (no transformer pass; about 400 times less CPU per sentence, better precision on the labelled contracts), or
    ``minilm``, the transformer (loads torch and the model at start-up, a few seconds). Each has its own
    parameters in ``semantic.toml``."""
    semantic_cache_size: int = Field(20_000, ge=0)
    """Distinct contract sentences whose embeddings are kept (LRU; about 1.5 KB each)."""
