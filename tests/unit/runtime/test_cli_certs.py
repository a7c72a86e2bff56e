"""`fintech certs init`: a certificate per role with its SPIFFE id; keys private, never overwritten silently."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from typer.testing import CliRunner

from server.cli import app
from server.runtime.pki import CLIENT_ROLES, DevPki, load_cert


def test_certs_init_writes_a_pki_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "certs"
    first = runner.invoke(app, ["certs", "init", "--out", str(out)])
    assert first.exit_code == 0, first.output
    pki = DevPki(out)
    for role in CLIENT_ROLES:
        cert = load_cert(pki.client(role).cert)
        uris = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.UniformResourceIdentifier
        )
        assert uris == [f"spiffe://fintech.local/{role}"]
        assert stat.S_IMODE(pki.client(role).key.stat().st_mode) == 0o600
    server = load_cert(pki.server.cert)
    dns = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert "localhost" in dns and "fintech-customer.fintech.svc.cluster.local" in dns
    before = pki.ca_key.read_bytes()
    second = runner.invoke(app, ["certs", "init", "--out", str(out)])
    assert second.exit_code == 1
    assert "--force" in second.output
    assert pki.ca_key.read_bytes() == before
    forced = runner.invoke(app, ["certs", "init", "--out", str(out), "--force"])
    assert forced.exit_code == 0
    assert pki.ca_key.read_bytes() != before
