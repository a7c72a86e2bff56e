"""The intent classifier: features, the versioned artefact, and prediction.

This module owns the model the customer service routes with: multinomial logistic regression over
two feature blocks, the all-MiniLM-L6-v2 sentence embedding (meaning) and a TF-IDF of word unigrams
and bigrams (exact banking terms such as "top up", "PIN", "SEPA"), and the on-disk artefact:

- ``manifest.json``: classes, feature configuration, vocabulary, idf weights, training parameters;
- ``weights.npy.gz``: the coefficient matrix and intercepts (float16, gzip without a timestamp);
- ``report.json``: the training report (held-out accuracy, macro-F1, per-intent figures).

The model id is the sha256 of the manifest and weights bytes, so the same artefact always has the
same id and any change to it changes the id. Nothing here is pickled: loading an artefact never runs code.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from retrieval.embedding import Embedder

ARTEFACT_DIR = Path(__file__).resolve().parent / "artefact"
MANIFEST = "manifest.json"
WEIGHTS = "weights.npy.gz"
REPORT = "report.json"
FORMAT_VERSION = 1
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of two or more characters, then adjacent-pair bigrams."""
    words = _TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass(frozen=True)
class TfidfVocabulary:
    """Term index and inverse document frequencies learnt from the training texts."""

    terms: dict[str, int]
    idf: npt.NDArray[np.float64]

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 2) -> TfidfVocabulary:
        """Learns terms seen in at least ``min_df`` texts, with smoothed idf (as scikit-learn's)."""
        document_frequency: Counter[str] = Counter()
        for text in texts:
            document_frequency.update(set(tokens(text)))
        kept = sorted(term for term, count in document_frequency.items() if count >= min_df)
        n = len(texts)
        idf = np.array([math.log((1 + n) / (1 + document_frequency[t])) + 1.0 for t in kept], dtype=np.float64)
        return cls(terms={term: i for i, term in enumerate(kept)}, idf=idf)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Sublinear-tf TF-IDF rows, each scaled to unit length."""
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for text in texts:
            counts = Counter(self.terms[t] for t in tokens(text) if t in self.terms)
            row = sorted(counts.items())
            weights = [(1.0 + math.log(c)) * float(self.idf[i]) for i, c in row]
            norm = math.sqrt(sum(w * w for w in weights)) or 1.0
            indices.extend(i for i, _ in row)
            values.extend(w / norm for w in weights)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
            shape=(len(texts), len(self.terms)),
        )


def features(
    texts: Sequence[str], embeddings: npt.NDArray[np.float32], vocabulary: TfidfVocabulary
) -> sparse.csr_matrix:
    """The model's input: ``[embedding | tf-idf]`` per text."""
    dense = sparse.csr_matrix(np.asarray(embeddings, dtype=np.float64))
    return sparse.hstack([dense, vocabulary.transform(texts)], format="csr")


@dataclass(frozen=True)
class IntentPrediction:
    """The predicted intent of one text."""

    intent: str
    confidence: float
    """Probability of ``intent`` (softmax over all intents)."""
    alternatives: tuple[tuple[str, float], ...]
    """The next most likely intents with their probabilities, best first."""


def _weights_bytes(coef: npt.NDArray[np.float16], intercept: npt.NDArray[np.float16]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.concatenate([coef, intercept[:, None]], axis=1), allow_pickle=False)
    # mtime=0 keeps the gzip bytes (and so the model id) a function of the weights alone.
    return gzip.compress(buffer.getvalue(), compresslevel=9, mtime=0)


def model_id_of(manifest_bytes: bytes, weights_bytes: bytes) -> str:
    """Content hash naming an artefact (hex sha256 prefix)."""
    digest = hashlib.sha256()
    digest.update(manifest_bytes)
    digest.update(b"\x00")
    digest.update(weights_bytes)
    return "intent-" + digest.hexdigest()[:16]


