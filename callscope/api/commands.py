"""``callscope serve`` and ``callscope users …``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from fastapi import FastAPI

from callscope.api.app import ApiOptions, create_app
from callscope.auth import service as auth
from callscope.context import Context
from callscope.errors import ConfigError
from callscope.settings import Settings, get_settings

app = typer.Typer()


users = typer.Typer(help="Dashboard and API users (roles: admin, reviewer, read-only).", no_args_is_help=True)
app.add_typer(users, name="users")


SERVE_OPTIONS_ENV = "CALLSCOPE_SERVE_OPTIONS"  # `callscope serve` → its worker processes (internal)


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    kb: Path = typer.Option(None, "--kb", help="Knowledge-base file (YAML/JSON) for the IVR and FAQ publishing."),
    secure_cookies: bool = typer.Option(
        None, "--secure-cookies/--insecure-cookies",
        help="Session cookies only over HTTPS (default: on when CALLSCOPE_PUBLIC_BASE_URL is https).",
    ),
    workers: int = typer.Option(
        None, "--workers", min=1,
        help="Server processes sharing the port (default CALLSCOPE_WORKERS, 1). One per core can keep the IVR's "
        "webhooks faster under load; each process loads its own models (about 1.7 GB).",
    ),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Run the REST API, the QA dashboard and the IVR webhooks."""
    import uvicorn

    settings = get_settings()
    if kb is not None:
        if not kb.is_file():
            raise ConfigError(f"--kb {kb}: no such file; give a YAML or JSON knowledge base")
        settings = settings.model_copy(update={"kb_path": kb.resolve()})
    processes = workers or settings.workers
    typer.echo(f"callscope dashboard: http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/", err=True)
    # forwarded headers are trusted only from CALLSCOPE_TRUSTED_PROXIES (by the app), never by uvicorn's
    # default (127.0.0.1), which let anyone on this host or behind a local proxy pick their address
    if processes == 1:
        uvicorn.run(_served(settings, secure_cookies), host=host, port=port, log_level=log_level, proxy_headers=False)
        return
    _prepare_shared_state(settings)  # once, here, rather than by every process at the same moment
    # each process builds its app from the environment (uvicorn starts them fresh), so the choices made
    # here travel as environment variables
    if kb is not None:
        os.environ["CALLSCOPE_KB_PATH"] = str(kb.resolve())
    os.environ["CALLSCOPE_WORKERS"] = str(processes)  # each process's IVR lane takes its share of the cores
    os.environ[SERVE_OPTIONS_ENV] = json.dumps({"cookie_secure": secure_cookies})
    typer.echo(f"{processes} server processes", err=True)
    uvicorn.run(
        "callscope.api.commands:served_app", factory=True, workers=processes,
        host=host, port=port, log_level=log_level, proxy_headers=False,
    )


def _prepare_shared_state(settings: Settings) -> None:
    """The database schema and the session secret the server processes share."""
    engine = Context(settings).engine  # making the engine brings the schema up to date
    engine.dispose()
    auth.load_secret_key(settings)  # creates <data_dir>/secret_key when there is none


def served_app() -> FastAPI:
    """The app of one ``callscope serve --workers N`` process (uvicorn calls this in each of them)."""
    options = json.loads(os.environ.get(SERVE_OPTIONS_ENV) or "{}")
    return _served(get_settings(), options.get("cookie_secure"))


def _served(settings: Settings, cookie_secure: bool | None) -> FastAPI:
    """The app ``callscope serve`` runs: everything, the IVR's models loaded at start-up."""
    return create_app(settings, options=ApiOptions(cookie_secure=cookie_secure, warm_ivr=True))


@users.command("add")
def add_command(
    name: str = typer.Argument(..., help="User name (letters, digits, . _ - @)."),
    role: str = typer.Option("reviewer", "--role", "-r", help="admin, reviewer or read-only."),
    password: str = typer.Option(None, "--password", help="The password (prompted for when omitted)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    api_key: bool = typer.Option(False, "--api-key", help="Also create an API key and print it."),
) -> None:
    """Add a user who can log in to the dashboard and use the API."""

    ctx = _ctx()
    role_value = auth.UserRole.parse(role)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = auth.create_user(ctx, name, password, role_value)
    typer.echo(f"added {user.username} ({user.role})")
    if api_key:
        _, key = auth.create_api_key(ctx, user.username, "cli")
        typer.echo(f"API key (shown once): {key}")


@users.command("list")
def list_command() -> None:
    """List users and their roles."""

    ctx = _ctx()
    for user in auth.list_users(ctx):
        typer.echo(f"{user.username:24} {user.role:10} {user.created_at:%Y-%m-%d}" if user.created_at
                   else f"{user.username:24} {user.role}")


@users.command("set")
def set_command(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option(None, "--role", "-r", help="New role."),
    password: bool = typer.Option(False, "--password", help="Prompt for a new password."),
) -> None:
    """Change a user's role or password."""

    new_password = typer.prompt("New password", hide_input=True, confirmation_prompt=True) if password else None
    user = auth.update_user(_ctx(), name, role=role, password=new_password)
    typer.echo(f"updated {user.username} ({user.role})")


@users.command("remove")
def remove_command(name: str = typer.Argument(..., help="User name.")) -> None:
    """Delete a user, their sessions and API keys."""

    auth.delete_user(_ctx(), name)
    typer.echo(f"removed {name}")


@users.command("key")
def key_command(
    name: str = typer.Argument(..., help="User name."),
    label: str = typer.Option("cli", "--name", help="A label for the key."),
) -> None:
    """Create an API key for a user (printed once)."""

    _, key = auth.create_api_key(_ctx(), name, label)
    typer.echo(key)


def _ctx():  # type: ignore[no-untyped-def]
    return Context(get_settings())
