"""The inference pool: model groups of OpenAI-compatible endpoints, routing, health, retries, fallback.

Every service reaches an LLM only through :class:`InferencePool`. It:

- keeps model groups (fallback order = configuration order) of endpoints with a weight and a
  concurrency limit; endpoints are added and removed at run time (``add_endpoint`` /
  ``remove_endpoint``, and the periodic DNS re-resolution of a headless service);
- routes with a picker chosen by name (least outstanding by default; queue/KV-aware from scraped
  vLLM metrics), after conversation or prompt-prefix affinity unless the preferred replica is overloaded;
- probes endpoints (``/health``, then ``/v1/models``), ejects outliers with back-off, runs a circuit
  breaker with half-open trials;
- retries connection errors, 429 (honouring ``Retry-After``), 5xx, malformed answers and timeouts on
  another endpoint with jittered back-off, within the caller's deadline; a stream is never retried
  after its first token;
- falls back to the next group and says in the result which group, model and endpoint answered, or
  raises :class:`InferenceUnavailable`; it never invents an answer;
- admits interactive work before batch work, sheds batch work from a bounded queue;
- charges tokens to the caller's and end customer's budgets in the shared store.

It knows nothing about gRPC: servicers pass ``timeout=context.time_remaining()`` and the caller's
identity as plain strings.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import heapq
import itertools
import logging
import random
import socket
import ssl
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai
from opentelemetry import propagate
from prometheus_client import CollectorRegistry

from inference.budget import BudgetCharge, Reservation, TokenBudgetStore
from inference.clock import Clock, SystemClock
from inference.errors import (
    BatchQueueFull,
    InferenceDeadlineExceeded,
    InferenceRejected,
    InferenceStreamInterrupted,
    InferenceUnavailable,
)
from inference.health import EndpointHealth, EndpointState
from inference.metrics import InferenceMetrics, metrics_for
from inference.pickers import (
    EndpointSnapshot,
    Picker,
    affinity_key_for,
    is_overloaded,
    make_picker,
    preferred_by_affinity,
)
from inference.settings import EndpointSettings, InferenceSettings, ModelGroupSettings
from inference.vllm_metrics import EngineLoad, parse_engine_load

_log = logging.getLogger(__name__)

Message = Mapping[str, Any]
Resolver = Callable[[str], Awaitable[Sequence[str]]]


class Priority(enum.IntEnum):
    """Admission order: lower values go first."""

    INTERACTIVE = 0
    BATCH = 1


@dataclass(frozen=True)
class ServedBy:
    """Which model group, model and endpoint produced an answer (goes into audit records).

    Attributes:
        group: The model group that answered.
        model: The model name sent to it.
        endpoint_id: The endpoint's id.
        requested_group: The group the caller asked for; differs from ``group`` after a fallback.
    """

    group: str
    model: str
    endpoint_id: str
    requested_group: str

    @property
    def fallback(self) -> bool:
        """True when another group than the requested one answered."""
        return self.group != self.requested_group

    def __str__(self) -> str:
        return f"{self.group}/{self.model}@{self.endpoint_id}"


@dataclass(frozen=True)
class Usage:
    """Token counts an endpoint reported (estimated from characters when it reported none)."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Completion:
    """A non-streamed answer.

    Attributes:
        text: The generated text (untrusted: validate before use).
        finish_reason: ``stop``, ``length``...
        served_by: Who answered.
        usage: Tokens used.
        attempts: Attempts made (1 when the first endpoint answered).
        latency_seconds: From the call to the answer, retries included.
    """

    text: str
    finish_reason: str
    served_by: ServedBy
    usage: Usage
    attempts: int
    latency_seconds: float


@dataclass(frozen=True)
class StreamEvent:
    """One event of a stream: a text delta, or (last) the end with finish reason and usage."""

    delta: str
    served_by: ServedBy
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class EndpointStatus:
    """One endpoint in the status snapshot that OperationsService exposes."""

    endpoint_id: str
    group: str
    url: str
    state: EndpointState
    outstanding: int
    limit: int
    weight: float
    ejections: int
    waiting: float | None
    running: float | None
    kv_cache_usage: float | None
    last_probe_ok: bool | None
    last_probe_age_seconds: float | None
    requests_total: int
    failures_total: int
    tokens_in_total: int
    tokens_out_total: int
    source: str


class _Endpoint:
    """Mutable state of one endpoint (owned by the pool's event loop)."""

    def __init__(
        self,
        group: _Group,
        settings: EndpointSettings,
        health: EndpointHealth,
        client: openai.AsyncOpenAI,
        http: httpx2.AsyncClient,
        source: str,
    ) -> None:
        parts = urlsplit(settings.url)
        self.group = group
        self.url = settings.url
        self.root_url = f"{parts.scheme}://{parts.netloc}"
        self.endpoint_id = f"{group.name}/{parts.netloc}"
        self.weight = settings.weight
        self.limit = settings.max_concurrency
        self.health = health
        self.client = client
        self.http = http
        self.source = source
        self.outstanding = 0
        self.load: EngineLoad | None = None
        self.last_probe_ok: bool | None = None
        self.last_probe_at: float | None = None
        self.requests_total = 0
        self.failures_total = 0
        self.tokens_in_total = 0
        self.tokens_out_total = 0

    def snapshot(self) -> EndpointSnapshot:
        load = self.load
        return EndpointSnapshot(
            endpoint_id=self.endpoint_id,
            weight=self.weight,
            limit=self.limit,
            outstanding=self.outstanding,
            waiting=load.waiting if load else 0.0,
            running=load.running if load else 0.0,
            kv_cache_usage=load.kv_cache_usage if load else None,
        )


