"""`clearway users create` stores a hashed password that the login page accepts."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from clearway.cli import users
from clearway.storage.engine import make_engine
from clearway.storage.web_repository import WebStore


def test_users_create(sqlite_url: str) -> None:
    app = typer.Typer()
    users.register(app)
    runner = CliRunner()
    args = [
        "users",
        "create",
        "--username",
        "fsa.ines",
        "--role",
        "agency",
        "--agency",
        "food_safety",
        "--password-stdin",
        "--database",
        sqlite_url,
    ]
    result = runner.invoke(app, args, input="a long passphrase\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("usr_")
    engine = make_engine(sqlite_url)
    who = WebStore(engine).verify_password("fsa.ines", "a long passphrase")
    engine.dispose()
    assert who is not None and (who.role, who.agency) == ("agency", "food_safety")
    again = runner.invoke(app, [*args[:-2], "--database", sqlite_url], input="short\n")
    assert again.exit_code == 2
