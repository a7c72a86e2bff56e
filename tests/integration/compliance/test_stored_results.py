"""Reading stored results back: GetRegulationAnalysis / ListRegulationAnalyses and GetVersionComparison /
ListVersionComparisons through a real server (signed page tokens bound to the filters, BASIC and FULL views,
the compliance officer and the auditor may read, core banking may not)."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest
from fintech.compliance.v1 import compliance_service_pb2 as pb
from fintech.compliance.v1 import compliance_service_pb2_grpc as pb_grpc

from server.runtime.pki import DevPki
from tests.integration.compliance.conftest import ComplianceStack, channel_for, field_violations

REGULATIONS = Path(__file__).resolve().parents[3] / "server" / "compliance" / "corpus" / "regulations"


def _document(name: str) -> pb.DocumentContent:
    path = REGULATIONS / name
    fmt = pb.DOCUMENT_FORMAT_MARKDOWN if path.suffix == ".md" else pb.DOCUMENT_FORMAT_PLAIN_TEXT
    return pb.DocumentContent(filename=name, format=fmt, content=path.read_bytes())


async def _analyse(compliance: ComplianceStack, regulation_id: str, name: str) -> pb.RegulationAnalysis:
    response = await compliance.officer.AnalyzeRegulation(
        pb.AnalyzeRegulationRequest(request_id=str(uuid.uuid4()), regulation_id=regulation_id, document=_document(name))
    )
    return response.analysis


async def test_analyses_are_read_back_as_analysed_and_listed_newest_first(compliance: ComplianceStack) -> None:
    regulation_id = f"cdd-{uuid.uuid4().hex[:8]}"
    made = [
        await _analyse(compliance, regulation_id, name)
        for name in ("customer_due_diligence_v1.txt", "customer_due_diligence_v2.txt", "complaints_handling.txt")
    ]
    assert all(a.create_time.seconds and a.provenance.audit_record_id for a in made)

    got = await compliance.officer.GetRegulationAnalysis(
        pb.GetRegulationAnalysisRequest(analysis_id=made[1].analysis_id)
    )
    assert got.analysis == made[1]

    seen: list[pb.RegulationAnalysis] = []
    token = ""
    while True:
        page = await compliance.officer.ListRegulationAnalyses(
            pb.ListRegulationAnalysesRequest(page_size=2, page_token=token, regulation_id=regulation_id)
        )
        assert len(page.analyses) <= 2
        seen.extend(page.analyses)
        token = page.next_page_token
        if not token:
            break
    assert [a.analysis_id for a in seen] == [
        a.analysis_id for a in sorted(made, key=lambda a: (a.create_time.ToMicroseconds(), a.analysis_id), reverse=True)
    ]
    # BASIC (the default) leaves out the clauses and keeps the rest; FULL is what was returned.
    by_id = {a.analysis_id: a for a in made}
    for listed in seen:
        assert not listed.clauses
        assert list(listed.obligations) == list(by_id[listed.analysis_id].obligations)
        assert listed.provenance.audit_record_id == by_id[listed.analysis_id].provenance.audit_record_id
    full = await compliance.officer.ListRegulationAnalyses(
        pb.ListRegulationAnalysesRequest(regulation_id=regulation_id, view=pb.RESULT_VIEW_FULL)
    )
    assert {a.analysis_id: a for a in full.analyses} == by_id

    # A token is bound to its filter.
    first = await compliance.officer.ListRegulationAnalyses(
        pb.ListRegulationAnalysesRequest(page_size=1, regulation_id=regulation_id)
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await compliance.officer.ListRegulationAnalyses(
            pb.ListRegulationAnalysesRequest(page_size=1, page_token=first.next_page_token, regulation_id="other")
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(info.value) == ["page_token"]


async def test_a_comparison_is_stored_with_both_versions_for_a_side_by_side_view(
    compliance: ComplianceStack, pki: DevPki
) -> None:
    regulation_id = f"ccd-{uuid.uuid4().hex[:8]}"
    request = pb.CompareRegulationVersionsRequest(
        request_id=str(uuid.uuid4()),
        regulation_id=regulation_id,
        old_version=_document("consumer_credit_disclosure_v1.md"),
        new_version=_document("consumer_credit_disclosure_v2.md"),
    )
    compared = await compliance.officer.CompareRegulationVersions(request)
    assert compared.comparison_id and compared.provenance.audit_record_id

    auditor = channel_for(pki, "auditor", compliance.port)
    try:
        stored = (
            await pb_grpc.ComplianceServiceStub(auditor).GetVersionComparison(
                pb.GetVersionComparisonRequest(comparison_id=compared.comparison_id)
            )
        ).comparison
    finally:
        await auditor.close()
    assert stored.comparison_id == compared.comparison_id
    assert stored.regulation_id == regulation_id
    assert (stored.old_filename, stored.new_filename) == (
        "consumer_credit_disclosure_v1.md",
        "consumer_credit_disclosure_v2.md",
    )
    assert list(stored.clause_changes) == list(compared.clause_changes)
    assert list(stored.obligation_changes) == list(compared.obligation_changes)
    assert list(stored.timeline_changes) == list(compared.timeline_changes)
    assert stored.provenance == compared.provenance
    # Every changed clause can be shown beside its counterpart from the stored versions.
    old_ids = {c.clause_id for c in stored.old_clauses}
    new_ids = {c.clause_id for c in stored.new_clauses}
    assert old_ids and new_ids
    for change in stored.clause_changes:
        assert not change.old_clause_id or change.old_clause_id in old_ids
        assert not change.new_clause_id or change.new_clause_id in new_ids

    listed = await compliance.officer.ListVersionComparisons(
        pb.ListVersionComparisonsRequest(regulation_id=regulation_id)
    )
    assert [c.comparison_id for c in listed.comparisons] == [compared.comparison_id]
    assert not listed.comparisons[0].old_clauses and listed.comparisons[0].clause_changes
    # A retried request replays the stored comparison: still one row.
    again = await compliance.officer.CompareRegulationVersions(request)
    assert again == compared
    relisted = await compliance.officer.ListVersionComparisons(
        pb.ListVersionComparisonsRequest(regulation_id=regulation_id, view=pb.RESULT_VIEW_FULL)
    )
    assert list(relisted.comparisons) == [stored]


async def test_stored_results_are_for_compliance_and_audit_and_unknown_ids_are_not_found(
    compliance: ComplianceStack,
) -> None:
    for call, request in (
        (compliance.core_banking.ListRegulationAnalyses, pb.ListRegulationAnalysesRequest()),
        (compliance.core_banking.ListVersionComparisons, pb.ListVersionComparisonsRequest()),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await call(request)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await compliance.officer.GetRegulationAnalysis(pb.GetRegulationAnalysisRequest(analysis_id="no-such"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await compliance.officer.GetVersionComparison(pb.GetVersionComparisonRequest(comparison_id="no-such"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await compliance.officer.GetRegulationAnalysis(pb.GetRegulationAnalysisRequest())
    assert field_violations(bad.value) == ["analysis_id"]
