"""`incidents maintenance new|update|cancel|list`: scheduled maintenance as commits.

Each change goes through the same transaction as an incident transition (one commit with
trailers, a refused or failed commit leaves everything as it was, --push replays).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from incidents_cli.core import lifecycle
from incidents_cli.core import maintenance as windows
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.lifecycle import Change, Event
from incidents_cli.core.records import maintenance_rel
from incidents_cli.core.timeutil import parse_time_option
from incidents_cli.store.layout import find_root, load_maintenance
from incidents_cli.store.transaction import Outcome, Workspace
from incidents_cli.usecases.transitions import Invocation, run


def _time(value: datetime | str | None, option: str) -> datetime | None:
    """A time option: the CLI gives datetimes (times as people type them); a str is read as
    RFC 3339."""
    if isinstance(value, str):
        return parse_time_option(value, option) if value else None
    return value


def _written(ws: Workspace, change: Change) -> Change:
    rel = maintenance_rel(str(change.record["id"]))
    change.files[rel] = ws.rewritten(rel, "maintenance", change.record)
    return change


def new(
    invocation: Invocation,
    title: str,
    *,
    start: datetime | str,
    end: datetime | str,
    components: Sequence[str],
    message: str | None,
) -> Outcome:
    start_at, end_at = _time(start, "--start"), _time(end, "--end")
    if start_at is None or end_at is None:
        raise RefusedError("a window needs --start and --end")

    def make(ws: Workspace, event: Event) -> Change:
        window_id = lifecycle.next_id(ws.maintenance_ids(), windows.PREFIX)
        change = windows.schedule(
            window_id,
            title,
            event,
            start=start_at,
            end=end_at,
            components=components,
            message=message,
        )
        return _written(ws, change)

    return run(invocation, make)


def update(
    invocation: Invocation,
    window_id: str,
    *,
    message: str | None,
    start: datetime | str | None,
    end: datetime | str | None,
) -> Outcome:
    start_at, end_at = _time(start, "--start"), _time(end, "--end")
    return run(
        invocation,
        lambda ws, event: _written(
            ws,
            windows.update(
                ws.maintenance(window_id), event, message=message, start=start_at, end=end_at
            ),
        ),
    )


def cancel(invocation: Invocation, window_id: str, reason: str) -> Outcome:
    return run(
        invocation,
        lambda ws, event: _written(ws, windows.cancel(ws.maintenance(window_id), event, reason)),
    )


def listing(directory: Path, now: datetime) -> tuple[list[windows.Row], list[str]]:
    """Every usable window as a row, soonest first, and the files of those that are not."""
    root = find_root(directory)
    found, unreadable = load_maintenance(root)
    return windows.rows(found, now), unreadable
