"""Commands that read incidents: list, show."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from incidents_cli.cli import params
from incidents_cli.cli.shared import (
    PHASE_CHOICE,
    SEVERITY_CHOICE,
    State,
    as_of_time,
    pass_state,
    warn_unreadable,
)

if TYPE_CHECKING:
    from datetime import datetime


@click.command("list")
@click.option("--phase", "phases", multiple=True, type=PHASE_CHOICE, help="Only this phase.")
@click.option("--severity", "severities", multiple=True, type=SEVERITY_CHOICE)
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="ID",
    shell_complete=params.complete_components,
)
@click.option("--open/--all", "only_open", default=True, help="Open incidents (default) or all.")
@click.option(
    "--since", type=params.SINCE, help="Detected at or after this time (e.g. 7d, 2026-03-01)."
)
@click.option("--as-of", "as_of", type=params.AS_OF, help="Judge windows as of this time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--utc", is_flag=True, help="Times in UTC (default: the team's time zone).")
@pass_state
def list_command(
    state: State,
    phases: tuple[str, ...],
    severities: tuple[str, ...],
    components: tuple[str, ...],
    only_open: bool,
    since: datetime | None,
    as_of: datetime | None,
    as_json: bool,
    utc: bool,
) -> int:
    """List incidents, newest first: open ones unless --all."""
    import json

    from incidents_cli.core import overview
    from incidents_cli.core.text import escape_for_terminal, escape_json_for_terminal
    from incidents_cli.usecases.reading import list_incidents

    listing = list_incidents(
        state.root(),
        phases=phases,
        severities=severities,
        components=components,
        include_closed=not only_open,
        since=since,
        as_of=as_of_time(as_of),
        whole_records=as_json,
    )
    if as_json:
        items = [{**v.record, "computed": v.computed()} for v in listing.views]
        click.echo(escape_json_for_terminal(json.dumps(items, indent=2, ensure_ascii=False)))
    else:
        zone = "UTC" if utc else listing.settings.timezone
        click.echo(escape_for_terminal(overview.list_text(listing.views, zone)), nl=False)
    warn_unreadable(listing.unreadable, "incident file(s)")
    return 0


@click.command()
@click.argument("incident_id", metavar="ID", type=params.ANY_INCIDENT)
@click.option("--as-of", "as_of", type=params.AS_OF, help="Judge windows as of this time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--utc", is_flag=True, help="Times in UTC (default: the team's time zone).")
@pass_state
def show(state: State, incident_id: str, as_of: datetime | None, as_json: bool, utc: bool) -> int:
    """One incident: who is on it, phase durations, the timeline."""
    import json

    from incidents_cli.core import overview
    from incidents_cli.core.text import escape_for_terminal, escape_json_for_terminal
    from incidents_cli.usecases.reading import show_incident

    shown = show_incident(state.root(), incident_id, as_of_time(as_of))
    if as_json:
        computed = {**shown.view.computed(), "matching_runbooks": [r.rel for r in shown.runbooks]}
        text = json.dumps({**shown.record, "computed": computed}, indent=2, ensure_ascii=False)
        click.echo(escape_json_for_terminal(text))
    else:
        click.echo(
            escape_for_terminal(overview.show_text(shown.view, shown.settings, utc=utc)), nl=False
        )
        if shown.runbooks:
            click.echo("\nRunbooks that may help:")
            for runbook in shown.runbooks:
                click.echo(escape_for_terminal(f"  {runbook.rel}  {runbook.title}"))
    return 0
