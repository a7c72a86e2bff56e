"""How the ``fintech`` CLI reaches a running platform: the SDK over mTLS with a role's certificate.

Every service command takes ``--target`` (HOST:PORT of a server or of Envoy), ``--certs`` (a PKI
directory laid out by ``fintech certs init``) and ``--role`` (whose client certificate to present).
Errors are printed with their code, reason and field violations, and the command exits non-zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer
from fintech.client import FintechError, secure_channel_sync
from rich.console import Console

console = Console(stderr=True)

TargetOption = Annotated[str, typer.Option("--target", help="HOST:PORT of a server or of Envoy.")]
CertsOption = Annotated[Path, typer.Option("--certs", help="PKI directory (fintech certs init).")]


@dataclass(frozen=True)
class Connection:
    """Where to call and as whom."""

    target: str
    certs: Path
    role: str

    @contextlib.contextmanager
    def channel(self) -> Iterator[grpc.Channel]:
        """A blocking mTLS channel presenting ``role``'s certificate."""
        cert = self.certs / "clients" / f"{self.role}.pem"
        key = self.certs / "clients" / f"{self.role}-key.pem"
        if not cert.exists():
            console.print(f"[red]no certificate for role {self.role!r} under {self.certs}/clients[/red]")
            raise typer.Exit(code=2)
        channel = secure_channel_sync(self.target, ca_file=self.certs / "ca.pem", cert_file=cert, key_file=key)
        try:
            yield channel
        finally:
            channel.close()


@contextlib.contextmanager
def reported_errors() -> Iterator[None]:
    """Print a platform error as a person needs to read it, and exit 1."""
    try:
        yield
    except FintechError as error:
        console.print(f"[red]{error.code.name}[/red] {error.message}")
        if error.reason:
            console.print(f"  reason: {error.reason} ({error.domain})")
        for violation in error.field_violations:
            console.print(f"  - {violation.field}: {violation.description}")
        raise typer.Exit(code=1) from None


def money(value: Any) -> str:
    """A Money message as text, exactly (no float)."""
    from decimal import Decimal

    amount = Decimal(value.units) + Decimal(value.nanos) / Decimal(1_000_000_000)
    return f"{amount:,.2f} {value.currency_code}".strip()
