"""Impact mapping: which business lines and processes a regulation touches, scored 0 to 1.

The keyword path works alone: each process of the configured taxonomy
(``server/compliance/taxonomy.toml``) lists phrasings, matched on lemmas
clause by clause; the score saturates with the number of clauses hit. An
optional :class:`TextEmbedder` (a declared seam) adds a semantic score: the
best cosine between the process description and the regulation's clauses,
blended with a configured weight.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from server.compliance.domain import ParsedDocument, ProcessImpact, ProcessTaxonomy, TaxonomyProcess
from server.compliance.matching import has_phrase, lemma_positions
from server.compliance.text import lemmas_of

DEFAULT_TAXONOMY = Path(__file__).resolve().parent / "taxonomy.toml"


class TextEmbedder(Protocol):
    """Turns texts into vectors (the seam for sentence-transformers or the retrieval service)."""

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """One vector per text, in order; vectors of one call have equal length."""
        ...


def load_taxonomy(path: Path = DEFAULT_TAXONOMY) -> ProcessTaxonomy:
    """Load the process taxonomy.

    Raises:
        ValueError: a missing key, naming the file and the entry.
    """
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    version = str(raw.get("version", ""))
    if not version:
        raise ValueError(f"{path}: missing 'version'")
    processes: list[TaxonomyProcess] = []
    for number, entry in enumerate(raw.get("process", [])):
        for key in ("business_line", "process", "keywords"):
            if key not in entry:
                raise ValueError(f"{path}: process #{number} lacks {key!r}")
        unknown = set(entry) - {"business_line", "process", "keywords", "description"}
        if unknown:
            raise ValueError(f"{path}: process #{number} has unknown keys {sorted(unknown)}")
        processes.append(
            TaxonomyProcess(
                entry["business_line"], entry["process"], tuple(entry["keywords"]), entry.get("description", "")
            )
        )
    if not processes:
        raise ValueError(f"{path}: no processes")
    return ProcessTaxonomy(version, tuple(processes))


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def map_impact(
    document: ParsedDocument,
    taxonomy: ProcessTaxonomy,
    *,
    embedder: TextEmbedder | None = None,
    embedding_weight: float = 0.4,
    min_score: float = 0.15,
    saturation: float = 3.0,
    max_clauses_embedded: int = 400,
) -> tuple[ProcessImpact, ...]:
    """Score every taxonomy process against the document.

    Args:
        document: The parsed regulation.
        taxonomy: Business lines and processes with their phrasings.
        embedder: Optional semantic scorer; without it the keyword score stands alone.
        embedding_weight: Share of the embedding score in the blend (0 to 1).
        min_score: Processes scoring below this are left out.
        saturation: Clauses hit at which the keyword score reaches about 0.63.
        max_clauses_embedded: Cap on clauses sent to the embedder (longest first), bounding cost.

    Returns:
        Impacts, highest score first, each citing the clauses that produced it.
    """
    keyword_lemmas = [[lemmas_of(k) for k in process.keywords] for process in taxonomy.processes]
    hits: list[list[str]] = [[] for _ in taxonomy.processes]
    for clause in document.clauses:
        if not clause.text:
            continue
        positions = lemma_positions(list(lemmas_of(f"{clause.heading} {clause.text}")))
        for index, phrases in enumerate(keyword_lemmas):
            if any(has_phrase(positions, phrase, gap=1) for phrase in phrases):
                hits[index].append(clause.clause_id)
    semantic = [0.0] * len(taxonomy.processes)
    semantic_clauses: list[list[str]] = [[] for _ in taxonomy.processes]
    if embedder is not None:
        candidates = sorted((c for c in document.clauses if c.text), key=lambda c: -len(c.text))[:max_clauses_embedded]
        clause_vectors = embedder.embed([c.text for c in candidates])
        process_vectors = embedder.embed(
            [f"{p.process.replace('_', ' ')}: {p.description} {', '.join(p.keywords)}" for p in taxonomy.processes]
        )
        for index, vector in enumerate(process_vectors):
            scored = sorted(
                ((_cosine(vector, cv), c.clause_id) for cv, c in zip(clause_vectors, candidates, strict=True)),
                reverse=True,
            )
            if scored:
                semantic[index] = max(0.0, scored[0][0])
                semantic_clauses[index] = [cid for score, cid in scored[:3] if score >= 0.3]
    impacts: list[ProcessImpact] = []
    for index, process in enumerate(taxonomy.processes):
        keyword_score = 1.0 - math.exp(-len(hits[index]) / saturation)
        score = keyword_score
        cited = list(hits[index])
        if embedder is not None:
            score = (1 - embedding_weight) * keyword_score + embedding_weight * semantic[index]
            cited += [cid for cid in semantic_clauses[index] if cid not in cited]
        if score >= min_score and cited:
            impacts.append(ProcessImpact(process.business_line, process.process, round(score, 4), tuple(cited)))
    impacts.sort(key=lambda i: (-i.score, i.business_line, i.process))
    return tuple(impacts)
