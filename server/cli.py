"""The ``fintech`` command line: certificates, serving, health, and one group per service."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, help="The bank's private AI platform.", pretty_exceptions_show_locals=False)
certs_app = typer.Typer(no_args_is_help=True, help="Development certificates (mTLS).")
app.add_typer(certs_app, name="certs")
config_app = typer.Typer(no_args_is_help=True, help="Configuration.")
app.add_typer(config_app, name="config")
console = Console(stderr=True)


@certs_app.command("init")
def certs_init(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the PKI into.")] = Path("var/certs"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing keys.")] = False,
) -> None:
    """Create a development CA, a server certificate and one client certificate per role."""
    from server.runtime.pki import CLIENT_ROLES, PkiExistsError, init_dev_pki, spiffe_id

    try:
        pki = init_dev_pki(out, force=force)
    except PkiExistsError as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(code=1) from None
    console.print(f"CA            {pki.ca}")
    console.print(f"server        {pki.server.cert}")
    for role in CLIENT_ROLES:
        console.print(f"{role:<13} {pki.client(role).cert}  ({spiffe_id(role)})")


@certs_app.command("revoke")
def certs_revoke(
    certificate: Annotated[Path, typer.Argument(help="The client certificate to revoke.")],
    pki_dir: Annotated[Path, typer.Option("--pki", help="The PKI directory.")] = Path("var/certs"),
) -> None:
    """Add a certificate to the development CRL (servers pick it up without a restart)."""
    from server.runtime.pki import DevPki, revoke

    revoke(DevPki(pki_dir), certificate)
    console.print(f"revoked {certificate}")


@config_app.command("reference")
def config_reference(
    update: Annotated[
        Path | None, typer.Option("--update", help="Rewrite the reference section of this Markdown file.")
    ] = None,
) -> None:
    """Print every setting with its environment variable, default and meaning (Markdown)."""
    from server.runtime.config import reference_markdown

    table = reference_markdown()
    if update is None:
        typer.echo(table)
        return
    start, end = "<!-- config-reference:start -->", "<!-- config-reference:end -->"
    text = update.read_text(encoding="utf-8")
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    update.write_text(f"{head}{start}\n{table}\n{end}{tail}", encoding="utf-8")
    typer.echo(f"updated {update}")


@config_app.command("check")
def config_check(
    config: Annotated[Path | None, typer.Option("--config", help="TOML configuration file.")] = None,
) -> None:
    """Load a configuration (file plus FINTECH_* variables) and report the first error, if any."""
    from server.runtime.config import load_settings

    settings = _load(config, load_settings)
    typer.echo(f"ok: hosts {', '.join(settings.server.services)} on {settings.server.host}:{settings.server.port}")


@app.command("serve")
def serve(
    config: Annotated[Path | None, typer.Option("--config", help="TOML configuration file.")] = None,
    ready_file: Annotated[
        Path | None, typer.Option("--ready-file", help="Write the bound ports here once serving.")
    ] = None,
) -> None:
    """Serve the configured services until SIGTERM or Ctrl-C."""
    from server.runtime.app import serve_forever
    from server.runtime.config import load_settings
    from server.runtime.observability import configure_logging
    from server.runtime.wiring import build_context

    settings = _load(config, load_settings)
    configure_logging(settings.logging.level)

    async def main() -> None:
        ctx = await build_context(settings)
        await serve_forever(ctx, ready_file=str(ready_file) if ready_file else None)

    from server.crypto.keyfiles import KeyFileError
    from server.storage.migrations import SchemaMismatchError

    try:
        asyncio.run(main())
    except (SchemaMismatchError, KeyFileError) as exc:
        # A deployment problem, not a bug: say what is wrong and what to run, without a traceback.
        console.print(f"[red]refusing to start:[/red] {exc}")
        raise typer.Exit(code=2) from None


@app.command("health")
def health_check(
    target: Annotated[str, typer.Option("--target", help="HOST:PORT of a server.")] = "localhost:50051",
    service: Annotated[str, typer.Option("--service", help="Service name; empty for the whole server.")] = "",
    ca: Annotated[Path, typer.Option("--ca")] = Path("var/certs/ca.pem"),
    cert: Annotated[Path, typer.Option("--cert")] = Path("var/certs/clients/sre.pem"),
    key: Annotated[Path, typer.Option("--key")] = Path("var/certs/clients/sre-key.pem"),
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds.")] = 5.0,
) -> None:
    """Check a server's health over mTLS (exit 0 when SERVING, 1 otherwise)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    credentials = grpc.ssl_channel_credentials(ca.read_bytes(), key.read_bytes(), cert.read_bytes())
    with grpc.secure_channel(target, credentials) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as exc:
            console.print(f"[red]{exc.code().name}[/red] {exc.details()}")
            raise typer.Exit(code=1) from None
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    typer.echo(f"{service or 'server'}: {name}")
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        raise typer.Exit(code=1)