class _Group:
    def __init__(self, settings: ModelGroupSettings, api_key: str) -> None:
        self.name = settings.name
        self.model = settings.model
        self.settings = settings
        self.api_key = api_key
        self.endpoints: dict[str, _Endpoint] = {}


class _Admission:
    """Pool-wide in-flight limit with interactive-first ordering and a bounded batch queue."""

    def __init__(self, capacity: int, reserve: int, batch_queue_size: int) -> None:
        self.capacity = capacity
        self.reserve = reserve
        self.batch_queue_size = batch_queue_size
        self.in_flight = 0
        self.batch_waiting = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def _fits(self, priority: Priority) -> bool:
        if priority is Priority.INTERACTIVE:
            return self.in_flight < self.capacity
        return self.in_flight < self.capacity - self.reserve

    def _ahead(self, priority: Priority) -> bool:
        return any(p <= priority and not f.done() for p, _, f in self._waiters)

    async def acquire(self, priority: Priority, wait_seconds: float) -> None:
        if self._fits(priority) and not self._ahead(priority):
            self.in_flight += 1
            return
        if priority is Priority.BATCH and self.batch_waiting >= self.batch_queue_size:
            raise BatchQueueFull(f"batch queue of {self.batch_queue_size} is full", retry_after_seconds=1.0)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (int(priority), next(self._seq), future))
        if priority is Priority.BATCH:
            self.batch_waiting += 1
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout=max(wait_seconds, 0.0))
        except TimeoutError:
            if future.done() and not future.cancelled():
                return  # granted in the same instant the wait ran out: keep the slot
            future.cancel()
            if priority is Priority.BATCH:
                raise BatchQueueFull(
                    "batch request shed: no capacity within its wait limit", retry_after_seconds=1.0
                ) from None
            raise InferenceDeadlineExceeded("deadline passed while queued for capacity") from None
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()
            future.cancel()
            raise
        finally:
            if priority is Priority.BATCH:
                self.batch_waiting -= 1

    def release(self) -> None:
        self.in_flight -= 1
        while self._waiters:
            priority, _, future = self._waiters[0]
            if future.done():
                heapq.heappop(self._waiters)
                continue
            if not self._fits(Priority(priority)):
                break
            heapq.heappop(self._waiters)
            self.in_flight += 1
            future.set_result(None)


