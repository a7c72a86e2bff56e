"""ReviewContract, ReviewContracts, ListContractReviews, GetContractReview and ListPlaybooks through a real
server: deterministic findings decide, advisory LLM findings are grounded and marked, the bulk stream reports
per-item errors (google.rpc.Status with BadRequest) and progress and goes on, reviews are stored sealed and
audited, lists are paginated with signed tokens and filtered, and only the compliance officer reads them."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as pb
from google.rpc import code_pb2, error_details_pb2

from server.audit.tables import audit_records
from server.compliance.domain import DocumentFormat
from server.compliance.repositories import reviews
from server.compliance.service import RPC_REVIEW
from tests.fakes.openai_server import FakeOpenAIServer
from tests.integration.compliance.conftest import ComplianceStack, field_violations

CORPUS = Path(__file__).resolve().parents[3] / "server" / "compliance" / "corpus"
LABELS = json.loads((CORPUS / "labels" / "contracts.json").read_text())
_FORMATS = {
    ".txt": pb.DOCUMENT_FORMAT_PLAIN_TEXT,
    ".md": pb.DOCUMENT_FORMAT_MARKDOWN,
    ".pdf": pb.DOCUMENT_FORMAT_PDF,
    ".docx": pb.DOCUMENT_FORMAT_DOCX,
}


def _contract(name: str, *, contract_id: str | None = None, advice: bool = False) -> pb.ReviewContractRequest:
    path = CORPUS / "contracts" / name
    return pb.ReviewContractRequest(
        request_id=str(uuid.uuid4()),
        contract_id=contract_id or f"c-{uuid.uuid4().hex[:12]}",
        document=pb.DocumentContent(filename=name, format=_FORMATS[path.suffix], content=path.read_bytes()),
        include_llm_advice=advice,
    )


async def test_review_finds_the_labelled_defect_and_is_stored_sealed_and_audited(compliance: ComplianceStack) -> None:
    request = _contract("02_loan.txt")
    review = (await compliance.core_banking.ReviewContract(request)).review
    assert "loan.penalty_interest_cap" in {f.check_id for f in review.findings}
    assert review.contract_type == pb.CONTRACT_TYPE_LOAN and review.playbook_id
    assert not any(f.advisory for f in review.findings)
    assert review.provenance.validation_outcome == common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE
    assert review.max_severity >= common_pb2.SEVERITY_MEDIUM
    async with compliance.ctx.require("database").read() as conn:
        row = (await conn.execute(sa.select(reviews).where(reviews.c.review_id == review.review_id))).one()
        audit = (
            await conn.execute(
                sa.select(audit_records).where(
                    audit_records.c.rpc == RPC_REVIEW, audit_records.c.request_id == request.request_id
                )
            )
        ).all()
    assert b"Harbour Savings Bank" not in row.document_sealed and b"Harbour" not in row.review_sealed
    assert [a.decision for a in audit] == [f"REVIEWED:{common_pb2.Severity.Name(review.max_severity)[9:]}"]
    assert audit[0].subject_type == "contract" and audit[0].subject_id == request.contract_id
    assert review.provenance.audit_record_id == audit[0].record_id == row.audit_record_id
    # Retried with the same request id: the same review, no second record.
    again = (await compliance.core_banking.ReviewContract(request)).review
    assert again.review_id == review.review_id
    fetched = (
        await compliance.officer.GetContractReview(pb.GetContractReviewRequest(review_id=review.review_id))
    ).review
    assert fetched == review


async def test_llm_advice_is_kept_only_when_grounded_and_never_decides(
    compliance: ComplianceStack, llm: FakeOpenAIServer
) -> None:
    notes = {
        "notes": [
            {
                "clause_id": "s7",
                "quote": "Default interest of 18% per annum",
                "note": "Check 18% against the consumer's total cost.",
            },
            {"clause_id": "s6", "quote": "An early repayment fee of 0.5%", "note": "A fee of 2% would exceed the cap."},
            {"clause_id": "s2", "quote": "words that are not in the contract", "note": "Invented."},
        ]
    }
    llm.script({"kind": "ok", "content": json.dumps(notes)})
    plain = (await compliance.core_banking.ReviewContract(_contract("02_loan.txt"))).review
    advised = (await compliance.core_banking.ReviewContract(_contract("02_loan.txt", advice=True))).review
    advisory = [f for f in advised.findings if f.advisory]
    assert [(f.clause_id, f.finding_type) for f in advisory] == [("s7", pb.FINDING_TYPE_ADVISORY)]
    assert advisory[0].evidence == "Default interest of 18% per annum"
    # Deterministic findings and the decision are the same with and without advice.
    assert [f.check_id for f in advised.findings if not f.advisory] == [f.check_id for f in plain.findings]
    assert advised.max_severity == plain.max_severity
    # Two notes dropped (an unsupported 2%, a quote not in the contract): the outcome says so.
    assert advised.provenance.validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED
    assert advised.provenance.prompt_template_id == "compliance_contract_advice"


async def _items(requests: list[pb.ReviewContractsRequest]) -> AsyncIterator[pb.ReviewContractsRequest]:
    for item in requests:
        yield item
        await asyncio.sleep(0)


async def test_bulk_stream_reports_item_errors_and_progress_and_goes_on(compliance: ComplianceStack) -> None:
    names = sorted(n for n in LABELS if not n.endswith((".pdf", ".docx")))[:20]
    batch = [pb.ReviewContractsRequest(item_id=f"item-{i}", contract=_contract(n)) for i, n in enumerate(names)]
    bad_format = pb.ReviewContractsRequest(item_id="bad-pdf", contract=_contract("02_loan.txt"))
    bad_format.contract.document.format = pb.DOCUMENT_FORMAT_PDF
    no_id = pb.ReviewContractsRequest(item_id="no-contract-id", contract=_contract("01_loan.md"))
    no_id.contract.contract_id = ""
    batch[5:5] = [bad_format]
    batch[12:12] = [no_id]
    responses = [r async for r in compliance.core_banking.ReviewContracts(_items(batch))]
    assert len(responses) == len(batch)
    by_item = {r.item_id: r for r in responses}
    assert set(by_item) == {b.item_id for b in batch}
    for name in ("bad-pdf", "no-contract-id"):
        error = by_item[name].error
        assert error.code == code_pb2.INVALID_ARGUMENT
        bad = error_details_pb2.BadRequest()
        assert any(d.Unpack(bad) for d in error.details if d.Is(error_details_pb2.BadRequest.DESCRIPTOR))
        assert any(v.field.startswith("contract.") for v in bad.field_violations), bad
    good = [r for r in responses if r.WhichOneof("result") == "review"]
    assert len(good) == len(names)
    for index, name in enumerate(names):
        expected = set(LABELS[name]["expected"])
        found = {f.check_id for f in by_item[f"item-{index}"].review.findings}
        if not LABELS[name]["reworded"]:
            assert found == expected, name
    # Progress counts every item exactly once, in order of the responses.
    assert [(r.progress.completed, r.progress.failed) for r in responses][-1] == (len(names), 2)
    totals = [r.progress.completed + r.progress.failed for r in responses]
    assert totals == list(range(1, len(batch) + 1))


async def test_list_paginates_with_signed_tokens_and_filters(compliance: ComplianceStack) -> None:
    stream = [
        pb.ReviewContractsRequest(item_id=f"p{i}", contract=_contract(n))
        for i, n in enumerate(["01_loan.md", "02_loan.txt", "04_loan.txt", "06_loan.txt"] * 2)
    ]
    async for _ in compliance.core_banking.ReviewContracts(_items(stream)):
        pass
    seen: list[str] = []
    token = ""
    while True:
        page = await compliance.officer.ListContractReviews(
            pb.ListContractReviewsRequest(page_size=3, page_token=token)
        )
        assert len(page.reviews) <= 3
        seen.extend(r.review_id for r in page.reviews)
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) >= len(stream)
    high = await compliance.officer.ListContractReviews(
        pb.ListContractReviewsRequest(page_size=500, min_severity=common_pb2.SEVERITY_HIGH)
    )
    assert high.reviews and all(r.max_severity >= common_pb2.SEVERITY_HIGH for r in high.reviews)
    first = await compliance.officer.ListContractReviews(pb.ListContractReviewsRequest(page_size=1))
    # A token is bound to its filter: reused with another filter it is refused, naming page_token.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await compliance.officer.ListContractReviews(
            pb.ListContractReviewsRequest(
                page_size=1, page_token=first.next_page_token, min_severity=common_pb2.SEVERITY_HIGH
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(info.value) == ["page_token"]


async def test_reads_are_for_the_compliance_officer_and_unknown_ids_are_not_found(compliance: ComplianceStack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await compliance.core_banking.ListContractReviews(pb.ListContractReviewsRequest())
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await compliance.officer.GetContractReview(pb.GetContractReviewRequest(review_id="no-such-review"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_list_playbooks_pages_through_every_playbook(compliance: ComplianceStack) -> None:
    ids: list[str] = []
    token = ""
    while True:
        page = await compliance.officer.ListPlaybooks(pb.ListPlaybooksRequest(page_size=2, page_token=token))
        ids.extend(p.playbook_id for p in page.playbooks)
        assert all(p.checks and p.version for p in page.playbooks)
        token = page.next_page_token
        if not token:
            break
    assert len(ids) == len(set(ids)) >= 4
    assert ids == sorted(ids)


async def test_review_in_a_worker_process_decides_the_same(compliance: ComplianceStack) -> None:
    from server.compliance.engine import ComplianceEngine
    from server.compliance.service import ComplianceServicer
    from server.compliance.settings import ComplianceSettings
    from server.runtime.identity import Caller

    # Semantic matching on (the static encoder): the worker loads its own table and must decide the same.
    settings = ComplianceSettings(review_processes=1)
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
    )
    caller = Caller(
        peer="spiffe://test/compliance-officer",
        peer_role="compliance-officer",
        role="compliance-officer",
        principal="spiffe://test/compliance-officer",
    )
    try:
        for name in ("02_loan.txt", "05_loan.pdf", "15_guarantee.md"):
            request = _contract(name)
            in_worker = await servicer._prepare(request, caller, None)
            in_engine = servicer._engine.review_contract(
                request.contract_id,
                request.document.content,
                {".txt": DocumentFormat.PLAIN_TEXT, ".md": DocumentFormat.MARKDOWN, ".pdf": DocumentFormat.PDF}[
                    Path(name).suffix
                ],
                None,
                "",
            )
            assert in_worker.result == in_engine
        batch = [_contract(name) for name in ("02_loan.txt", "05_loan.pdf", "15_guarantee.md")]
        in_batch = await servicer._prepare_many(batch, caller, "contract.")
        assert [p.result.findings for p in in_batch if not isinstance(p, Exception)] == [
            (await servicer._prepare(r, caller, None)).result.findings for r in batch
        ]
    finally:
        assert servicer.review_pool is not None
        servicer.review_pool.shutdown()
        servicer.executor.shutdown()


async def test_a_paraphrased_clause_is_not_reported_missing_over_the_stream(compliance: ComplianceStack) -> None:
    # 01_loan.md is complete; its governing-law sentence reworded outside the lexicon, and the clause removed.
    original = (CORPUS / "contracts" / "01_loan.md").read_text()
    law = "This agreement is governed by the laws of Ireland."
    assert law in original
    texts = {
        "reworded": original.replace(law, "Portuguese law applies to this agreement."),
        "removed": original.replace(law, ""),
    }
    items = [
        pb.ReviewContractsRequest(
            item_id=name,
            contract=pb.ReviewContractRequest(
                request_id=str(uuid.uuid4()),
                contract_id=f"c-{uuid.uuid4().hex[:12]}",
                document=pb.DocumentContent(
                    filename=f"{name}.md", format=pb.DOCUMENT_FORMAT_MARKDOWN, content=text.encode()
                ),
            ),
        )
        for name, text in texts.items()
    ]
    found, audit_ids = {}, {}
    async for response in compliance.core_banking.ReviewContracts(_items(items)):
        found[response.item_id] = {f.check_id for f in response.review.findings}
        audit_ids[response.item_id] = response.review.provenance.audit_record_id
    assert "loan.governing_law" not in found["reworded"]
    assert "loan.governing_law" in found["removed"]
    # The audit record names the clause relied on and the encoder that decided, with its weights' content hash.
    async with compliance.ctx.require("database").read() as conn:
        record = await compliance.ctx.require("audit").get(conn, audit_ids["reworded"], open_payload=True)
    assert record.opened is not None
    details = record.opened["details"]
    assert [m["check_id"] for m in details["semantic_matches"]] == ["loan.governing_law"]
    assert re.fullmatch(
        r"static-token-mean/all-MiniLM-L6-v2@sha256:[0-9a-f]{64} semantic\.toml@\S+", details["semantic_provenance"]
    )


async def test_stream_items_replay_or_refuse_reused_request_ids(compliance: ComplianceStack) -> None:
    first = _contract("02_loan.txt")
    stored = [
        r
        async for r in compliance.core_banking.ReviewContracts(
            _items(
                [
                    pb.ReviewContractsRequest(item_id="a", contract=first),
                    pb.ReviewContractsRequest(item_id="a-again-same-batch", contract=first),
                ]
            )
        )
    ]
    reviews_by_item = {r.item_id: r.review for r in stored}
    assert reviews_by_item["a"].review_id and reviews_by_item["a"] == reviews_by_item["a-again-same-batch"]
    changed = pb.ReviewContractRequest()
    changed.CopyFrom(first)
    changed.contract_id = f"c-{uuid.uuid4().hex[:12]}"
    again = [
        r
        async for r in compliance.core_banking.ReviewContracts(
            _items(
                [
                    pb.ReviewContractsRequest(item_id="retry", contract=first),
                    pb.ReviewContractsRequest(item_id="reused", contract=changed),
                ]
            )
        )
    ]
    by_item = {r.item_id: r for r in again}
    assert by_item["retry"].review == reviews_by_item["a"]
    assert by_item["reused"].error.code == code_pb2.ALREADY_EXISTS
    # The unary form shares the ids: the same review again, and still one stored row.
    unary = await compliance.officer.ReviewContract(first)
    assert unary.review == reviews_by_item["a"]
    async with compliance.ctx.require("database").read() as conn:
        count = (
            await conn.execute(sa.select(sa.func.count()).where(reviews.c.contract_id == first.contract_id))
        ).scalar_one()
    assert count == 1
