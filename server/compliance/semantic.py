"""Paraphrase-robust evidence for required clauses: example sentences per check, matched by embedding similarity.

The lexicon recognises the wordings it lists; a contract that says the same thing in other words would
otherwise get a false "missing clause" finding. Each required check of a playbook carries a few example
sentences (``examples`` in the playbook TOML), and ``playbooks/semantic.toml`` holds background sentences
(ordinary contract content that is none of the checks) and the decision parameters of each sentence
encoder. Only when the
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

Two encoders (``compliance.semantic_encoder``, ``server/compliance/embedding.py``): ``static`` (default), the
mean of all-MiniLM-L6-v2's own token-embedding rows, about 400 times less CPU per sentence than ``minilm``,
the transformer; with ``static`` every vector is centred on the mean of the reference sentences (``center``).
On the labelled contracts the static encoder is at least as good (docs/compliance.md). The encoder's id and
the content hash of its weights are part of :attr:`ClauseMatcher.provenance`, recorded with each review.

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
from typing import Protocol

import numpy as np
import numpy.typing as npt

from server.compliance.domain import Playbook

SEMANTIC_FILE = "semantic.toml"
Vectors = npt.NDArray[np.float32]
_CONFIG_KEYS = {"version", "background", "encoders"}
_ENCODER_KEYS = {"threshold", "margin", "center"}


class SentenceEncoder(Protocol):
    """Sentence vectors (``embed``) from an encoder that names itself: which parameters apply, and what it is.

    ``kind`` selects the ``[encoders.<kind>]`` table; ``encoder_id`` names the model and the content hash of
    the weights it reads, and goes into every review's provenance (audit record details).
    """

    @property
    def kind(self) -> str:
        """The ``[encoders.<kind>]`` table of ``semantic.toml`` that applies (``static``, ``minilm``)."""
        ...

    @property
    def encoder_id(self) -> str:
        """Model and content hash, e.g. ``static-token-mean/all-MiniLM-L6-v2@sha256:0123abcd...``."""
        ...

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]] | npt.NDArray[np.float32]:
        """One vector per text, in order, all of one length (normalised or not: the matcher normalises)."""
        ...


@dataclass(frozen=True, slots=True)
class EncoderParameters:
    """The decision parameters of one sentence encoder."""

    threshold: float
    margin: float
    center: bool  # subtract the mean vector of the reference sentences before the cosine


@dataclass(frozen=True, slots=True)
class SemanticConfig:
    """``playbooks/semantic.toml``: background sentences and the decision parameters of each encoder."""

    version: str
    background: tuple[str, ...]
    encoders: Mapping[str, EncoderParameters]

    def parameters(self, kind: str) -> EncoderParameters:
        """The parameters of the encoder ``kind``.

        Raises:
            ValueError: ``semantic.toml`` has no ``[encoders.<kind>]`` table.
        """
        if kind not in self.encoders:
            raise ValueError(f"{SEMANTIC_FILE}: no [encoders.{kind}] table (have {sorted(self.encoders)})")
        return self.encoders[kind]


def _encoder_parameters(name: str, kind: str, raw: object) -> EncoderParameters:
    where = f"{name}: [encoders.{kind}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a table")
    unknown = set(raw) - _ENCODER_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    for key in sorted(_ENCODER_KEYS):
        if key not in raw:
            raise ValueError(f"{where}: missing {key!r}")
    threshold, margin, center = raw["threshold"], raw["margin"], raw["center"]
    if isinstance(threshold, bool) or not isinstance(threshold, float | int) or not 0.0 <= float(threshold) < 1.0:
        raise ValueError(f"{where}: threshold must be a number in [0, 1)")
    if isinstance(margin, bool) or not isinstance(margin, float | int) or not 0.0 <= float(margin) < 1.0:
        raise ValueError(f"{where}: margin must be a number in [0, 1)")
    if not isinstance(center, bool):
        raise ValueError(f"{where}: center must be true or false")
    return EncoderParameters(float(threshold), float(margin), center)


def load_semantic_config(path: Path) -> SemanticConfig:
    """Load and validate ``semantic.toml``.

    Raises:
        ValueError: a missing or malformed entry, naming the file and the key.
    """
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    unknown = set(raw) - _CONFIG_KEYS
    if unknown:
        raise ValueError(f"{path.name}: unknown keys {sorted(unknown)}")
    for key in sorted(_CONFIG_KEYS):
        if key not in raw:
            raise ValueError(f"{path.name}: missing {key!r}")
    background = raw["background"]
    if not isinstance(background, list) or not background or not all(isinstance(s, str) and s for s in background):
        raise ValueError(f"{path.name}: background must be a non-empty list of sentences")
    encoders = raw["encoders"]
    if not isinstance(encoders, dict) or not encoders:
        raise ValueError(f"{path.name}: encoders must hold at least one [encoders.<kind>] table")
    return SemanticConfig(
        str(raw["version"]),
        tuple(background),
        {kind: _encoder_parameters(path.name, kind, table) for kind, table in encoders.items()},
    )


@dataclass(frozen=True)
class _PlaybookVectors:
    """The examples of one playbook's required checks and the background, embedded once."""

    vectors: Vectors  # one row per example or background sentence
    owners: npt.NDArray[np.int32]  # the check index of each row; -1 for background
    check_index: Mapping[str, int]


