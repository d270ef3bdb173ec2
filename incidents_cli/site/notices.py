"""What the public hears: notices built only from the public view, as the site shows it.

The status site, its API, its feeds and every ``public`` notification channel are built from
the same function, ``site.public.public_incident``; this module never reads a record's other
fields, so nothing internal (notes, evidence, roles, names, regions, a private incident, or
anything before the first public update) can reach a public channel. Maintenance windows are
public by nature; their notices are built here for every audience.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incidents_cli.core.notifications import (
    BACKFILL,
    EVENT_LABEL,
    Fact,
    Links,
    Notice,
    Snapshot,
    update_key,
)
from incidents_cli.core.timeutil import format_time
from incidents_cli.site.api import api_incident, api_maintenance
from incidents_cli.site.model import Page
from incidents_cli.site.public import (
    STATUS_LABEL,
    UPDATE_STATUS_LABEL,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    maintenance_windows,
    public_incident,
)


def _identity(update: PublicUpdate) -> tuple[datetime, str, int]:
    """An update is the same update when its number (from its stable ref) is: an amended
    message is corrected on the page, not told to subscribers again as news."""
    return (update.at, update.status, update.number)


def _status(status: str) -> str:
    return UPDATE_STATUS_LABEL.get(status, status)


def incident_notices(
    old: PublicIncident | None, new: PublicIncident | None, links: Links, page: Page
) -> list[Notice]:
    """The public news of one incident between two of its public views."""
    if new is None:
        return []  # not public, or nothing said in public yet: nothing to tell the public
    document = api_incident(new, page)
    folded = _folded_update(old, new)
    return [
        *_update_notices(old, new, links, document, folded),
        *_phase_notices(old, new, links, document, folded),
        *_postmortem_notices(old, new, links, document),
    ]


def _public_notice(
    new: PublicIncident,
    links: Links,
    document: Mapping[str, Any],
    event: str,
    key: str,
    at: datetime,
    headline: str,
    body: str,
    facts: tuple[Fact, ...] = (),
    components: tuple[str, ...] | None = None,
    component_changes: tuple[tuple[str, str, str], ...] = (),
) -> Notice:
    """A public notice about the incident ``new``."""
    return Notice(
        key=key,
        event=event,
        audience="public",
        at=at,
        subject=new.id,
        headline=headline,
        body=body,
        facts=facts,
        link=links.page(new.id),
        impact=new.impact,
        components=new.components if components is None else components,
        document=document,
        component_changes=component_changes,
    )


def _folded_update(old: PublicIncident | None, new: PublicIncident) -> PublicUpdate | None:
    """The update `resolve` (or `reopen`) posts in the same commit: it is told once, by the
    resolved (reopened) notice, not a second time as a public update."""
    seen = {_identity(u) for u in old.updates} if old else set()
    was_resolved = old is not None and old.resolved is not None
    folded = None
    if new.resolved is not None and not was_resolved and new.updates[-1].status == "resolved":
        folded = new.updates[-1]
    if was_resolved and new.resolved is None and _identity(new.updates[-1]) not in seen:
        folded = new.updates[-1]
    return folded


def _update_notices(
    old: PublicIncident | None,
    new: PublicIncident,
    links: Links,
    document: Mapping[str, Any],
    folded: PublicUpdate | None,
) -> list[Notice]:
    """A notice for each public update not told before (nor folded into a phase change)."""
    seen = {_identity(u) for u in old.updates} if old else set()
    out: list[Notice] = []
    previous: dict[str, str] = {}
    for update in new.updates:
        changes = tuple(
            (c, previous.get(c, "operational"), s)
            for c, s in update.components.items()
            if previous.get(c, "operational") != s
        )
        previous.update(update.components)
        if _identity(update) in seen or update is folded:
            continue
        facts = [Fact("Status", _status(update.status))]
        if update.components:
            shown = ", ".join(
                f"{links.name(c)}: {STATUS_LABEL.get(s, s)}" for c, s in update.components.items()
            )
            facts.append(Fact("Components", shown))
        if update.eta is not None:
            facts.append(Fact("Expected resolution", format_time(update.eta)))
        out.append(
            _public_notice(
                new,
                links,
                document,
                "public_update",
                update_key(new.id, update.at, update.status),
                update.at,
                f"{new.title}: {_status(update.status)}",
                update.message,
                facts=tuple(facts),
                components=tuple(dict.fromkeys([*new.components, *update.components])),
                component_changes=changes,
            )
        )
    return out


def _phase_notices(
    old: PublicIncident | None,
    new: PublicIncident,
    links: Links,
    document: Mapping[str, Any],
    folded: PublicUpdate | None,
) -> list[Notice]:
    """The notice of a resolution or of a reopening."""
    was_resolved = old is not None and old.resolved is not None
    out: list[Notice] = []
    if new.resolved is not None and not was_resolved:
        last = new.updates[-1]
        out.append(
            _public_notice(
                new,
                links,
                document,
                "resolved",
                f"{new.id}/resolved/{format_time(new.resolved)}",
                new.resolved,
                f"{new.title}: Resolved",
                last.message if last.status == "resolved" else "This incident has been resolved.",
                facts=(Fact("Status", "Resolved"),),
            )
        )
    if was_resolved and new.resolved is None:
        at = new.updates[-1].at
        out.append(
            _public_notice(
                new,
                links,
                document,
                "reopened",
                f"{new.id}/reopened/{format_time(at)}",
                at,
                f"{new.title}: Reopened",
                folded.message
                if folded is not None
                else "This incident is under investigation again.",
                facts=(Fact("Status", _status(new.status)),),
            )
        )
    return out


def _postmortem_notices(
    old: PublicIncident | None, new: PublicIncident, links: Links, document: Mapping[str, Any]
) -> list[Notice]:
    """A notice when the postmortem's public summary has just been published."""
    had_summary = old is not None and old.postmortem_summary is not None
    if new.postmortem_summary is not None and not had_summary:
        return [
            _public_notice(
                new,
                links,
                document,
                "postmortem_published",
                f"{new.id}/postmortem",
                new.postmortem_at or new.updated,
                f"{new.title}: Postmortem",
                new.postmortem_summary,
            )
        ]
    return []


