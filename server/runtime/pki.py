"""A development PKI made with ``cryptography``: one CA, server and client certificates.

Every identity is a SPIFFE-style URI SAN (``spiffe://fintech.local/<role>``).
Production uses the bank's own PKI (or cert-manager); this exists so that
`make run` and the tests use real mTLS from the first day. Private keys are
written with mode 0600 and never overwritten without ``force``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUST_DOMAIN = "fintech.local"
CLIENT_ROLES: tuple[str, ...] = (
    "core-banking",
    "mobile-backend",
    "agent",
    "loan-officer",
    "investigator",
    "compliance-officer",
    "auditor",
    "sre",
    "envoy",
    "console",
)
SERVICE_NAMES: tuple[str, ...] = ("customer", "risk", "aml", "compliance", "operations", "audit", "envoy")
# DNS names of the server certificate: loopback plus the chart's Kubernetes service names.
DEFAULT_SERVER_DNS: tuple[str, ...] = (
    "localhost",
    "envoy",
    *(f"fintech-{name}" for name in SERVICE_NAMES),
    *(f"fintech-{name}.fintech.svc" for name in SERVICE_NAMES),
    *(f"fintech-{name}.fintech.svc.cluster.local" for name in SERVICE_NAMES),
    "*.fintech.svc.cluster.local",
)


class PkiExistsError(FileExistsError):
    """A key would be overwritten without ``force``."""


@dataclass(frozen=True)
class Issued:
    """A certificate and key on disk."""

    cert: Path
    key: Path


def spiffe_id(role: str, trust_domain: str = TRUST_DOMAIN) -> str:
    """The URI SAN of ``role``."""
    return f"spiffe://{trust_domain}/{role}"


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def load_cert(path: Path) -> x509.Certificate:
    """Read a PEM certificate."""
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read a PEM private key."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path} is not an EC private key")
    return key


def make_ca(
    common_name: str = "Fintech Dev CA", *, days: int = 3650
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA certificate and key."""
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    common_name: str,
    uris: Sequence[str] = (),
    dns_names: Sequence[str] = (),
    ips: Sequence[str] = (),
    server: bool = False,
    client: bool = False,
    days: int = 825,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Issue a leaf certificate signed by the CA."""
    key = _new_key()
    now = datetime.now(UTC)
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
    sans += [x509.DNSName(d) for d in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_crl(
    ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, revoked_serials: Iterable[int]
) -> x509.CertificateRevocationList:
    """A CRL revoking ``revoked_serials``."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(days=7))
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - timedelta(minutes=1)).build()
        )
    return builder.sign(ca_key, hashes.SHA256())


@dataclass(frozen=True)
class DevPki:
    """Paths of a development PKI laid out by :func:`init_dev_pki`."""

    root: Path

    @property
    def ca(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca-key.pem"

    @property
    def server(self) -> Issued:
        return Issued(self.root / "server.pem", self.root / "server-key.pem")

    def client(self, role: str) -> Issued:
        """The client certificate of ``role``."""
        return Issued(self.root / "clients" / f"{role}.pem", self.root / "clients" / f"{role}-key.pem")

    @property
    def crl(self) -> Path:
        return self.root / "crl.pem"


def init_dev_pki(
    out: Path,
    *,
    force: bool = False,
    roles: Sequence[str] = CLIENT_ROLES,
    server_dns: Sequence[str] = DEFAULT_SERVER_DNS,
    trust_domain: str = TRUST_DOMAIN,
) -> DevPki:
    """Create a CA, a server certificate and one client certificate per role under ``out``.

    Raises:
        PkiExistsError: a key already exists and ``force`` is false.
    """
    pki = DevPki(out)
    keys = [pki.ca_key, pki.server.key, *(pki.client(r).key for r in roles)]
    existing = [k for k in keys if k.exists()]
    if existing and not force:
        raise PkiExistsError(f"{len(existing)} key(s) already exist under {out} (first: {existing[0]}); use --force")
    ca_cert, ca_key = make_ca()
    _write_cert(pki.ca, ca_cert)
    _write_key(pki.ca_key, ca_key)
    cert, key = issue(
        ca_cert,
        ca_key,
        common_name="fintech-server",
        uris=[spiffe_id("server", trust_domain)],
        dns_names=server_dns,
        ips=["127.0.0.1", "::1"],
        server=True,
        client=True,  # services also call each other and the inference pool over mTLS
    )
    _write_cert(pki.server.cert, cert)
    _write_key(pki.server.key, key)
    for role in roles:
        # Envoy presents its certificate to downstream callers too, so it is a server as well.
        cert, key = issue(
            ca_cert,
            ca_key,
            common_name=role,
            uris=[spiffe_id(role, trust_domain)],
            dns_names=["localhost", role] if role == "envoy" else [],
            ips=["127.0.0.1"] if role == "envoy" else [],
            server=role == "envoy",
            client=True,
        )
        _write_cert(pki.client(role).cert, cert)
        _write_key(pki.client(role).key, key)
    crl = make_crl(ca_cert, ca_key, [])
    pki.crl.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return pki


def revoke(pki: DevPki, certificate: Path) -> None:
    """Add ``certificate`` to the PKI's CRL (keeping earlier revocations)."""
    ca_cert = load_cert(pki.ca)
    ca_key = load_key(pki.ca_key)
    serials = {load_cert(certificate).serial_number}
    if pki.crl.exists():
        old = x509.load_pem_x509_crl(pki.crl.read_bytes())
        serials |= {r.serial_number for r in old}
    pki.crl.write_bytes(make_crl(ca_cert, ca_key, sorted(serials)).public_bytes(serialization.Encoding.PEM))
