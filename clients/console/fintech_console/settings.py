"""The console's configuration: where the services are, its certificate, sessions and sign-in.

Loaded from an optional TOML file plus ``FINTECH_CONSOLE_*`` environment variables (nested keys with
``__``, for example ``FINTECH_CONSOLE_OIDC__ISSUER``). Unknown keys are an error. Secrets (the session
signing key, the OIDC client secret) are read from files, never written in the configuration itself.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# The services the console talks to, by the short names used in ``service_addresses``.
SERVICE_NAMES: tuple[str, ...] = ("customer", "risk", "aml", "compliance", "audit", "operations")


class TlsSettings(BaseModel):
    """The console's mTLS identity: the ``console`` client certificate of the PKI (``fintech certs``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    ca_file: Path
    """PEM file of the CA that signed the services' certificates."""
    cert_file: Path
    """PEM file of the console's client certificate (URI SAN ``spiffe://fintech.local/console``)."""
    key_file: Path
    """PEM file of that certificate's private key."""
    server_name_override: str | None = None
    """Name to verify the services' certificate against when it differs from the address's host."""


class OidcSettings(BaseModel):
    """OpenID Connect sign-in against the bank's identity provider (authorization code flow with PKCE)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    issuer: str
    """The provider's issuer URL; discovery is read from ``<issuer>/.well-known/openid-configuration``."""
    client_id: str
    """The console's client id at the provider (also the ID token's expected audience)."""
    client_secret_file: Path | None = None
    """File holding the client secret (confidential client); none for a public client using PKCE only."""
    redirect_url: str
    """The console's callback URL registered at the provider, ending in ``/auth/oidc/callback``."""
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    """Scopes requested; ``openid`` is required."""
    role_claim: str = "fintech_role"
    """ID token claim holding the operator's role (a string, or a list of which exactly one maps)."""
    role_mapping: dict[str, str] = Field(default_factory=dict)
    """Provider role or group name -> staff role; empty means the claim already holds staff role names."""
    staff_id_claim: str = "sub"
    """ID token claim used as the staff id forwarded to the services."""
    display_name_claim: str = "name"
    """ID token claim shown as the operator's name (falls back to the staff id)."""
    leeway_seconds: int = 30
    """Clock skew tolerated when checking the ID token's ``exp``, ``iat`` and ``nbf``."""
    allowed_algorithms: tuple[str, ...] = ("RS256", "ES256", "PS256", "EdDSA")
    """Signature algorithms accepted for ID tokens (never ``none``, never HMAC with a public key)."""
    http_timeout_seconds: float = 10.0
    """Timeout of each call to the provider (discovery, JWKS, token endpoint)."""
    ca_file: Path | None = None
    """CA bundle for the provider's TLS certificate; none uses the system store."""

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, scopes: tuple[str, ...]) -> tuple[str, ...]:
        if "openid" not in scopes:
            raise ValueError("oidc.scopes must include 'openid'")
        return scopes


class ConsoleSettings(BaseSettings):
    """Everything the console needs to run."""

    model_config = SettingsConfigDict(
        env_prefix="FINTECH_CONSOLE_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )

    service_address: str = "localhost:50051"
    """``host:port`` of the platform (one process hosting every service, or Envoy)."""
    service_addresses: dict[str, str] = Field(default_factory=dict)
    """Per-service overrides of ``service_address`` keyed by customer, risk, aml, compliance, audit, operations."""
    tls: TlsSettings
    """The console's mTLS identity."""
    host: str = "127.0.0.1"
    """Address the web server listens on."""
    port: int = 8080
    """Port the web server listens on (0: an ephemeral port, reported in the ready file)."""
    public_url: str = ""
    """The URL operators reach the console at (shown in logs; the OIDC redirect derives from it)."""
    sign_in: Literal["users_file", "oidc"] = "users_file"
    """``users_file`` for development accounts, ``oidc`` for the bank's identity provider."""
    users_file: Path = Path("var/console-users.json")
    """Development accounts (argon2 hashes and roles), written by ``fintech console users add``."""
    oidc: OidcSettings | None = None
    """OpenID Connect settings; required when ``sign_in`` is ``oidc``."""
    session_secret_file: Path = Path("var/console-session.key")
    """File with the key that signs session cookies (created with mode 0600 when missing)."""
    session_lifetime_seconds: int = Field(default=8 * 3600, gt=0)
    """Absolute lifetime of a signed-in session."""
    session_idle_seconds: int = Field(default=30 * 60, gt=0)
    """A session unused for this long ends."""
    cookie_secure: bool = True
    """Mark cookies ``Secure`` (browsers accept them over http only on localhost)."""
    rpc_timeout_seconds: float = Field(default=5.0, gt=0)
    """Deadline of each read the console makes (a page never waits longer on a service)."""
    rpc_write_timeout_seconds: float = Field(default=30.0, gt=0)
    """Deadline of each state-changing call."""
    page_size: int = Field(default=25, gt=0, le=500)
    """Rows per page in the queues and lists."""
    max_form_bytes: int = Field(default=1024 * 1024, gt=0)
    """Largest POST body accepted (checked before parsing, for the CSRF check)."""

    @field_validator("service_addresses")
    @classmethod
    def _known_services(cls, addresses: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(addresses) - set(SERVICE_NAMES))
        if unknown:
            raise ValueError(f"service_addresses: unknown service(s) {unknown}; known: {list(SERVICE_NAMES)}")
        return addresses

    @model_validator(mode="after")
    def _oidc_configured(self) -> ConsoleSettings:
        if self.sign_in == "oidc" and self.oidc is None:
            raise ValueError("oidc: required when sign_in = 'oidc'")
        return self

    def address_of(self, service: str) -> str:
        """The ``host:port`` of ``service`` (one of :data:`SERVICE_NAMES`)."""
        if service not in SERVICE_NAMES:
            raise KeyError(f"unknown service {service!r}")
        return self.service_addresses.get(service, self.service_address)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit values (the TOML file, tests) win over the environment; no .env files.
        return (init_settings, env_settings)


def load_console_settings(path: Path | None = None, **overrides: Any) -> ConsoleSettings:
    """Load settings from a TOML file (its ``[console]`` table, or the whole file) plus overrides.

    Args:
        path: TOML file; none reads only the environment and ``overrides``.
        **overrides: Values that win over the file (top-level keys of :class:`ConsoleSettings`).

    Returns:
        The validated settings.

    Raises:
        pydantic.ValidationError: a value is missing or wrong; the message names the field.
    """
    values: dict[str, Any] = {}
    if path is not None:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        values = dict(document.get("console", document))
    values.update(overrides)
    return ConsoleSettings(**values)