def public_notices(old: Snapshot, new: Snapshot, links: Links, page: Page) -> list[Notice]:
    """Every incident's public news between two snapshots (of records that validate)."""
    out: list[Notice] = []
    for ident in sorted(new.incidents):
        before = old.incidents.get(ident)
        out += incident_notices(
            public_incident(before, old.postmortems.get(ident)) if before else None,
            public_incident(new.incidents[ident], new.postmortems.get(ident)),
            links,
            page,
        )
    return out


def _maintenance_notice(
    window: Maintenance, event: str, at: datetime, audience: str, links: Links, page: Page
) -> Notice:
    names = ", ".join(links.name(c) for c in window.components)
    changes: tuple[tuple[str, str, str], ...] = ()
    if event == "maintenance_started":
        changes = tuple((c, "operational", "under_maintenance") for c in window.components)
    elif event == "maintenance_ended":
        changes = tuple((c, "under_maintenance", "operational") for c in window.components)
    return Notice(
        key=f"maintenance/{window.id}/{event.removeprefix('maintenance_')}/"
        f"{format_time(window.start)}/{format_time(window.end)}",
        event=event,
        audience=audience,
        at=at,
        subject=window.id,
        headline=f"{window.title}: {EVENT_LABEL[event]}",
        body=window.message or window.title,
        facts=(
            Fact("Starts", format_time(window.start)),
            Fact("Ends", format_time(window.end)),
            Fact("Components", names),
        ),
        link=(links.site.rstrip("/") + "/index.html#maintenance") if links.site else None,
        components=window.components,
        document=api_maintenance(window, page),
        component_changes=changes,
        timed=True,
    )


def maintenance_notices(
    new: Snapshot,
    now: datetime,
    audience: str,
    links: Links,
    page: Page,
    timezone: str = "UTC",
) -> list[Notice]:
    """Announced (the next window of each maintenance record, once; again if it moves),
    started and ended (by the clock). A recurring record's windows each get their turn; a
    called-off window gets nothing. All of them are the clock's: remembered by key."""
    out = []
    for ident in sorted(new.maintenance):
        windows = [
            w for w in maintenance_windows(new.maintenance[ident], timezone) if not w.cancelled
        ]
        upcoming = [w for w in windows if w.start > now]
        if upcoming:
            following = min(upcoming, key=lambda w: w.start)
            out.append(
                _maintenance_notice(following, "maintenance_announced", now, audience, links, page)
            )
        for window in windows:
            if window.start <= now < window.end:
                out.append(
                    _maintenance_notice(
                        window, "maintenance_started", window.start, audience, links, page
                    )
                )
            if now - BACKFILL < window.end <= now:
                out.append(
                    _maintenance_notice(
                        window, "maintenance_ended", window.end, audience, links, page
                    )
                )
    return out
