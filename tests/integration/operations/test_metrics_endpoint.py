"""The metrics endpoint serves one registry per server: the RPC metrics, the inference pool's and the domains'."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from server.runtime.pki import DevPki
from tests.fixtures.runtime import running_server, settings_for, stateful_context


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return str(reply.read().decode())


async def test_pool_and_domain_collectors_reach_the_metrics_endpoint(pki: DevPki, tmp_path: Path) -> None:
    settings = settings_for(
        pki,
        tmp_path,
        server={"services": ["operations", "risk"]},
        inference={
            "groups": [{"name": "deepseek-chat", "model": "fake", "endpoints": [{"url": "http://127.0.0.1:9/v1"}]}],
            "budgets": {"enabled": False},
        },
    )
    ctx = await stateful_context(settings)
    async with running_server(settings, ctx=ctx) as running:
        body = await asyncio.to_thread(_get, f"http://127.0.0.1:{running.metrics_port}/metrics")
    families = {family.name for family in text_string_to_metric_families(body)}
    assert "fintech_rpc_requests" in families  # the runtime's
    assert "fintech_inference_requests" in families  # the inference pool's
    assert "fintech_risk_score_psi" in families  # RiskService's drift monitor