def _mount_domain_commands() -> None:
    from server.audit.cli import app as audit_app
    from server.crypto.cli import app as keys_app
    from server.storage.cli import app as db_app

    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")
    app.add_typer(keys_app, name="keys")
    from server.customer.kb_cli import app as kb_app

    app.add_typer(kb_app, name="kb")
    from server.aml.cli import app as aml_app

    app.add_typer(aml_app, name="aml")
    from server.risk.cli import app as risk_app

    app.add_typer(risk_app, name="risk")
    from server.compliance.cli import app as compliance_app

    app.add_typer(compliance_app, name="compliance")
    from fintech_console.cli import app as console_app

    app.add_typer(console_app, name="console")


# `fintech health` runs as a Kubernetes probe every few seconds: it must not pay for importing every
# domain (storage, audit, Milvus, ...). The domain groups are mounted for every other command and for --help.
if sys.argv[1:2] != ["health"]:
    _mount_domain_commands()

eval_app = typer.Typer(no_args_is_help=True, help="Score the shipped engines on data (no retraining).")
app.add_typer(eval_app, name="eval")


@eval_app.command("intents")
def eval_intents(
    data: Annotated[Path, typer.Option("--data", help="CSV with columns text,category (BANKING77's format).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the figures (JSON).")],
) -> None:
    """Score the shipped intent classifier on a CSV: accuracy, macro-F1, per-intent figures, confusions."""
    from retrieval.embedding import shared_embedder
    from server.customer.intents.model import IntentClassifier
    from server.customer.intents.scoring import evaluate_csv

    if not data.exists():
        console.print(f"[red]no such file:[/red] {data}")
        raise typer.Exit(code=2)
    with console.status("loading the classifier and scoring..."):
        figures = evaluate_csv(IntentClassifier.load(shared_embedder()), data, out)
    typer.echo(
        f"{figures.get('rows', '?')} rows: accuracy {figures['accuracy']:.3f}, macro-F1 {figures['macro_f1']:.3f}; "
        f"written to {out}"
    )


@eval_app.command("aml")
def eval_aml(
    data: Annotated[Path, typer.Option("--data", help="An AMLSim archive (.tgz).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the figures (JSON).")],
) -> None:
    """Screen an AMLSim archive from scratch with the shipped rules; labels are read only to score."""
    from server.aml.evaluation import evaluate_archive

    if not data.exists():
        console.print(f"[red]no such archive:[/red] {data}")
        raise typer.Exit(code=2)
    with console.status(f"screening {data.name}..."):
        figures = evaluate_archive(data, out)
    level = figures["account_level"]
    typer.echo(
        f"{figures['archive']}: precision {level['precision']:.3f} recall {level['recall']:.3f} "
        f"F1 {level['f1']:.3f}; {figures['alerts_per_1000_accounts']} alerts per 1,000 accounts; "
        f"{figures['seconds']['total']} s; written to {out}"
    )


ops_app = typer.Typer(no_args_is_help=True, help="Operations: platform status and daily figures (sre).")
app.add_typer(ops_app, name="ops")


@ops_app.command("status")
def ops_status(
    target: Annotated[str, typer.Option("--target", help="HOST:PORT of a server or of Envoy.")] = "localhost:50051",
    certs: Annotated[Path, typer.Option("--certs", help="PKI directory (fintech certs init).")] = Path("var/certs"),
    role: Annotated[str, typer.Option("--role", help="Whose certificate to present.")] = "sre",
) -> None:
    """Each service's health and the inference pool's endpoints."""
    from fintech.client import OperationsServiceSyncClient
    from fintech.common.v1 import common_pb2
    from fintech.operations.v1 import operations_service_pb2 as ops
    from rich.table import Table

    from server.cli_client import Connection, reported_errors

    with reported_errors(), Connection(target, certs, role).channel() as channel:
        status = OperationsServiceSyncClient(channel).get_platform_status(request=ops.GetPlatformStatusRequest())
    services = Table("service", "state", "detail", title="services")
    for svc in status.services:
        services.add_row(svc.service, common_pb2.ServingState.Name(svc.state), svc.detail)
    endpoints = Table("endpoint", "group", "state", "outstanding", "limit", "ejections", title="inference pool")
    for ep in status.endpoints:
        endpoints.add_row(
            ep.endpoint_id,
            ep.model_group,
            ops.EndpointState.Name(ep.state),
            str(ep.outstanding_requests),
            str(ep.concurrency_limit),
            str(ep.ejections),
        )
    Console().print(services, endpoints)


