"""Generate the sample contracts (text, Markdown, PDF, DOCX) and their labels from the clause bank.

Run: ``python -m server.compliance.corpus.generate`` (deterministic: a fixed
seed per contract). Writes ``contracts/*``, ``labels/contracts.json`` and the
PDF/DOCX copies of two regulations. The labels are the checks each contract
must trigger, derived from the defects deliberately put in it; a contract
with no defect must produce no finding.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from server.compliance.corpus.clause_bank import (
    GUARANTEE_DEFECTS,
    GUARANTEE_SECTIONS,
    LOAN_DEFECTS,
    LOAN_SECTIONS,
    OUTSOURCING_DEFECTS,
    OUTSOURCING_SECTIONS,
    WEALTH_DEFECTS,
    WEALTH_SECTIONS,
    Defect,
    Section,
)
from server.compliance.domain import Period
from server.compliance.timeline import add_period

CORPUS = Path(__file__).resolve().parent
_ONES = [
    "",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """English words for ``n`` (below one billion)."""
    if n < 20:
        return _ONES[n] or "zero"
    if n < 100:
        return _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + (" and " + number_words(rest) if rest else "")
    for scale, name in ((1_000_000, "million"), (1000, "thousand")):
        if n >= scale:
            rest = n % scale
            return (
                number_words(n // scale)
                + f" {name}"
                + ((" " if rest >= 100 else " and ") + number_words(rest) if rest else "")
            )
    raise ValueError(n)


@dataclass(frozen=True)
class Kind:
    contract_type: str
    titles: tuple[str, ...]
    roles: tuple[str, str]
    sections: list[Section]
    defects: list[Defect]
    count: int


LENDERS = [
    "Northbridge Bank plc",
    "Harbour Savings Bank",
    "Aster Credit Union",
    "Meridian Retail Bank",
    "Calder Finance Ltd",
]
PEOPLE = [
    "Maria Keller",
    "John O'Brien",
    "Ana Duarte",
    "Piet de Vries",
    "Sofia Romano",
    "Lukas Meyer",
    "Emma Dubois",
    "Tomas Novak",
    "Ines Moreau",
    "Oliver Grant",
]
MANAGERS = ["Lakeside Wealth S.A.", "Kestrel Asset Management S.A.", "Beacon Private Bank S.A."]
PROVIDERS = ["Corvid Processing GmbH", "Helix Cloud Services GmbH", "Tessera Payments AG"]
INSTITUTIONS = ["Rhein Volksbank eG", "Northbridge Bank AG", "Isar Sparkasse"]

KINDS = [
    Kind(
        "loan",
        ("Consumer Loan Agreement", "Personal Credit Agreement"),
        ("Lender", "Borrower"),
        LOAN_SECTIONS,
        LOAN_DEFECTS,
        14,
    ),
    Kind(
        "guarantee",
        ("Personal Guarantee", "Deed of Guarantee"),
        ("Lender", "Guarantor"),
        GUARANTEE_SECTIONS,
        GUARANTEE_DEFECTS,
        9,
    ),
    Kind(
        "wealth_management",
        ("Discretionary Portfolio Management Agreement", "Investment Management Agreement"),
        ("Manager", "Client"),
        WEALTH_SECTIONS,
        WEALTH_DEFECTS,
        11,
    ),
    Kind(
        "outsourcing",
        ("Outsourcing Agreement", "Master Services Agreement for Outsourced Services"),
        ("Institution", "Provider"),
        OUTSOURCING_SECTIONS,
        OUTSOURCING_DEFECTS,
        10,
    ),
]
STYLES = ("standard", "standard", "alt_a", "alt_b")


def _values(rng: random.Random, kind: Kind) -> dict[str, str]:
    amount = rng.choice([8_500, 12_000, 15_000, 24_750, 30_000, 45_200, 120_000, 250_000])
    wrong = amount + rng.choice([1_000, 2_500, 5_000, -500])
    term = rng.choice([12, 24, 36, 48, 60])
    start = date(2026, rng.randint(1, 12), rng.randint(1, 28))
    end = add_period(start, Period(term, "month")) - timedelta(days=1)
    rate = rng.choice([4.9, 5.5, 6.25, 7.1])
    cost = round(amount * rate / 100 * term / 24)
    if kind.contract_type == "wealth_management":
        first, second = rng.choice(MANAGERS), rng.choice(PEOPLE)
    elif kind.contract_type == "outsourcing":
        first, second = rng.choice(INSTITUTIONS), rng.choice(PROVIDERS)
    else:
        first, second = rng.choice(LENDERS), rng.choice(PEOPLE)
    return {
        "amount_fig": f"{amount:,}",
        "amount_words": number_words(amount),
        "wrong_words": number_words(wrong),
        "term": str(term),
        "start": f"{start.day} {start:%B %Y}",
        "end": f"{end.day} {end:%B %Y}",
        "bad_end": (lambda d: f"{d.day} {d:%B %Y}")(end + timedelta(days=150)),
        "before_start": (lambda d: f"{d.day} {d:%B %Y}")(start - timedelta(days=365)),
        "sign": (lambda d: f"{d.day} {d:%B %Y}")(start - timedelta(days=10)),
        "rate": f"{rate:g}",
        "apr": f"{rate + 0.6:.2f}",
        "cost_fig": f"{cost:,}",
        "total_fig": f"{amount + cost:,}",
        "erf": rng.choice(["0.5", "1"]),
        "dflt": rng.choice(["7", "8.5", "9"]),
        "mfee": rng.choice(["1.2", "1.5", "1.8"]),
        "loan_no": f"{rng.randint(10000, 99999)}",
        "first": first,
        "second": second,
        "first_alias": _alias(first),
        "borrower": rng.choice(PEOPLE),
        "lender_alias": "",
    }


def _alias(name: str) -> str:
    """A near-miss of a party name (another legal form), as a careless drafter would write it."""
    for old, new in (("plc", "AG"), ("S.A.", "Ltd"), ("GmbH", "AG"), (" eG", " AG"), ("Ltd", "plc"), (" AG", " GmbH")):
        if old in name:
            return name.replace(old, new)
    return f"{name} Group"


def _preamble(kind: Kind, values: dict[str, str], style: str) -> str:
    a, b = kind.roles
    extra = ""
    if kind.contract_type == "guarantee":
        extra = f' in respect of the obligations of {values["borrower"]} (the "Borrower")'
    if style == "standard":
        return (
            f'This agreement is made on {values["sign"]} between {values["first"]} (the "{a}") and '
            f'{values["second"]} (the "{b}"){extra}.'
        )
    return (
        f'Dated {values["sign"]}. Parties: {values["first"]} (hereinafter the "{a}"); and '
        f'{values["second"]} (hereinafter the "{b}"){extra}.'
    )


def build_contract(kind: Kind, number: int, seed: int) -> tuple[str, list[tuple[str, str]], str, dict[str, object]]:
    """One contract: title, ``(heading, body)`` sections, signature block and label."""
    rng = random.Random(seed)  # noqa: S311  (reproducible sample data, not security)
    style = STYLES[number % len(STYLES)]
    values = _values(rng, kind)
    bodies = {s.key: s.body.get(style) for s in kind.sections}
    headings = {s.key: s.heading.get("standard" if style == "standard" else style) for s in kind.sections}
    expected: list[str] = []
    defects: list[str] = []
    touched: set[str] = set()
    options: list[Defect | Section] = [*kind.defects, *[s for s in kind.sections if s.check]]
    for choice in rng.sample(options, k=rng.choice([0, 1, 1, 2, 2, 3])):
        target = choice.section if isinstance(choice, Defect) else choice.key
        if target in touched:
            continue
        touched.add(target)
        if isinstance(choice, Defect):
            defects.append(choice.name)
            expected.append(choice.check)
            if choice.section == "signatures":
                values["lender_alias"] = values["first_alias"]
            else:
                bodies[choice.section] = choice.body.get(style)
        else:
            defects.append(f"missing:{choice.key}")
            expected.append(choice.check)
            del bodies[choice.key]
    sections = [(headings[s.key], bodies[s.key].format(**values)) for s in kind.sections if s.key in bodies]
    a, b = kind.roles
    signer = values["lender_alias"] or values["first"]
    signatures = f"Signed for the {a}: {signer}\nSigned for the {b}: {values['second']}"
    title = kind.titles[number % len(kind.titles)]
    label: dict[str, object] = {
        "contract_type": "investment"
        if kind.contract_type == "wealth_management" and number % 4 == 3
        else kind.contract_type,
        "style": style,
        "reworded": style != "standard",
        "held_out": style == "alt_b",
        "defects": defects,
        "expected": sorted(expected),
    }
    return title, sections, _preamble(kind, values, style) + "\n\n" + signatures, label


def render_text(title: str, sections: list[tuple[str, str]], tail: str, markdown: bool) -> str:
    preamble, signatures = tail.split("\n\n", 1)
    lines = [f"# {title}" if markdown else title.upper(), "", preamble, ""]
    for number, (heading, body) in enumerate(sections, start=1):
        lines += [f"## {number}. {heading}" if markdown else f"{number}. {heading}", body, ""]
    lines += signatures.splitlines()
    return "\n".join(lines) + "\n"


def render_pdf(title: str, sections: list[tuple[str, str]], tail: str) -> bytes:
    from fpdf import FPDF

    preamble, signatures = tail.split("\n\n", 1)
    pdf = FPDF()
    pdf.set_creation_date(__import__("datetime").datetime(2026, 11, 1, tzinfo=__import__("datetime").UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, preamble, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for number, (heading, body) in enumerate(sections, start=1):
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, f"{number}. {heading}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, body, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    for line in signatures.splitlines():
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


def _fixed_zip(payload: bytes) -> bytes:
    """The DOCX with fixed timestamps, so regenerating the corpus gives identical bytes."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(payload))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # python-docx stamps the save time into dcterms:modified.
                data = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, data)
    return buffer.getvalue()


