"""``sequent token create|list|revoke``: the service's API tokens."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.commands.context import JsonOption, ProjectOption, offline_service, terminal

token_app = typer.Typer(help="Create and manage API tokens for agents.", no_args_is_help=True)


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., "--name", help="Who uses the token (an agent's name)."),
    rate: int | None = typer.Option(None, "--rate", min=1, help="Writes per minute."),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1,
                                           help="Submissions queued or running at once."),
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """Create a token. The secret is printed once and stored only as its hash."""
    term = terminal()
    with offline_service(project) as core:
        new = core.tokens.create(name, rate_per_minute=rate, max_concurrent=concurrency)
    if json_out:
        term.json(new)
        return
    term.info(f"token {new.token.id} for {new.token.name}: {new.token.rate_per_minute}/min, "
              f"{new.token.max_concurrent} concurrent. The secret is shown only now:")
    term.print(new.secret)


@token_app.command("list")
def token_list(
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """List tokens (never their secrets)."""
    term = terminal()
    with offline_service(project) as core:
        tokens = core.tokens.list()
    if json_out:
        term.json(tokens)
        return
    term.table(
        "API tokens",
        ["id", "name", "rate/min", "concurrent", "created", "last used", "state"],
        [
            [t.id, t.name, str(t.rate_per_minute), str(t.max_concurrent),
             t.created_at.strftime("%Y-%m-%d %H:%M"),
             t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "-",
             "revoked" if t.revoked else "active"]
            for t in tokens
        ],
    )


@token_app.command("revoke")
def token_revoke(
    name: str = typer.Argument(..., help="Token name or id."),
    project: Path | None = ProjectOption,
) -> None:
    """Revoke a token: its writes get 401 from now on."""
    with offline_service(project) as core:
        info = core.tokens.revoke(name)
    terminal().info(f"revoked {info.id} ({info.name})")


COMMAND = token_app
"""What ``sequent token`` runs (:mod:`pipeline.commands.app` names it after this module)."""


__all__ = ["COMMAND"]