inference_app = typer.Typer(no_args_is_help=True, help="The LLM inference pool (through OperationsService; sre).")
app.add_typer(inference_app, name="inference")


@inference_app.command("status")
def inference_status(
    target: Annotated[str, typer.Option("--target", help="HOST:PORT of a server or of Envoy.")] = "localhost:50051",
    certs: Annotated[Path, typer.Option("--certs", help="PKI directory (fintech certs init).")] = Path("var/certs"),
    role: Annotated[str, typer.Option("--role", help="Whose certificate to present.")] = "sre",
) -> None:
    """Every endpoint of the pool: state, load, requests, errors, ejections."""
    from fintech.client import OperationsServiceSyncClient
    from fintech.operations.v1 import operations_service_pb2 as ops
    from rich.table import Table

    from server.cli_client import Connection, reported_errors

    with reported_errors(), Connection(target, certs, role).channel() as channel:
        status = OperationsServiceSyncClient(channel).get_platform_status(request=ops.GetPlatformStatusRequest())
    table = Table(
        "endpoint", "group", "state", "in flight/limit", "waiting", "kv cache", "requests", "errors", "ejections"
    )
    for ep in status.endpoints:
        table.add_row(
            ep.endpoint_id,
            ep.model_group,
            ops.EndpointState.Name(ep.state).removeprefix("ENDPOINT_STATE_"),
            f"{ep.outstanding_requests}/{ep.concurrency_limit}",
            str(ep.requests_waiting),
            f"{ep.kv_cache_usage:.0%}",
            str(ep.requests_total),
            str(ep.errors_total),
            str(ep.ejections),
        )
    if not status.endpoints:
        console.print("[yellow]no model group is configured on this server[/yellow]")
    Console().print(table)


@inference_app.command("drill")
def inference_drill(
    group: Annotated[str, typer.Option("--group", help="Model group to take out; empty: the primary.")] = "",
    outage: Annotated[int, typer.Option("--outage", help="Seconds the group stays out.")] = 10,
    rate: Annotated[int, typer.Option("--rate", help="Synthetic requests per second.")] = 5,
    target: Annotated[str, typer.Option("--target", help="HOST:PORT of a server or of Envoy.")] = "localhost:50051",
    certs: Annotated[Path, typer.Option("--certs", help="PKI directory (fintech certs init).")] = Path("var/certs"),
    role: Annotated[str, typer.Option("--role", help="Whose certificate to present.")] = "sre",
) -> None:
    """The switching drill: under steady load, take the primary out, watch traffic move, and back."""
    from fintech.client import OperationsServiceSyncClient
    from fintech.operations.v1 import operations_service_pb2 as ops

    from server.cli_client import Connection, reported_errors

    request = ops.RunInferenceDrillRequest(primary_group=group, outage_seconds=outage, requests_per_second=rate)
    with reported_errors(), Connection(target, certs, role).channel() as channel:
        with console.status(f"drilling: load at {rate}/s, primary out for {outage} s..."):
            report = OperationsServiceSyncClient(channel).run_inference_drill(request=request, timeout=outage + 120)
    typer.echo(f"requests sent {report.requests_sent}, failed {report.requests_failed}")
    for phase in report.phases:
        served = ", ".join(f"{g.reason}" + (f" ({g.count})" if g.count else "") for g in phase.served_by_group)
        typer.echo(f"  {phase.name}: failed {phase.requests_failed}" + (f"; served by {served}" if served else ""))
    typer.echo(
        f"switch-over {report.switch_over_duration.ToTimedelta().total_seconds():.3f} s, "
        f"switch-back {report.switch_back_duration.ToTimedelta().total_seconds():.3f} s"
    )
    if report.requests_failed:
        raise typer.Exit(code=1)


def _load(config: Path | None, loader):  # type: ignore[no-untyped-def]
    try:
        return loader(config)
    except (ValueError, OSError) as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(code=2) from None


def main() -> None:
    """Entry point of the ``fintech`` script."""
    app()


if __name__ == "__main__":
    main()
