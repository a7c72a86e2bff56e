"""Risk engine throughput: ``python bench/risk.py [--count N]``.

Engine part (this file today): deterministic assessments per second through
the single path (:meth:`RiskEngine.assess`, one call per application) - the
baseline - and through the vectorised batch path
(:meth:`RiskEngine.assess_batch` in chunks of ``RiskSettings.batch_chunk_size``),
measured in the same run on the same applications, plus the scorecard alone
(``score_one`` vs ``score_batch``). Times are this process's CPU time, best of
three interleaved runs (the development machine is shared). It checks that both paths give identical
results before reporting, prints the ratios and writes ``bench/results/risk.json``.

Stream part (:func:`bench_stream`, same run): assessments per second over the
``AssessLoanApplications`` bidirectional stream over mTLS, with every assessment
stored (sealed under its applicant's data key) and audited (hash-chained, one
record each, ``append_bulk``) in one transaction per micro-batch, no explanation.
The server runs in its own process (``--serve``: SQLite under a temporary
directory, development PKI); the client streams pre-built items and counts
results. Reported: wall-clock rate, the server's CPU seconds and peak RSS, the
ratio to the engine's batch path, and the ratio to the transport ceiling measured
in the same run: the same stream, messages and mTLS against a bare ``grpc.aio``
echo servicer that does no work (``--serve --echo``). Then a client writes
``--unread`` items and reads nothing: how many writes complete and what the
server's memory does (flow control).

Explanation part (:func:`bench_explanations`): latency per application of the
unary ``AssessLoanApplication`` with an explanation from the development LLM
(``inference.devserver``: Gemma 3 270M through xllamacpp), p50/p99 over
``--explained`` applications, against the same applications without one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from server.risk.domain import (  # noqa: E402
    Applicant,
    BureauAttributes,
    CheckingAccountStatus,
    EmploymentType,
    HousingStatus,
    Loan,
    LoanApplication,
    LoanPurpose,
    Money,
)
from server.risk.engine import RiskEngine  # noqa: E402
from server.risk.settings import RiskSettings  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results" / "risk.json"
SEED = 20261125


def applications(count: int, seed: int = SEED) -> list[LoanApplication]:
    """Realistic, varied applications (fixed seed), including a few that hit each policy rule."""
    rng = random.Random(seed)

    def eur(low: int, high: int) -> Money:
        return Money(Decimal(rng.randint(low * 100, high * 100)) / 100, "EUR")

    out = []
    for index in range(count):
        applicant = Applicant(
            applicant_id=f"cust-{index}",
            age=rng.randint(17, 85),
            employment_type=rng.choice(list(EmploymentType)),
            employment_tenure_months=rng.randint(0, 400),
            monthly_income=rng.choice([eur(900, 2_500), eur(2_500, 9_000), eur(2_500, 9_000)]),
            existing_monthly_debt_payments=rng.choice([eur(0, 0), eur(0, 400), eur(0, 900)]),
            credit_score=rng.randint(520, 850),
            dependants=rng.choice([0, 0, 1, 2, 3]),
            housing_status=rng.choice(list(HousingStatus)),
            savings_balance=rng.choice([None, eur(0, 40_000)]),
            checking_account_status=rng.choice([None, *CheckingAccountStatus]),
            existing_credits_count=rng.randint(0, 3),
        )
        income = int(applicant.monthly_income.amount)
        loan = Loan(
            amount=eur(500, max(1_000, min(40_000, income * 6))),
            term_months=rng.choice([12, 18, 24, 36, 48, 60, 72, 84]),
            purpose=rng.choice(list(LoanPurpose)),
            product_code="personal-loan-std",
            annual_rate_bps=rng.choice([0, 399, 725, 1099, 1499]),
        )
        bureau = rng.choice(
            [None, BureauAttributes(rng.randint(0, 8), rng.choice([0, 0, 0, 1, 2]), rng.randint(0, 90))]
        )
        out.append(LoanApplication(f"app-{index}", applicant, loan, bureau))
    return out


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def bench_engine(engine: RiskEngine, batch: list[LoanApplication], chunk: int, repeats: int) -> dict[str, Any]:
    """Single vs vectorised batch, best of ``repeats`` each, after checking the results agree."""
    single_results = [engine.assess(a) for a in batch]
    batch_results: list[Any] = []
    for start in range(0, len(batch), chunk):
        batch_results.extend(engine.assess_batch(batch[start : start + chunk]))
    if single_results != batch_results:
        raise AssertionError("single and batch paths disagree; refusing to report a speed")

    def time_single() -> float:
        started = time.process_time()
        for application in batch:
            engine.assess(application)
        return time.process_time() - started

    def time_batch() -> float:
        started = time.process_time()
        for start in range(0, len(batch), chunk):
            engine.assess_batch(batch[start : start + chunk])
        return time.process_time() - started

    prepared = [engine._prepare(a).features.values for a in batch]  # scorecard-only comparison

    def time_score_one() -> float:
        started = time.process_time()
        for row in prepared:
            engine.scorecard.score_one(row)
        return time.process_time() - started

    def time_score_batch() -> float:
        started = time.process_time()
        for start in range(0, len(prepared), chunk):
            engine.scorecard.score_batch(prepared[start : start + chunk])
        return time.process_time() - started

    # Interleaved, best of `repeats`, in process CPU time: the machine is shared (2 cores, several agents), and
    # wall time would mostly measure the neighbours; CPU time of this process is what the engine costs.
    timings: dict[str, list[float]] = {"single": [], "batch": [], "score_one": [], "score_batch": []}
    for _ in range(repeats):
        timings["single"].append(time_single())
        timings["batch"].append(time_batch())
        timings["score_one"].append(time_score_one())
        timings["score_batch"].append(time_score_batch())
    single, vectorised = min(timings["single"]), min(timings["batch"])
    score_one, score_batch = min(timings["score_one"]), min(timings["score_batch"])
    decisions: dict[str, int] = {}
    for result in single_results:
        decisions[result.recommendation.value] = decisions.get(result.recommendation.value, 0) + 1
    return {
        "applications": len(batch),
        "chunk_size": chunk,
        "repeats_best_of": repeats,
        "single_per_s": round(_rate(len(batch), single), 1),
        "batch_per_s": round(_rate(len(batch), vectorised), 1),
        "batch_over_single": round(single / vectorised, 3),
        "scorecard_only": {
            "score_one_per_s": round(_rate(len(batch), score_one), 1),
            "score_batch_per_s": round(_rate(len(batch), score_batch), 1),
            "batch_over_single": round(score_one / score_batch, 3),
        },
        "identical_results": True,
        "decisions": decisions,
    }


def bench_lane(engine: RiskEngine, count: int, chunk: int, repeats: int) -> dict[str, Any]:
    """The micro-batch decide path: the columnar lane vs the domain path on the same protobuf requests.

    Both take contract-valid ``AssessLoanApplicationRequest`` messages and produce the ``LoanAssessment``
    encoding: the domain path maps each request (``application_from_proto``), runs ``assess_batch`` and
    ``assessment_to_proto``; the lane (:class:`server.risk.lane.DecisionLane`, what the stream's micro-batch
    messages use) reads the request's fields once and writes the encoding directly. Results are checked
    identical first. CPU time of this process, best of ``repeats``.
    """
    from fintech.common.v1 import common_pb2
    from fintech.risk.v1 import risk_service_pb2 as pb

    from server.risk import mapping
    from server.risk.lane import DecisionLane

    lane = DecisionLane(engine)
    requests = [item.application for item in _stream_items(count, SEED + 6)]
    chunks = [requests[start : start + chunk] for start in range(0, len(requests), chunk)]

    def domain_path(part: list[Any]) -> list[bytes]:
        outcomes = engine.assess_batch([mapping.application_from_proto(r) for r in part])
        return [mapping.assessment_to_proto(o).SerializeToString() for o in outcomes]  # type: ignore[arg-type]

    for part in chunks:
        for expected, got in zip(domain_path(part), lane.assess(part), strict=True):
            message = pb.LoanAssessment.FromString(expected)
            message.explanation_source = common_pb2.EXPLANATION_SOURCE_NONE
            message.provenance.validation_outcome = common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE
            if got is None or pb.LoanAssessment.FromString(got[0]) != message:
                raise AssertionError("the lane and the engine disagree; refusing to report a speed")
    timings: dict[str, list[float]] = {"domain": [], "lane": []}
    for _ in range(repeats):
        started = time.process_time()
        for part in chunks:
            domain_path(part)
        timings["domain"].append(time.process_time() - started)
        started = time.process_time()
        for part in chunks:
            lane.assess(part)
        timings["lane"].append(time.process_time() - started)
    domain, fast = min(timings["domain"]), min(timings["lane"])
    return {
        "applications": len(requests),
        "chunk_size": chunk,
        "domain_path_per_s": round(_rate(len(requests), domain), 1),
        "lane_per_s": round(_rate(len(requests), fast), 1),
        "lane_over_domain_path": round(domain / fast, 3),
        "what": "protobuf request -> LoanAssessment encoding (the lane includes the contract check)",
        "identical_results": True,
    }


def _serve(data_dir: Path, *, llm_url: str | None = None, echo: bool = False) -> None:
    """``--serve``: a server process for the stream benchmarks (port written to ``data_dir/ready``).

    By default the full RiskService (runtime interceptors, SQLite, audit, keyring); with ``llm_url`` its
    inference pool points at that OpenAI-compatible endpoint. With ``echo``: the transport ceiling, a bare
    ``grpc.aio`` server with the same mTLS whose servicer answers each item with a fixed, realistically
    sized result and does nothing else.
    """
    import asyncio
    import signal

    pki = data_dir / "pki"
    if echo:
        asyncio.run(_serve_echo(data_dir, pki))
        return

    from server.risk.service import build
    from server.runtime.app import start_server
    from server.runtime.config import load_settings
    from server.runtime.wiring import build_context, prepare_state

    extra: dict[str, Any] = {}
    if llm_url is not None:
        extra["inference"] = {
            "request_timeout_seconds": 180,
            "groups": [{"name": "dev", "model": "gemma3-270m", "endpoints": [{"url": llm_url, "max_concurrency": 2}]}],
            "budgets": {"enabled": False},
        }
    settings = load_settings(
        None,
        data_dir=data_dir / "state",
        server={"port": 0, "metrics_port": 0, "services": ["operations"]},  # one is required; risk is added below
        tls={"ca_file": pki / "ca.pem", "cert_file": pki / "server.pem", "key_file": pki / "server-key.pem"},
        **extra,
    )

    async def run() -> None:
        await prepare_state(settings)
        ctx = await build_context(settings)
        running = await start_server(ctx, extra_bindings=[await build(ctx)])
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        (data_dir / "ready").write_text(str(running.port))
        await stop.wait()
        await running.stop(grace=0)
        for closer in reversed(ctx.closers):
            await closer()

    asyncio.run(run())


async def _serve_echo(data_dir: Path, pki: Path) -> None:
    import asyncio
    import signal

    import grpc
    from fintech.risk.v1 import risk_service_pb2 as pb
    from fintech.risk.v1 import risk_service_pb2_grpc as pb_grpc

    from server.risk.samples import approve_request

    # A real result's size: the engine's answer for a sample application, as the full service sends it.
    engine = RiskEngine.from_files()
    from server.risk import mapping

    result = mapping.assessment_to_proto(engine.assess(mapping.application_from_proto(approve_request())))

    class Echo(pb_grpc.RiskServiceServicer):
        async def AssessLoanApplications(self, request_iterator: Any, context: Any) -> Any:
            async for item in request_iterator:
                if item.items:  # a micro-batch message: one fixed result per item
                    yield pb.AssessLoanApplicationsResponse(
                        item_id=item.item_id,
                        results=[
                            pb.AssessLoanApplicationsResponse(item_id=i.item_id, assessment=result) for i in item.items
                        ],
                    )
                else:
                    yield pb.AssessLoanApplicationsResponse(item_id=item.item_id, assessment=result)

    server = grpc.aio.server()
    pb_grpc.add_RiskServiceServicer_to_server(Echo(), server)
    credentials = grpc.ssl_server_credentials(
        [((pki / "server-key.pem").read_bytes(), (pki / "server.pem").read_bytes())],
        root_certificates=(pki / "ca.pem").read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port("localhost:0", credentials)
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    (data_dir / "ready").write_text(str(port))
    await stop.wait()
    await server.stop(0)


def _rss(pid: int) -> int:
    """Current resident memory (bytes) of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _descendants(pid: int) -> list[int]:
    """The live child processes of ``pid`` and theirs (the service's decide workers), from /proc."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                found += [int(child), *_descendants(int(child))]
    return found


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of one process, from /proc (0 when it is gone)."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _process_figures(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) of a process and its live descendants, and its peak RSS (bytes)."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = 0.0
    for member in (pid, *_descendants(pid)):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks
    peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    return cpu, peak


def _stream_items(count: int, seed: int) -> list[Any]:
    """``count`` varied stream items with fresh request ids (fixed seed)."""
    import uuid

    from fintech.risk.v1 import risk_service_pb2 as pb

    from server.risk.samples import varied_request

    rng = random.Random(seed)
    items = []
    for index in range(count):
        request = varied_request(rng, index)
        request.request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        items.append(pb.AssessLoanApplicationsRequest(item_id=str(index), application=request))
    return items


def _micro_batches(items: list[Any], size: int) -> list[Any]:
    """The same items as micro-batch messages of ``size`` items each (``items``; ids ``batch-<n>``)."""
    from fintech.risk.v1 import risk_service_pb2 as pb

    return [
        pb.AssessLoanApplicationsRequest(item_id=f"batch-{start}", items=items[start : start + size])
        for start in range(0, len(items), size)
    ]


@contextlib.contextmanager
def _server_process(*flags: str) -> Iterator[tuple[subprocess.Popen[bytes], int, Any]]:
    """A ``--serve`` process (with ``flags``), its port and client credentials (role core-banking)."""
    import grpc

    from server.runtime.pki import init_dev_pki

    with tempfile.TemporaryDirectory(prefix="risk-bench-") as folder:
        data_dir = Path(folder)
        pki = init_dev_pki(data_dir / "pki")
        env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'clients' / 'python'}"}
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(data_dir), *flags],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 120
            while not (data_dir / "ready").exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    error = server.stderr.read().decode()[-800:] if server.stderr else ""
                    raise RuntimeError(f"server did not start: {error}")
                time.sleep(0.1)
            issued = pki.client("core-banking")
            credentials = grpc.ssl_channel_credentials(
                pki.ca.read_bytes(), issued.key.read_bytes(), issued.cert.read_bytes()
            )
            yield server, int((data_dir / "ready").read_text()), credentials
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(30)


async def _stream(port: int, credentials: Any, batch: list[Any]) -> tuple[float, dict[str, int], float]:
    """Stream ``batch`` (single items or micro-batch messages) and read every result.

    Returns:
        Wall seconds, results by decision (``ERROR`` for errors), and this client's CPU seconds.
    """
    import grpc
    from fintech.risk.v1 import risk_service_pb2 as pb
    from fintech.risk.v1 import risk_service_pb2_grpc as pb_grpc

    names = {value: name for name, value in pb.Recommendation.items()}
    async with grpc.aio.secure_channel(f"localhost:{port}", credentials) as channel:
        stub = pb_grpc.RiskServiceStub(channel)

        async def requests() -> Any:
            for item in batch:
                yield item

        counts: dict[str, int] = {}
        cpu = time.process_time()
        start = time.perf_counter()
        async for response in stub.AssessLoanApplications(requests()):
            for result in response.results or (response,):
                kind = result.WhichOneof("result")
                name = names[result.assessment.recommendation] if kind == "assessment" else "ERROR"
                counts[name] = counts.get(name, 0) + 1
        return time.perf_counter() - start, counts, time.process_time() - cpu


async def _unread(port: int, credentials: Any, server_pid: int, batch: list[Any]) -> dict[str, Any]:
    """Write ``batch`` and read nothing: how far the client gets and what the server's memory does."""
    import asyncio

    import grpc
    from fintech.risk.v1 import risk_service_pb2_grpc as pb_grpc

    rss_before = _rss(server_pid)
    async with grpc.aio.secure_channel(f"localhost:{port}", credentials) as channel:
        call = pb_grpc.RiskServiceStub(channel).AssessLoanApplications()
        written = [0]

        async def write_all() -> None:
            for item in batch:
                await call.write(item)
                written[0] += 1

        writer = asyncio.create_task(write_all())
        started = last_change = time.monotonic()
        seen = 0
        while time.monotonic() - last_change < 3.0 and time.monotonic() - started < 120 and not writer.done():
            await asyncio.sleep(0.2)
            if written[0] != seen:
                seen, last_change = written[0], time.monotonic()
        stalled_after = time.monotonic() - started
        rss_stalled = _rss(server_pid)
        cpu_stalled, _ = _process_figures(server_pid)
        await asyncio.sleep(3.0)  # still reading nothing: a held-back server does no work meanwhile
        rss_later = _rss(server_pid)
        cpu_later, _ = _process_figures(server_pid)
        held = written[0]
        call.cancel()
        writer.cancel()
        with contextlib.suppress(BaseException):
            await writer
    return {
        "items": len(batch),
        "client_writes_completed": held,
        "client_held_back": held < len(batch),
        "server_rss_before_mb": round(rss_before / 2**20, 1),
        "server_rss_stalled_mb": round(rss_stalled / 2**20, 1),
        "server_rss_3s_later_mb": round(rss_later / 2**20, 1),
        "server_cpu_s_in_those_3s": round(cpu_later - cpu_stalled, 2),
        "waited_for_stall_s": round(stalled_after, 1),
    }


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _measure(
    server: subprocess.Popen[bytes], port: int, credentials: Any, messages: list[Any], items: int
) -> dict[str, Any]:
    """One timed stream of ``messages`` (``items`` applications) with CPU and load figures."""
    import asyncio

    load_before = _load()
    cpu_before, _ = _process_figures(server.pid)
    main_before = _cpu_of(server.pid)
    seconds, counts, client_cpu = asyncio.run(_stream(port, credentials, messages))
    cpu_after, peak = _process_figures(server.pid)
    server_cpu = cpu_after - cpu_before
    main_cpu = _cpu_of(server.pid) - main_before
    return {
        "applications": items,
        "messages": len(messages),
        "per_s": round(items / seconds, 1),
        "seconds": round(seconds, 2),
        "server_cpu_seconds": round(server_cpu, 2),
        "client_cpu_seconds": round(client_cpu, 2),
        "server_cpu_s_per_1000": round(server_cpu / items * 1000, 4),
        "client_cpu_s_per_1000": round(client_cpu / items * 1000, 4),
        "cpu_s_per_1000": round((server_cpu + client_cpu) / items * 1000, 4),
        "server_main_cpu_s_per_1000": round(main_cpu / items * 1000, 4),
        "decide_workers_cpu_s_per_1000": round((server_cpu - main_cpu) / items * 1000, 4),
        "per_server_cpu_s": round(items / max(server_cpu, 1e-9), 1),
        "server_peak_rss_mb": round(peak / 2**20, 1),
        "results": counts,
        "errors": counts.get("ERROR", 0),
        "load_avg_1m_before": load_before,
        "load_avg_1m_after": _load(),
    }


