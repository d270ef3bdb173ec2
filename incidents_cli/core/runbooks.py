"""Runbooks: finding the right one quickly, and knowing which ones need a review."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any, NamedTuple

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.records import RecordFile
from incidents_cli.core.timeutil import TimeFormatError, parse_date, parse_time


# A NamedTuple, not a frozen dataclass: cheaper to create at import (see benchmarks/, --help).
class Runbook(NamedTuple):
    slug: str
    rel: str
    title: str
    components: tuple[str, ...]
    tags: tuple[str, ...]
    owner: str
    last_reviewed: datetime | None
    review_every: int | None
    line: int
    body: str


def runbooks_from_records(records: Iterable[RecordFile]) -> list[Runbook]:
    """The usable runbooks among parsed runbook records (broken ones are validate's job)."""
    out = []
    for record in records:
        data = record.data
        if record.error is not None or not isinstance(data, dict):
            continue
        reviewed = None
        if isinstance(data.get("last_reviewed"), str):
            try:
                reviewed = datetime.combine(parse_date(data["last_reviewed"]), time(), UTC)
            except TimeFormatError:
                reviewed = None
        every = data.get("review_every")
        assert record.doc is not None
        out.append(
            Runbook(
                slug=record.stem,
                rel=record.rel,
                title=str(data.get("title", record.stem)),
                components=tuple(str(c) for c in data.get("components") or []),
                tags=tuple(str(t) for t in data.get("tags") or []),
                owner=str(data.get("owner", "")),
                last_reviewed=reviewed,
                review_every=every if isinstance(every, int) else None,
                line=record.doc.locate(["last_reviewed"])[0],
                body=record.body,
            )
        )
    return out


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def matching(runbooks: list[Runbook], components: list[str], text: str) -> list[Runbook]:
    """Runbooks for these components, or whose tags appear in the text (a title, say)."""
    words = _words(text)
    found = []
    for runbook in runbooks:
        by_component = bool(set(components) & set(runbook.components))
        by_tag = any(
            tag_words and tag_words <= words for tag_words in (_words(t) for t in runbook.tags)
        )
        if by_component or by_tag:
            found.append(runbook)
    return found


def select(runbooks: list[Runbook], component: str | None, tag: str | None) -> list[Runbook]:
    return [
        r
        for r in runbooks
        if (component is None or component in r.components)
        and (tag is None or tag.lower() in (t.lower() for t in r.tags))
    ]


class Stale(NamedTuple):
    runbook: Runbook
    due: datetime
    reason: str


def stale(
    runbooks: list[Runbook],
    incidents: list[dict[str, Any]],
    postmortems: dict[str, dict[str, Any]],
    as_of: datetime,
) -> list[Stale]:
    """Runbooks past their review interval, and runbooks used in an incident whose
    postmortem was published after the runbook's last review."""
    out = []
    for runbook in runbooks:
        if runbook.last_reviewed is None:
            continue
        if runbook.review_every is not None:
            due = runbook.last_reviewed + timedelta(days=runbook.review_every)
            if due < as_of:
                out.append(Stale(runbook, due, f"not reviewed in {runbook.review_every} days"))
                continue
        for incident in incidents:
            if runbook.slug not in (incident.get("runbooks") or []):
                continue
            front = postmortems.get(str(incident.get("id")))
            if not front or front.get("status") != "published":
                continue
            try:
                published = parse_time(str(front.get("published_at") or front.get("due")))
            except TimeFormatError:
                continue
            if published > runbook.last_reviewed and published <= as_of:
                out.append(
                    Stale(
                        runbook,
                        published,
                        f"used in {incident['id']}; review it after that postmortem",
                    )
                )
                break
    return out


def slugify(title: str) -> str:
    slug = "-".join(re.findall(r"[a-z0-9]+", title.lower()))
    return slug[:60].strip("-") or "runbook"


def mark_reviewed(
    front: dict[str, Any], slug: str, when: datetime, timezone: str
) -> dict[str, Any]:
    """The runbook's front matter with last_reviewed set to the day of ``when`` in the team's
    time zone; a refusal if it says that day already."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone: Any = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    day = when.astimezone(zone).strftime("%Y-%m-%d")
    if front.get("last_reviewed") == day:
        raise RefusedError(f"runbooks/{slug}.md was reviewed on {day} already")
    new = dict(front)
    new["last_reviewed"] = day
    return new
