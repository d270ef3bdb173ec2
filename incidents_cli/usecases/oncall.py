"""`incidents oncall`, `oncall export`, `escalations` and `stats`: schedules and metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from incidents_cli.core import stats as metrics
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.escalation import Escalation, escalations
from incidents_cli.core.oncall import OnCall, Schedule, primary_at, secondary_at, whole_shifts
from incidents_cli.core.settings import Person, Settings
from incidents_cli.core.timeutil import format_time
from incidents_cli.store.layout import load_schedule, load_settings
from incidents_cli.store.yamlio import write_atomic
from incidents_cli.usecases.calendar_export import csv_text, ics

EXPORT_FORMATS = ("ics", "csv")


def _schedule(root: Path) -> tuple[Settings, Schedule]:
    settings = load_settings(root)
    schedule = load_schedule(root, settings)
    if schedule is None:
        raise RefusedError("this repository has no oncall.yaml; `incidents init` writes one")
    return settings, schedule


class OnCallNow(NamedTuple):
    tiers: dict[str, OnCall | None]
    """Who is primary and secondary."""
    contacts: dict[str, Person]
    """How to reach each of them (people in incidents.yaml), by handle."""


def on_call_now(root: Path, when: datetime) -> OnCallNow:
    """Who is primary and secondary at ``when``, and how to reach them."""
    settings, schedule = _schedule(root)
    tiers = {"primary": primary_at(schedule, when), "secondary": secondary_at(schedule, when)}
    people = {who.person for who in tiers.values() if who is not None and who.person}
    return OnCallNow(tiers, {h: settings.contacts[h] for h in people if h in settings.contacts})


class Export(NamedTuple):
    files: list[Path]
    """The files written (with an output folder)."""
    text: str
    """Everything in one document (without an output folder)."""
    empty: str = ""
    """Why the export holds no shift, if it holds none (for a person to read)."""


MAX_EXPORT_SHIFTS = 20_000  # ten years of 6-hour shifts


def export_shifts(
    root: Path,
    *,
    rotations: Sequence[str],
    person: str | None,
    begin: datetime,
    weeks: int,
    output_format: str,
    out: Path | None,
) -> Export:
    """Shifts with overrides applied, per rotation, as iCalendar or CSV."""
    settings, schedule = _schedule(root)
    end = begin + timedelta(weeks=weeks)
    chosen = list(rotations) or list(schedule.rotations)
    unknown = [r for r in chosen if r not in schedule.rotations]
    if unknown:
        raise RefusedError(
            f"--rotation {unknown[0]}: no such rotation (rotations: "
            f"{', '.join(schedule.rotations)})"
        )
    for rotation in chosen:  # bound the work before doing it
        count = (end - begin) / schedule.rotations[rotation].shift
        if count > MAX_EXPORT_SHIFTS:
            raise RefusedError(
                f"--weeks {weeks}: rotation {rotation} would have about {int(count)} shifts, "
                f"more than the {MAX_EXPORT_SHIFTS} an export may hold; export fewer weeks"
            )
    per_rotation = {}
    for rotation in chosen:
        found = whole_shifts(schedule, rotation, begin, end)
        per_rotation[rotation] = [s for s in found if person is None or s.person == person]

    def render(found: list[Any], name: str) -> str:
        if output_format == "ics":
            return ics(found, f"{settings.title}: {name}", settings.people)
        return csv_text(found)

    empty = "" if any(per_rotation.values()) else _why_empty(chosen, person, weeks)
    if out is not None:
        written = []
        for rotation, found in per_rotation.items():
            path = out / f"oncall-{rotation}.{output_format}"
            write_atomic(path, render(found, rotation))
            written.append(path)
        return Export(written, "", empty)
    every = [s for found in per_rotation.values() for s in found]
    every.sort(key=lambda s: (s.start, s.rotation))
    return Export([], render(every, "on call"), empty)


def _why_empty(rotations: Sequence[str], person: str | None, weeks: int) -> str:
    if not rotations:
        return "oncall.yaml has no rotations: the export holds no shift"
    whose = f" of {person}" if person is not None else ""
    return f"no shift{whose} in these {weeks} weeks: the export holds none"


def pending_escalations(root: Path, as_of: datetime) -> tuple[list[Escalation], list[str]]:
    """Unacknowledged incidents past their window, and who is next for each; and the
    incident files that could not be read (any of them could be waiting)."""
    settings = load_settings(root)
    schedule = load_schedule(root, settings)
    from incidents_cli.store.figures import detected_incidents

    records = []
    detected, unreadable = detected_incidents(root)  # only these can need an escalation
    for record in detected:
        assert record.doc is not None
        records.append((record.rel, record.doc.locate(["detected_at"])[0], record.data))
    return escalations(records, settings, schedule, as_of), unreadable


def response_stats(
    root: Path, since: datetime | None, until: datetime
) -> tuple[dict[str, Any], list[str]]:
    """Counts, time to acknowledge and resolve, completion rates over a period; and the
    files left out of them because they could not be read."""
    from incidents_cli.store.figures import stats_input

    if since is not None and since >= until:
        raise RefusedError(
            f"--since {format_time(since)} is not before --until {format_time(until)}: "
            "the period holds no time"
        )
    settings = load_settings(root)
    incidents, postmortems, unreadable = stats_input(root)  # only the fields it reads
    return metrics.compute(incidents, postmortems, settings, since, until), unreadable
