"""Paraphrase-robust evidence for required clauses: example sentences per check, matched by embedding similarity.

The lexicon recognises the wordings it lists; a contract that says the same thing in other words would
otherwise get a false "missing clause" finding. Each required check of a playbook carries a few example
sentences (``examples`` in the playbook TOML), and ``playbooks/semantic.toml`` holds background sentences
(ordinary contract content that is none of the checks) and the two decision parameters. Only when the
lexical matcher finds no evidence for a required check does this module look at the contract's sentences:

* ``own``   = the best cosine similarity between a sentence and the check's examples;
* ``other`` = the best cosine similarity between that sentence and the examples of the playbook's *other*
  required checks or the background sentences.

The check counts as present when some sentence has ``own >= threshold`` and ``own - other >= margin``: the
sentence must be close to this check's examples *and* closer to them than to anything else the playbook
knows. The margin is what separates (a governing-law sentence is close to a dispute-resolution example as
well; a guarantee undertaking is close to the guarantor-information examples but closer to the background).
Both parameters were chosen on the tuning half of the corpus only (docs/compliance.md). The decision names
the sentence, its clause and both scores, so a review can always say which clause it relied on.

Embeddings of sentences are cached by text (bounded LRU): boilerplate recurs across contracts of one
template, and a bulk review embeds each distinct sentence once. All contracts of a micro-batch are embedded
in one call (:meth:`ClauseMatcher.embed`).
"""

from __future__ import annotations

import threading
import tomllib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from server.compliance.domain import Playbook
from server.compliance.impact import TextEmbedder

SEMANTIC_FILE = "semantic.toml"
Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class SemanticConfig:
    """``playbooks/semantic.toml``: background sentences and the decision parameters."""

    version: str
    threshold: float
    margin: float
    background: tuple[str, ...]


def load_semantic_config(path: Path) -> SemanticConfig:
    """Load and validate ``semantic.toml``.

    Raises:
        ValueError: a missing or malformed entry, naming the file and the key.
    """
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    unknown = set(raw) - {"version", "threshold", "margin", "background"}
    if unknown:
        raise ValueError(f"{path.name}: unknown keys {sorted(unknown)}")
    for key in ("version", "threshold", "margin", "background"):
        if key not in raw:
            raise ValueError(f"{path.name}: missing {key!r}")
    threshold, margin = raw["threshold"], raw["margin"]
    if not isinstance(threshold, float | int) or not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"{path.name}: threshold must be a number between 0 and 1")
    if not isinstance(margin, float | int) or not 0.0 <= float(margin) < 1.0:
        raise ValueError(f"{path.name}: margin must be a number in [0, 1)")
    background = raw["background"]
    if not isinstance(background, list) or not background or not all(isinstance(s, str) and s for s in background):
        raise ValueError(f"{path.name}: background must be a non-empty list of sentences")
    return SemanticConfig(str(raw["version"]), float(threshold), float(margin), tuple(background))


@dataclass(frozen=True)
class _PlaybookVectors:
    """The examples of one playbook's required checks and the background, embedded once."""

    vectors: Vectors  # one row per example or background sentence
    owners: npt.NDArray[np.int32]  # the check index of each row; -1 for background
    check_index: Mapping[str, int]


class ClauseMatcher:
    """Decides, from embeddings, whether a required check the lexicon missed is met by some sentence."""

    def __init__(
        self, playbooks: Sequence[Playbook], config: SemanticConfig, embedder: TextEmbedder, cache_size: int = 20_000
    ) -> None:
        """Embed every playbook's examples and the background sentences.

        Args:
            playbooks: The playbooks whose required checks carry ``examples``.
            config: Background sentences, threshold and margin.
            embedder: Normalised sentence vectors (MiniLM in production).
            cache_size: Distinct sentence embeddings kept (LRU).
        """
        self.config = config
        self._embedder = embedder
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size
        # The model and the cache are shared by the review threads.
        self._lock = threading.Lock()
        background = self._embed_uncached(list(config.background))
        self._playbooks: dict[str, _PlaybookVectors] = {}
        for playbook in playbooks:
            checks = [c for c in playbook.checks if c.kind == "required" and c.examples]
            texts = [e for c in checks for e in c.examples]
            owners = [i for i, c in enumerate(checks) for _ in c.examples]
            vectors = self._embed_uncached(texts) if texts else np.zeros((0, background.shape[1]), np.float32)
            self._playbooks[playbook.playbook_id] = _PlaybookVectors(
                np.vstack([vectors, background]),
                np.array(owners + [-1] * len(background), dtype=np.int32),
                {c.check_id: i for i, c in enumerate(checks)},
            )

    def _embed_uncached(self, texts: list[str]) -> Vectors:
        vectors = np.asarray(self._embedder.embed(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Vectors = (vectors / np.where(norms == 0.0, 1.0, norms)).astype(np.float32)
        return normalised

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` (cached by text; every text not cached goes into one model call)."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                for text, vector in zip(missing, self._embed_uncached(missing), strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            rows = []
            for text in texts:
                self._cache.move_to_end(text)
                rows.append(self._cache[text])
        return np.vstack(rows) if rows else np.zeros((0, 1), np.float32)

    def clear_cache(self) -> None:
        """Forget every cached sentence embedding (the benchmark's cold figure)."""
        with self._lock:
            self._cache.clear()

    def covers(self, playbook_id: str, check_id: str) -> bool:
        """Whether the check has examples to match against."""
        known = self._playbooks.get(playbook_id)
        return known is not None and check_id in known.check_index

    def best(self, playbook_id: str, check_id: str, sentences: Vectors) -> tuple[int, float, float] | None:
        """The sentence that meets the check best: (row in ``sentences``, score, margin), or None if none does.

        A sentence meets the check when its similarity to the check's closest example is at least the
        threshold and exceeds its similarity to anything else (other checks' examples, the background) by at
        least the margin.
        """
        known = self._playbooks[playbook_id]
        if sentences.shape[0] == 0:
            return None
        index = known.check_index[check_id]
        similarity = sentences @ known.vectors.T
        own = np.where(known.owners == index, similarity, -1.0).max(axis=1)
        other = np.where(known.owners != index, similarity, -1.0).max(axis=1)
        margin = own - other
        eligible = (own >= self.config.threshold) & (margin >= self.config.margin)
        if not eligible.any():
            return None
        row = int(np.argmax(np.where(eligible, own, -2.0)))
        return row, float(own[row]), float(margin[row])
