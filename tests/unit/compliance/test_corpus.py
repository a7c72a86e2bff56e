"""The sample corpus is what the issue asks for, and the generator reproduces it."""

from __future__ import annotations

import random
from typing import Any

from server.compliance.corpus.generate import KINDS, build_contract, number_words, render_docx, render_pdf, render_text

from .conftest import CORPUS


def test_corpus_shape(contract_labels: dict[str, Any], regulation_labels: dict[str, Any]) -> None:
    regulations = {p.name for p in (CORPUS / "regulations").iterdir()}
    assert len({name.split("_v")[0].rsplit(".", 1)[0] for name in regulations}) >= 6
    assert {"consumer_credit_disclosure_v2.md", "customer_due_diligence_v2.txt"} <= regulations
    assert len(contract_labels) >= 40
    assert sum(label["reworded"] for label in contract_labels.values()) * 3 >= len(contract_labels)
    suffixes = {name.rsplit(".", 1)[1] for name in contract_labels}
    assert suffixes == {"txt", "md", "pdf", "docx"}
    assert sum(1 for label in contract_labels.values() if not label["expected"]) >= 3  # clean contracts too
    assert {p.name for p in (CORPUS / "contracts").iterdir()} == set(contract_labels)
    assert len([n for n in regulation_labels if not n.startswith("_")]) >= 8


def test_generator_is_deterministic() -> None:
    serial = 0
    for kind in KINDS:
        for number in range(kind.count):
            serial += 1
            title, sections, tail, _ = build_contract(kind, number, seed=1000 + serial)
            path = CORPUS / "contracts" / f"{serial:02d}_{kind.contract_type}"
            for suffix, markdown in ((".md", True), (".txt", False)):
                if path.with_suffix(suffix).exists():
                    assert path.with_suffix(suffix).read_text() == render_text(title, sections, tail, markdown)
            if path.with_suffix(".pdf").exists():
                assert path.with_suffix(".pdf").read_bytes() == render_pdf(title, sections, tail)
            if path.with_suffix(".docx").exists():
                assert path.with_suffix(".docx").read_bytes() == render_docx(title, sections, tail)


def test_number_words_round_trip() -> None:
    from server.compliance.text import words_to_number

    rng = random.Random(7)
    for value in [0, 7, 19, 20, 101, 1_000, 12_500, 250_000, 1_000_001] + [rng.randint(1, 999_999) for _ in range(200)]:
        assert words_to_number(number_words(value)) == value
