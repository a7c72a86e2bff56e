"""A caller's trace continues through the platform: into the LLM pool's requests and the audit record."""

from __future__ import annotations

import uuid

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from inference.pool import InferencePool
from inference.settings import InferenceSettings
from server.audit.records import AuditEntry, AuditKind
from server.runtime.observability import current_trace_id
from server.runtime.pki import DevPki
from tests.fixtures.runtime import settings_for, stateful_context


async def test_trace_context_reaches_the_llm_endpoint_and_the_audit_record(
    pki: DevPki, tmp_path, fake_openai  # type: ignore[no-untyped-def]
) -> None:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    tracer = trace.get_tracer("test")
    settings = settings_for(pki, tmp_path, server={"services": ["operations"]})
    ctx = await stateful_context(settings)
    pool = InferencePool(
        InferenceSettings.model_validate(
            {"groups": [{"name": "g", "model": "fake", "endpoints": [{"url": fake_openai.base_url}]}],
             "budgets": {"enabled": False}}
        )
    )
    await pool.start()
    try:
        with tracer.start_as_current_span("rpc"):
            trace_id = current_trace_id()
            await pool.chat([{"role": "user", "content": "hi"}], max_tokens=4)
            audit, database = ctx.require("audit"), ctx.require("database")
            async with database.transaction() as conn:
                receipt = await audit.append(
                    conn, AuditEntry(kind=AuditKind.DECISION, rpc="test", decision="OK", caller="t",
                                     request_id=str(uuid.uuid4()))
                )
    finally:
        await pool.close()
        for closer in reversed(ctx.closers):
            await closer()
    sent = fake_openai.requests()[-1]["traceparent"]
    assert sent.split("-")[1] == trace_id
    from server.audit.tables import audit_records

    async with database.read() as conn:
        row = (await conn.execute(audit_records.select().where(audit_records.c.seq == receipt.seq))).one()
    assert row.trace_id == trace_id
