"""Configuration: one TOML file plus ``FINTECH_*`` environment variables.

Every section is a frozen pydantic model with a docstring per field; unknown
keys (in the file or as ``FINTECH_*`` variables) are an error, so a typo never
silently falls back to a default. Environment variables override the file;
nested keys use ``__`` (``FINTECH_SERVER__PORT=50052``). Relative paths in the
file are resolved against the file's directory. Secrets (keys, passwords)
are never values here: only paths to files that hold them.

Domains add their own section models in their own folder and one field here.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from inference.settings import InferenceSettings
from retrieval.settings import RetrievalSettings
from server.aml.settings import AmlSettings
from server.audit.settings import AuditSettings
from server.compliance.settings import ComplianceSettings
from server.crypto.settings import CryptoSettings
from server.customer.settings import CustomerSettings
from server.risk.settings import RiskSettings
from server.runtime.section import Section
from server.storage.settings import DatabaseSettings

ALL_SERVICES = ("customer", "risk", "aml", "compliance", "operations", "audit")
ENV_PREFIX = "FINTECH_"


class ServerSettings(Section):
    host: str = "127.0.0.1"
    """Address the gRPC server listens on."""
    port: int = Field(50051, ge=0, le=65535)
    """gRPC port; 0 picks a free one (tests)."""
    services: tuple[str, ...] = ALL_SERVICES
    """Which services this process hosts, so each can be scaled on its own."""
    metrics_port: int = Field(9464, ge=0, le=65535)
    """Port of the Prometheus ``/metrics`` HTTP endpoint; 0 picks a free one."""
    metrics_host: str = "127.0.0.1"
    """Address of the metrics endpoint."""
    max_message_bytes: int = Field(48 * 1024 * 1024, ge=1024)
    """Largest request or response message accepted."""
    grace_seconds: float = Field(20.0, ge=0)
    """On SIGTERM, how long in-flight calls may take to finish."""
    keepalive_time_ms: int = Field(30_000, ge=1000)
    """Interval of server keepalive pings."""
    keepalive_timeout_ms: int = Field(10_000, ge=1000)
    """How long to wait for a keepalive ack before closing the connection."""
    min_client_ping_interval_ms: int = Field(10_000, ge=1000)
    """Clients pinging more often than this are told to go away."""
    max_concurrent_streams: int = Field(1000, ge=1)
    """HTTP/2 streams per connection."""

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(ALL_SERVICES))
        if unknown:
            raise ValueError(f"unknown services {unknown}; known: {list(ALL_SERVICES)}")
        if not value:
            raise ValueError("at least one service must be hosted")
        return value


class TlsSettings(Section):
    ca_file: Path = Path("certs/ca.pem")
    """CA bundle client certificates must chain to."""
    cert_file: Path = Path("certs/server.pem")
    """This server's certificate chain (PEM)."""
    key_file: Path = Path("certs/server-key.pem")
    """This server's private key (PEM)."""
    crl_file: Path | None = None
    """Optional CRL (PEM); a revoked client certificate is refused."""
    reload_interval_seconds: float = Field(5.0, gt=0)
    """How often the certificate, key, CA and CRL files are checked for changes."""


class AuthSettings(Section):
    policy_file: Path = Path(__file__).resolve().parent.parent / "config" / "roles.toml"
    """Role policy: which role may call which RPC."""
    trust_domain: str = "fintech.local"
    """SPIFFE trust domain of every identity."""
    envoy_identity: str = "spiffe://fintech.local/envoy"
    """The edge proxy: trusted to forward the downstream caller and end customer."""
    console_identity: str = "spiffe://fintech.local/console"
    """The operations console: trusted to forward the signed-in operator and role."""


class TracingSettings(Section):
    otlp_endpoint: str = ""
    """OTLP/gRPC collector address; empty keeps tracing local (spans still carry trace ids)."""
    service_name: str = "fintech-platform"
    """``service.name`` resource attribute of exported spans."""


class LoggingSettings(Section):
    level: str = "INFO"
    """Root log level."""
    access_log: bool = True
    """One JSON line per RPC."""


