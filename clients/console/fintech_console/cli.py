"""``fintech console``: create development operators and serve the console.

Mounted by ``server/cli.py`` as ``fintech console``; also runnable alone as
``python -m fintech_console.cli``.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import socket
import tomllib
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from fintech_console.auth import users as users_file
from fintech_console.auth.roles import STAFF_ROLES
from fintech_console.settings import ConsoleSettings, load_console_settings

app = typer.Typer(
    help="The operations console: a web client of the services for the bank's staff.", no_args_is_help=True
)
users_app = typer.Typer(help="Development accounts (the users file).", no_args_is_help=True)
app.add_typer(users_app, name="users")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML file ([console] table or the whole file).", exists=True, dir_okay=False),
]
UsersFileOption = Annotated[
    Path | None,
    typer.Option("--users-file", help="Users file (default: the configuration's users_file).", dir_okay=False),
]


def _users_path(config: Path | None, users_path: Path | None) -> Path:
    if users_path is not None:
        return users_path
    if config is not None:
        document = tomllib.loads(config.read_text(encoding="utf-8"))
        section = document.get("console", document)
        if "users_file" in section:
            return Path(section["users_file"])
    return ConsoleSettings.model_fields["users_file"].default  # type: ignore[no-any-return]


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (a-z, 0-9, '.', '_', '-').")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(STAFF_ROLES)}.")],
    password_file: Annotated[
        Path | None,
        typer.Option("--password-file", help="Read the password from this file instead of prompting.", exists=True),
    ] = None,
    display_name: Annotated[str, typer.Option("--display-name", help="Name shown in the console.")] = "",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing account.")] = False,
    config: ConfigOption = None,
    users_path: UsersFileOption = None,
) -> None:
    """Create a development operator with an argon2id password hash."""
    path = _users_path(config, users_path)
    if password_file is not None:
        password = password_file.read_text(encoding="utf-8").rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            typer.echo("error: the passwords differ", err=True)
            raise typer.Exit(2)
    try:
        account = users_file.add_user(path, username, password, role, display_name=display_name, force=force)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"added {account.username} ({account.role}) to {path}")


@users_app.command("list")
def users_list(config: ConfigOption = None, users_path: UsersFileOption = None) -> None:
    """List the development operators (names and roles, never hashes)."""
    path = _users_path(config, users_path)
    for account in users_file.load_users(path).values():
        typer.echo(f"{account.username}\t{account.role}\t{account.display_name}")


@app.command("serve")
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Listen address (overrides the configuration).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Listen port; 0 picks a free one.")] = None,
    ready_file: Annotated[
        Path | None,
        typer.Option("--ready-file", help="Write the bound port here once serving (for scripts and tests)."),
    ] = None,
) -> None:
    """Serve the console with uvicorn."""
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = load_console_settings(config, **overrides)
    asyncio.run(_serve(settings, ready_file))


async def _serve(settings: ConsoleSettings, ready_file: Path | None) -> None:
    from fintech_console.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    application = create_app(settings)
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, log_level="info", access_log=False, proxy_headers=False, server_header=False, lifespan="on"
        )
    )

    async def announce() -> None:
        # uvicorn offers no start-up event, only this flag.
        while not server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        logging.getLogger("fintech_console").info(
            "console serving %s",
            json.dumps({"url": f"http://{settings.host}:{bound_port}/", "sign_in": settings.sign_in}),
        )
        if ready_file is not None:
            await asyncio.to_thread(ready_file.write_text, f"{bound_port}\n", encoding="utf-8")

    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()


if __name__ == "__main__":
    app()
