"""``callscope db``: create or upgrade the database schema."""

from __future__ import annotations

import typer

from callscope.context import Context
from callscope.settings import get_settings

app = typer.Typer()


@app.command("db")
def db_command(action: str = typer.Argument("upgrade", help="upgrade: apply migrations")) -> None:
    """Create or upgrade the database schema (also done automatically at start-up)."""

    ctx = Context(get_settings())
    _ = ctx.engine  # connecting runs the migrations
    typer.echo(f"database ready: {ctx.engine.url.render_as_string(hide_password=True)}")
