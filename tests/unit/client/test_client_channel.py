"""The mTLS channel helper: clear errors for bad inputs, the options it sets, and no plaintext path."""

from __future__ import annotations

from pathlib import Path

import fintech.client
import grpc
import pytest
from fintech.client import secure_channel, secure_channel_sync
from fintech.client._channel import channel_options


def _pem(tmp_path: Path) -> dict[str, Path]:
    files = {}
    for name in ("ca_file", "cert_file", "key_file"):
        path = tmp_path / f"{name}.pem"
        path.write_text("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n")
        files[name] = path
    return files


def test_there_is_no_plaintext_channel() -> None:
    exported = [name.lower() for name in fintech.client.__all__]
    assert not [name for name in exported if "insecure" in name or "plaintext" in name]
    assert [name for name in exported if "channel" in name] == ["secure_channel", "secure_channel_sync"]


@pytest.mark.parametrize("missing", ["ca_file", "cert_file", "key_file"])
@pytest.mark.parametrize("opener", [secure_channel, secure_channel_sync])
def test_a_missing_file_is_named(tmp_path: Path, missing: str, opener: object) -> None:
    files = _pem(tmp_path)
    files[missing] = tmp_path / "nope.pem"
    with pytest.raises(FileNotFoundError, match=f"^{missing}: no such file"):
        opener("localhost:1", **files)  # type: ignore[operator]


def test_a_file_that_is_not_pem_is_named(tmp_path: Path) -> None:
    files = _pem(tmp_path)
    files["key_file"].write_bytes(b"\x00\x01binary")
    with pytest.raises(ValueError, match=r"^key_file: .* is not a PEM file"):
        secure_channel_sync("localhost:1", **files)


@pytest.mark.parametrize("target", ["", "  ", "https://bank:443", "http://bank:80"])
def test_a_bad_target_is_refused(tmp_path: Path, target: str) -> None:
    with pytest.raises(ValueError, match="target"):
        secure_channel_sync(target, **_pem(tmp_path))


def test_channel_options_set_keepalive_limits_and_no_grpc_retries() -> None:
    options = dict(channel_options(server_name_override="fintech-aml", max_message_bytes=1024))
    assert options["grpc.keepalive_time_ms"] == 60_000
    assert options["grpc.keepalive_timeout_ms"] == 20_000
    assert options["grpc.keepalive_permit_without_calls"] == 0
    assert options["grpc.max_send_message_length"] == options["grpc.max_receive_message_length"] == 1024
    assert options["grpc.enable_retries"] == 0
    assert options["grpc.ssl_target_name_override"] == "fintech-aml"
    assert "grpc.ssl_target_name_override" not in dict(channel_options())
    # Caller options win over the defaults.
    assert dict(channel_options(options=[("grpc.keepalive_time_ms", 5)]))["grpc.keepalive_time_ms"] == 5
    for bad in ({"max_message_bytes": 0}, {"keepalive_time_s": 0}, {"server_name_override": ""}):
        with pytest.raises(ValueError):
            channel_options(**bad)  # type: ignore[arg-type]


def test_clients_refuse_the_wrong_channel_flavour(tmp_path: Path) -> None:
    # Never used for a call: only the flavour check is under test.
    sync_channel = grpc.secure_channel("localhost:1", grpc.ssl_channel_credentials())
    try:
        with pytest.raises(TypeError, match=r"grpc\.aio\.Channel"):
            fintech.client.AMLServiceClient(sync_channel)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"blocking grpc\.Channel"):
            fintech.client.AMLServiceSyncClient(object())  # type: ignore[arg-type]
    finally:
        sync_channel.close()
