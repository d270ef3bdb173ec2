"""On call, escalation and metrics: oncall, escalations, stats."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from incidents_cli.cli import params
from incidents_cli.cli.shared import (
    FORMATS,
    PlacePath,
    State,
    as_of_time,
    pass_state,
    warn_unreadable,
)

if TYPE_CHECKING:
    from datetime import datetime


@click.group(invoke_without_command=True)
@click.option("--at", "at", type=params.AS_OF, help="Who is on call at this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def oncall(ctx: click.Context, at: datetime | None, as_json: bool) -> int:
    """Who is primary and secondary on call now (or --at TIME)."""
    if ctx.invoked_subcommand is not None:
        return 0
    import json

    from incidents_cli.core.timeutil import format_time
    from incidents_cli.usecases.oncall import on_call_now

    state = ctx.ensure_object(State)
    when = as_of_time(at)
    now = on_call_now(state.root(), when)
    tiers = now.tiers
    if as_json:
        click.echo(
            json.dumps(
                {
                    "at": format_time(when),
                    **{
                        name: None
                        if who is None
                        else {
                            "person": who.person,
                            "scheduled": who.scheduled,
                            "until": format_time(who.until) if who.until else None,
                            "override": bool(who.override),
                            "contact": now.contacts[who.person].contact()
                            if who.person in now.contacts
                            else {},
                        }
                        for name, who in tiers.items()
                    },
                },
                indent=2,
            )
        )
        return 0
    click.echo(f"On call at {format_time(when)}:")
    for name, who in tiers.items():
        if who is None:
            click.echo(f"  {name:<9}  (no {name} tier in oncall.yaml)")
            continue
        until = f" until {format_time(who.until)}" if who.until else ""
        cover = f" (covering for {who.scheduled})" if who.override else ""
        click.echo(f"  {name:<9}  {who.person or 'nobody (rotation not started)'}{cover}{until}")
        person = now.contacts.get(who.person or "")
        if person is not None and person.reach():
            click.echo(f"  {'':<9}  reach {person.name}: {person.reach()}")
    return 0


@oncall.command("export")
@click.option("--rotation", "rotations", multiple=True, metavar="ID", help="Only this rotation.")
@click.option(
    "--person",
    metavar="NAME",
    help="Only this person's shifts.",
    shell_complete=params.complete_people,
)
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True)
@click.option(
    "--from",
    "start",
    type=params.FROM,
    help="Start of the window (default: today, 00:00 UTC); overlapping shifts come whole.",
)
@click.option(
    "--format", "output_format", type=click.Choice(("ics", "csv")), default="ics", show_default=True
)
@click.option(
    "--out",
    type=PlacePath(file_okay=False, path_type=Path),
    help="Write one stable file per rotation (oncall-ROTATION.ics) into this folder.",
)
@pass_state
def oncall_export(
    state: State,
    rotations: tuple[str, ...],
    person: str | None,
    weeks: int,
    start: datetime | None,
    output_format: str,
    out: Path | None,
) -> int:
    """Shifts with overrides applied, as iCalendar (RFC 5545) or CSV for hour accounting."""
    from datetime import UTC, datetime

    from incidents_cli.usecases.oncall import export_shifts

    begin = start or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    folder = None if out is None else out if out.is_absolute() else state.directory / out
    export = export_shifts(
        state.root(),
        rotations=rotations,
        person=person,
        begin=begin,
        weeks=weeks,
        output_format=output_format,
        out=folder,
    )
    if export.empty:
        click.echo(f"warning: {export.empty}", err=True)
    for path in export.files:
        click.echo(str(path))
    if folder is None:
        sys.stdout.write(export.text)
    return 0


@click.command()
@click.option("--as-of", "as_of", type=params.AS_OF, help="Judge as of this time (default: now).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
)
@pass_state
def escalations(state: State, as_of: datetime | None, output_format: str) -> int:
    """Unacknowledged incidents past their window, and who is next.

    Exit 1 if there are any, so a scheduled job can flag them, or if an incident file could
    not be read (it could be one).
    """
    from incidents_cli.core.escalation import FORMATS_BY_NAME
    from incidents_cli.usecases.oncall import pending_escalations

    found, unreadable = pending_escalations(state.root(), as_of_time(as_of))
    click.echo(FORMATS_BY_NAME[output_format](found), nl=False)
    warn_unreadable(
        unreadable, "incident file(s)", "whether they wait for an acknowledgment is unknown"
    )
    return 1 if found or unreadable else 0


@click.command()
@click.option(
    "--since", type=params.SINCE, help="Incidents detected at or after this time (e.g. 30d)."
)
@click.option(
    "--until", type=params.UNTIL, help="Incidents detected before this time (default: now)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def stats(state: State, since: datetime | None, until: datetime | None, as_json: bool) -> int:
    """Counts, time to acknowledge and resolve, completion rates."""
    import json

    from incidents_cli.core import stats as metrics
    from incidents_cli.usecases.oncall import response_stats

    report, unreadable = response_stats(
        state.root(),
        since,
        as_of_time(until),
    )
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(metrics.text(report), nl=False)
    warn_unreadable(unreadable, "record(s)", "they are not counted")
    return 0
