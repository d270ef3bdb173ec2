"""maintenance.ics: scheduled maintenance as an iCalendar feed people can subscribe to.

One event per window (per occurrence of a recurring one), so that every calendar shows the
same times without expanding rules itself. An event's UID is stable: the window's id and the
site's host, the same in every build. A change to a maintenance record is a commit, and
SEQUENCE counts them (the record's commits less one), so a calendar replaces its copy; a
window called off stays in the feed with STATUS:CANCELLED (the record's ``cancelled``, or
one occurrence in ``cancelled_occurrences``), which is how calendars learn to remove it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from incidents_cli.core.ical import Event, calendar
from incidents_cli.site.api import absolute_url
from incidents_cli.site.contexts import Words
from incidents_cli.site.model import Page

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
