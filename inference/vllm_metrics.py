"""Parsing vLLM's Prometheus ``/metrics`` page into an :class:`EngineLoad` (a pure function).

vLLM exposes ``vllm:num_requests_waiting``, ``vllm:num_requests_running`` and the KV-cache usage
(``vllm:gpu_cache_usage_perc`` in older releases, ``vllm:kv_cache_usage_perc`` in newer ones), one
sample per served model. llama.cpp's server uses the ``llamacpp:`` prefix with
``requests_processing`` / ``requests_deferred``; both are understood so the development LLM feeds
the same picker. Polling lives in the pool; this module never does I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([^\s]+)(?:\s+\d+)?\s*$")

_WAITING = ("vllm:num_requests_waiting", "llamacpp:requests_deferred")
_RUNNING = ("vllm:num_requests_running", "llamacpp:requests_processing")
_KV = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "llamacpp:kv_cache_usage_ratio")


@dataclass(frozen=True)
class EngineLoad:
    """What an inference engine reports about its own queue.

    Attributes:
        waiting: Requests queued inside the engine (summed over models).
        running: Requests in the running batch.
        kv_cache_usage: KV-cache fill in [0, 1] (the highest over models), None when not reported.
    """

    waiting: float = 0.0
    running: float = 0.0
    kv_cache_usage: float | None = None


def parse_engine_load(text: str) -> EngineLoad | None:
    """Parse a Prometheus text page into an :class:`EngineLoad`.

    Args:
        text: The body of ``GET /metrics``.

    Returns:
        The load, or None when the page carries none of the known gauges (not a vLLM/llama.cpp server).
    """
    waiting = running = 0.0
    kv: float | None = None
    seen = False
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line.strip())
        if match is None:
            continue
        name, value_text = match.group(1), match.group(3)
        try:
            value = float(value_text)
        except ValueError:
            continue
        if math.isnan(value) or math.isinf(value):
            continue
        if name in _WAITING:
            waiting += value
            seen = True
        elif name in _RUNNING:
            running += value
            seen = True
        elif name in _KV:
            # Older vLLM reported a percentage-named ratio; guard against a 0-100 scale too.
            ratio = value / 100.0 if value > 1.0 else value
            kv = ratio if kv is None else max(kv, ratio)
            seen = True
    if not seen:
        return None
    return EngineLoad(waiting=waiting, running=running, kv_cache_usage=kv)
