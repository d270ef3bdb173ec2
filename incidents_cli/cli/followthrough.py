"""Follow-through after an incident: actions, runbook."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from incidents_cli.cli import params
from incidents_cli.cli.shared import (
    FORMATS,
    State,
    as_of_time,
    invocation,
    pass_state,
    report,
    transition_options,
)

if TYPE_CHECKING:
    from datetime import datetime


@click.group(invoke_without_command=True)
@click.option("--overdue", is_flag=True, help="Only overdue items; exit 1 if there are any.")
@click.option(
    "--owner",
    metavar="NAME",
    help="Only this owner's items.",
    shell_complete=params.complete_people,
)
@click.option("--as-of", "as_of", type=params.AS_OF, help="Judge as of this time (default: now).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice([*FORMATS, "markdown"]),
    default="text",
    show_default=True,
    help="text: a table; json; github: annotations on the exact lines; markdown: a table.",
)
@click.option(
    "--path",
    "paths",
    multiple=True,
    metavar="FILE",
    help="Only items of these postmortem files (e.g. the ones a pull request changes).",
)
@click.pass_context
def actions(
    ctx: click.Context,
    overdue: bool,
    owner: str | None,
    as_of: datetime | None,
    output_format: str,
    paths: tuple[str, ...],
) -> int:
    """Action items, postmortems and reviews, and how late they are.

    Lists every action item of every postmortem, the postmortems that are missing or not
    published (for the severities that need one) and runbooks due for review.
    """
    if ctx.invoked_subcommand is not None:
        return 0
    from incidents_cli.core.followup import FORMATS_BY_NAME
    from incidents_cli.usecases.followup import follow_up_items

    state = ctx.ensure_object(State)
    items = follow_up_items(
        state.root(), as_of=as_of_time(as_of), overdue_only=overdue, owner=owner, paths=paths
    )
    click.echo(FORMATS_BY_NAME[output_format](items), nl=False)
    late = sum(1 for i in items if i.overdue)
    if output_format == "text" and items:
        click.echo(f"{late} overdue of {len(items)}", err=True)
    return 1 if overdue and late else 0


@actions.command("done")
@click.argument("incident_id", metavar="ID", type=params.ANY_INCIDENT)
@click.argument("item_id", metavar="ITEM")
@click.option("--link", metavar="URL", help="The ticket or pull request that did it.")
@transition_options
@pass_state
def actions_done(
    state: State,
    incident_id: str,
    item_id: str,
    link: str | None,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Mark an action item of a postmortem done (one commit)."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.action_done(invocation(state, by, at, push), incident_id, item_id, link)
    return report(outcome, as_json, f"{incident_id} {item_id} done")


@actions.command("sync")
@click.option(
    "--repo",
    metavar="OWNER/NAME",
    help="The GitHub repository (default: GITHUB_REPOSITORY, else the origin remote's URL).",
)
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing anywhere.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.option(
    "--push/--no-push",
    default=None,
    help="Push the commit; a rejected push replays the sync on the remote state "
    "(default: the push setting).",
)
@click.option("--by", metavar="NAME", help="Who is doing this (default: git user.name).")
@pass_state
def actions_sync(
    state: State,
    repo: str | None,
    dry_run: bool,
    as_json: bool,
    push: bool | None,
    by: str | None,
) -> int:
    """Mirror action items as GitHub issues, both ways, in one commit.

    Creates an issue for each open action item of a published postmortem, marks items done
    (or wont_do) when their issues are closed, closes the issues of items done here, and
    writes the issue links back. Needs GITHUB_TOKEN (and GITHUB_API_URL off github.com).
    """
    import json

    from incidents_cli.usecases.actions_sync import SyncOptions, sync

    result = sync(SyncOptions(state.directory, repo, dry_run, push, by))
    for notice in result.notices:
        click.echo(f"note: {notice}", err=True)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        for line in result.lines():
            click.echo(line)
    return 0


@click.group()
def runbook() -> None:
    """Runbooks: find, read, write, and see which need a review."""


@runbook.command("list")
@click.option(
    "--component",
    metavar="ID",
    help="Only runbooks for this component.",
    shell_complete=params.complete_components,
)
@click.option("--tag", metavar="TAG", help="Only runbooks with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def runbook_list(state: State, component: str | None, tag: str | None, as_json: bool) -> int:
    """List runbooks with their components and tags."""
    import json

    from incidents_cli.usecases.followup import runbooks_matching

    found = runbooks_matching(state.root(), component, tag)
    if as_json:
        rows = [
            {
                "slug": r.slug,
                "path": r.rel,
                "title": r.title,
                "components": list(r.components),
                "tags": list(r.tags),
                "owner": r.owner,
            }
            for r in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return 0
    if not found:
        click.echo("No runbooks match.")
    for r in found:
        click.echo(f"{r.slug}  {r.title}")
        components, tags = ", ".join(r.components) or "-", ", ".join(r.tags) or "-"
        click.echo(f"    components: {components}   tags: {tags}")
    return 0


@runbook.command("show")
@click.argument("slug", shell_complete=params.complete_runbooks)
@pass_state
def runbook_show(state: State, slug: str) -> int:
    """Print a runbook."""
    from incidents_cli.core.text import escape_for_terminal
    from incidents_cli.usecases.followup import runbook_by_slug

    r = runbook_by_slug(state.root(), slug)
    # a runbook is text anyone with push access wrote: nothing in it may drive the terminal
    click.echo(escape_for_terminal(f"{r.title}  ({r.rel}; owner {r.owner})"))
    click.echo(escape_for_terminal(r.body.strip()))
    return 0


@runbook.command("new")
@click.argument("title")
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="ID",
    shell_complete=params.complete_components,
)
@click.option("--tag", "tags", multiple=True, metavar="TAG")
@click.option(
    "--owner",
    metavar="NAME",
    help="Who keeps it current (default: you, if you are in people; else on-call).",
    shell_complete=params.complete_people,
)
@pass_state
def runbook_new(
    state: State,
    title: str,
    components: tuple[str, ...],
    tags: tuple[str, ...],
    owner: str | None,
) -> int:
    """Write runbooks/SLUG.md from the template and validate it (not committed)."""
    from incidents_cli.usecases.runbooks import new_runbook

    path = new_runbook(state.root(), title, list(components), list(tags), owner)
    click.echo(f"Wrote {path}: fill in the steps, then commit it.")
    return 0


@runbook.command("stale")
@click.option("--as-of", "as_of", type=params.AS_OF, help="Judge as of this time (default: now).")
@pass_state
def runbook_stale(state: State, as_of: datetime | None) -> int:
    """Runbooks past their review interval, or used in an incident reviewed since."""
    from incidents_cli.core.timeutil import format_time
    from incidents_cli.usecases.followup import stale_runbooks

    found = stale_runbooks(state.root(), as_of_time(as_of))
    if not found:
        click.echo("Every runbook is reviewed.")
    for entry in found:
        click.echo(
            f"{entry.runbook.rel}:{entry.runbook.line}: {entry.reason} "
            f"(due {format_time(entry.due)}, owner {entry.runbook.owner})"
        )
    return 1 if found else 0


@runbook.command("reviewed")
@click.argument("slug", shell_complete=params.complete_runbooks)
@click.option("--note", metavar="TEXT", help="What the review found (kept in the commit message).")
@transition_options
@pass_state
def runbook_reviewed(
    state: State,
    slug: str,
    note: str | None,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Record a review: last_reviewed becomes today (or --at), one commit."""
    from incidents_cli.usecases.runbooks import reviewed

    outcome = reviewed(invocation(state, by, at, push), slug, note)
    return report(outcome, as_json, f"runbooks/{slug}.md reviewed")
