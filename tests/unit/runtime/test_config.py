"""Configuration: TOML plus FINTECH_* variables, unknown keys rejected, paths relative to the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.runtime.config import load_settings


def test_file_values_and_relative_paths(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "server.toml"
    config.parent.mkdir()
    config.write_text('data_dir = "state"\n[server]\nport = 6000\n[tls]\nca_file = "certs/ca.pem"\n')
    settings = load_settings(config)
    assert settings.server.port == 6000
    assert settings.tls.ca_file == (config.parent / "certs" / "ca.pem").resolve()
    assert settings.data_dir == (config.parent / "state").resolve()


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "server.toml"
    config.write_text("[server]\nport = 6000\n")
    monkeypatch.setenv("FINTECH_SERVER__PORT", "6001")
    assert load_settings(config).server.port == 6001


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text("[server]\nprot = 6000\n")
    with pytest.raises(ValueError, match="prot"):
        load_settings(config)


def test_unknown_section_in_file_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text("[serverr]\nport = 6000\n")
    with pytest.raises(ValueError, match="serverr"):
        load_settings(config)


def test_unknown_environment_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINTECH_SERVRE__PORT", "1")
    with pytest.raises(ValueError, match="FINTECH_SERVRE__PORT"):
        load_settings(None)


def test_variables_of_the_console_and_the_scripts_are_not_the_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINTECH_CONSOLE_OIDC__ISSUER", "https://idp.bank.example")
    monkeypatch.setenv("FINTECH_SHARED_DATA", "/data")
    load_settings(None)  # neither is a server setting, and neither is a typo of one
    monkeypatch.setenv("FINTECH_CONSOLEE__PORT", "1")
    with pytest.raises(ValueError, match="FINTECH_CONSOLEE__PORT"):
        load_settings(None)


def test_unknown_service_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[server]\nservices = ["customer", "payments"]\n')
    with pytest.raises(ValueError, match="payments"):
        load_settings(config)


def test_settings_are_frozen() -> None:
    settings = load_settings(None)
    with pytest.raises(ValueError):
        settings.server.port = 1  # type: ignore[misc]