def render_docx(title: str, sections: list[tuple[str, str]], tail: str) -> bytes:
    import io

    from docx import Document

    preamble, signatures = tail.split("\n\n", 1)
    document = Document()
    document.core_properties.created = __import__("datetime").datetime(2026, 11, 1)
    document.add_heading(title, level=0)
    document.add_paragraph(preamble)
    for number, (heading, body) in enumerate(sections, start=1):
        document.add_heading(f"{number}. {heading}", level=1)
        document.add_paragraph(body)
    for line in signatures.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def regulation_to_pdf(text: str) -> bytes:
    """A plain-text regulation as a PDF (headings bold)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(__import__("datetime").datetime(2026, 11, 1, tzinfo=__import__("datetime").UTC))
    pdf.add_page()
    for line in text.splitlines():
        bold = line.startswith(("CHAPTER", "Article", "PART")) or line == text.splitlines()[0]
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        if line.strip():
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(3)
    return bytes(pdf.output())


def regulation_to_docx(markdown: str) -> bytes:
    """A Markdown regulation as a DOCX (``#`` levels become heading styles)."""
    import io

    from docx import Document

    document = Document()
    document.core_properties.created = __import__("datetime").datetime(2026, 11, 1)
    for line in markdown.splitlines():
        if not line.strip():
            continue
        hashes = len(line) - len(line.lstrip("#"))
        if hashes:
            document.add_heading(line[hashes:].strip(), level=hashes - 1)
        else:
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def main() -> None:
    """Write every contract, the contract labels and the PDF/DOCX regulation copies."""
    out = CORPUS / "contracts"
    out.mkdir(exist_ok=True)
    for stale in out.iterdir():
        stale.unlink()
    labels: dict[str, dict[str, object]] = {}
    serial = 0
    for kind in KINDS:
        for number in range(kind.count):
            serial += 1
            title, sections, tail, label = build_contract(kind, number, seed=1000 + serial)
            stem = f"{serial:02d}_{kind.contract_type}"
            if serial % 11 == 5:
                name, payload = f"{stem}.pdf", render_pdf(title, sections, tail)
            elif serial % 11 == 8:
                name, payload = f"{stem}.docx", render_docx(title, sections, tail)
            elif serial % 2:
                name, payload = f"{stem}.md", render_text(title, sections, tail, True).encode()
            else:
                name, payload = f"{stem}.txt", render_text(title, sections, tail, False).encode()
            (out / name).write_bytes(payload)
            labels[name] = label
    (CORPUS / "labels" / "contracts.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n")
    regulations = CORPUS / "regulations"
    (regulations / "outsourcing_rule.pdf").write_bytes(
        regulation_to_pdf((regulations / "outsourcing_rule.txt").read_text())
    )
    (regulations / "wealth_management_sales.docx").write_bytes(
        regulation_to_docx((regulations / "wealth_management_sales.md").read_text())
    )


if __name__ == "__main__":
    main()
