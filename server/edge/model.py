"""A typed model of the edge: what Envoy listens on, whom it lets in, where it sends them.

The renderer turns one :class:`EdgeConfig` into an Envoy v3 bootstrap. Profiles
(`dev` for `make run`, `k8s` for the chart) differ only in addresses and file
paths; the policy (TLS 1.3, client certificates, RBAC, transcoding, retries,
rate limits) is the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RateLimit:
    """A token bucket per route (Envoy's local rate limit)."""

    max_tokens: int
    tokens_per_fill: int
    fill_interval_seconds: float


@dataclass(frozen=True)
class Upstream:
    """One backend gRPC service and how Envoy reaches it."""

    name: str
    """Short name, also the cluster name (``customer``)."""
    grpc_service: str
    """Fully-qualified gRPC service (``fintech.customer.v1.CustomerService``)."""
    host: str
    """DNS name or IP of the service (a Kubernetes Service, or 127.0.0.1)."""
    port: int
    """Its gRPC port."""
    sni: str
    """Server name Envoy verifies on the backend's certificate."""
    timeout_seconds: float = 30.0
    """Per-route timeout."""
    rate_limit: RateLimit | None = None
    """Local rate limit of its routes, if any."""
    json_prefix: str = ""
    """URL prefix of its JSON (transcoded) routes, if it has any (``/v1/customer/``)."""


@dataclass(frozen=True)
class AccessRule:
    """Which downstream identities may reach which paths (an RBAC policy)."""

    name: str
    principals: tuple[str, ...]
    """SPIFFE ids allowed by this rule."""
    path_prefixes: tuple[str, ...]
    """Path prefixes they may reach (gRPC ``/pkg.Service/`` or JSON ``/v1/...``); empty means every path."""


@dataclass(frozen=True)
class TlsFiles:
    """Envoy's own identity and the CA it trusts, as file paths in Envoy's file system."""

    cert: str
    key: str
    ca: str
    crl: str = ""


@dataclass(frozen=True)
class EdgeConfig:
    """Everything the bootstrap is rendered from."""

    listen_address: str
    listen_port: int
    admin_port: int
    tls: TlsFiles
    descriptor_set: str
    """Path of the descriptor set (``envoy/descriptors.binpb``) in Envoy's file system."""
    upstreams: tuple[Upstream, ...]
    access: tuple[AccessRule, ...]
    dns_discovery: bool = False
    """STRICT_DNS clusters (Kubernetes Services) instead of static addresses."""
    retries: int = 2
    """Retries on `unavailable` per request, within the retry budget."""
    retry_budget_percent: float = 20.0
    """At most this share of active requests may be retries."""
    health_check_interval_seconds: float = 2.0
    """Active gRPC health checks of every backend."""
    outlier_consecutive_errors: int = 3
    """Consecutive 5xx / gateway errors before a backend is ejected."""
    outlier_base_ejection_seconds: float = 10.0
    """How long a first ejection lasts."""
    trust_domain: str = "fintech.local"
    extra: dict[str, str] = field(default_factory=dict)


SERVICES: tuple[tuple[str, str], ...] = (
    ("customer", "fintech.customer.v1.CustomerService"),
    ("risk", "fintech.risk.v1.RiskService"),
    ("aml", "fintech.aml.v1.AMLService"),
    ("compliance", "fintech.compliance.v1.ComplianceService"),
    ("operations", "fintech.operations.v1.OperationsService"),
)

# Staff roles and core banking reach every service; the mobile backend reaches CustomerService only.
INTERNAL_ROLES = (
    "core-banking",
    "agent",
    "loan-officer",
    "investigator",
    "compliance-officer",
    "auditor",
    "sre",
    "console",
)


def spiffe(role: str, trust_domain: str = "fintech.local") -> str:
    """The SPIFFE id of ``role``."""
    return f"spiffe://{trust_domain}/{role}"


def default_access(trust_domain: str = "fintech.local") -> tuple[AccessRule, ...]:
    """The edge's RBAC: the mobile backend reaches CustomerService only; internal roles reach everything."""
    return (
        AccessRule(
            name="mobile-backend-customer-only",
            principals=(spiffe("mobile-backend", trust_domain),),
            path_prefixes=("/v1/customer/", "/fintech.customer.v1.CustomerService/"),
        ),
        AccessRule(
            name="internal-callers",
            principals=tuple(spiffe(r, trust_domain) for r in INTERNAL_ROLES),
            path_prefixes=(),
        ),
    )


def default_rate_limits() -> dict[str, RateLimit]:
    """Per-service token buckets; the customer-facing routes are the ones the internet reaches."""
    return {
        "customer": RateLimit(max_tokens=200, tokens_per_fill=100, fill_interval_seconds=1.0),
        "risk": RateLimit(max_tokens=2000, tokens_per_fill=1000, fill_interval_seconds=1.0),
        "aml": RateLimit(max_tokens=5000, tokens_per_fill=5000, fill_interval_seconds=1.0),
        "compliance": RateLimit(max_tokens=500, tokens_per_fill=200, fill_interval_seconds=1.0),
        "operations": RateLimit(max_tokens=100, tokens_per_fill=50, fill_interval_seconds=1.0),
    }


def dev_profile(
    repo: Path,
    *,
    certs: Path,
    backend_ports: dict[str, list[int]] | int,
    listen_port: int = 8443,
    admin_port: int = 9901,
    rate_limits: dict[str, RateLimit] | None = None,
) -> EdgeConfig:
    """`make run` and the tests: everything on loopback, files from the working tree."""
    limits = default_rate_limits() if rate_limits is None else rate_limits
    ports = backend_ports if isinstance(backend_ports, dict) else {name: [backend_ports] for name, _ in SERVICES}
    upstreams = tuple(
        Upstream(
            name=name,
            grpc_service=service,
            host="127.0.0.1",
            port=ports[name][0],
            sni="localhost",
            rate_limit=limits.get(name),
            json_prefix="/v1/customer/" if name == "customer" else "",
        )
        for name, service in SERVICES
    )
    extra = {f"ports.{name}": ",".join(str(p) for p in ports[name]) for name, _ in SERVICES}
    return EdgeConfig(
        listen_address="127.0.0.1",
        listen_port=listen_port,
        admin_port=admin_port,
        tls=TlsFiles(
            cert=str(certs / "clients" / "envoy.pem"),
            key=str(certs / "clients" / "envoy-key.pem"),
            ca=str(certs / "ca.pem"),
            crl=str(certs / "crl.pem"),
        ),
        descriptor_set=str(repo / "envoy" / "descriptors.binpb"),
        upstreams=upstreams,
        access=default_access(),
        extra=extra,
    )


def k8s_profile(namespace: str = "fintech", *, grpc_port: int = 50051) -> EdgeConfig:
    """The chart: Kubernetes Services by DNS, certificates and descriptors mounted under /etc/envoy."""
    limits = default_rate_limits()
    upstreams = tuple(
        Upstream(
            name=name,
            grpc_service=service,
            host=f"fintech-{name}.{namespace}.svc.cluster.local",
            port=grpc_port,
            sni=f"fintech-{name}.{namespace}.svc.cluster.local",
            rate_limit=limits.get(name),
            json_prefix="/v1/customer/" if name == "customer" else "",
        )
        for name, service in SERVICES
    )
    return EdgeConfig(
        listen_address="0.0.0.0",  # noqa: S104  (the pod's listener; NetworkPolicies restrict who reaches it)
        listen_port=8443,
        admin_port=9901,
        tls=TlsFiles(cert="/etc/envoy/tls/tls.crt", key="/etc/envoy/tls/tls.key", ca="/etc/envoy/tls/ca.crt", crl=""),
        descriptor_set="/etc/envoy/descriptors/descriptors.binpb",
        upstreams=upstreams,
        access=default_access(),
        dns_discovery=True,
    )
