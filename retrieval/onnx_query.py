"""Single-query embeddings through ONNX Runtime: the same MiniLM weights, a third of torch's latency.

This module owns exporting the installed all-MiniLM-L6-v2 transformer to an ONNX graph (once per
machine, keyed by the SHA-256 of the weights file, written atomically so concurrent processes never
read half a file) and running one query through it with the model's own pooling (mean over the
attention mask, then L2 normalisation). Measured on the 2-core machine (docs/retrieval.md): a single
question in 5.8 to 10 ms against 17 to 24 ms for torch, and a p99 of 20 ms against 496 ms under load; the
vectors agree to a cosine above 0.99999, so an index
built with torch is searched with ONNX vectors unchanged (a test checks the agreement).

Batches (ingestion, evaluation) stay on torch: there ONNX Runtime gained nothing measurable here.
Nothing here decides anything; a missing ``onnxruntime`` is an error naming the setting that avoids it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

OPSET = 17
"""ONNX opset of the exported graph (part of the file name: a new opset is a new export)."""

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def default_export_dir() -> Path:
    """Where exports go when no directory is configured: a per-user folder under the temporary directory
    (writable in the chart's pods, whose root file system is read-only)."""
    return Path(tempfile.gettempdir()) / f"fintech-onnx-{os.getuid()}"


def weights_digest(model_dir: Path) -> str:
    """SHA-256 (hex) of the model's weights file: the identity of the export."""
    digest = hashlib.sha256()
    with (model_dir / "model.safetensors").open("rb") as weights:
        for block in iter(lambda: weights.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_path(model_dir: Path, export_dir: Path) -> Path:
    """The export's file for the weights in ``model_dir``."""
    return export_dir / f"minilm-{weights_digest(model_dir)[:16]}-opset{OPSET}.onnx"


def export_transformer(auto_model: Any, tokenizer: Any, target: Path) -> Path:
    """Exports ``auto_model`` (a Hugging Face BERT) to ``target`` unless it exists; returns ``target``.

    The file is written under a temporary name and renamed into place, so a reader sees either no file
    or a complete one, whichever of several processes exports first.
    """
    if target.exists():
        return target
    import torch

    class _LastHidden(torch.nn.Module):
        # The exporter traces positional inputs; BERT's forward takes keywords (and extra flags).
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["an example question about a card"], return_tensors="pt")
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    # The tracer warns that shape checks become constants; the graph is only ever run on one unpadded
    # sequence of any length up to max_length, and a test compares its vectors with torch's at several lengths.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _LastHidden(auto_model.eval()),
            tuple(sample[name] for name in _INPUTS),
            str(partial),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    os.replace(partial, target)
    return target


class OnnxQueryEncoder:
    """One query at a time through an ONNX Runtime session of the exported transformer."""

    def __init__(self, graph: Path, tokenizer: Any, *, max_length: int, threads: int = 1) -> None:
        """Opens ``graph``.

        Args:
            graph: The exported transformer (:func:`export_transformer`).
            tokenizer: The model's own tokenizer (the same object torch uses, so the ids are identical).
            max_length: Tokens kept (the model's ``max_seq_length``), as the torch path truncates.
            threads: Intra-op threads. One: a short question gains little from a second thread, and on a
                busy 2-core machine the second one costs more than it gives (docs/retrieval.md).

        Raises:
            RuntimeError: ``onnxruntime`` is not installed (set ``retrieval.query_encoder = "torch"``).
        """
        try:
            import onnxruntime
        except ImportError as exc:  # a deployment without the package must choose torch explicitly
            raise RuntimeError(
                'onnxruntime is not installed; install it or set retrieval.query_encoder = "torch"'
            ) from exc
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # Idle worker threads would spin for work by default, stealing the core that milvus-lite or another
        # request is using; measured on 2 cores under load: 2 spinning threads p99 40 ms, 1 thread 20 ms.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer
        self._max_length = max_length
        self.graph = graph

    def encode(self, text: str) -> npt.NDArray[np.float32]:
        """The unit vector of ``text`` as a ``(1, dimension)`` float32 matrix."""
        features = self._tokenizer([text], truncation=True, max_length=self._max_length, return_tensors="np")
        feeds = {name: np.asarray(features[name], dtype=np.int64) for name in _INPUTS}
        hidden = self._session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norm = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.asarray(pooled / norm, dtype=np.float32)