class IntentClassifier:
    """Predicts BANKING77 intents from text with a trained artefact."""

    def __init__(
        self,
        classes: Sequence[str],
        vocabulary: TfidfVocabulary,
        coef: npt.NDArray[np.float32],
        intercept: npt.NDArray[np.float32],
        embedder: Embedder,
        model_id: str,
        manifest: dict[str, Any],
    ) -> None:
        """Use :meth:`load`, or :func:`server.customer.intents.train.train` for a new model."""
        self.classes = tuple(classes)
        self.vocabulary = vocabulary
        self._coef = np.asarray(coef, dtype=np.float32)
        self._intercept = np.asarray(intercept, dtype=np.float32)
        self._embedder = embedder
        self.model_id = model_id
        self.manifest = manifest

    @classmethod
    def load(cls, embedder: Embedder, directory: Path = ARTEFACT_DIR) -> IntentClassifier:
        """Loads the artefact in ``directory``.

        Raises:
            FileNotFoundError: The artefact is missing (run ``python -m server.customer.intents.train``).
            ValueError: The artefact is inconsistent, or was built with another embedding model.
        """
        manifest_bytes = (directory / MANIFEST).read_bytes()
        weights_bytes = (directory / WEIGHTS).read_bytes()
        manifest = json.loads(manifest_bytes)
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{directory / MANIFEST}: format_version must be {FORMAT_VERSION}")
        if manifest["embedding_model"] != embedder.model_name:
            raise ValueError(
                f"artefact needs embedding model {manifest['embedding_model']!r}, got {embedder.model_name!r}"
            )
        matrix = np.load(io.BytesIO(gzip.decompress(weights_bytes)), allow_pickle=False).astype(np.float32)
        classes = manifest["classes"]
        terms = manifest["vocabulary"]
        vocabulary = TfidfVocabulary(terms={t: i for i, t in enumerate(terms)}, idf=np.array(manifest["idf"]))
        expected = (len(classes), embedder.dimension + len(terms) + 1)
        if matrix.shape != expected:
            raise ValueError(f"{directory / WEIGHTS}: shape {matrix.shape}, expected {expected}")
        return cls(
            classes,
            vocabulary,
            matrix[:, :-1],
            matrix[:, -1],
            embedder,
            model_id_of(manifest_bytes, weights_bytes),
            manifest,
        )

    def save(self, directory: Path) -> str:
        """Writes the manifest and weights into ``directory``; returns the model id."""
        directory.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocabulary.terms, key=self.vocabulary.terms.__getitem__)
        manifest = {
            **self.manifest,
            "format_version": FORMAT_VERSION,
            "classes": list(self.classes),
            "vocabulary": terms,
            "idf": [round(float(x), 6) for x in self.vocabulary.idf],
        }
        manifest_bytes = (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
        weights_bytes = _weights_bytes(self._coef.astype(np.float16), self._intercept.astype(np.float16))
        (directory / MANIFEST).write_bytes(manifest_bytes)
        (directory / WEIGHTS).write_bytes(weights_bytes)
        return model_id_of(manifest_bytes, weights_bytes)

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Softmax probabilities, one row per text, columns in :attr:`classes` order."""
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        embeddings = self._embedder.embed(list(texts))
        product = features(texts, embeddings, self.vocabulary) @ self._coef.T.astype(np.float64)
        scores: npt.NDArray[np.float64] = np.asarray(product, dtype=np.float64) + self._intercept
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        probabilities: npt.NDArray[np.float32] = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return probabilities

    def predict(self, texts: Sequence[str], alternatives: int = 3) -> list[IntentPrediction]:
        """Predicts the intent of each text (CPU-bound: run it in an executor from async code).

        Args:
            texts: Questions.
            alternatives: How many runner-up intents to report.
        """
        probabilities = self.probabilities(texts)
        predictions = []
        for row in probabilities:
            order = np.argsort(-row)
            best = int(order[0])
            predictions.append(
                IntentPrediction(
                    intent=self.classes[best],
                    confidence=float(row[best]),
                    alternatives=tuple((self.classes[int(i)], float(row[int(i)])) for i in order[1 : 1 + alternatives]),
                )
            )
        return predictions
