"""Configuration of the inference pool: model groups, endpoints, TLS, budgets, timeouts, queues.

The lead adds one field to ``server.runtime.config.Settings``: ``inference: InferenceSettings``.
Every field has a docstring; unknown keys are an error (``Section``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from server.runtime.section import Section

PICKER_NAMES = ("least_outstanding", "queue_aware", "round_robin", "weighted_random")


class EndpointSettings(Section):
    url: str
    """Base URL of an OpenAI-compatible server, including ``/v1`` (``https://vllm-0.llm:8000/v1``)."""
    weight: float = Field(default=1.0, gt=0)
    """Relative share of traffic; a replica with twice the GPUs gets weight 2."""
    max_concurrency: int = Field(default=32, ge=1)
    """Requests in flight to this endpoint at most; more wait in the pool's queue."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value.rstrip("/")


class ModelGroupSettings(Section):
    name: str
    """Group name callers ask for (``deepseek-chat``)."""
    model: str
    """Model name sent to the endpoints (vLLM's ``--served-model-name``)."""
    endpoints: tuple[EndpointSettings, ...] = ()
    """Static endpoints of this group."""
    dns_name: str = ""
    """A Kubernetes headless service name re-resolved every ``dns_interval_seconds``; each address becomes
    an endpoint (``http(s)://<ip>:<dns_port><dns_path>``)."""
    dns_port: int = Field(default=8000, ge=1, le=65535)
    """Port of endpoints found through ``dns_name``."""
    dns_scheme: str = Field(default="https", pattern="^https?$")
    """Scheme of endpoints found through ``dns_name``."""
    dns_path: str = "/v1"
    """Path prefix of endpoints found through ``dns_name``."""
    dns_weight: float = Field(default=1.0, gt=0)
    """Weight of endpoints found through ``dns_name``."""
    dns_max_concurrency: int = Field(default=32, ge=1)
    """Concurrency limit of endpoints found through ``dns_name``."""
    scrape_metrics: bool = True
    """Scrape vLLM's ``/metrics`` of each endpoint for queue- and cache-aware routing."""
    api_key_file: Path | None = None
    """File holding the bearer token the endpoints require (vLLM ``--api-key``); none when empty."""

    @model_validator(mode="after")
    def _has_endpoints(self) -> ModelGroupSettings:
        if not self.endpoints and not self.dns_name:
            raise ValueError(f"model group {self.name!r} needs endpoints or a dns_name")
        return self


class EndpointTlsSettings(Section):
    ca_file: Path | None = None
    """CA bundle the endpoints' server certificates must chain to; the system store when empty."""
    cert_file: Path | None = None
    """Client certificate presented to the endpoints (mTLS)."""
    key_file: Path | None = None
    """Private key of ``cert_file``."""

    @model_validator(mode="after")
    def _pair(self) -> EndpointTlsSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("tls.cert_file and tls.key_file must be given together")
        return self


class HealthSettings(Section):
    probe_interval_seconds: float = Field(default=5.0, gt=0)
    """Active probe period (``/health``, falling back to ``/v1/models``)."""
    probe_timeout_seconds: float = Field(default=2.0, gt=0)
    """Timeout of one probe."""
    eject_after_failures: int = Field(default=3, ge=1)
    """Consecutive failures (requests or probes) that eject an endpoint."""
    eject_base_seconds: float = Field(default=2.0, gt=0)
    """First ejection lasts this long; each repeated ejection doubles it."""
    eject_max_seconds: float = Field(default=60.0, gt=0)
    """Longest ejection."""
    breaker_window: int = Field(default=20, ge=2)
    """Requests in the circuit breaker's rolling window."""
    breaker_min_requests: int = Field(default=10, ge=1)
    """The breaker only judges an endpoint after this many requests in the window."""
    breaker_failure_ratio: float = Field(default=0.5, gt=0, le=1)
    """Failure ratio in the window that opens the circuit."""
    breaker_open_seconds: float = Field(default=10.0, gt=0)
    """How long an open circuit refuses traffic before one half-open trial."""
    metrics_scrape_interval_seconds: float = Field(default=2.0, gt=0)
    """vLLM ``/metrics`` scrape period."""
    dns_interval_seconds: float = Field(default=10.0, gt=0)
    """Headless-service re-resolution period."""


class RetrySettings(Section):
    max_attempts: int = Field(default=3, ge=1)
    """Attempts per request across endpoints and groups (first try included)."""
    backoff_base_seconds: float = Field(default=0.05, ge=0)
    """Base of the full-jitter exponential back-off between attempts."""
    backoff_max_seconds: float = Field(default=1.0, ge=0)
    """Longest back-off between attempts."""
    max_retry_after_seconds: float = Field(default=5.0, ge=0)
    """A 429's ``Retry-After`` beyond this (or beyond the deadline) is not waited for."""


class AffinitySettings(Section):
    enabled: bool = True
    """Prefer one replica per conversation id or long shared prompt prefix (vLLM prefix cache)."""
    min_prefix_chars: int = Field(default=2000, ge=1)
    """A prompt prefix this long (system prompt plus context) is hashed for affinity."""
    prefix_chars: int = Field(default=4000, ge=1)
    """How many leading characters of the prompt form the prefix key."""
    overload_fraction: float = Field(default=0.8, gt=0, le=1)
    """The preferred replica is skipped when its in-flight count reaches this share of its limit."""
    overload_waiting: float = Field(default=4.0, ge=0)
    """Or when vLLM reports this many waiting requests."""
    overload_kv_usage: float = Field(default=0.95, gt=0, le=1)
    """Or when its KV cache is this full."""


class BudgetSettings(Section):
    enabled: bool = True
    """Enforce tokens-per-minute budgets."""
    caller_tokens_per_minute: int = Field(default=200_000, ge=1)
    """Default budget of one caller identity (SPIFFE id or principal)."""
    customer_tokens_per_minute: int = Field(default=20_000, ge=1)
    """Default budget of one end customer behind the mobile backend."""
    caller_overrides: dict[str, int] = Field(default_factory=dict)
    """Per-caller budgets that differ from the default (identity -> tokens per minute)."""
    window_seconds: int = Field(default=60, ge=1)
    """Budget window length."""
    chars_per_token: float = Field(default=4.0, gt=0)
    """Prompt size estimate used to reserve tokens before the answer reports the real usage."""


class InferenceSettings(Section):
    groups: tuple[ModelGroupSettings, ...] = ()
    """Model groups in fallback order: the first is primary, the next serves when it cannot."""
    picker: str = "least_outstanding"
    """Endpoint picker: ``least_outstanding``, ``queue_aware``, ``round_robin`` or ``weighted_random``."""
    tls: EndpointTlsSettings = EndpointTlsSettings()
    """TLS towards the endpoints."""
    health: HealthSettings = HealthSettings()
    """Probes, outlier ejection, circuit breaker, scraping."""
    retry: RetrySettings = RetrySettings()
    """Retries across endpoints."""
    affinity: AffinitySettings = AffinitySettings()
    """Conversation and prompt-prefix affinity."""
    budgets: BudgetSettings = BudgetSettings()
    """Tokens-per-minute budgets."""
    request_timeout_seconds: float = Field(default=60.0, gt=0)
    """Longest single attempt when the caller gives no deadline."""
    first_token_timeout_seconds: float = Field(default=10.0, gt=0)
    """A stream whose first token takes longer is abandoned and retried elsewhere."""
    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    """TCP/TLS connect timeout."""
    max_in_flight: int = Field(default=256, ge=1)
    """Requests in flight through this pool at most (all groups)."""
    interactive_reserve: int = Field(default=8, ge=0)
    """Slots of ``max_in_flight`` batch work may never take, kept for interactive requests."""
    batch_queue_size: int = Field(default=64, ge=0)
    """Batch requests that may wait for a slot; one more is shed with ``BatchQueueFull``."""
    batch_max_wait_seconds: float = Field(default=30.0, gt=0)
    """A batch request waiting longer than this is shed."""
    default_max_tokens: int = Field(default=1024, ge=1)
    """``max_tokens`` when the caller gives none."""

    @field_validator("picker")
    @classmethod
    def _known_picker(cls, value: str) -> str:
        if value not in PICKER_NAMES:
            raise ValueError(f"unknown picker {value!r}; known: {list(PICKER_NAMES)}")
        return value

    @model_validator(mode="after")
    def _unique_groups(self) -> InferenceSettings:
        names = [g.name for g in self.groups]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"groups: duplicate names {duplicates}")
        if self.interactive_reserve >= self.max_in_flight:
            raise ValueError("interactive_reserve must be below max_in_flight")
        return self
