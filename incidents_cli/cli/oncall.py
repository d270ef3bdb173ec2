"""On call, escalation and metrics: oncall, escalations, stats."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from incidents_cli.cli.shared import FORMATS, State, as_of_time, pass_state


@click.group(invoke_without_command=True)
@click.option("--at", "at", metavar="TIME", help="Who is on call at this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def oncall(ctx: click.Context, at: str | None, as_json: bool) -> int:
    """Who is primary and secondary on call now (or --at TIME)."""
    if ctx.invoked_subcommand is not None:
        return 0
    import json

    from incidents_cli.core.errors import RefusedError
    from incidents_cli.core.oncall import primary_at, secondary_at
    from incidents_cli.core.timeutil import format_time
    from incidents_cli.store.layout import load_schedule, load_settings

    state = ctx.ensure_object(State)
    root = state.root()
    schedule = load_schedule(root, load_settings(root))
    if schedule is None:
        raise RefusedError("this repository has no oncall.yaml; `incidents init` writes one")
    when = as_of_time(at)
    tiers = {"primary": primary_at(schedule, when), "secondary": secondary_at(schedule, when)}
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
    return 0


@oncall.command("export")
@click.option("--rotation", "rotations", multiple=True, metavar="ID", help="Only this rotation.")
@click.option("--person", metavar="NAME", help="Only this person's shifts.")
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True)
@click.option("--from", "start", metavar="TIME", help="First day (default: today, 00:00 UTC).")
@click.option(
    "--format", "output_format", type=click.Choice(["ics", "csv"]), default="ics", show_default=True
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one stable file per rotation (oncall-ROTATION.ics) into this folder.",
)
@pass_state
def oncall_export(
    state: State,
    rotations: tuple[str, ...],
    person: str | None,
    weeks: int,
    start: str | None,
    output_format: str,
    out: Path | None,
) -> int:
    """Shifts with overrides applied, as iCalendar (RFC 5545) or CSV for hour accounting."""
    from datetime import UTC, datetime, timedelta

    from incidents_cli.core.errors import RefusedError
    from incidents_cli.core.oncall import merged, shifts
    from incidents_cli.core.timeutil import parse_time_option
    from incidents_cli.store.layout import load_schedule, load_settings
    from incidents_cli.store.yamlio import write_atomic
    from incidents_cli.usecases.calendar_export import csv_text, ics

    root = state.root()
    settings = load_settings(root)
    schedule = load_schedule(root, settings)
    if schedule is None:
        raise RefusedError("this repository has no oncall.yaml; `incidents init` writes one")
    begin = (
        parse_time_option(start, "--from")
        if start
        else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    end = begin + timedelta(weeks=weeks)
    chosen = list(rotations) or list(schedule.rotations)
    unknown = [r for r in chosen if r not in schedule.rotations]
    if unknown:
        raise RefusedError(
            f"--rotation {unknown[0]}: no such rotation (rotations: "
            f"{', '.join(schedule.rotations)})"
        )
    per_rotation = {}
    for rotation in chosen:
        found = merged(shifts(schedule, rotation, begin, end))
        per_rotation[rotation] = [s for s in found if person is None or s.person == person]
    if out is not None:
        folder = out if out.is_absolute() else state.directory / out
        for rotation, found in per_rotation.items():
            name = f"oncall-{rotation}.{output_format}"
            text = (
                ics(found, f"{settings.title}: {rotation}", begin, settings.people)
                if output_format == "ics"
                else csv_text(found)
            )
            write_atomic(folder / name, text)
            click.echo(str(folder / name))
        return 0
    every = [s for found in per_rotation.values() for s in found]
    every.sort(key=lambda s: (s.start, s.rotation))
    if output_format == "ics":
        sys.stdout.write(ics(every, f"{settings.title}: on call", begin, settings.people))
    else:
        click.echo(csv_text(every), nl=False)
    return 0


@click.command()
@click.option("--as-of", "as_of", metavar="TIME", help="Judge as of this time (default: now).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
)
@pass_state
def escalations(state: State, as_of: str | None, output_format: str) -> int:
    """Unacknowledged incidents past their window, and who is next.

    Exit 1 if there are any, so a scheduled job can flag them.
    """
    import json

    from incidents_cli.core.escalation import escalations as find
    from incidents_cli.core.findings import Finding, report_github
    from incidents_cli.store.cache import read_all
    from incidents_cli.store.layout import load_schedule, load_settings

    root = state.root()
    settings = load_settings(root)
    schedule = load_schedule(root, settings)
    records = []
    for record in read_all(root, kinds=("incident",)):
        if record.doc is None or not isinstance(record.data, dict):
            continue
        if record.data.get("phase") == "detected":  # only these can need an escalation
            records.append((record.rel, record.doc.locate(["detected_at"])[0], record.data))
    found = find(records, settings, schedule, as_of_time(as_of))
    if output_format == "json":
        click.echo(json.dumps([e.as_dict() for e in found], indent=2))
    elif output_format == "github":
        click.echo(
            report_github(
                [Finding(e.path, e.line, 1, "Unacknowledged incident", e.describe()) for e in found]
            ),
            nl=False,
        )
    elif found:
        for item in found:
            click.echo(f"{item.describe()}  ({item.path}:{item.line})")
    else:
        click.echo("No incident is waiting for an acknowledgment past its window.")
    return 1 if found else 0


@click.command()
@click.option("--since", metavar="TIME", help="Incidents detected at or after this time.")
@click.option("--until", metavar="TIME", help="Incidents detected before this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def stats(state: State, since: str | None, until: str | None, as_json: bool) -> int:
    """Counts, time to acknowledge and resolve, completion rates."""
    import json

    from incidents_cli.core import stats as metrics
    from incidents_cli.core.timeutil import parse_time_option
    from incidents_cli.site.build import load_public_inputs
    from incidents_cli.store.layout import load_settings

    root = state.root()
    settings = load_settings(root)
    incidents, postmortems, _ = load_public_inputs(root)
    report = metrics.compute(
        incidents,
        postmortems,
        settings,
        parse_time_option(since, "--since") if since else None,
        parse_time_option(until, "--until") if until else as_of_time(None),
    )
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(metrics.text(report), nl=False)
    return 0
