"""Parsers: structure and stable clause ids for text, Markdown, PDF and DOCX; clear errors on bad input."""

from __future__ import annotations

import io

import pytest

from server.compliance.corpus.generate import regulation_to_docx, regulation_to_pdf
from server.compliance.domain import ClauseLevel, DocumentFormat
from server.compliance.parsing import parse_document, parse_lines, subtree_text
from server.runtime.errors import InvalidArgument

from .conftest import CORPUS

MARKDOWN = """# Sample Rule

Preamble text.

## Chapter II - Duties

### Article 5 - Disclosure

1. The lender shall:
(a) disclose the annual percentage rate;
(b) disclose the total cost
of credit.
2. The lender may consult a register.

### Article 6

Unnumbered article text.
"""


def test_markdown_structure_and_ids() -> None:
    document = parse_document(MARKDOWN.encode(), DocumentFormat.MARKDOWN)
    assert document.title == "Sample Rule"
    ids = [c.clause_id for c in document.clauses]
    assert ids == [
        "preamble",
        "ch2",
        "ch2.art5",
        "ch2.art5.p1",
        "ch2.art5.p1.a",
        "ch2.art5.p1.b",
        "ch2.art5.p2",
        "ch2.art6",
    ]
    item = document.clause("ch2.art5.p1.b")
    assert item.level is ClauseLevel.ITEM and item.parent_clause_id == "ch2.art5.p1"
    assert item.text == "disclose the total cost of credit."  # wrapped line joined back
    assert document.clause("ch2.art6").text == "Unnumbered article text."
    assert document.clause("ch2.art5").heading == "Disclosure"


def test_offsets_point_into_the_document_text() -> None:
    document = parse_document(MARKDOWN.encode(), DocumentFormat.MARKDOWN)
    for clause in document.clauses:
        assert document.text[clause.start : clause.start + len(clause.text)] == clause.text
    assert "(b)" not in subtree_text(document, "ch2.art5") and "total cost" in subtree_text(document, "ch2.art5")


def test_ids_are_stable_when_unrelated_text_changes() -> None:
    edited = MARKDOWN.replace("Preamble text.", "A much longer preamble.\n\nWith two paragraphs.")
    before = {c.clause_id: c.text for c in parse_document(MARKDOWN.encode(), DocumentFormat.MARKDOWN).clauses}
    after = {c.clause_id: c.text for c in parse_document(edited.encode(), DocumentFormat.MARKDOWN).clauses}
    assert {k: v for k, v in before.items() if k != "preamble"} == {
        k: v for k, v in after.items() if not k.startswith("preamble")
    }


def test_plain_text_headings_without_blank_lines() -> None:
    lines = [
        "RULE",
        "",
        "CHAPTER I - SCOPE",
        "",
        "Article 1 - When this applies",
        "This Rule applies to banks.",
        "Article 2 of this Rule is not a heading when it starts a wrapped line.",
        "",
        "PART 2 - MORE",
        "Article 3. Records",
        "1. Firms shall keep records.",
    ]
    document = parse_lines(lines)
    assert [c.clause_id for c in document.clauses] == ["ch1", "ch1.art1", "ch2", "ch2.art3", "ch2.art3.p1"]
    assert document.clause("ch1.art1").text.endswith("when it starts a wrapped line.")


def test_pdf_and_docx_copies_parse_to_the_same_clauses() -> None:
    text = (CORPUS / "regulations" / "outsourcing_rule.txt").read_text()
    markdown = (CORPUS / "regulations" / "wealth_management_sales.md").read_text()
    from_text = parse_document(text.encode(), DocumentFormat.PLAIN_TEXT)
    from_pdf = parse_document(regulation_to_pdf(text), DocumentFormat.PDF)
    assert [c.clause_id for c in from_pdf.clauses if c.level is not ClauseLevel.SECTION] == [
        c.clause_id for c in from_text.clauses if c.level is not ClauseLevel.SECTION
    ]
    assert " ".join(from_pdf.clause("ch2.art5.p3").text.split()) == from_text.clause("ch2.art5.p3").text
    from_md = parse_document(markdown.encode(), DocumentFormat.MARKDOWN)
    from_docx = parse_document(regulation_to_docx(markdown), DocumentFormat.DOCX)
    assert [(c.clause_id, c.text) for c in from_docx.clauses] == [(c.clause_id, c.text) for c in from_md.clauses]


@pytest.mark.parametrize(
    ("content", "fmt", "fragment"),
    [
        (b"\xff\xfe\xfa", DocumentFormat.PLAIN_TEXT, "UTF-8"),
        (b"%PDF-1.7 not really", DocumentFormat.PDF, "PDF"),
        (b"PK\x03\x04 broken", DocumentFormat.DOCX, "DOCX"),
        (b"   \n\n  ", DocumentFormat.MARKDOWN, "no text"),
    ],
)
def test_bad_documents_name_the_field(content: bytes, fmt: DocumentFormat, fragment: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_document(content, fmt)
    assert caught.value.violations[0].field == "document.content"
    assert fragment in caught.value.message


def test_docx_list_and_headings() -> None:
    from docx import Document

    document = Document()
    document.add_heading("Loan Agreement", level=0)
    document.add_heading("1. Interest", level=1)
    document.add_paragraph("The rate is fixed.")
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = parse_document(buffer.getvalue(), DocumentFormat.DOCX)
    assert parsed.title == "Loan Agreement"
    assert [(c.clause_id, c.heading, c.text) for c in parsed.clauses] == [("s1", "Interest", "The rate is fixed.")]