class Settings(BaseSettings):
    """The whole configuration of one server process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )

    data_dir: Path = Path("var")
    """Where embedded state lives (SQLite, milvus-lite, exports)."""
    server: ServerSettings = ServerSettings()
    """The gRPC server."""
    tls: TlsSettings = TlsSettings()
    """mTLS material; there is no plaintext mode."""
    auth: AuthSettings = AuthSettings()
    """Authentication and authorisation."""
    tracing: TracingSettings = TracingSettings()
    """OpenTelemetry."""
    logging: LoggingSettings = LoggingSettings()
    """Logging."""
    database: DatabaseSettings = DatabaseSettings()
    """The platform database: SQLite (WAL) under data_dir by default, PostgreSQL by URL (docs/audit.md)."""
    crypto: CryptoSettings = CryptoSettings()
    """Envelope encryption: master-key and blind-index key files (never key values)."""
    audit: AuditSettings = AuditSettings()
    """The audit trail: checkpoint signing key, export file, interval (docs/audit.md)."""
    inference: InferenceSettings = InferenceSettings()
    """The LLM inference pool: model groups, endpoints, TLS, token budgets (docs/inference.md)."""
    retrieval: RetrievalSettings = RetrievalSettings()
    """The knowledge index: Milvus (milvus-lite under data_dir by default), embeddings, chunking (docs/retrieval.md)."""
    customer: CustomerSettings = CustomerSettings()
    """CustomerService: escalation policy thresholds, sensitive intents, LLM group (docs/customer.md)."""
    risk: RiskSettings = RiskSettings()
    """RiskService: scorecard artefact, policy rules, drift window (docs/risk.md)."""
    aml: AmlSettings = AmlSettings()
    """AMLService: rule set, stream batching, investigation bounds (docs/aml.md)."""
    compliance: ComplianceSettings = ComplianceSettings()
    """ComplianceService: regulation analysis and contract review (docs/compliance.md)."""


def _resolve_paths(data: dict[str, Any], base: Path, model: type[BaseModel]) -> dict[str, Any]:
    """Resolve relative path values of ``data`` (as read from TOML) against ``base``."""
    out = dict(data)
    for name, field in model.model_fields.items():
        if name not in out:
            continue
        annotation = field.annotation
        value = out[name]
        if isinstance(value, dict) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out[name] = _resolve_paths(value, base, annotation)
        elif isinstance(value, str) and annotation in (Path, Path | None) and value and not Path(value).is_absolute():
            out[name] = str((base / value).resolve())
    return out


# FINTECH_* variables that belong to other programs of the platform, not to the server's settings:
# the operations console's own settings, and the data folder override of the eval and bench scripts.
_OTHER_PROGRAMS = ("FINTECH_CONSOLE_", "FINTECH_SHARED_DATA")


def check_environment(environ: dict[str, str] | None = None) -> None:
    """Reject ``FINTECH_*`` variables that name no setting (a typo is an error)."""
    env = os.environ if environ is None else environ
    known = {name.upper() for name in Settings.model_fields}
    for key in env:
        if not key.startswith(ENV_PREFIX) or key.startswith(_OTHER_PROGRAMS):
            continue
        top = key[len(ENV_PREFIX) :].split("__", 1)[0]
        if top not in known:
            raise ValueError(f"unknown configuration variable {key}; known sections: {sorted(known)}")


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (TOML) and the environment; ``overrides`` win over both.

    Raises:
        ValueError: an unknown key, a bad value, or an unreadable file.
    """
    file_data: dict[str, Any] = {}
    if path is not None:
        with path.open("rb") as handle:
            file_data = _resolve_paths(tomllib.load(handle), path.resolve().parent, Settings)
    check_environment()

    class _FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _DictSource(settings_cls, file_data))

    try:
        loaded = _FromFile(**overrides)
        return Settings.model_validate(loaded.model_dump())
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            what = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{where}: {what}")
        source = f" in {path}" if path else ""
        raise ValueError(f"invalid configuration{source}: " + "; ".join(problems)) from None


class _DictSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def reference_markdown() -> str:
    """The configuration reference as a Markdown table (README's section is generated from this)."""
    rows = ["| key | environment variable | default | meaning |", "|---|---|---|---|"]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            key = f"{prefix}{name}"
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{key}.")
                continue
            default = field.default
            if isinstance(default, Path) and default.is_absolute():
                default = Path(*default.parts[-3:])
            env = ENV_PREFIX + key.upper().replace(".", "__")
            shown = "" if default is None else f"`{default}`"
            meaning = " ".join((field.description or "").split()).replace("|", "\\|")
            rows.append(f"| `{key}` | `{env}` | {shown} | {meaning} |")

    walk(Settings, "")
    return "\n".join(rows)
