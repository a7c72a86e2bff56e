"""AnalyzeRegulation and CompareRegulationVersions through a real server: deterministic analysis, clause
summaries from the scripted LLM validated against the cited clauses (grounded PASSED, one wrong date
FAILED), a 100,000-word regulation with bounded concurrency, storage (sealed) and audit records."""

from __future__ import annotations

import json
import re
import tracemalloc
import uuid
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as pb

from server.audit.records import AuditKind
from server.audit.tables import audit_records
from server.compliance.corpus.synthetic import synthetic_regulation
from server.compliance.domain import DocumentFormat
from server.compliance.llm import LlmCall, Outcome, clause_texts, summarise
from server.compliance.parsing import parse_document
from server.compliance.planning import iter_map_chunks
from server.compliance.repositories import AnalysisRepository, analyses
from server.compliance.service import RPC_ANALYZE, RPC_COMPARE
from tests.fakes.openai_server import FakeOpenAIServer
from tests.integration.compliance.conftest import SUMMARY_CONCURRENCY, ComplianceStack, field_violations

REGULATIONS = Path(__file__).resolve().parents[3] / "server" / "compliance" / "corpus" / "regulations"
RULE = b"""Test Disclosure Rule

This Rule enters into force on 1 March 2027.

Article 1 - Disclosure
1. The lender shall disclose the annual percentage rate to the consumer at least 7 days before the contract is signed.
2. The lender shall keep a record of each disclosure for 5 years.

Article 2 - Transition
1. Lenders shall comply with Article 1 by 1 September 2027.
"""


def _answer(*items: tuple[list[str], str]) -> dict[str, object]:
    content = json.dumps({"items": [{"clause_ids": ids, "summary": text} for ids, text in items]})
    return {"kind": "ok", "content": content}


def _request(content: bytes, *, summaries: bool, regulation_id: str = "test-rule") -> pb.AnalyzeRegulationRequest:
    return pb.AnalyzeRegulationRequest(
        request_id=str(uuid.uuid4()),
        regulation_id=regulation_id,
        document=pb.DocumentContent(filename="rule.txt", format=pb.DOCUMENT_FORMAT_PLAIN_TEXT, content=content),
        include_summaries=summaries,
    )


GROUNDED_MAP = _answer(
    (["preamble"], "The Rule enters into force on 1 March 2027."),
    (["art1.p1"], "Lenders must disclose the APR at least 7 days before signing."),
    (["art1.p2"], "Disclosure records are kept for 5 years."),
    (["art2.p1"], "Lenders must comply by 1 September 2027."),
)
GROUNDED_REDUCE = _answer(
    (["art1.p1", "art1.p2"], "Disclose the APR 7 days ahead and keep records for 5 years."),
    (["art2.p1", "preamble"], "The Rule applies from 1 March 2027 with compliance due by 1 September 2027."),
)


async def _audit_rows(compliance: ComplianceStack, rpc: str, request_id: str) -> list[sa.Row[object]]:
    async with compliance.ctx.require("database").read() as conn:
        return list(
            (
                await conn.execute(
                    sa.select(audit_records).where(audit_records.c.rpc == rpc, audit_records.c.request_id == request_id)
                )
            ).all()
        )


async def test_grounded_summary_passes_and_is_stored_sealed_and_audited(
    compliance: ComplianceStack, llm: FakeOpenAIServer
) -> None:
    llm.script(GROUNDED_MAP, GROUNDED_REDUCE)
    request = _request(RULE, summaries=True)
    response = await compliance.officer.AnalyzeRegulation(request)
    analysis = response.analysis
    assert {o.clause_id for o in analysis.obligations} >= {"art1.p1", "art1.p2", "art2.p1"}
    assert any(e.event_type == pb.TIMELINE_EVENT_TYPE_EFFECTIVE and e.date.year == 2027 for e in analysis.timeline)
    assert len(analysis.summaries) == 4
    assert all(s.validation_outcome == common_pb2.VALIDATION_OUTCOME_PASSED for s in analysis.summaries)
    assert analysis.overall_summary.validation_outcome == common_pb2.VALIDATION_OUTCOME_PASSED
    assert "1 September 2027" in analysis.overall_summary.summary
    assert set(analysis.overall_summary.clause_ids) == {"art1.p1", "art1.p2", "art2.p1", "preamble"}
    assert analysis.provenance.validation_outcome == common_pb2.VALIDATION_OUTCOME_PASSED
    assert analysis.provenance.prompt_template_id == "compliance_clause_summary"
    # Map then reduce, never the whole document in one prompt: two calls, the clauses in data blocks.
    calls = llm.requests()
    assert len(calls) == 2
    assert "[art1.p1]" in json.dumps(calls[0]["body"]["messages"])

    rows = await _audit_rows(compliance, RPC_ANALYZE, request.request_id)
    assert len(rows) == 1 and rows[0].kind == AuditKind.DECISION
    assert rows[0].decision == "REGULATION_ANALYZED" and rows[0].validation_outcome == "PASSED"
    assert rows[0].record_id == analysis.provenance.audit_record_id
    async with compliance.ctx.require("database").read() as conn:
        sealed = (
            await conn.execute(
                sa.select(analyses.c.document_sealed).where(analyses.c.analysis_id == analysis.analysis_id)
            )
        ).scalar_one()
        assert b"annual percentage rate" not in sealed
        repo = AnalysisRepository(compliance.ctx.require("keyring"))
        assert "annual percentage rate" in await repo.document_text(conn, analysis.analysis_id)
        assert (await repo.get(conn, analysis.analysis_id)).overall_summary.summary == analysis.overall_summary.summary

    # A retry with the same request id replays the stored answer without asking the LLM again.
    replay = await compliance.officer.AnalyzeRegulation(request)
    assert replay.analysis.analysis_id == analysis.analysis_id
    assert len(llm.requests()) == 2


