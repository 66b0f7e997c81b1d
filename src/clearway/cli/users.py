"""`clearway users create`: people who log in to the web pages with a username and password.

The password is read from `--password-stdin` or asked for (hidden, twice); it is stored as an
argon2id hash, never in clear.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from clearway.kernel.errors import ClearwayError, InvalidInput
from clearway.storage.web_repository import ROLES

users_app = typer.Typer(help="People who log in to the web pages.", no_args_is_help=True)
err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add the `users` command group to the main CLI."""
    app.add_typer(users_app, name="users")


@users_app.command("create")
def create(
    username: Annotated[str, typer.Option(help="Login name (letters, digits, . _ -)")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
    agency: Annotated[
        str | None, typer.Option(help="Agency code for role agency (see agency_routing.yaml)")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Database URL (default: CLEARWAY_DATABASE_URL or SQLite)"),
    ] = None,
) -> None:
    """Create a web user and print its id."""
    from clearway.storage.engine import make_engine
    from clearway.storage.migrate import upgrade
    from clearway.storage.web_repository import WebStore
    from clearway.wiring.settings import Settings

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = Settings(database_url=database) if database else Settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        uid = WebStore(engine).create_user(username, password, role, agency)
    except InvalidInput as exc:
        for p in exc.problems:
            err.print(f"[red]{p.path}: {p.message}[/red]")
        raise typer.Exit(2) from None
    except ClearwayError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    print(uid)
