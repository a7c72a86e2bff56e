"""The compliance officer's pages: contract reviews (a batch uploaded and reviewed over the
``ReviewContracts`` stream, the summary table, each contract's findings with the cited clause
highlighted), regulation analyses (the obligations timeline) and version comparisons side by side.

Uploads are POSTs with the session's CSRF token; after the service has stored the results the page
redirects to them (post/redirect/get): a batch to ``/compliance/batches?review=...``, an analysis to
its id, a comparison to its id. The shaping is in ``fintech_console.views.compliance``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import PurePath
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fintech.client import FintechError
from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as cpb
from starlette.datastructures import UploadFile

from fintech_console.auth.guard import require_role
from fintech_console.auth.sessions import Operator
from fintech_console.views.compliance import batch_summary, comparison_view, contract_view, obligation_timeline
from fintech_console.web import (
    NavLink,
    flash,
    page_urls,
    redirect,
    render,
    render_problem,
    services_for,
    settings_of,
)

router = APIRouter()
NAV = (
    NavLink("Contract reviews", "/compliance/reviews", ("compliance-officer",)),
    NavLink("Regulations", "/compliance/regulations", ("compliance-officer",)),
)
Officer = Annotated[Operator, Depends(require_role("compliance-officer"))]

FORMATS = {
    ".txt": cpb.DOCUMENT_FORMAT_PLAIN_TEXT,
    ".md": cpb.DOCUMENT_FORMAT_MARKDOWN,
    ".markdown": cpb.DOCUMENT_FORMAT_MARKDOWN,
    ".pdf": cpb.DOCUMENT_FORMAT_PDF,
    ".docx": cpb.DOCUMENT_FORMAT_DOCX,
}
MAX_BATCH = 200
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
SEVERITY_CHOICES = ("low", "medium", "high", "critical")


def _upload_limit(request: Request) -> str:
    """The console's limit on one form's size (its CSRF check reads the whole body), for the forms' hints."""
    size = settings_of(request).max_form_bytes
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"


def _format_of(filename: str) -> int:
    """The document format from a file name's extension (0 when unknown)."""
    return int(FORMATS.get(PurePath(filename).suffix.lower(), 0))


def _contract_id(filename: str) -> str:
    """A contract id from a file name: its stem with characters outside the contract's pattern replaced."""
    stem = PurePath(filename).stem or "contract"
    cleaned = "".join(c if c.isalnum() or c in "._:-" else "-" for c in stem)
    if not cleaned[0].isalnum():
        cleaned = "c" + cleaned
    return cleaned[:128]


async def _documents(files: list[UploadFile]) -> tuple[list[tuple[str, cpb.DocumentContent]], list[tuple[str, str]]]:
    """Read uploads into documents; files with an unknown extension or too large are refused by name."""
    documents: list[tuple[str, cpb.DocumentContent]] = []
    refused: list[tuple[str, str]] = []
    for upload in files:
        name = upload.filename or "unnamed"
        fmt = _format_of(name)
        content = await upload.read(MAX_UPLOAD_BYTES + 1)
        if not fmt:
            refused.append((name, "unknown format: use .txt, .md, .pdf or .docx"))
        elif not content:
            refused.append((name, "the file is empty"))
        elif len(content) > MAX_UPLOAD_BYTES:
            refused.append((name, "larger than 32 MiB"))
        else:
            documents.append((name, cpb.DocumentContent(filename=name[:256], format=fmt, content=content)))
    return documents, refused


# ------------------------------------------------------------------------------------- contracts
@router.get("/compliance/reviews", response_class=HTMLResponse)
async def reviews(request: Request, operator: Officer) -> Response:
    """Stored contract reviews, newest first, filtered by playbook and highest severity."""
    params = request.query_params
    playbook_id = params.get("playbook", "")[:64]
    severity_slug = params.get("min_severity", "")
    min_severity = (
        common_pb2.Severity.Value("SEVERITY_" + severity_slug.upper()) if severity_slug in SEVERITY_CHOICES else 0
    )
    services = services_for(request, operator)
    try:
        reply = await services.compliance.list_contract_reviews(
            request=cpb.ListContractReviewsRequest(
                page_size=settings_of(request).page_size,
                page_token=params.get("page_token", "")[:2048],
                playbook_id=playbook_id,
                min_severity=min_severity,
            ),
            **services.read,
        )
    except FintechError as error:
        return render_problem(request, error, title="Contract reviews")
    return render(
        request,
        "compliance/reviews.html",
        {
            "title": "Contract reviews",
            "summary": batch_summary(reply.reviews),
            "playbook": playbook_id,
            "min_severity": severity_slug if min_severity else "",
            "severity_choices": SEVERITY_CHOICES,
            "upload_limit": _upload_limit(request),
            **page_urls(request, reply.next_page_token),
        },
    )


@router.post("/compliance/reviews")
async def review_batch(request: Request, operator: Officer) -> Response:
    """Review uploaded contracts over the ``ReviewContracts`` stream, then show the batch's table."""
    form = await request.form()
    files = [f for f in form.getlist("contracts") if isinstance(f, UploadFile) and f.filename]
    if not files:
        flash(request, "Choose one or more contract files to review.")
        return redirect("/compliance/reviews")
    if len(files) > MAX_BATCH:
        flash(request, f"At most {MAX_BATCH} contracts per batch.")
        return redirect("/compliance/reviews")
    documents, refused = await _documents(files)
    advice = form.get("advice") == "on"
    items = {f"item-{k}": name for k, (name, _) in enumerate(documents)}

    async def requests() -> AsyncIterator[cpb.ReviewContractsRequest]:
        for k, (name, document) in enumerate(documents):
            yield cpb.ReviewContractsRequest(
                item_id=f"item-{k}",
                contract=cpb.ReviewContractRequest(
                    request_id=str(uuid.uuid4()),
                    contract_id=_contract_id(name),
                    document=document,
                    include_llm_advice=advice,
                ),
            )

    services = services_for(request, operator)
    review_ids: list[str] = []
    failures = [f"{name}: {why}" for name, why in refused]
    if documents:
        try:
            async for response in services.compliance.review_contracts(requests=requests(), **services.stream):
                if response.HasField("review"):
                    review_ids.append(response.review.review_id)
                else:
                    failures.append(f"{items.get(response.item_id, response.item_id)}: {response.error.message}")
        except FintechError as error:
            return render_problem(request, error, title="Contract review")
    if failures:
        flash(request, "Not reviewed: " + "; ".join(failures))
    if not review_ids:
        return redirect("/compliance/reviews")
    return redirect("/compliance/batches?" + urlencode([("review", r) for r in review_ids]))


@router.get("/compliance/batches", response_class=HTMLResponse)
async def batch(request: Request, operator: Officer) -> Response:
    """A batch's summary table: the reviews named in the URL, read back from the service."""
    review_ids = [r for r in request.query_params.getlist("review") if r][:MAX_BATCH]
    services = services_for(request, operator)
    semaphore = asyncio.Semaphore(8)

    async def one(review_id: str) -> cpb.ContractReview:
        async with semaphore:
            reply = await services.compliance.get_contract_review(
                request=cpb.GetContractReviewRequest(review_id=review_id), **services.read
            )
            return reply.review

    try:
        reviewed = await asyncio.gather(*(one(r) for r in review_ids))
    except FintechError as error:
        return render_problem(request, error, title="Contract review batch")
    return render(
        request,
        "compliance/batch.html",
        {"title": "Contract review batch", "summary": batch_summary(reviewed)},
    )


@router.get("/compliance/reviews/{review_id}", response_class=HTMLResponse)
async def review(request: Request, review_id: str, operator: Officer) -> Response:
    """One contract: its text clause by clause with every cited span highlighted, and the findings."""
    services = services_for(request, operator)
    try:
        reply = await services.compliance.get_contract_review(
            request=cpb.GetContractReviewRequest(review_id=review_id), **services.read
        )
    except FintechError as error:
        return render_problem(request, error, title="Contract review")
    view = contract_view(reply.review)
    return render(request, "compliance/review.html", {"title": f"Contract {view.contract_id}", "contract": view})


# ----------------------------------------------------------------------------------- regulations
@router.get("/compliance/regulations", response_class=HTMLResponse)
async def regulations(request: Request, operator: Officer) -> Response:
    """Stored regulation analyses and version comparisons, with the forms to add either."""
    services = services_for(request, operator)
    params = request.query_params
    try:
        analyses = await services.compliance.list_regulation_analyses(
            request=cpb.ListRegulationAnalysesRequest(
                page_size=settings_of(request).page_size, page_token=params.get("page_token", "")[:2048]
            ),
            **services.read,
        )
        comparisons = await services.compliance.list_version_comparisons(
            request=cpb.ListVersionComparisonsRequest(page_size=settings_of(request).page_size), **services.read
        )
    except FintechError as error:
        return render_problem(request, error, title="Regulations")
    return render(
        request,
        "compliance/regulations.html",
        {
            "title": "Regulations",
            "analyses": analyses.analyses,
            "comparisons": comparisons.comparisons,
            "upload_limit": _upload_limit(request),
            **page_urls(request, analyses.next_page_token),
        },
    )


@router.post("/compliance/regulations/analyze")
async def analyze(request: Request, operator: Officer) -> Response:
    """Analyse an uploaded regulation (``AnalyzeRegulation``), then show its obligations timeline."""
    form = await request.form()
    upload = form.get("document")
    if not isinstance(upload, UploadFile) or not upload.filename:
        flash(request, "Choose the regulation's file.")
        return redirect("/compliance/regulations")
    documents, refused = await _documents([upload])
    if refused:
        flash(request, "Not analysed: " + "; ".join(f"{n}: {why}" for n, why in refused))
        return redirect("/compliance/regulations")
    name, document = documents[0]
    regulation_id = str(form.get("regulation_id") or "").strip() or _contract_id(name)
    services = services_for(request, operator)
    try:
        reply = await services.compliance.analyze_regulation(
            request=cpb.AnalyzeRegulationRequest(
                request_id=str(uuid.uuid4()), regulation_id=regulation_id, document=document
            ),
            **services.write,
        )
    except FintechError as error:
        return render_problem(request, error, title="Regulation analysis")
    return redirect(f"/compliance/regulations/{reply.analysis.analysis_id}")


@router.get("/compliance/regulations/{analysis_id}", response_class=HTMLResponse)
async def regulation(request: Request, analysis_id: str, operator: Officer) -> Response:
    """A regulation's obligations timeline (``GetRegulationAnalysis``)."""
    services = services_for(request, operator)
    try:
        reply = await services.compliance.get_regulation_analysis(
            request=cpb.GetRegulationAnalysisRequest(analysis_id=analysis_id), **services.read
        )
    except FintechError as error:
        return render_problem(request, error, title="Regulation analysis")
    timeline = obligation_timeline(reply.analysis)
    return render(
        request,
        "compliance/timeline.html",
        {"title": f"Obligations of {timeline.title or timeline.regulation_id}", "timeline": timeline},
    )


@router.post("/compliance/comparisons")
async def compare(request: Request, operator: Officer) -> Response:
    """Compare two versions of a regulation (``CompareRegulationVersions``), then show them side by side."""
    form = await request.form()
    uploads = [form.get("old_version"), form.get("new_version")]
    files = [u for u in uploads if isinstance(u, UploadFile) and u.filename]
    if len(files) != 2:
        flash(request, "Choose both the old and the new version.")
        return redirect("/compliance/regulations")
    documents, refused = await _documents(files)
    if refused:
        flash(request, "Not compared: " + "; ".join(f"{n}: {why}" for n, why in refused))
        return redirect("/compliance/regulations")
    regulation_id = str(form.get("regulation_id") or "").strip()
    services = services_for(request, operator)
    try:
        reply = await services.compliance.compare_regulation_versions(
            request=cpb.CompareRegulationVersionsRequest(
                request_id=str(uuid.uuid4()),
                old_version=documents[0][1],
                new_version=documents[1][1],
                regulation_id=regulation_id,
            ),
            **services.write,
        )
    except FintechError as error:
        return render_problem(request, error, title="Version comparison")
    return redirect(f"/compliance/comparisons/{reply.comparison_id}")


@router.get("/compliance/comparisons/{comparison_id}", response_class=HTMLResponse)
async def comparison(request: Request, comparison_id: str, operator: Officer) -> Response:
    """A version comparison side by side (``GetVersionComparison``)."""
    services = services_for(request, operator)
    try:
        reply = await services.compliance.get_version_comparison(
            request=cpb.GetVersionComparisonRequest(comparison_id=comparison_id), **services.read
        )
    except FintechError as error:
        return render_problem(request, error, title="Version comparison")
    view = comparison_view(reply.comparison)
    return render(
        request,
        "compliance/comparison.html",
        {"title": f"{view.old_name} → {view.new_name}", "comparison": view},
    )