async def test_one_wrong_date_fails_that_item_with_the_span(compliance: ComplianceStack, llm: FakeOpenAIServer) -> None:
    wrong = _answer(
        (["preamble"], "The Rule enters into force on 1 March 2027."),
        (["art1.p1"], "Lenders must disclose the APR at least 7 days before signing."),
        (["art1.p2"], "Disclosure records are kept for 5 years."),
        (["art2.p1"], "Lenders must comply by 1 October 2027."),
    )
    llm.script(wrong, GROUNDED_REDUCE)
    response = await compliance.officer.AnalyzeRegulation(_request(RULE, summaries=True))
    analysis = response.analysis
    outcomes = [s.validation_outcome for s in analysis.summaries]
    assert outcomes.count(common_pb2.VALIDATION_OUTCOME_FAILED) == 1
    failed = next(s for s in analysis.summaries if s.validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED)
    assert list(failed.clause_ids) == ["art2.p1"]
    assert [(u.text, u.reason) for u in failed.unsupported_spans] == [("1 October 2027", "date not in the facts")]
    assert failed.summary[failed.unsupported_spans[0].start : failed.unsupported_spans[0].end] == "1 October 2027"
    # The overall outcome is FAILED because one map item failed; the analysis says so.
    assert analysis.provenance.validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED
    # The failed item was not fed into the reduce step.
    reduce_prompt = json.dumps(llm.requests()[1]["body"]["messages"])
    assert "1 October 2027" not in reduce_prompt


async def test_a_summary_citing_a_clause_it_was_not_given_fails(
    compliance: ComplianceStack, llm: FakeOpenAIServer
) -> None:
    llm.script(_answer((["art9.p1"], "Lenders must disclose the APR.")), GROUNDED_REDUCE)
    analysis = (await compliance.officer.AnalyzeRegulation(_request(RULE, summaries=True))).analysis
    assert [s.validation_outcome for s in analysis.summaries] == [common_pb2.VALIDATION_OUTCOME_FAILED]
    assert analysis.overall_summary.validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED
    assert len(llm.requests()) == 1  # nothing grounded to reduce: no reduce call


async def test_without_summaries_no_llm_call_and_not_applicable(
    compliance: ComplianceStack, llm: FakeOpenAIServer
) -> None:
    content = (REGULATIONS / "complaints_handling.txt").read_bytes()
    analysis = (await compliance.officer.AnalyzeRegulation(_request(content, summaries=False))).analysis
    assert analysis.obligations and analysis.risk_points and not analysis.summaries
    assert analysis.provenance.validation_outcome == common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE
    assert llm.requests() == []


async def test_bad_format_names_the_field(compliance: ComplianceStack) -> None:
    request = _request(b"\x00\x01 not a pdf", summaries=False)
    request.document.format = pb.DOCUMENT_FORMAT_PDF
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await compliance.officer.AnalyzeRegulation(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f in field_violations(info.value) if f.startswith("document")], field_violations(info.value)


