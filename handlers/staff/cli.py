"""The staff command line, `applybot staff ...`: users, API tokens and revoking them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.settings import Settings


def add_user(settings: Settings, name: str, password: str) -> dict[str, Any]:
    """Create a staff user, or set a new password for one (`applybot staff add-user`)."""
    from bot.store import open_store

    store = open_store(settings)
    try:
        user = store.add_user(name, password)
        store.audit("cli", "user_add", name)
        return user
    finally:
        store.close()


def issue_token(settings: Settings, name: str, label: str | None = None) -> str:
    """Make an API token for a staff user; it is printed once and stored hashed (`applybot staff token`)."""
    from bot.store import open_store

    store = open_store(settings)
    try:
        token = store.issue_token(name, label=label)
        store.audit("cli", "token_issue", name, token_id=token.split("_")[1], label=label)
        return token
    finally:
        store.close()


def revoke_token(settings: Settings, token: str) -> bool:
    """Revoke an API token, named by its id or given whole (`applybot staff revoke-token`)."""
    from bot.store import open_store

    store = open_store(settings)
    try:
        revoked = store.revoke_token(token)
        store.audit("cli", "token_revoke", token.split("_")[1] if token.startswith("abt_") else token)
        return revoked
    finally:
        store.close()


def staff_cli(get_settings: Callable[[], Settings]) -> Any:
    """A Typer app with the staff commands, for `app.add_typer(staff_cli(get_settings), name="staff")`."""
    import sys

    import typer

    cli = typer.Typer(help="Staff accounts and API tokens for the /staff pages.", no_args_is_help=True)

    @cli.command("add-user")
    def add_user_command(
        name: str = typer.Argument(..., help="The staff member's user name."),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input instead of a prompt."
        ),
    ) -> None:
        """Create a staff user (or set a new password); the password is stored as an argon2 hash."""
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            add_user(get_settings(), name, password)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"user {name} is ready")

    @cli.command("token")
    def token_command(
        name: str = typer.Argument(..., help="The staff user the token acts as."),
        label: str = typer.Option("", help="What the token is for (shown in the audit log)."),
    ) -> None:
        """Print a new API token (shown once) for `Authorization: Bearer ...` on /staff/api."""
        try:
            typer.echo(issue_token(get_settings(), name, label or None))
        except KeyError as exc:
            typer.echo(f"error: no staff user {name!r}", err=True)
            raise typer.Exit(2) from exc

    @cli.command("revoke-token")
    def revoke_command(
        token: str = typer.Argument(..., help="The token, or its id (the part after abt_)."),
    ) -> None:
        """Revoke an API token."""
        if not revoke_token(get_settings(), token):
            typer.echo("error: no live token with that id", err=True)
            raise typer.Exit(2)
        typer.echo("revoked")

    return cli
