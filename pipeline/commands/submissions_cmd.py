"""``sequent submissions list|show|export``: the service's submissions from the command line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from pipeline.commands.context import JsonOption, ProjectOption, offline_service, terminal

submissions_app = typer.Typer(help="Inspect and export submissions.", no_args_is_help=True)


@submissions_app.command("list")
def submissions_list(
    claim: str | None = typer.Option(None, "--claim", help="Only this claim's submissions."),
    agent: str | None = typer.Option(None, "--agent", help="Only this agent's."),
    verdict: str | None = typer.Option(None, "--verdict",
                                       help="accepted, rejected, error (or queued, running)."),
    since: datetime | None = typer.Option(None, "--since", help="Created at or after (ISO 8601)."),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="At most this many (a page)."),
    cursor: str | None = typer.Option(None, "--cursor", help="The previous page's next_cursor."),
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """List submissions (API, MCP), newest first, with filters and pagination."""
    term = terminal()
    with offline_service(project) as core:
        page = core.submissions.page(claim_id=claim, agent=agent, verdict=verdict, since=since,
                                     limit=limit, cursor=cursor)
    if json_out:
        term.json(page)
        return
    term.table(f"{len(page.items)} submission(s)", ["id", "claim", "agent", "channel", "status", "created"],
               [[v.id, v.claim_id, v.agent, v.channel or "-", v.status,
                 v.created_at.strftime("%Y-%m-%d %H:%M:%S")] for v in page.items])
    if page.next_cursor:
        term.info(f"more: --cursor {page.next_cursor}")


@submissions_app.command("show")
def submissions_show(
    submission_id: str = typer.Argument(..., help="Submission id."),
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """Show a submission, its verdict and Lean's diagnostics."""
    term = terminal()
    with offline_service(project) as core:
        view = core.submissions.get(submission_id)
    if json_out:
        term.json(view)
        return
    term.print(f"{view.id}  {view.claim_id}  by {view.agent}: {view.status}")
    if view.diagnostics:
        term.print(view.diagnostics)
    if view.error:
        term.print(view.error)


@submissions_app.command("export")
def submissions_export(
    submission_id: str = typer.Argument(..., help="Id of an accepted submission."),
    project: Path | None = ProjectOption,
) -> None:
    """Commit an accepted proof on branch sequent/review/<id> (the working tree is untouched)."""
    with offline_service(project) as core:
        done = core.export.export(submission_id)
    terminal().print(f"{done.branch} {done.commit[:12]} adds {done.path}")


COMMAND = submissions_app
"""What ``sequent submissions`` runs (:mod:`pipeline.commands.app` names it after this module)."""


__all__ = ["COMMAND"]
