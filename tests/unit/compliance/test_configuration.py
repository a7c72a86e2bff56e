"""Playbooks, lexicon, taxonomy and settings: loaded strictly, errors name file and entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from server.compliance.domain import ContractType
from server.compliance.impact import load_taxonomy
from server.compliance.matching import Lexicon
from server.compliance.playbooks import DEFAULT_PLAYBOOK_DIR, PlaybookRegistry, load_playbook
from server.compliance.settings import ComplianceSettings

LEXICON = """version = "1"
[concepts.law]
phrases = ["governing law"]
"""


def test_shipped_playbooks_cover_every_contract_type(registry: PlaybookRegistry) -> None:
    for contract_type in ContractType:
        playbook = registry.for_type(contract_type)
        assert playbook is not None and playbook.version
    loan = registry.get("consumer_loan")
    assert loan is not None
    kinds = {c.kind for c in loan.checks}
    assert kinds == {"required", "prohibited", "limit", "consistency"}
    required = {c.check_id for c in loan.checks if c.kind == "required"}
    assert {
        "loan.apr_disclosure",
        "loan.total_cost_disclosure",
        "loan.early_repayment",
        "loan.governing_law",
        "loan.dispute_resolution",
        "loan.data_protection",
        "loan.cooling_off",
    } <= required


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text('playbook_id = "p"\nversion = "1"\ntitle = "t"\ncontract_types = ["loan"]\n' + body)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[checks]]\nid="a"\nkind="required"\nseverity="high"\ndescription="d"\nsuggested_fix="f"\n'
            'any_of=[["nonexistent"]]\n',
            "unknown concept 'nonexistent'",
        ),
        (
            '[[checks]]\nid="a"\nkind="required"\nseverity="urgent"\ndescription="d"\nsuggested_fix="f"\n'
            'any_of=[["law"]]\n',
            "severity must be",
        ),
        (
            '[[checks]]\nid="a"\nkind="required"\nseverity="high"\ndescription="d"\nsuggested_fix="f"\n'
            'any_of=[["law"]]\ntypo=1\n',
            "unknown keys ['typo']",
        ),
        (
            '[[checks]]\nid="a"\nkind="limit"\nseverity="high"\ndescription="d"\nsuggested_fix="f"\nany_of=[["law"]]\n',
            "needs max_value or max_margin",
        ),
        (
            '[[checks]]\nid="a"\nkind="consistency"\nrule="vibes"\nseverity="high"\ndescription="d"\n'
            'suggested_fix="f"\n',
            "rule must be one of",
        ),
    ],
)
def test_bad_playbooks_are_refused(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "lexicon.toml").write_text(LEXICON)
    lexicon = Lexicon.load(tmp_path / "lexicon.toml")
    with pytest.raises(ValueError, match=r"p\.toml: checks\[0\]") as caught:
        load_playbook(_write(tmp_path, body), lexicon)
    assert message in str(caught.value)


def test_bad_lexicon_and_taxonomy(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text('version = "1"\n[concepts.x]\npatterns = ["("]\n')
    with pytest.raises(ValueError, match="concept 'x' has a bad pattern"):
        Lexicon.load(path)
    taxonomy = tmp_path / "taxonomy.toml"
    taxonomy.write_text('version = "1"\n[[process]]\nbusiness_line = "b"\nkeywords = ["k"]\n')
    with pytest.raises(ValueError, match="process #0 lacks 'process'"):
        load_taxonomy(taxonomy)
    assert PlaybookRegistry.load(DEFAULT_PLAYBOOK_DIR).lexicon.version


def test_settings_reject_unknown_keys_and_bad_values() -> None:
    assert ComplianceSettings().summary_fan_in == 8
    with pytest.raises(ValidationError):
        ComplianceSettings(summary_fan_inn=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        ComplianceSettings(summary_fan_in=1)
