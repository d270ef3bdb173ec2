"""On-call shifts as iCalendar (RFC 5545) and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from incidents_cli.core.ical import escape as _escape
from incidents_cli.core.ical import fold as _fold
from incidents_cli.core.ical import ics_time as _ics_time
from incidents_cli.core.oncall import Shift


def ics(shifts: Sequence[Shift], calendar_name: str, names: dict[str, str]) -> str:
    """The shifts as an iCalendar feed. An event's UID comes from the rotation, the shift's
    real start and the person, and its DTSTAMP is that start too, so the same shift gives
    the same bytes whenever it is exported and a subscribed calendar does not churn."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//incidents//on-call export//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(calendar_name)}",
    ]
    for shift in shifts:
        person = names.get(shift.person, shift.person)
        summary = f"On call ({shift.rotation}): {person}"
        description = (
            f"Covering for {shift.override.replaces or 'the scheduled person'}"
            + (f": {shift.override.reason}" if shift.override.reason else "")
            if shift.override
            else "Scheduled shift"
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{shift.rotation}-{_ics_time(shift.start)}-{shift.person}@incidents",
            f"DTSTAMP:{_ics_time(shift.start)}",
            f"DTSTART:{_ics_time(shift.start)}",
            f"DTEND:{_ics_time(shift.end)}",
            f"SUMMARY:{_escape(summary)}",
            f"DESCRIPTION:{_escape(description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def csv_text(shifts: Sequence[Shift]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rotation", "person", "start", "end", "hours", "override_for"])
    for shift in shifts:
        writer.writerow(
            [
                shift.rotation,
                shift.person,
                _iso(shift.start),
                _iso(shift.end),
                f"{shift.hours:.2f}",
                (shift.override.replaces or "scheduled") if shift.override else "",
            ]
        )
    return out.getvalue()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
