"""maintenance.ics: scheduled maintenance as an iCalendar feed people can subscribe to.

One event per window (per occurrence of a recurring one), so that every calendar shows the
same times without expanding rules itself. An event's UID is stable: the window's id and the
site's host, the same in every build. A change to a maintenance record is a commit, and
SEQUENCE counts those that changed its public view (``revision_counts``, less one), so a
calendar replaces its copy, and a commit that changes nothing published (a YAML comment)
leaves it as it was; a window called off stays in the feed with STATUS:CANCELLED (the
record's ``cancelled``, or one occurrence in ``cancelled_occurrences``), which is how
calendars learn to remove it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from incidents_cli.core.ical import Event, calendar
from incidents_cli.site.api import absolute_url
from incidents_cli.site.contexts import Words
from incidents_cli.site.model import Page

if TYPE_CHECKING:
    from incidents_cli.store.git import Repo, Revision

KEEP_PAST = timedelta(days=90)
"""Windows that ended longer ago than this are left out (the page's history is as long)."""


def maintenance_calendar(page: Page, authority: str, sequences: Mapping[str, int]) -> str:
    """The calendar of ``page``'s maintenance; ``sequences`` by record id (see above)."""
    words = Words(page)
    names = {c.id: c.name for c in page.settings.components}
    link = absolute_url(page.settings.base_url, "index.html#maintenance")
    events = []
    for window in page.calendar:
        if window.end < page.now - KEEP_PAST:
            continue
        affected = ", ".join(names.get(c, c) for c in window.components)
        description = "\n\n".join(
            part
            for part in (
                window.message,
                words("Affected: %(components)s", components=affected) if affected else "",
            )
            if part
        )
        events.append(
            Event(
                uid=f"maintenance-{window.id}@{authority}",
                start=window.start,
                end=window.end,
                summary=words("Scheduled maintenance: %(title)s", title=window.title),
                description=description,
                url=link,
                stamp=page.now,
                sequence=sequences.get(window.series, 0),
                status="CANCELLED" if window.cancelled else "CONFIRMED",
                categories=("Maintenance",),
            )
        )
    name = words("%(site)s: scheduled maintenance", site=page.settings.title)
    return calendar(name, "status site", events)


def revision_counts(root: Path, revisions: Sequence[Revision]) -> dict[str, int]:
    """How many of each file's revisions (``store.git.ask_revisions``) changed its public
    view: each that made or removed the file, and each change after which the record's
    windows (site/public.py, expanded in UTC so that the count does not follow the
    settings) or the occurrences it calls off differ from those before (the calendar
    expands a series in the site's time zone: an occurrence called off there may be none
    of the UTC series, and its event still turns CANCELLED). A function of each revision
    alone, so the counts of a range of commits add up to those of the whole history.
    ``root``: where git reads the blobs."""
    from incidents_cli.store.git import Repo

    blobs = sorted({b for r in revisions if r.status == "M" for b in (r.old, r.new)})
    views = _views(Repo(root), blobs) if blobs else {}
    counts: dict[str, int] = {}
    for revision in revisions:
        if revision.status == "M" and views[revision.old] == views[revision.new]:
            continue
        counts[revision.path] = counts.get(revision.path, 0) + 1
    return counts


def _views(repo: Repo, blobs: list[str]) -> dict[str, str]:
    """The public view of the maintenance record each blob holds, as text to compare (one
    that does not read as a record: its own blob id, unlike any other)."""
    from incidents_cli.core.errors import InputFileError
    from incidents_cli.core.timeutil import maybe_time
    from incidents_cli.site.public import maintenance_windows
    from incidents_cli.store.yamlio import decode, parse_unplaced

    texts = repo.read_blobs(blobs)
    views: dict[str, str] = {}
    for blob in blobs:
        views[blob] = blob
        try:
            data = parse_unplaced(decode(texts[blob], blob), blob).data
            if isinstance(data, dict):
                called_off = sorted(
                    {str(maybe_time(t)) for t in data.get("cancelled_occurrences") or []}
                )
                views[blob] = repr((maintenance_windows(data), called_off))
        # an old version that is not a record (a field of another type): its view is none
        except (InputFileError, TypeError, ValueError, AttributeError):
            pass
    return views
