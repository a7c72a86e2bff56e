"""The versioned policy file: it loads, and bad files are refused with the reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from server.risk.policy import DEFAULT_POLICY_FILE, load_policy


def test_the_committed_policy_loads_with_exact_values() -> None:
    policy = load_policy()
    assert policy.version
    assert policy.age.legal_minimum == 18
    assert policy.affordability.dti_after_cap == Decimal("0.45")
    assert isinstance(policy.currencies["EUR"].training_dm_per_unit, Decimal)


def _write(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_POLICY_FILE.read_text()
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("legal_minimum = 18", "legal_minimum = 18\nupper_limit = 75", "upper_limit"),
        ('approve_below = "0.25"', 'approve_below = "0.60"', "approve_below must be below decline_from"),
        ('low_below = "0.15"', 'low_below = "0.50"', "low_below must be below medium_below"),
        ("[currencies.EUR]", "[currencies.euro]", "ISO 4217"),
    ],
)
def test_bad_policies_are_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_policy(_write(tmp_path, old, new))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read risk policy"):
        load_policy(tmp_path / "absent.toml")


def test_settings_point_at_the_committed_files() -> None:
    from pydantic import ValidationError

    from server.risk.policy import DEFAULT_POLICY_FILE as policy_file
    from server.risk.scorecard import DEFAULT_ARTEFACT
    from server.risk.settings import RiskSettings

    settings = RiskSettings()
    assert settings.scorecard_file == DEFAULT_ARTEFACT
    assert settings.policy_file == policy_file
    with pytest.raises(ValidationError):
        RiskSettings(drift_windw=5)  # type: ignore[call-arg]