class _AttemptFailed(Exception):
    """One attempt failed in a way another endpoint may fix."""

    def __init__(self, kind: str, retry_after: float | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.retry_after = retry_after


def _retry_after_seconds(headers: Mapping[str, str] | httpx2.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _classify(error: BaseException) -> _AttemptFailed:
    """Map a client error to a retryable failure kind, or raise the non-retryable ones."""
    if isinstance(error, openai.APITimeoutError | TimeoutError):
        return _AttemptFailed("timeout")
    if isinstance(error, openai.APIConnectionError | httpx2.TransportError | ConnectionError):
        return _AttemptFailed("connect")
    if isinstance(error, openai.RateLimitError):
        # Without a Retry-After header, back off for one second rather than hammering the endpoint.
        retry_after = _retry_after_seconds(error.response.headers)
        return _AttemptFailed("http_429", 1.0 if retry_after is None else retry_after)
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status >= 500:
            return _AttemptFailed("http_5xx")
        if status == 408:
            return _AttemptFailed("timeout")
        raise InferenceRejected(f"endpoint refused the request with HTTP {status}", http_status=status) from error
    if isinstance(error, openai.APIResponseValidationError | ValueError):
        return _AttemptFailed("malformed")
    raise error


async def resolve_addresses(name: str) -> list[str]:
    """All IP addresses of ``name`` (a headless service lists one per ready pod)."""
    infos = await asyncio.get_running_loop().getaddrinfo(name, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _estimate_tokens(messages: Sequence[Message], chars_per_token: float) -> int:
    chars = sum(len(str(m.get("content", ""))) for m in messages)
    return int(chars / chars_per_token) + 4 * len(messages)


class InferencePool:
    """Routes chat completions to OpenAI-compatible endpoints; see the module docstring."""

    def __init__(
        self,
        settings: InferenceSettings,
        *,
        clock: Clock | None = None,
        budget_store: TokenBudgetStore | None = None,
        registry: CollectorRegistry | None = None,
        resolver: Resolver = resolve_addresses,
        rng: random.Random | None = None,
    ) -> None:
        """Build the pool; call :meth:`start` to begin probing, scraping and DNS re-resolution.

        Args:
            settings: Groups, endpoints, TLS, timeouts, budgets.
            clock: Time source (monotonic deadlines, back-off sleeps, budget windows).
            budget_store: Shared token budget store; budgets are not enforced without one.
            registry: Prometheus registry (the process default when None).
            resolver: Name to addresses, for headless-service discovery.
            rng: Random source of the back-off jitter.
        """
        self.settings = settings
        self._clock = clock or SystemClock()
        self._budget = budget_store if settings.budgets.enabled else None
        self.metrics: InferenceMetrics = metrics_for(registry)
        self._resolver = resolver
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._picker: Picker = make_picker(settings.picker)
        self._ssl = self._ssl_context()
        self._groups: dict[str, _Group] = {}
        for group_settings in settings.groups:
            api_key = ""
            if group_settings.api_key_file is not None:
                api_key = group_settings.api_key_file.read_text(encoding="utf-8").strip()
            group = _Group(group_settings, api_key)
            self._groups[group.name] = group
            for endpoint in group_settings.endpoints:
                self._add(group, endpoint, "static")
        self._admission = _Admission(settings.max_in_flight, settings.interactive_reserve, settings.batch_queue_size)
        self._slot_freed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: list[httpx2.AsyncClient] = []
        self._housekeeping: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ life cycle and membership
    def _ssl_context(self) -> ssl.SSLContext:
        tls = self.settings.tls
        context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
        if tls.cert_file and tls.key_file:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        return context

    def _add(self, group: _Group, settings: EndpointSettings, source: str) -> _Endpoint:
        http = httpx2.AsyncClient(
            verify=self._ssl,
            timeout=httpx2.Timeout(
                self.settings.request_timeout_seconds, connect=self.settings.connect_timeout_seconds
            ),
            limits=httpx2.Limits(
                max_connections=settings.max_concurrency + 4, max_keepalive_connections=settings.max_concurrency + 4
            ),
            trust_env=False,
        )
        client = openai.AsyncOpenAI(
            api_key=group.api_key or "unused", base_url=settings.url, max_retries=0, http_client=http
        )
        endpoint = _Endpoint(group, settings, EndpointHealth(self.settings.health), client, http, source)
        if endpoint.endpoint_id in group.endpoints:
            raise ValueError(f"endpoint {endpoint.endpoint_id} already exists")
        group.endpoints[endpoint.endpoint_id] = endpoint
        return endpoint

    def add_endpoint(self, group: str, url: str, *, weight: float = 1.0, max_concurrency: int = 32) -> str:
        """Add an endpoint to ``group`` at run time; returns its id.

        Raises:
            KeyError: the group does not exist.
            ValueError: a bad URL or an endpoint already present.
        """
        target = self._group(group)
        endpoint = self._add(
            target, EndpointSettings(url=url, weight=weight, max_concurrency=max_concurrency), "runtime"
        )
        self._signal_capacity()
        return endpoint.endpoint_id

    def remove_endpoint(self, endpoint_id: str) -> None:
        """Drain an endpoint: no new requests; it leaves once its in-flight requests finish.

        Raises:
            KeyError: no such endpoint.
        """
        endpoint = self._endpoint(endpoint_id)
        endpoint.health.draining = True
        self._reap(endpoint)

    def set_group_enabled(self, group: str, enabled: bool) -> None:
        """Take a whole group out of (or back into) service: the switching drill's lever."""
        for endpoint in self._group(group).endpoints.values():
            endpoint.health.disabled = not enabled
        self._signal_capacity()

    def _reap(self, endpoint: _Endpoint) -> None:
        if endpoint.health.draining and endpoint.outstanding == 0:
            endpoint.group.endpoints.pop(endpoint.endpoint_id, None)
            self._closing.append(endpoint.http)
            # Close its connections now; keep a reference so the task is not collected half-way.
            task = asyncio.get_running_loop().create_task(endpoint.http.aclose())
            self._housekeeping.add(task)
            task.add_done_callback(self._housekeeping.discard)

    def _group(self, name: str) -> _Group:
        try:
            return self._groups[name]
        except KeyError:
            raise KeyError(f"unknown model group {name!r}; known: {sorted(self._groups)}") from None

    def _endpoint(self, endpoint_id: str) -> _Endpoint:
        for group in self._groups.values():
            if endpoint_id in group.endpoints:
                return group.endpoints[endpoint_id]
        raise KeyError(f"unknown endpoint {endpoint_id!r}")

    @property
    def group_names(self) -> list[str]:
        """Model groups in fallback order."""
        return list(self._groups)

    async def start(self) -> None:
        """Start the background probe, scrape and DNS loops (probes once before returning)."""
        await self.probe_all()
        await self.resolve_dns()
        health = self.settings.health
        self._tasks = [
            asyncio.create_task(self._every(health.probe_interval_seconds, self.probe_all)),
            asyncio.create_task(self._every(health.metrics_scrape_interval_seconds, self.scrape_all)),
            asyncio.create_task(self._every(health.dns_interval_seconds, self.resolve_dns)),
        ]

    async def close(self) -> None:
        """Stop the loops and close every connection."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        clients = [e.http for g in self._groups.values() for e in g.endpoints.values()] + self._closing
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _every(self, interval: float, action: Callable[[], Awaitable[None]]) -> None:
        while True:
            await self._clock.sleep(interval)
            try:
                await action()
            except Exception:  # a loop must survive one bad round; the error is logged, not hidden
                _log.exception("inference background task %s failed", getattr(action, "__name__", action))

    # ------------------------------------------------------------------ probes, scraping, DNS
    async def probe_all(self) -> None:
        """Probe every endpoint once (``/health``, falling back to ``/v1/models``)."""
        endpoints = [e for g in self._groups.values() for e in g.endpoints.values()]
        await asyncio.gather(*(self._probe(e) for e in endpoints))

    async def _probe(self, endpoint: _Endpoint) -> None:
        timeout = self.settings.health.probe_timeout_seconds
        ok = False
        try:
            response = await endpoint.http.get(f"{endpoint.root_url}/health", timeout=timeout)
            if response.status_code in (404, 405):
                response = await endpoint.http.get(f"{endpoint.url}/models", timeout=timeout)
            ok = response.status_code == 200
        except (httpx2.HTTPError, OSError):
            ok = False
        now = self._clock.monotonic()
        endpoint.last_probe_ok = ok
        endpoint.last_probe_at = now
        if ok:
            # A probe only clears the failure streak; it never cuts an ejection or open circuit short.
            if endpoint.health.state(now) is EndpointState.HEALTHY:
                endpoint.health.consecutive_failures = 0
        elif endpoint.health.on_failure(now):
            self.metrics.ejections.labels(endpoint.group.name, endpoint.endpoint_id).inc()

    async def scrape_all(self) -> None:
        """Scrape ``/metrics`` of every endpoint of groups with ``scrape_metrics``."""
        endpoints = [e for g in self._groups.values() if g.settings.scrape_metrics for e in g.endpoints.values()]
        await asyncio.gather(*(self._scrape(e) for e in endpoints))

    async def _scrape(self, endpoint: _Endpoint) -> None:
        try:
            response = await endpoint.http.get(
                f"{endpoint.root_url}/metrics", timeout=self.settings.health.probe_timeout_seconds
            )
        except (httpx2.HTTPError, OSError):
            endpoint.load = None  # stale numbers would mislead the picker
            return
        endpoint.load = parse_engine_load(response.text) if response.status_code == 200 else None

    async def resolve_dns(self) -> None:
        """Re-resolve every group's headless service: add new addresses, drain vanished ones."""
        for group in self._groups.values():
            settings = group.settings
            if not settings.dns_name:
                continue
            try:
                addresses = await self._resolver(settings.dns_name)
            except OSError:
                # Keep the current endpoints: a DNS hiccup must not empty the pool.
                _log.warning("resolving %s failed; keeping %d endpoints", settings.dns_name, len(group.endpoints))
                continue
            wanted = {}
            for address in addresses:
                host = f"[{address}]" if ":" in address else address
                url = f"{settings.dns_scheme}://{host}:{settings.dns_port}{settings.dns_path}"
                wanted[f"{group.name}/{host}:{settings.dns_port}"] = url
            for endpoint in list(group.endpoints.values()):
                if endpoint.source == "dns" and endpoint.endpoint_id not in wanted:
                    endpoint.health.draining = True
                    self._reap(endpoint)
            for endpoint_id, url in wanted.items():
                existing = group.endpoints.get(endpoint_id)
                if existing is None:
                    self._add(
                        group,
                        EndpointSettings(
                            url=url, weight=settings.dns_weight, max_concurrency=settings.dns_max_concurrency
                        ),
                        "dns",
                    )
                elif existing.health.draining and existing.source == "dns":
                    existing.health.draining = False  # came back before it drained
            self._signal_capacity()

    # ------------------------------------------------------------------ status
    def status(self) -> list[EndpointStatus]:
        """Every endpoint's state, for OperationsService and ``fintech inference status``."""
        now = self._clock.monotonic()
        rows = []
        for group in self._groups.values():
            for endpoint in group.endpoints.values():
                load = endpoint.load
                rows.append(
                    EndpointStatus(
                        endpoint_id=endpoint.endpoint_id,
                        group=group.name,
                        url=endpoint.url,
                        state=endpoint.health.state(now),
                        outstanding=endpoint.outstanding,
                        limit=endpoint.limit,
                        weight=endpoint.weight,
                        ejections=endpoint.health.ejections_total,
                        waiting=load.waiting if load else None,
                        running=load.running if load else None,
                        kv_cache_usage=load.kv_cache_usage if load else None,
                        last_probe_ok=endpoint.last_probe_ok,
                        last_probe_age_seconds=None if endpoint.last_probe_at is None else now - endpoint.last_probe_at,
                        requests_total=endpoint.requests_total,
                        failures_total=endpoint.failures_total,
                        tokens_in_total=endpoint.tokens_in_total,
                        tokens_out_total=endpoint.tokens_out_total,
                        source=endpoint.source,
                    )
                )
        return rows

    # ------------------------------------------------------------------ routing
    def _signal_capacity(self) -> None:
        event, self._slot_freed = self._slot_freed, asyncio.Event()
        event.set()

    def _order(self, group: str | None, fallback: bool) -> list[_Group]:
        if not self._groups:
            raise InferenceUnavailable("no model groups are configured", reason="LLM_NOT_CONFIGURED")
        names = list(self._groups)
        start = names.index(self._group(group).name) if group else 0
        chosen = names[start:] if fallback else [names[start]]
        return [self._groups[n] for n in chosen]

    async def _choose(
        self, groups: Sequence[_Group], tried: set[str], affinity: str | None, deadline: float
    ) -> _Endpoint:
        """Pick an endpoint from the first group that has a routable one, waiting for a free slot if needed.

        Endpoints already tried by this request are avoided while any other (in any allowed group) is
        routable; when none is, a tried one that is still routable gets the retry (a single replica).
        """
        while True:
            now = self._clock.monotonic()
            exclude = tried
            if tried and not self._has_alternative(groups, tried):
                exclude = set()
            any_routable = False
            for group in groups:
                routable = [
                    e for e in group.endpoints.values() if e.endpoint_id not in exclude and e.health.routable(now)
                ]
                if not routable:
                    continue
                any_routable = True
                free = [e for e in routable if e.outstanding < e.limit]
                if not free:
                    break  # this group can serve but is busy: wait rather than spill to the fallback group
                snapshots = [e.snapshot() for e in free]
                chosen_id: str | None = None
                if affinity is not None and self.settings.affinity.enabled:
                    preferred = preferred_by_affinity(affinity, [e.snapshot() for e in routable])
                    if preferred.outstanding < preferred.limit and not is_overloaded(preferred, self.settings.affinity):
                        chosen_id = preferred.endpoint_id
                if chosen_id is None:
                    chosen_id = await self._picker.pick(snapshots)
                return group.endpoints[chosen_id]
            if not any_routable:
                raise InferenceUnavailable("no healthy endpoint in " + ",".join(g.name for g in groups))
            remaining = deadline - now
            if remaining <= 0:
                raise InferenceDeadlineExceeded("deadline passed while every endpoint was at its limit")
            event = self._slot_freed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=min(remaining, 0.5))

    def deadline(self, time_remaining: float | None = None, deadline: float | None = None) -> float:
        """The absolute deadline (on the pool's clock) of a call given either form; the earlier wins."""
        now = self._clock.monotonic()
        limits = [now + self.settings.request_timeout_seconds]
        if time_remaining is not None:
            limits.append(now + time_remaining)
        if deadline is not None:
            limits.append(deadline)
        return min(limits)

    def _charges(self, caller: str, customer: str) -> list[BudgetCharge]:
        budgets = self.settings.budgets
        charges = []
        if caller:
            limit = budgets.caller_overrides.get(caller, budgets.caller_tokens_per_minute)
            charges.append(BudgetCharge(f"caller:{caller}", "caller", limit))
        if customer:
            charges.append(BudgetCharge(f"customer:{customer}", "customer", budgets.customer_tokens_per_minute))
        return charges

    async def _reserve(
        self, messages: Sequence[Message], max_tokens: int, caller: str, customer: str
    ) -> Reservation | None:
        if self._budget is None:
            return None
        charges = self._charges(caller, customer)
        if not charges:
            return None
        estimate = _estimate_tokens(messages, self.settings.budgets.chars_per_token) + max_tokens
        try:
            return await self._budget.reserve(charges, estimate, self._clock.now())
        except Exception as error:
            scope = getattr(error, "scope", "store")
            self.metrics.budget_rejections.labels(scope).inc()
            raise

    async def _settle(self, reservation: Reservation | None, used: int) -> None:
        if reservation is not None and self._budget is not None:
            await self._budget.settle(reservation, used)

    def _request_args(
        self,
        group: _Group,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float | None,
        response_format: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        args: dict[str, Any] = {"model": group.model, "messages": list(messages), "max_tokens": max_tokens}
        if temperature is not None:
            args["temperature"] = temperature
        if response_format is not None:
            args["response_format"] = dict(response_format)
        if extra_body:
            args["extra_body"] = dict(extra_body)
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if carrier:
            args["extra_headers"] = carrier
        return args

    async def _backoff(self, attempt: int, failure: _AttemptFailed, deadline: float, alternatives_left: bool) -> None:
        retry = self.settings.retry
        delay = self._rng.uniform(0, min(retry.backoff_max_seconds, retry.backoff_base_seconds * 2**attempt))
        if failure.retry_after is not None and not alternatives_left:
            # Only this endpoint is left: honour its Retry-After if the deadline allows.
            if failure.retry_after > min(retry.max_retry_after_seconds, deadline - self._clock.monotonic()):
                raise _GiveUp(failure.kind)
            delay = max(delay, failure.retry_after)
        delay = min(delay, max(0.0, deadline - self._clock.monotonic()))
        if delay > 0:
            await self._clock.sleep(delay)

    def _record_failure(self, endpoint: _Endpoint, failure: _AttemptFailed) -> None:
        now = self._clock.monotonic()
        group = endpoint.group.name
        self.metrics.requests.labels(group, endpoint.endpoint_id, "error").inc()
        self.metrics.errors.labels(group, endpoint.endpoint_id, failure.kind).inc()
        endpoint.failures_total += 1
        if failure.kind == "http_429":
            endpoint.health.on_throttled(now, failure.retry_after if failure.retry_after is not None else 1.0)
        elif endpoint.health.on_failure(now):
            self.metrics.ejections.labels(group, endpoint.endpoint_id).inc()
            _log.warning("endpoint %s ejected after repeated failures (%s)", endpoint.endpoint_id, failure.kind)

    def _record_success(self, endpoint: _Endpoint, usage: Usage, latency: float, requested: str) -> None:
        group = endpoint.group.name
        self.metrics.requests.labels(group, endpoint.endpoint_id, "ok").inc()
        self.metrics.latency.labels(group, endpoint.endpoint_id).observe(latency)
        self.metrics.tokens.labels(group, endpoint.endpoint_id, "in").inc(usage.prompt_tokens)
        self.metrics.tokens.labels(group, endpoint.endpoint_id, "out").inc(usage.completion_tokens)
        endpoint.tokens_in_total += usage.prompt_tokens
        endpoint.tokens_out_total += usage.completion_tokens
        if group != requested:
            self.metrics.fallbacks.labels(requested, group).inc()
        endpoint.health.on_success(self._clock.monotonic())

    def _dispatch(self, endpoint: _Endpoint) -> None:
        endpoint.outstanding += 1
        endpoint.requests_total += 1
        endpoint.health.on_dispatch(self._clock.monotonic())

    def _finish(self, endpoint: _Endpoint) -> None:
        endpoint.outstanding -= 1
        self._reap(endpoint)
        self._signal_capacity()

    # ------------------------------------------------------------------ the calls
    async def chat(
        self,
        messages: Sequence[Message],
        *,
        group: str | None = None,
        fallback: bool = True,
        max_tokens: int | None = None,
        temperature: float | None = None,
        response_format: Mapping[str, Any] | None = None,
        time_remaining: float | None = None,
        deadline: float | None = None,
        priority: Priority = Priority.INTERACTIVE,
        caller: str = "",
        customer: str = "",
        conversation_id: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> Completion:
        """One chat completion, retried across endpoints and groups within the deadline.

        Args:
            messages: OpenAI chat messages (``role``, ``content``).
            group: Model group to ask first (the primary group when None).
            fallback: Whether later groups may serve when this one cannot.
            max_tokens: Completion limit (``default_max_tokens`` when None).
            temperature: Sampling temperature (the endpoint's default when None).
            response_format: OpenAI ``response_format`` (``json_schema`` for constrained output).
            time_remaining: Seconds the caller still has (the gRPC ``context.time_remaining()``).
            deadline: Absolute deadline on the pool's clock (``clock.monotonic()``); the earlier wins.
            priority: Interactive work is admitted before batch work.
            caller: Caller identity charged in the token budget (empty: not charged).
            customer: End customer charged in the token budget (empty: not charged).
            conversation_id: Affinity key; without it a long prompt prefix is used.
            extra_body: Extra JSON fields for the endpoint (vLLM's ``guided_json`` and the like).

        Returns:
            The answer with who served it.

        Raises:
            InferenceUnavailable: no endpoint could serve (after retries and fallback).
            InferenceDeadlineExceeded: the deadline passed first.
            InferenceRejected: the endpoint refused the request itself (HTTP 4xx).
            TokenBudgetExceeded: the caller or customer budget is used up.
            BatchQueueFull: batch work shed under saturation.
        """
        started = self._clock.monotonic()
        end = self.deadline(time_remaining, deadline)
        limit = max_tokens or self.settings.default_max_tokens
        groups = self._order(group, fallback)
        requested = groups[0].name
        reservation = await self._reserve(messages, limit, caller, customer)
        used = 0
        try:
            await self._admit(priority, end)
            try:
                affinity = self._affinity(messages, conversation_id)
                tried: set[str] = set()
                attempts: list[str] = []
                for attempt in range(self.settings.retry.max_attempts):
                    endpoint = await self._choose_or_raise(groups, tried, affinity, end, attempts)
                    tried.add(endpoint.endpoint_id)
                    args = self._request_args(endpoint.group, messages, limit, temperature, response_format, extra_body)
                    self._dispatch(endpoint)
                    attempt_started = self._clock.monotonic()
                    try:
                        remaining = end - attempt_started
                        if remaining <= 0:
                            raise _AttemptFailed("timeout")
                        try:
                            response = await endpoint.client.chat.completions.create(
                                **args,
                                timeout=httpx2.Timeout(
                                    remaining, connect=min(remaining, self.settings.connect_timeout_seconds)
                                ),
                            )
                        except InferenceRejected:
                            raise
                        except Exception as error:
                            raise _classify(error) from error
                        if not response.choices:
                            raise _AttemptFailed("malformed")
                    except _AttemptFailed as failure:
                        self._finish(endpoint)
                        self._record_failure(endpoint, failure)
                        attempts.append(f"{endpoint.endpoint_id}: {failure.kind}")
                        if self._clock.monotonic() >= end:
                            self._count_unavailable(requested, "deadline")
                            raise InferenceDeadlineExceeded(
                                "deadline passed after retries", attempts=tuple(attempts)
                            ) from None
                        if attempt + 1 >= self.settings.retry.max_attempts:
                            break
                        self.metrics.retries.labels(endpoint.group.name, failure.kind).inc()
                        alternatives = self._has_alternative(groups, tried)
                        if not alternatives and failure.retry_after is not None:
                            tried.discard(endpoint.endpoint_id)
                            endpoint.health.throttled_until = 0.0  # we wait for it ourselves below
                        try:
                            await self._backoff(attempt, failure, end, alternatives)
                        except _GiveUp:
                            break
                        continue
                    except BaseException:
                        self._finish(endpoint)
                        raise
                    self._finish(endpoint)
                    choice = response.choices[0]
                    text = choice.message.content or ""
                    usage = self._usage(response.usage, messages, text)
                    used = usage.prompt_tokens + usage.completion_tokens
                    latency = self._clock.monotonic() - attempt_started
                    served = ServedBy(endpoint.group.name, endpoint.group.model, endpoint.endpoint_id, requested)
                    self._record_success(endpoint, usage, latency, requested)
                    return Completion(
                        text=text,
                        finish_reason=choice.finish_reason or "",
                        served_by=served,
                        usage=usage,
                        attempts=attempt + 1,
                        latency_seconds=self._clock.monotonic() - started,
                    )
                self._count_unavailable(requested, "retries_exhausted")
                raise InferenceUnavailable(
                    f"no endpoint answered after {len(attempts)} attempts", attempts=tuple(attempts)
                )
            finally:
                self._admission.release()
        finally:
            await self._settle(reservation, used)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        group: str | None = None,
        fallback: bool = True,
        max_tokens: int | None = None,
        temperature: float | None = None,
        response_format: Mapping[str, Any] | None = None,
        time_remaining: float | None = None,
        deadline: float | None = None,
        priority: Priority = Priority.INTERACTIVE,
        caller: str = "",
        customer: str = "",
        conversation_id: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream a chat completion as text deltas; the last event carries the finish reason and usage.

        Takes the same arguments as :meth:`chat`. Before the first token a failure (including a first
        token slower than ``first_token_timeout_seconds``) is retried on another endpoint; after it,
        a failure raises :class:`InferenceStreamInterrupted` and is never retried.

        Raises:
            The errors of :meth:`chat`, and InferenceStreamInterrupted.
        """
        end = self.deadline(time_remaining, deadline)
        limit = max_tokens or self.settings.default_max_tokens
        groups = self._order(group, fallback)
        requested = groups[0].name
        reservation = await self._reserve(messages, limit, caller, customer)
        used = 0
        streamed_chars = 0  # charged even when the reader abandons the stream or it breaks
        try:
            await self._admit(priority, end)
            try:
                affinity = self._affinity(messages, conversation_id)
                tried: set[str] = set()
                attempts: list[str] = []
                for attempt in range(self.settings.retry.max_attempts):
                    endpoint = await self._choose_or_raise(groups, tried, affinity, end, attempts)
                    tried.add(endpoint.endpoint_id)
                    args = self._request_args(endpoint.group, messages, limit, temperature, response_format, extra_body)
                    served = ServedBy(endpoint.group.name, endpoint.group.model, endpoint.endpoint_id, requested)
                    self._dispatch(endpoint)
                    attempt_started = self._clock.monotonic()
                    delivered = 0
                    try:
                        events = self._stream_attempt(endpoint, args, end, served, attempt_started)
                        async with contextlib.aclosing(events):
                            async for event in events:
                                if event.usage is not None:
                                    used = event.usage.prompt_tokens + event.usage.completion_tokens
                                    self._record_success(
                                        endpoint, event.usage, self._clock.monotonic() - attempt_started, requested
                                    )
                                delivered += len(event.delta)
                                streamed_chars += len(event.delta)
                                yield event
                        return
                    except _AttemptFailed as failure:
                        self._record_failure(endpoint, failure)
                        attempts.append(f"{endpoint.endpoint_id}: {failure.kind}")
                        if delivered or failure.kind == "stream_cut":
                            self._count_unavailable(requested, "stream_interrupted")
                            raise InferenceStreamInterrupted(
                                f"stream from {endpoint.endpoint_id} broke after its first token",
                                delivered_chars=delivered,
                                endpoint_id=endpoint.endpoint_id,
                            ) from None
                        if self._clock.monotonic() >= end:
                            self._count_unavailable(requested, "deadline")
                            raise InferenceDeadlineExceeded(
                                "deadline passed before the first token", attempts=tuple(attempts)
                            ) from None
                        if attempt + 1 >= self.settings.retry.max_attempts:
                            break
                        self.metrics.retries.labels(endpoint.group.name, failure.kind).inc()
                        alternatives = self._has_alternative(groups, tried)
                        if not alternatives and failure.retry_after is not None:
                            tried.discard(endpoint.endpoint_id)
                            endpoint.health.throttled_until = 0.0
                        try:
                            await self._backoff(attempt, failure, end, alternatives)
                        except _GiveUp:
                            break
                    finally:
                        self._finish(endpoint)
                self._count_unavailable(requested, "retries_exhausted")
                raise InferenceUnavailable(
                    f"no endpoint streamed after {len(attempts)} attempts", attempts=tuple(attempts)
                )
            finally:
                self._admission.release()
        finally:
            if used == 0 and streamed_chars:
                per = self.settings.budgets.chars_per_token
                used = _estimate_tokens(messages, per) + int(streamed_chars / per) + 1
            await self._settle(reservation, used)

    async def _stream_attempt(
        self, endpoint: _Endpoint, args: dict[str, Any], end: float, served: ServedBy, started: float
    ) -> AsyncGenerator[StreamEvent, None]:
        """One streaming attempt; raises _AttemptFailed (``stream_cut`` once text was delivered)."""
        now = self._clock.monotonic()
        first_token_by = min(end, now + self.settings.first_token_timeout_seconds)
        remaining = end - now
        if remaining <= 0:
            raise _AttemptFailed("timeout")
        try:
            stream = await asyncio.wait_for(
                endpoint.client.chat.completions.create(
                    **args,
                    stream=True,
                    stream_options={"include_usage": True},
                    timeout=httpx2.Timeout(remaining, connect=min(remaining, self.settings.connect_timeout_seconds)),
                ),
                timeout=max(0.0, first_token_by - now),
            )
        except InferenceRejected:
            raise
        except TimeoutError:
            raise _AttemptFailed("first_token_timeout") from None
        except Exception as error:
            raise _classify(error) from error
        text_chars = 0
        finish_reason: str | None = None
        usage: Usage | None = None
        iterator = stream.__aiter__()
        try:
            while True:
                now = self._clock.monotonic()
                wait_until = first_token_by if text_chars == 0 else end
                try:
                    chunk = await asyncio.wait_for(iterator.__anext__(), timeout=max(0.0, wait_until - now))
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise _AttemptFailed("first_token_timeout" if text_chars == 0 else "stream_cut") from None
                except InferenceRejected:
                    raise
                except Exception as error:
                    failure = _classify(error)
                    if text_chars:
                        raise _AttemptFailed("stream_cut") from error
                    raise failure from error
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                for choice in chunk.choices:
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                    delta = choice.delta.content if choice.delta else None
                    if delta:
                        if text_chars == 0:
                            self.metrics.ttft.labels(endpoint.group.name, endpoint.endpoint_id).observe(
                                self._clock.monotonic() - started
                            )
                        text_chars += len(delta)
                        yield StreamEvent(delta=delta, served_by=served)
        finally:
            with contextlib.suppress(Exception):
                await stream.close()
        if finish_reason is None:
            # The server ended the body without a finish reason: the answer is incomplete.
            raise _AttemptFailed("stream_cut" if text_chars else "malformed")
        if usage is None:
            usage = Usage(
                _estimate_tokens(args["messages"], self.settings.budgets.chars_per_token),
                max(1, int(text_chars / self.settings.budgets.chars_per_token)),
            )
        yield StreamEvent(delta="", served_by=served, finish_reason=finish_reason, usage=usage)

    # ------------------------------------------------------------------ helpers of the calls
    async def _admit(self, priority: Priority, end: float) -> None:
        wait = end - self._clock.monotonic()
        if priority is Priority.BATCH:
            wait = min(wait, self.settings.batch_max_wait_seconds)
        try:
            await self._admission.acquire(priority, wait)
        except BatchQueueFull:
            self.metrics.shed.labels("batch", "queue").inc()
            raise
        except InferenceDeadlineExceeded:
            self.metrics.shed.labels(priority.name.lower(), "deadline").inc()
            raise

    async def _choose_or_raise(
        self, groups: Sequence[_Group], tried: set[str], affinity: str | None, end: float, attempts: list[str]
    ) -> _Endpoint:
        try:
            return await self._choose(groups, tried, affinity, end)
        except InferenceUnavailable as error:
            self._count_unavailable(groups[0].name, "no_healthy_endpoint")
            raise InferenceUnavailable(error.message, attempts=tuple(attempts)) from None
        except InferenceDeadlineExceeded as error:
            self._count_unavailable(groups[0].name, "deadline")
            raise InferenceDeadlineExceeded(error.message, attempts=tuple(attempts)) from None

    def _has_alternative(self, groups: Sequence[_Group], tried: set[str]) -> bool:
        now = self._clock.monotonic()
        return any(e.endpoint_id not in tried and e.health.routable(now) for g in groups for e in g.endpoints.values())

    def _affinity(self, messages: Sequence[Message], conversation_id: str | None) -> str | None:
        if not self.settings.affinity.enabled:
            return None
        if conversation_id:
            return f"conversation:{conversation_id}"
        return affinity_key_for([dict(m) for m in messages], self.settings.affinity)

    def _usage(self, reported: Any, messages: Sequence[Message], text: str) -> Usage:
        if reported is not None:
            return Usage(int(reported.prompt_tokens or 0), int(reported.completion_tokens or 0))
        per = self.settings.budgets.chars_per_token
        return Usage(_estimate_tokens(messages, per), max(1, int(len(text) / per)))

    def _count_unavailable(self, group: str, reason: str) -> None:
        self.metrics.unavailable.labels(group, reason).inc()


class _GiveUp(Exception):
    """Waiting for the only endpoint left would overrun the deadline or the Retry-After cap."""
