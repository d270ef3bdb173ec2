"""Postmortem documents: the draft from the incident's record, and the rules of a published one.

Pure apart from rendering, which goes through render.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_duration, format_time, parse_time
from incidents_cli.core.timeutil import maybe_time as _time

PLACEHOLDER = "TODO(postmortem)"
SECTIONS = (
    ("what happened", "What happened"),
    ("why it happened", "Why it happened"),
    ("how we responded", "How we responded"),
    ("what we will do", "What we will do"),
)
SCHEMA_COMMENT = "# yaml-language-server: $schema="


def _cell(text: Any) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def due_date(record: dict[str, Any], settings: Settings) -> datetime | None:
    """When an incident's postmortem is due by the policy: resolution + due_within."""
    resolved = _time(record.get("resolved_at"))
    return resolved + settings.due_within if resolved is not None else None


def postmortem_due(
    record: dict[str, Any], front: dict[str, Any], settings: Settings
) -> datetime | None:
    """When a postmortem is due: its own `due`, else the policy's date for the incident."""
    return _time(front.get("due")) or due_date(record, settings)


class IncidentFacts(TypedDict):
    id: str
    title: str
    severity: str
    source: str


class TimelineRow(TypedDict):
    at: str
    actor: str
    text: str


class UpdateRow(TypedDict):
    at: str
    status: str
    message: str


class DraftContext(TypedDict):
    """The context of templates/postmortem.md."""

    incident: IncidentFacts
    detected: str
    components: str
    timeline: list[TimelineRow]
    updates: list[UpdateRow]
    time_to_ack: str
    breach: str
    time_to_resolve: str
    resolution: str
    runbooks: str


def draft(
    record: dict[str, Any], settings: Settings, author: str, render: Any, dump: Callable[[Any], str]
) -> str:
    """The text of postmortems/<ID>.md: front matter and the four questions."""
    body = str(render("postmortem.md", draft_context(record, settings)))
    return "---\n" + dump(draft_front(record, settings, author)) + "---\n" + body


def draft_author(record: dict[str, Any], settings: Settings, actor: str) -> str:
    """Who writes the draft when no one was named (--by): the actor if they are one of the
    people; else the incident's commander (who owns it end to end), since git's user.name is
    not a handle; else the actor."""
    if actor in settings.people:
        return actor
    commander = (record.get("roles") or {}).get("commander")
    return str(commander) if isinstance(commander, str) and commander else actor


def draft_front(record: dict[str, Any], settings: Settings, author: str) -> dict[str, Any]:
    """The front matter of a new draft: due by the policy, private, no action items yet."""
    due = due_date(record, settings)
    return {
        "incident": record["id"],
        "status": "draft",
        "authors": [author],
        "due": format_time(due) if due else format_time(parse_time(record["detected_at"])),
        "public": False,
        "public_summary": "",
        "action_items": [],
    }


def draft_context(record: dict[str, Any], settings: Settings) -> DraftContext:
    """What the draft's sections are pre-filled with: the timeline and the response times."""
    detected = _time(record.get("detected_at"))
    acknowledged = _time(record.get("acknowledged_at"))
    resolved = _time(record.get("resolved_at"))
    window = settings.ack_within.get(str(record.get("severity")))
    breach = ""
    if detected and acknowledged and window and acknowledged - detected > window:
        breach = f"over the {format_duration(window)} window for {record.get('severity')}"
    names = {c.id: c.name for c in settings.components}
    return {
        "incident": {
            "id": record["id"],
            "title": str(record.get("title", "")),
            "severity": str(record.get("severity", "unknown-severity")),
            "source": str(record.get("source", "unknown source")),
        },
        "detected": _shown(detected),
        "components": ", ".join(names.get(c, c) for c in record.get("components") or []),
        "timeline": [
            {
                "at": _shown(_time(e.get("at"))),
                "actor": _cell(e.get("actor", "")),
                "text": _cell(e.get("text", "")),
            }
            for e in record.get("timeline") or []
        ],
        "updates": [
            {
                "at": _shown(_time(u.get("at"))),
                "status": str(u.get("status")),
                "message": " ".join(str(u.get("message", "")).split()),
            }
            for u in record.get("updates") or []
            if not u.get("retracted")
        ],
        "time_to_ack": format_duration(acknowledged - detected)
        if detected and acknowledged
        else "not acknowledged",
        "breach": breach,
        "time_to_resolve": format_duration(resolved - detected)
        if detected and resolved
        else "not resolved",
        "resolution": _resolution(record),
        "runbooks": ", ".join(record.get("runbooks") or []),
    }


def _resolution(record: dict[str, Any]) -> str:
    resolution = record.get("resolution")
    if not isinstance(resolution, dict) or not resolution:
        return "none recorded"
    text = f"{resolution.get('action')}: {resolution.get('summary')}"
    if resolution.get("workaround"):
        text += f" (workaround; follow-up: {resolution.get('follow_up')})"
    return text


def _shown(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@dataclass(frozen=True)
class BodyProblem:
    line: int
    section: str
    message: str


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def body_problems(body: str, first_line: int) -> Iterator[BodyProblem]:
    """What keeps a postmortem body from being published: missing, empty or unfinished
    sections. ``first_line`` is the file line of the body's first line."""
    lines = body.splitlines()
    found: dict[str, tuple[int, list[tuple[int, str]]]] = {}
    current: str | None = None
    in_comment = False
    for index, line in enumerate(lines):
        number = first_line + index
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) == 2:
            title = heading.group(2).strip().lower().rstrip("?")
            current = next((key for key, _ in SECTIONS if title.startswith(key)), None)
            if current is not None:
                found[current] = (number, [])
            continue
        if current is None:
            continue
        stripped = line.strip()
        if "<!--" in stripped:
            in_comment = "-->" not in stripped
            continue
        if in_comment:
            in_comment = "-->" not in stripped
            continue
        found[current][1].append((number, stripped))
    for key, title in SECTIONS:
        if key not in found:
            yield BodyProblem(first_line, title, f"the section '## {title}' is missing")
            continue
        heading_line, content = found[key]
        for number, text in content:
            if PLACEHOLDER in text:
                yield BodyProblem(number, title, f"'{title}' still has a {PLACEHOLDER} placeholder")
        words = [
            text
            for _, text in content
            if text and not text.startswith("#") and PLACEHOLDER not in text
        ]
        if not words:
            yield BodyProblem(heading_line, title, f"the section '{title}' is empty")