class ClauseMatcher:
    """Decides, from embeddings, whether a required check the lexicon missed is met by some sentence."""

    def __init__(
        self,
        playbooks: Sequence[Playbook],
        config: SemanticConfig,
        encoder: SentenceEncoder,
        cache_size: int = 20_000,
    ) -> None:
        """Embed every playbook's examples and the background sentences.

        Args:
            playbooks: The playbooks whose required checks carry ``examples``.
            config: Background sentences and each encoder's threshold, margin and centring.
            encoder: Normalised sentence vectors: the static token-embedding mean (default) or the MiniLM
                transformer; its ``kind`` picks the parameters.
            cache_size: Distinct sentence embeddings kept (LRU).

        Raises:
            ValueError: ``semantic.toml`` has no parameters for the encoder's kind.
        """
        self.config = config
        self.parameters = config.parameters(encoder.kind)
        self._encoder = encoder
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size
        # The model and the cache are shared by the review threads.
        self._lock = threading.Lock()
        self.sentences_embedded = 0
        self.cache_hits = 0
        checks_of = {p.playbook_id: [c for c in p.checks if c.kind == "required" and c.examples] for p in playbooks}
        examples = {e for checks in checks_of.values() for c in checks for e in c.examples}
        references = sorted(examples | set(config.background))
        raw = self._normalised(references)
        # Centring: the mean vector of every reference sentence (all playbooks' examples and the background) is
        # what any contract sentence shares with them; removing it lets the topical part decide. Sorted texts:
        # the same playbooks give the same vector, bit for bit.
        self._center = raw.mean(axis=0).astype(np.float32) if self.parameters.center else None
        vectors_of = dict(zip(references, self._centred(raw), strict=True))
        background = np.array([vectors_of[t] for t in config.background], dtype=np.float32)
        self._playbooks: dict[str, _PlaybookVectors] = {}
        for playbook in playbooks:
            checks = checks_of[playbook.playbook_id]
            texts = [e for c in checks for e in c.examples]
            owners = [i for i, c in enumerate(checks) for _ in c.examples]
            vectors = (
                np.array([vectors_of[t] for t in texts], dtype=np.float32)
                if texts
                else np.zeros((0, background.shape[1]), np.float32)
            )
            self._playbooks[playbook.playbook_id] = _PlaybookVectors(
                np.vstack([vectors, background]),
                np.array(owners + [-1] * len(background), dtype=np.int32),
                {c.check_id: i for i, c in enumerate(checks)},
            )

    @property
    def provenance(self) -> str:
        """What decided a semantic match: the encoder (model and weights' content hash) and ``semantic.toml``."""
        return f"{self._encoder.encoder_id} semantic.toml@{self.config.version}"

    def _normalised(self, texts: Sequence[str]) -> Vectors:
        vectors = np.asarray(self._encoder.embed(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Vectors = (vectors / np.where(norms == 0.0, 1.0, norms)).astype(np.float32)
        return normalised

    def _centred(self, vectors: Vectors) -> Vectors:
        if self._center is None:
            return vectors
        shifted = vectors - self._center
        norms = np.linalg.norm(shifted, axis=1, keepdims=True)
        centred: Vectors = (shifted / np.where(norms == 0.0, 1.0, norms)).astype(np.float32)
        return centred

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` as the decision compares them (cached by text; every text not cached goes into
        one encoder call)."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            fresh = dict(zip(missing, self._centred(self._normalised(missing)), strict=True)) if missing else {}
            rows = []
            for text in texts:
                vector = fresh.get(text)
                if vector is None:
                    vector = self._cache[text]
                    self._cache.move_to_end(text)
                    self.cache_hits += 1
                rows.append(vector)
            self.sentences_embedded += len(missing)
            if self._cache_size:
                self._cache.update(fresh)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
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
        eligible = (own >= self.parameters.threshold) & (margin >= self.parameters.margin)
        if not eligible.any():
            return None
        row = int(np.argmax(np.where(eligible, own, -2.0)))
        return row, float(own[row]), float(margin[row])
