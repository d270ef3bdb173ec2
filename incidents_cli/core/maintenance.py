"""Scheduled maintenance windows: announce, update, call off, and what state each is in.

Pure, like the incident lifecycle: a function from a window's data (a plain dict as stored in
maintenance/<ID>.yaml) and the facts of the event to new data, or a refusal. The use case
writes and commits; nothing here touches files or git.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from incidents_cli.core import refs
from incidents_cli.core.lifecycle import Change, Event, TransitionRefused
from incidents_cli.core.text import clip
from incidents_cli.core.timeutil import format_time, maybe_time

PREFIX = "MNT"
STATES = ("scheduled", "in_progress", "completed", "cancelled")

WindowData = dict[str, Any]


def state(data: WindowData, now: datetime) -> str:
    """scheduled, in_progress, completed or cancelled, as of ``now``."""
    if data.get("cancelled") is True:
        return "cancelled"
    start, end = maybe_time(data.get("start")), maybe_time(data.get("end"))
    if start is not None and now < start:
        return "scheduled"
    if end is not None and now < end:
        return "in_progress"
    return "completed"


def _subject(data: WindowData, what: str) -> str:
    subject = f"{data['id']} maintenance {what}: {data.get('title', '')}"
    return clip(subject, 100)


def _change(data: WindowData, event: Event, action: str, what: str) -> Change:
    return Change(
        data,
        f"maintenance-{action}",
        _subject(data, what),
        write_record=False,
        trailers=(("Maintenance-Id", str(data["id"])),),
    )


def _check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise TransitionRefused(
            f"--end {format_time(end)} is not after --start {format_time(start)}: "
            "a window ends after it starts"
        )


def _check_components(event: Event, components: Sequence[str]) -> None:
    known = event.settings.component_ids
    for component in components:
        if component not in known:
            raise TransitionRefused(
                f"unknown component {component!r} (known: {', '.join(sorted(known)) or 'none'});"
                " add it to components in incidents.yaml"
            )


def schedule(
    window_id: str,
    title: str,
    event: Event,
    *,
    start: datetime,
    end: datetime,
    components: Sequence[str],
    message: str | None = None,
) -> Change:
    """Announce a new window."""
    if not title.strip():
        raise TransitionRefused("the title must not be empty: say what is being maintained")
    if not components:
        raise TransitionRefused("--component: name at least one component the window affects")
    _check_components(event, components)
    _check_window(start, end)
    if end <= event.now:
        raise TransitionRefused(
            f"--end {format_time(end)} is in the past: there is nothing to announce"
        )
    data: WindowData = {
        "id": window_id,
        "title": title.strip(),
        "start": format_time(start),
        "end": format_time(end),
        "components": list(dict.fromkeys(components)),
    }
    if message and message.strip():
        data["message"] = message.strip()
    return _change(data, event, "scheduled", "scheduled")


def _open(data: WindowData, event: Event, action: str) -> WindowData:
    if data.get("cancelled") is True:
        since = f" (since {data['cancelled_at']})" if data.get("cancelled_at") else ""
        if action == "cancel":
            raise TransitionRefused(f"{data.get('id')} is cancelled already{since}")
        raise TransitionRefused(f"cannot {action} {data.get('id')}: it is cancelled{since}")
    end = maybe_time(data.get("end"))
    if end is not None and end <= event.now:
        raise TransitionRefused(f"cannot {action} {data.get('id')}: it ended at {format_time(end)}")
    return copy.deepcopy(data)


def update(
    data: WindowData,
    event: Event,
    *,
    message: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Change:
    """Post a public update, move the window, or both."""
    if message is not None and not message.strip():
        raise TransitionRefused("--message must not be empty")
    if message is None and start is None and end is None:
        raise TransitionRefused("nothing to change: pass --message, --start or --end")
    new = _open(data, event, "update")
    new_start = start or maybe_time(new.get("start"))
    new_end = end or maybe_time(new.get("end"))
    if new_start is not None and new_end is not None:
        _check_window(new_start, new_end)
    if start is not None:
        new["start"] = format_time(start)
    if end is not None:
        new["end"] = format_time(end)
    if message is not None:
        entries = new.setdefault("updates", [])
        entries.append(
            {
                "ref": refs.next_ref(new, "updates"),
                "at": format_time(event.at),
                "message": message.strip(),
            }
        )
    if new == data:
        raise TransitionRefused(f"{data.get('id')} already has that start and end")
    return _change(new, event, "updated", "updated")


def cancel(data: WindowData, event: Event, reason: str) -> Change:
    """Call the window off: it leaves the page; the file keeps why and when."""
    if not reason.strip():
        raise TransitionRefused("--reason: say why the window is called off")
    new = _open(data, event, "cancel")
    new["cancelled"] = True
    new["cancelled_at"] = format_time(event.at)
    new["cancel_reason"] = reason.strip()
    return _change(new, event, "cancelled", "cancelled")


class Row(NamedTuple):
    id: str
    state: str
    start: str
    end: str
    components: tuple[str, ...]
    title: str


def rows(windows: Sequence[WindowData], now: datetime) -> list[Row]:
    """One row per window, soonest first."""
    out = [
        Row(
            id=str(w.get("id")),
            state=state(w, now),
            start=str(w.get("start", "")),
            end=str(w.get("end", "")),
            components=tuple(str(c) for c in w.get("components") or []),
            title=str(w.get("title", "")),
        )
        for w in windows
    ]
    out.sort(key=lambda r: (r.start, r.id))
    return out


def rows_text(found: Sequence[Row]) -> str:
    if not found:
        return "No maintenance windows.\n"
    table = [("ID", "STATE", "START", "END", "COMPONENTS", "TITLE")] + [
        (r.id, r.state, r.start, r.end, ",".join(r.components), r.title) for r in found
    ]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    lines = ["  ".join([*(row[i].ljust(widths[i]) for i in range(5)), row[5]]) for row in table]
    return "\n".join(line.rstrip() for line in lines) + "\n"