def bench_stream(count: int, *, batch_size: int = 500, unread: int = 30_000, single_count: int = 0) -> dict[str, Any]:
    """Assessments/s over the mTLS AssessLoanApplications stream, each stored and audited (no explanation).

    Main figure: micro-batch messages of ``batch_size`` items (``items``). In the same run: the same
    stream with one application per message (``single_count`` applications; the form before micro-batch
    messages), the transport ceilings (the same stream and mTLS against an echo servicer that does no work,
    in both forms), and a client that writes ``unread`` single items and reads nothing (flow control).

    Returns:
        The figures (``measured`` false with the reason if a server could not be started).
    """
    import asyncio

    single_count = single_count or max(2_000, count // 5)
    items = _stream_items(count, SEED)
    singles = _stream_items(single_count, SEED + 4)
    warm = min(500, count // 10)
    batches = _micro_batches(items[warm:], batch_size)
    figures: dict[str, Any] = {}
    try:
        with _server_process("--echo") as (server, port, credentials):
            asyncio.run(_stream(port, credentials, items[:warm]))
            figures["echo_ceiling"] = {
                **_measure(server, port, credentials, singles, single_count),
                "what": "bare grpc.aio server, same mTLS and messages (one per application), no interceptors, no work",
            }
            figures["echo_ceiling_batched"] = {
                **_measure(server, port, credentials, batches, count - warm),
                "what": f"the same echo server, micro-batch messages of {batch_size} items",
            }
        with _server_process() as (server, port, credentials):
            asyncio.run(_stream(port, credentials, _micro_batches(items[:warm], batch_size)))  # warm-up
            batched = _measure(server, port, credentials, batches, count - warm)
            single = _measure(server, port, credentials, _stream_items(single_count, SEED + 5), single_count)
            figures["worker_rss_mb"] = round(sum(_rss(child) for child in _descendants(server.pid)) / 2**20, 1)
            figures["unread_client"] = (
                asyncio.run(_unread(port, credentials, server.pid, _stream_items(unread, SEED + 2)))
                if unread > 0
                else {"measured": False}
            )
    except RuntimeError as error:
        return {"measured": False, "why": str(error)}
    return {
        "measured": True,
        **batched,
        "batch_size": batch_size,
        "one_per_message": single,
        "server_cpu_includes": "the server process and its decide worker process(es)",
        "persistence": (
            "SQLite (WAL, synchronous=FULL), one transaction per micro-batch message (per 256 coalesced single "
            "items), every assessment a row sealed under its applicant's data key; audit: one hash-chained record "
            "per micro-batch message naming every assessment (id, request id, decision, row digest); single "
            "items: one record each"
        ),
        "pipeline": "reader -> decide (1 worker process) -> store -> writer; at most 2,048 items in flight",
        "explanation": False,
        "goal_per_s": 10_000,
        **figures,
        "over_echo_ceiling_batched": round(batched["per_s"] / figures["echo_ceiling_batched"]["per_s"], 3),
        "over_one_per_message": round(batched["per_s"] / single["per_s"], 3),
        "one_per_message_over_echo_ceiling": round(single["per_s"] / figures["echo_ceiling"]["per_s"], 3),
        "projected_per_s_on_2_free_cores": round(2 * 1000 / batched["cpu_s_per_1000"], 0),
    }


def bench_explanations(count: int) -> dict[str, Any]:
    """Latency per application with an LLM explanation from the development LLM, and without, same run.

    Unary ``AssessLoanApplication`` over mTLS to a server process whose inference pool points at
    ``inference.devserver`` (Gemma 3 270M base through xllamacpp: its answers are mostly rejected by the
    checker, so the figure includes the retry and the template fallback, as in production on failure).

    Returns:
        p50/p99 with and without explanations and the explanation sources (``measured`` false if the
        development LLM could not be started).
    """
    import asyncio
    import uuid

    import grpc
    from _common import summary_ms
    from fintech.common.v1 import common_pb2
    from fintech.risk.v1 import risk_service_pb2_grpc as pb_grpc

    from inference.devserver import start_devserver
    from server.risk.samples import varied_request
    from tests.fixtures.envoy import free_port

    try:
        llm = start_devserver(free_port())
    except RuntimeError as error:
        return {"measured": False, "why": str(error)}
    rng = random.Random(SEED + 3)
    requests = [varied_request(rng, index) for index in range(count)]
    try:
        with _server_process("--llm", llm.base_url) as (_server, port, credentials):

            async def measure() -> tuple[list[float], list[float], dict[str, int]]:
                async with grpc.aio.secure_channel(f"localhost:{port}", credentials) as channel:
                    stub = pb_grpc.RiskServiceStub(channel)
                    plain, explained, sources = [], [], {}
                    warm = varied_request(rng, count)
                    warm.include_explanation = True
                    await stub.AssessLoanApplication(warm, timeout=600)  # loads the model's weights and caches
                    for request in requests:
                        for with_llm in (False, True):
                            request.request_id = str(uuid.uuid4())
                            request.include_explanation = with_llm
                            started = time.perf_counter()
                            response = await stub.AssessLoanApplication(request, timeout=600)
                            (explained if with_llm else plain).append(time.perf_counter() - started)
                            if with_llm:
                                source = common_pb2.ExplanationSource.Name(response.assessment.explanation_source)
                                sources[source] = sources.get(source, 0) + 1
                    return plain, explained, sources

            plain, explained, sources = asyncio.run(measure())
    except RuntimeError as error:
        return {"measured": False, "why": str(error)}
    finally:
        llm.stop()
    with_llm, without = summary_ms(explained), summary_ms(plain)
    return {
        "measured": True,
        "applications": count,
        "llm": "gemma3-270m base (inference.devserver, xllamacpp), 1 thread, max_tokens 400, 2 attempts",
        "with_explanation": with_llm,
        "without_explanation": without,
        "p50_ratio": round(with_llm["p50_ms"] / without["p50_ms"], 1),
        "explanation_sources": sources,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description="Risk engine throughput")
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stream-count", type=int, default=50_000, help="applications over the stream")
    parser.add_argument("--batch-size", type=int, default=500, help="applications per micro-batch message")
    parser.add_argument("--single-count", type=int, default=0, help="applications one per message (0: 1/5)")
    parser.add_argument("--unread", type=int, default=30_000, help="items a non-reading client writes")
    parser.add_argument("--explained", type=int, default=6, help="applications explained by the development LLM")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--llm", help=argparse.SUPPRESS)
    parser.add_argument("--echo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        _serve(args.serve, llm_url=args.llm, echo=args.echo)
        return 0
    engine = RiskEngine.from_files()
    settings = RiskSettings()
    batch = applications(args.count)
    # Different applications per run but the same fixed seed: the annuity cache warms on this set's terms.
    engine.assess_batch(applications(200, seed=SEED + 1))
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "model_id": engine.scorecard.model_id,
        "engine": bench_engine(engine, batch, settings.batch_chunk_size, args.repeats),
        "lane": bench_lane(engine, min(args.count, 10_000), 500, args.repeats),
        "stream": bench_stream(
            args.stream_count, batch_size=args.batch_size, unread=args.unread, single_count=args.single_count
        ),
        "explanations": bench_explanations(args.explained) if args.explained > 0 else {"measured": False},
        "load_average": os.getloadavg(),
    }
    if result["stream"].get("measured"):
        result["stream"]["over_engine_batch"] = round(result["stream"]["per_s"] / result["engine"]["batch_per_s"], 3)
        result["stream"]["over_lane"] = round(result["stream"]["per_s"] / result["lane"]["lane_per_s"], 3)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    e = result["engine"]
    print(
        f"engine: single {e['single_per_s']:,.0f}/s  batch {e['batch_per_s']:,.0f}/s  "
        f"ratio {e['batch_over_single']:.2f}x  (scorecard only {e['scorecard_only']['batch_over_single']:.2f}x)"
    )
    la = result["lane"]
    print(
        f"micro-batch decide path (protobuf in, encoding out): lane {la['lane_per_s']:,.0f}/s vs domain path "
        f"{la['domain_path_per_s']:,.0f}/s ({la['lane_over_domain_path']:.2f}x)"
    )
    st = result["stream"]
    if st.get("measured"):
        met = "met" if st["per_s"] >= st["goal_per_s"] else "NOT met"
        print(
            f"stream, micro-batches of {st['batch_size']}: {st['per_s']:,.0f}/s over mTLS with storage and audit "
            f"({st['applications']:,} applications, {st['over_engine_batch']:.2f}x the engine batch path; goal "
            f"{st['goal_per_s']:,}/s {met}); CPU per 1,000: server {st['server_cpu_s_per_1000']:.3f} s + client "
            f"{st['client_cpu_s_per_1000']:.3f} s = {st['cpu_s_per_1000']:.3f} s (server: gRPC, storage and audit "
            f"{st['server_main_cpu_s_per_1000']:.3f} s, decide worker {st['decide_workers_cpu_s_per_1000']:.3f} s) "
            f"(~{st['projected_per_s_on_2_free_cores']:,.0f}/s on 2 free cores); "
            f"load {st['load_avg_1m_before']} -> {st['load_avg_1m_after']}"
        )
        one = st["one_per_message"]
        print(
            f"stream, one application per message: {one['per_s']:,.0f}/s; "
            f"CPU per 1,000: {one['cpu_s_per_1000']:.3f} s; "
            f"micro-batches are {st['over_one_per_message']:.2f}x that; load {one['load_avg_1m_before']}"
        )
        echo, echo_b = st["echo_ceiling"], st["echo_ceiling_batched"]
        print(
            f"transport ceiling (echo, same mTLS stream, no work): {echo['per_s']:,.0f}/s one per message, "
            f"{echo_b['per_s']:,.0f}/s in micro-batches; the service reaches {st['over_echo_ceiling_batched']:.2f}x "
            f"of the batched ceiling"
        )
        unread = st["unread_client"]
        if unread.get("measured", True):
            print(
                f"client reading nothing: {unread['client_writes_completed']:,} of {unread['items']:,} writes "
                f"completed (held back: {unread['client_held_back']}); server RSS {unread['server_rss_before_mb']} "
                f"-> {unread['server_rss_stalled_mb']} -> {unread['server_rss_3s_later_mb']} MB; server CPU in the "
                f"3 s after: {unread['server_cpu_s_in_those_3s']} s"
            )
    else:
        print(f"stream: not measured ({st.get('why')})")
    ex = result["explanations"]
    if ex.get("measured"):
        print(
            f"latency per application, unary: with LLM explanation p50 {ex['with_explanation']['p50_ms']:,.0f} ms "
            f"p99 {ex['with_explanation']['p99_ms']:,.0f} ms; "
            f"without p50 {ex['without_explanation']['p50_ms']:,.1f} ms "
            f"p99 {ex['without_explanation']['p99_ms']:,.1f} ms ({ex['p50_ratio']}x); "
            f"sources {ex['explanation_sources']}"
        )
    else:
        print(f"explanations: not measured ({ex.get('why', 'skipped')})")
    print(f"load average {result['load_average']} (2 cores shared by several agents: figures are noisy)")
    print(f"decisions {e['decisions']}  wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
