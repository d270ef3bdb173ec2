"""Follow-through: action items, postmortems and runbook reviews, and which are overdue.

Pure: takes parsed records and "now", returns items with their places for annotations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Any

from incidents_cli.core.document import Document
from incidents_cli.core.findings import Finding, report_github
from incidents_cli.core.postmortems import due_date, postmortem_due
from incidents_cli.core.records import RecordFile, postmortem_rel
from incidents_cli.core.runbooks import Stale
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import due_time, format_duration, format_time
from incidents_cli.core.vocabulary import SETTLED_ACTION_ITEM_STATUSES

SETTLED = (*SETTLED_ACTION_ITEM_STATUSES, "published")
"""Statuses that are never late: an item done or decided against, a published postmortem."""


def late_by(due: datetime | None, status: str, as_of: datetime) -> timedelta | None:
    """How late something with this due date and status is at ``as_of``: the overdue rule,
    the one place it is written (stats calls it too)."""
    if due is None or status in SETTLED:
        return None
    return as_of - due if as_of > due else None


@dataclass(frozen=True)
class Item:
    kind: str  # action_item, postmortem, runbook
    path: str
    place: Callable[[], int] = field(repr=False, compare=False)
    incident: str
    ref: str
    title: str
    owner: str
    due: datetime | None
    status: str
    as_of: datetime

    @cached_property
    def line(self) -> int:
        """The line to point at, looked up only for the items that are shown: finding it
        may mean reading the file again."""
        return self.place()

    @property
    def late(self) -> timedelta | None:
        return late_by(self.due, self.status, self.as_of)

    @property
    def overdue(self) -> bool:
        return self.late is not None

    def as_dict(self) -> dict[str, Any]:
        late = self.late
        return {
            "kind": self.kind,
            "path": self.path,
            "line": self.line,
            "incident": self.incident,
            "id": self.ref,
            "title": self.title,
            "owner": self.owner,
            "due": format_time(self.due) if self.due else None,
            "status": self.status,
            "overdue": self.overdue,
            "late_seconds": int(late.total_seconds()) if late else 0,
        }

    def describe(self) -> str:
        due = format_time(self.due) if self.due else "no due date"
        late = f", {format_duration(self.late)} late" if self.late else ""
        owner = f" (owner {self.owner})" if self.owner else ""
        return f"{self.incident} {self.ref}{owner}: {self.title} - due {due}{late}"


def _line_of(doc: Document, where: list[str | int]) -> Callable[[], int]:
    return lambda: doc.locate(where)[0]


def collect(
    records: Sequence[RecordFile],
    settings: Settings,
    as_of: datetime,
    stale: Sequence[Stale] = (),
    keep: Callable[[Item], bool] | None = None,
    invalid: Mapping[str, Finding] | None = None,
) -> list[Item]:
    """Every follow-up item (or those ``keep`` accepts), by due date, file and line.
    ``invalid``: the first problem of each postmortem that does not validate (so it is
    not among ``records``), by incident id."""
    postmortems = {
        str(r.data.get("incident")): r
        for r in records
        if r.kind == "postmortem" and r.doc is not None and isinstance(r.data, dict)
    }
    items = [
        *(
            item
            for record in postmortems.values()
            for item in _action_items(record, as_of, settings.timezone)
        ),
        *_postmortem_items(records, postmortems, settings, as_of, invalid or {}),
        *(_review_item(entry, as_of) for entry in stale),
    ]
    if keep is not None:  # before sorting, which needs the lines
        items = [i for i in items if keep(i)]
    return sorted(items, key=lambda i: (i.due or as_of, i.path, i.line))


def _action_items(record: RecordFile, as_of: datetime, zone: str) -> Iterator[Item]:
    """The action items of one postmortem (a plain date as due: the end of that day in
    ``zone``, the settings' time zone)."""
    assert record.doc is not None
    for index, raw in enumerate(record.data.get("action_items") or []):
        if not isinstance(raw, dict):
            continue
        yield Item(
            kind="action_item",
            path=record.rel,
            place=_line_of(record.doc, ["action_items", index]),
            incident=str(record.data.get("incident")),
            ref=str(raw.get("id")),
            title=str(raw.get("title", "")),
            owner=str(raw.get("owner", "")),
            due=due_time(raw.get("due"), zone),
            status=str(raw.get("status", "open")),
            as_of=as_of,
        )


def _postmortem_items(
    records: Sequence[RecordFile],
    postmortems: dict[str, RecordFile],
    settings: Settings,
    as_of: datetime,
    invalid: Mapping[str, Finding],
) -> Iterator[Item]:
    """A postmortem that is due (its severity needs one) and is missing, does not validate,
    or is unpublished."""
    for record in records:
        if record.kind != "incident" or record.doc is None or not isinstance(record.data, dict):
            continue
        data = record.data
        if data.get("severity") not in settings.required_for or not data.get("resolved_at"):
            continue
        incident_id = str(data.get("id"))
        document = postmortems.get(incident_id)
        if document is None:
            yield _missing_item(record, settings, as_of, invalid.get(incident_id))
        elif document.data.get("status") != "published":
            assert document.doc is not None
            yield Item(
                kind="postmortem",
                path=document.rel,
                place=_line_of(document.doc, ["status"]),
                incident=incident_id,
                ref="postmortem",
                title=f"postmortem not published yet ({document.data.get('status')})",
                owner=", ".join(document.data.get("authors") or []),
                due=postmortem_due(data, document.data, settings),
                status=str(document.data.get("status")),
                as_of=as_of,
            )


def _missing_item(
    record: RecordFile, settings: Settings, as_of: datetime, problem: Finding | None
) -> Item:
    """The postmortem an incident needs and has not (``problem``: it has one, which does
    not validate; the item points at that problem)."""
    assert record.doc is not None
    data = record.data
    incident_id = str(data.get("id"))
    place: Callable[[], int]
    if problem is not None:
        path, place = problem.path, partial(int, problem.line)
        title, status = f"postmortem invalid: {problem.text()}", "invalid"
    else:
        path, place = record.rel, _line_of(record.doc, ["resolved_at"])
        title, status = f"postmortem missing ({postmortem_rel(incident_id)})", "missing"
    return Item(
        kind="postmortem",
        path=path,
        place=place,
        incident=incident_id,
        ref="postmortem",
        title=title,
        owner=str((data.get("roles") or {}).get("commander", "")),
        due=due_date(data, settings),
        status=status,
        as_of=as_of,
    )


def _review_item(entry: Stale, as_of: datetime) -> Item:
    return Item(
        kind="runbook",
        path=entry.runbook.rel,
        place=partial(int, entry.runbook.line),
        incident="-",
        ref=entry.runbook.slug,
        title=f"runbook review: {entry.reason}",
        owner=entry.runbook.owner,
        due=entry.due,
        status="stale",
        as_of=as_of,
    )


def as_findings(items: Sequence[Item]) -> list[Finding]:
    """Overdue items as findings (errors), the rest as notices: for --format github."""
    out = []
    for item in items:
        label = {
            "action_item": "Overdue action item",
            "postmortem": "Overdue postmortem",
            "runbook": "Runbook review due",
        }[item.kind]
        if not item.overdue:
            label = {
                "action_item": "Action item",
                "postmortem": "Postmortem",
                "runbook": "Runbook",
            }[item.kind]
        out.append(
            Finding(
                item.path,
                item.line,
                1,
                label,
                item.describe(),
                "error" if item.overdue else "notice",
            )
        )
    return out


def text_table(items: Sequence[Item]) -> str:
    if not items:
        return "Nothing to follow up.\n"
    rows = [("KIND", "INCIDENT", "ID", "OWNER", "DUE", "STATUS", "LATE", "TITLE")]
    for item in items:
        rows.append(
            (
                item.kind.replace("_", " "),
                item.incident,
                item.ref,
                item.owner or "-",
                format_time(item.due) if item.due else "-",
                item.status,
                format_duration(item.late) if item.late else "-",
                f"{item.title}  ({item.path}:{item.line})",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(7)]
    return "".join(
        "  ".join([*(row[i].ljust(widths[i]) for i in range(7)), row[7]]).rstrip() + "\n"
        for row in rows
    )


def markdown_table(items: Sequence[Item]) -> str:
    """A Markdown table for a job summary or an issue body."""
    if not items:
        return "Nothing to follow up.\n"

    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    lines = [
        "| Kind | Incident | Item | Owner | Due | Status | Late | Where |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for item in items:
        late = format_duration(item.late) if item.late else ""
        cells = (
            item.kind.replace("_", " "),
            item.incident,
            f"{item.ref}: {item.title}",
            item.owner or "-",
            format_time(item.due) if item.due else "-",
            item.status,
            f"**{late}**" if late else "-",
            f"{item.path}:{item.line}",
        )
        lines.append("| " + " | ".join(cell(x) for x in cells) + " |")
    return "\n".join(lines) + "\n"


def json_text(items: Sequence[Item]) -> str:
    import json

    return json.dumps([i.as_dict() for i in items], indent=2, ensure_ascii=False) + "\n"


def github_text(items: Sequence[Item]) -> str:
    return report_github(as_findings(items))


# `incidents actions --format`: each turns the items into the text printed.
FORMATS_BY_NAME: dict[str, Callable[[Sequence[Item]], str]] = {
    "text": text_table,
    "json": json_text,
    "github": github_text,
    "markdown": markdown_table,
}
