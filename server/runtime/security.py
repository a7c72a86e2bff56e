"""mTLS for the gRPC server: credentials that reload from disk, peer identity, revocation.

The server only ever listens with TLS and requires a client certificate that
chains to the configured CA; there is no plaintext mode. Certificate, key,
CA and CRL files are re-read when they change (checked at most every
``reload_interval_seconds``, on new handshakes), so rotating certificates
needs no restart. gRPC's Python API cannot hand a CRL to the TLS stack, so
revocation is enforced per call by the authentication interceptor against
the CRL held here: a revoked certificate completes the handshake and then
every call is refused with UNAUTHENTICATED.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509

from server.runtime.config import TlsSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeerCertificate:
    """What the server needs to know about a verified client certificate."""

    serial: int
    uris: tuple[str, ...]
    common_name: str


@functools.lru_cache(maxsize=4096)
def parse_peer_certificate(pem: bytes) -> PeerCertificate:
    """Parse a PEM client certificate (cached: one parse per distinct certificate)."""
    cert = x509.load_pem_x509_certificate(pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = tuple(san.get_values_for_type(x509.UniformResourceIdentifier))
    except x509.ExtensionNotFound:
        uris = ()
    cns = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    common_name = str(cns[0].value) if cns else ""
    return PeerCertificate(serial=cert.serial_number, uris=uris, common_name=common_name)


def peer_certificate(context: grpc.aio.ServicerContext) -> PeerCertificate | None:
    """The verified client certificate of this call's connection, if any."""
    auth = context.auth_context()
    pems = auth.get("x509_pem_cert")
    if not pems:
        return None
    return parse_peer_certificate(pems[0])


class RevocationList:
    """Serial numbers revoked by the configured CRL, reloaded when the file changes."""

    def __init__(self, path: Path | None, ca_file: Path, interval: float) -> None:
        self._path = path
        self._ca_file = ca_file
        self._interval = interval
        self._serials: frozenset[int] = frozenset()
        self._stamp: tuple[float, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> None:
        """Re-read the CRL if it changed (at most once per interval unless forced)."""
        if self._path is None:
            return
        now = time.monotonic()
        if not force and now - self._checked < self._interval:
            return
        with self._lock:
            self._checked = now
            try:
                stat = self._path.stat()
            except FileNotFoundError:
                log.error("crl file missing", extra={"path": str(self._path)})
                return
            stamp = (stat.st_mtime, stat.st_size)
            if stamp == self._stamp:
                return
            crl = x509.load_pem_x509_crl(self._path.read_bytes())
            ca = x509.load_pem_x509_certificate(self._ca_file.read_bytes())
            if not crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
                # Keep the last good list rather than trusting a forged one.
                log.error("crl signature invalid; keeping previous list", extra={"path": str(self._path)})
                return
            self._serials = frozenset(r.serial_number for r in crl)
            self._stamp = stamp
            log.info("crl loaded", extra={"revoked": len(self._serials)})

    def is_revoked(self, serial: int) -> bool:
        """True when ``serial`` is on the list (refreshing it first if due)."""
        self.refresh()
        return serial in self._serials


class ReloadingServerCredentials:
    """Server credentials whose certificate, key and CA are re-read when their files change."""

    def __init__(self, tls: TlsSettings) -> None:
        self._tls = tls
        self._stamp = self._file_stamp()
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self.reloads = 0

    def _file_stamp(self) -> tuple[tuple[float, int], ...]:
        files = (self._tls.cert_file, self._tls.key_file, self._tls.ca_file)
        return tuple((p.stat().st_mtime, p.stat().st_size) for p in files)

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration(
            [(self._tls.key_file.read_bytes(), self._tls.cert_file.read_bytes())],
            root_certificates=self._tls.ca_file.read_bytes(),
        )

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        # Called by gRPC on new handshakes; returning None keeps the current configuration.
        now = time.monotonic()
        if now - self._checked < self._tls.reload_interval_seconds:
            return None
        with self._lock:
            self._checked = now
            try:
                stamp = self._file_stamp()
                if stamp == self._stamp:
                    return None
                configuration = self._configuration()
            except (OSError, ValueError):
                log.exception("certificate reload failed; keeping the current certificate")
                return None
            self._stamp = stamp
            self.reloads += 1
            log.info("server certificate reloaded")
            return configuration

    def credentials(self) -> grpc.ServerCredentials:
        """gRPC credentials requiring and verifying a client certificate."""
        return grpc.dynamic_ssl_server_credentials(
            self._configuration(), self._fetch, require_client_authentication=True
        )