async def test_a_100k_word_regulation_is_summarised_chunk_by_chunk(
    compliance: ComplianceStack, llm: FakeOpenAIServer
) -> None:
    content = synthetic_regulation(100_000)
    document = parse_document(content, DocumentFormat.PLAIN_TEXT)
    chunks = list(iter_map_chunks(document, 1500))
    assert len(chunks) > 50
    # Every map answer cites the first chunk's first clause: grounded there, a foreign citation elsewhere.
    first_id = chunks[0].clause_ids[-1]
    # A summary in the clause's own words (no figures): it must speak of what it cites to pass.
    words = re.findall(r"[A-Za-z]{4,}", clause_texts(document)[first_id])[:8]
    llm.set_default(_answer(([first_id], "In short: " + " ".join(words) + ".")))
    response = await compliance.officer.AnalyzeRegulation(
        _request(content, summaries=True, regulation_id="long-rule"), timeout=240
    )
    analysis = response.analysis
    assert analysis.word_count >= 100_000
    map_calls = [r for r in llm.requests() if "Combine them into" not in json.dumps(r["body"])]
    assert len(analysis.summaries) == len(chunks)
    passed = [s for s in analysis.summaries if s.validation_outcome == common_pb2.VALIDATION_OUTCOME_PASSED]
    assert len(passed) == 1 and list(passed[0].clause_ids) == [first_id]
    assert len(map_calls) == len(chunks)
    # Each prompt holds one chunk, never the document.
    longest = max(len(json.dumps(r["body"]["messages"])) for r in llm.requests())
    assert longest < 1500 * 4 * 2 + 4000

    # In-process, the same map-reduce keeps at most `concurrency` calls in flight with flat memory.
    pool = compliance.ctx.require("inference")
    tracemalloc.start()
    try:
        run = await summarise(
            document, LlmCall(pool, "test"), token_budget=1500, fan_in=8, concurrency=SUMMARY_CONCURRENCY
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.max_in_flight == SUMMARY_CONCURRENCY
    assert run.map_calls == len(chunks)
    assert peak < 24 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while summarising"
    assert run.outcome is Outcome.FAILED


async def test_compare_versions_is_deterministic_and_audited(compliance: ComplianceStack) -> None:
    old = (REGULATIONS / "customer_due_diligence_v1.txt").read_bytes()
    new = (REGULATIONS / "customer_due_diligence_v2.txt").read_bytes()
    request = pb.CompareRegulationVersionsRequest(
        request_id=str(uuid.uuid4()),
        old_version=pb.DocumentContent(filename="v1.txt", format=pb.DOCUMENT_FORMAT_PLAIN_TEXT, content=old),
        new_version=pb.DocumentContent(filename="v2.txt", format=pb.DOCUMENT_FORMAT_PLAIN_TEXT, content=new),
    )
    first = await compliance.officer.CompareRegulationVersions(request)
    assert first.clause_changes and first.obligation_changes
    assert any(c.strictness == pb.STRICTNESS_CHANGE_STRICTER for c in first.obligation_changes)
    rows = await _audit_rows(compliance, RPC_COMPARE, request.request_id)
    assert [r.decision for r in rows] == ["VERSIONS_COMPARED"]
    assert first.provenance.audit_record_id == rows[0].record_id
    again = await compliance.officer.CompareRegulationVersions(request)
    assert again == first
    assert len(await _audit_rows(compliance, RPC_COMPARE, request.request_id)) == 1


async def test_compare_names_the_bad_version(compliance: ComplianceStack) -> None:
    request = pb.CompareRegulationVersionsRequest(
        request_id=str(uuid.uuid4()),
        old_version=pb.DocumentContent(filename="v1.txt", format=pb.DOCUMENT_FORMAT_PLAIN_TEXT, content=RULE),
        new_version=pb.DocumentContent(filename="v2.docx", format=pb.DOCUMENT_FORMAT_DOCX, content=b"not a docx"),
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await compliance.officer.CompareRegulationVersions(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert any(f.startswith("new_version") for f in field_violations(info.value)), field_violations(info.value)


async def test_without_an_llm_summaries_are_refused_and_say_why(compliance: ComplianceStack) -> None:
    from server.compliance.engine import ComplianceEngine
    from server.compliance.service import ComplianceServicer
    from server.compliance.settings import ComplianceSettings
    from server.runtime.errors import FailedPrecondition
    from server.runtime.identity import Caller, reset_caller, set_caller

    settings = ComplianceSettings()
    resources = compliance.ctx.resources
    servicer = ComplianceServicer(
        ComplianceEngine.from_settings(settings),
        settings,
        database=resources["database"],
        audit=resources["audit"],
        keyring=resources["keyring"],
        idempotency=resources["idempotency"],
        page_tokens=resources["page_tokens"],
        clock=compliance.ctx.clock,
        pool=None,
    )
    token = set_caller(
        Caller(
            peer="spiffe://test/compliance-officer",
            peer_role="compliance-officer",
            role="compliance-officer",
            principal="spiffe://test/compliance-officer",
        )
    )
    try:
        with pytest.raises(FailedPrecondition) as info:
            await servicer.AnalyzeRegulation(_request(RULE, summaries=True), None)  # type: ignore[arg-type]
        assert info.value.reason == "LLM_NOT_CONFIGURED"
        # The deterministic analysis needs no LLM.
        response = await servicer.AnalyzeRegulation(_request(RULE, summaries=False), None)  # type: ignore[arg-type]
        assert response.analysis.obligations and not response.analysis.summaries
    finally:
        reset_caller(token)
        servicer.executor.shutdown()


async def test_a_summary_that_says_nothing_of_its_clause_fails(
    compliance: ComplianceStack, llm: FakeOpenAIServer
) -> None:
    """Nothing in it to refute is not enough: the development model once summarised a rule with a story."""
    llm.script(
        _answer(
            (["art1.p1"], "A story about a young girl who goes to see the doctor."),
            (["art1.p2"], "Disclosure records are kept for 5 years; see https://example.com/rules."),
        ),
        GROUNDED_REDUCE,
    )
    analysis = (await compliance.officer.AnalyzeRegulation(_request(RULE, summaries=True))).analysis
    reasons = {tuple(s.clause_ids): [u.reason for u in s.unsupported_spans] for s in analysis.summaries}
    assert reasons[("art1.p1",)] == ["says nothing the cited clauses say"]
    assert reasons[("art1.p2",)] == ["contact details or links are never part of generated text"]
    assert analysis.overall_summary.validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED
