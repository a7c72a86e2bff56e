"""Small pure helpers of the investigation pages: upload names to contract ids and formats."""

from __future__ import annotations

from fintech.compliance.v1 import compliance_service_pb2 as cpb
from fintech_console.pages.aml import NAV as AML_NAV
from fintech_console.pages.compliance import NAV as COMPLIANCE_NAV
from fintech_console.pages.compliance import _contract_id, _format_of


def test_contract_ids_fit_the_contract_pattern() -> None:
    assert _contract_id("02_loan.txt") == "02_loan"
    assert _contract_id("Loan agreement (final).docx") == "Loan-agreement--final-"
    assert _contract_id("_hidden.md") == "c_hidden"
    assert len(_contract_id("x" * 300 + ".pdf")) == 128


def test_formats_by_extension_and_unknown_refused() -> None:
    assert _format_of("a.MD") == cpb.DOCUMENT_FORMAT_MARKDOWN
    assert _format_of("a.pdf") == cpb.DOCUMENT_FORMAT_PDF
    assert _format_of("a.docx") == cpb.DOCUMENT_FORMAT_DOCX
    assert _format_of("a.txt") == cpb.DOCUMENT_FORMAT_PLAIN_TEXT
    assert _format_of("a.exe") == 0 and _format_of("noext") == 0


def test_navigation_is_offered_only_to_the_owning_role() -> None:
    assert {role for link in AML_NAV for role in link.roles} == {"investigator"}
    assert {role for link in COMPLIANCE_NAV for role in link.roles} == {"compliance-officer"}
