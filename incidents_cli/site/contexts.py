"""The context of each template: built in Python, so templates only display.

Fixed text comes from the site's catalogue (i18n.py) in the team's language; times are
shown in the team's time zone with its abbreviation, with the UTC time in the ``datetime``
attribute and on hover. Nothing relative to the build's "now" ("40m ago") is written into a
page: it would be wrong by the time anyone reads it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_duration, format_time
from incidents_cli.site.api import absolute_url
from incidents_cli.site.i18n import N_, translations
from incidents_cli.site.model import ComponentView, Day, Page, zone_of
from incidents_cli.site.public import (
    STATUS_LABEL,
    UPDATE_STATUS_LABEL,
    Maintenance,
    PublicIncident,
    PublicUpdate,
)
from incidents_cli.site.render import markdown

FEED_ENTRIES = 50
PAST_DAYS = 15
"""Days of "Past incidents" on the index, like hosted status pages."""

# The banner: the headline says how bad, in Statuspage's own words (the API's
# status.description), the subline says what is affected, so the two always agree.
INDICATOR_LABEL = {
    "none": N_("All Systems Operational"),
    "maintenance": N_("Service Under Maintenance"),
    "minor": N_("Minor Service Outage"),
    "major": N_("Partial System Outage"),
    "critical": N_("Major System Outage"),
}
IMPACT_LABEL = {
    "none": N_("No impact"),
    "maintenance": N_("Maintenance"),
    "minor": N_("Minor impact"),
    "major": N_("Major impact"),
    "critical": N_("Critical impact"),
}
MAINTENANCE_STATE_LABEL = {
    "scheduled": N_("Upcoming"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
}
MONTH_NAMES = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)
# Badges and the favicon carry white text or sit on any background: the light scheme's
# text shades, each at least 4.5:1 against white.
BADGE_COLOR = {
    "none": "#1a7f37",
    "maintenance": "#0b5cad",
    "minor": "#875500",
    "major": "#b04400",
    "critical": "#c11f1f",
    "operational": "#1a7f37",
    "under_maintenance": "#0b5cad",
    "degraded_performance": "#875500",
    "partial_outage": "#b04400",
    "major_outage": "#c11f1f",
}
STATUS_ORDER = ("major_outage", "partial_outage", "degraded_performance", "under_maintenance")


class Words:
    """The catalogue and the time zone of one page: fixed text and times as people read
    them."""

    def __init__(self, page: Page) -> None:
        catalogue = translations(page.settings.language)
        self.gettext: Callable[[str], str] = catalogue.gettext
        self.ngettext: Callable[[str, str, int], str] = catalogue.ngettext
        self.zone: tzinfo = zone_of(page.settings)
        self.language = page.settings.language
        self.page = page
        self.names = {c.id: c.name for c in page.settings.components}
        """Each component's name, by id."""
        # each incident's line made once for a month's page and its incidents' pages,
        # rendered one after the other (the dicts are only read)
        self.lines: dict[int, dict[str, Any]] = {}
        self._components: dict[tuple[str, str], dict[str, str]] = {}
        self._days: dict[date, str] = {}

    def component(self, component: str, status: str) -> dict[str, str]:
        """A component's name and status, as an update lists them (made once each)."""
        found = self._components.get((component, status))
        if found is None:
            found = self._components[component, status] = {
                "name": self.names.get(component, component),
                "status": status,
                "label": self(STATUS_LABEL.get(status, status)),
            }
        return found

    def forget(self) -> None:
        """Drop the lines kept so far (a new month: memory stays bounded)."""
        self.lines.clear()

    def __call__(self, text: str, **values: object) -> str:
        translated = self.gettext(text)
        return translated % values if values else translated

    def plural(self, one: str, many: str, count: int, **values: object) -> str:
        return self.ngettext(one, many, count) % {"count": count, **values}

    def time(self, moment: datetime | None) -> dict[str, str] | None:
        """A time for <time>: in the team's zone with its abbreviation, UTC on hover."""
        if moment is None:
            return None
        utc = moment.astimezone(UTC)
        local = utc.astimezone(self.zone)
        if not (1000 <= local.year <= 9999 and 1000 <= utc.year <= 9999):
            return _time_texts(moment, local)  # where %Y and isoformat() differ
        # isoformat() rather than strftime: the same digits, made three times faster
        iso, shown = utc.isoformat(), local.isoformat()
        return {
            "iso": f"{iso[:19]}Z",
            "shown": f"{shown[:10]} {shown[11:16]} {local.tzname()}",
            "utc": f"{iso[:10]} {iso[11:16]} UTC",
        }

    def day(self, day: date) -> str:
        """A day as people write it: "10 March 2026" (the catalogue orders it); made once
        each (the bars of every component name the same 90 days)."""
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self(
                N_("%(day)d %(month)s %(year)d"),
                day=day.day,
                month=self(MONTH_NAMES[day.month - 1]),
                year=day.year,
            )
        return found

    def month(self, month: str) -> str:
        year, number = month.split("-")
        return self(N_("%(month)s %(year)s"), month=self(MONTH_NAMES[int(number) - 1]), year=year)


_LAST: list[Words] = []


def words_of(page: Page) -> Words:
    """The Words of ``page``, made once for all its pages of months and incidents."""
    if not _LAST or _LAST[0].page is not page:
        _LAST[:] = [Words(page)]
    return _LAST[0]


def _time_texts(moment: datetime, local: datetime) -> dict[str, str]:
    """Words.time's texts made with strftime (which pads no year below 1000)."""
    return {
        "iso": format_time(moment),
        "shown": f"{local:%Y-%m-%d %H:%M} {local.tzname()}",
        "utc": f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
    }


def update_context(update: PublicUpdate, words: Words) -> dict[str, Any]:
    return {
        "anchor": f"update-{update.number}",
        "status": update.status,
        "status_label": words(UPDATE_STATUS_LABEL.get(update.status, update.status)),
        "at": words.time(update.at),
        "message": update.message,
        "eta": words.time(update.eta),
        "components": [words.component(c, s) for c, s in update.components.items()],
    }


def incident_context(incident: PublicIncident, page: Page, words: Words) -> dict[str, Any]:
    return {
        **line_context(incident, page, words),
        "updates": [update_context(u, words) for u in reversed(incident.updates)],
        "postmortem": incident.postmortem_summary or "",
    }


def line_context(incident: PublicIncident, page: Page, words: Words) -> dict[str, Any]:
    """What a one-line mention of an incident shows (the `incident_line` macro): the month
    pages and past days list thousands of incidents, and never their updates."""
    found = words.lines.get(id(incident))
    if found is None:  # the page (which Words is made for) keeps the incident: id is its own
        found = words.lines[id(incident)] = _line(incident, words)
    return found


def _line(incident: PublicIncident, words: Words) -> dict[str, Any]:
    names = words.names
    return {
        "id": incident.id,
        "title": incident.title,
        "impact": incident.impact,
        "impact_label": words(IMPACT_LABEL[incident.impact]),
        "status": incident.status,
        "status_label": words(UPDATE_STATUS_LABEL.get(incident.status, incident.status)),
        "href": f"incidents/{incident.id}.html",
        "started": words.time(incident.started),
        "resolved": words.time(incident.resolved),
        # how long it lasted; an open incident's length would be frozen at the build
        "duration": format_duration(incident.resolved - incident.started)
        if incident.resolved is not None
        else "",
        "active": incident.active,
        "components": [names.get(c, c) for c in incident.components],
    }


def maintenance_context(window: Maintenance, page: Page, words: Words) -> dict[str, Any]:
    names = {c.id: c.name for c in page.settings.components}
    state = window.state(page.now)
    return {
        "id": window.id,
        "title": window.title,
        "state": state,
        "state_label": words(MAINTENANCE_STATE_LABEL[state]),
        "start": words.time(window.start),
        "end": words.time(window.end),
        "components": [names.get(c, c) for c in window.components],
        "message": window.message,
        "recurring": bool(window.recurrence),
    }


def _logo(settings: Settings, root_prefix: str) -> tuple[str, str]:
    """The logo for the page (relative paths under the site's root) and for link previews
    (absolute, or nothing when the site has no base URL)."""
    logo = settings.logo
    if not logo:
        return "", ""
    if logo.startswith("https://"):
        return logo, logo
    return root_prefix + logo, absolute_url(settings.base_url, logo) if settings.base_url else ""


def common_context(
    page: Page, root_prefix: str, title: str, description: str, path: str
) -> dict[str, Any]:
    """What base.html shows on every page. Nothing here depends on the build's "now" or the
    current status, except where a page is rebuilt anyway (the index): the pages of resolved
    incidents and of months are reused from build to build."""
    words = words_of(page)
    logo, logo_url = _logo(page.settings, root_prefix)
    return {
        "language": page.settings.language,
        "site_title": page.settings.title,
        "page_title": title,
        "meta_description": description,
        "page_url": absolute_url(page.settings.base_url, path) if page.settings.base_url else "",
        "logo": logo,
        "logo_url": logo_url,
        "root": root_prefix,
        "timezone": page.settings.timezone,
        "generated": None,
        "alternates": [
            {
                "type": "application/atom+xml",
                "title": words("%(site)s incident history", site=page.settings.title),
                "href": "history.atom",
            },
            {
                "type": "application/rss+xml",
                "title": words("%(site)s incident history", site=page.settings.title),
                "href": "history.rss",
            },
        ],
    }


def _banner(page: Page, words: Words) -> tuple[str, str]:
    """The headline (how bad) and the subline (what is affected): one from the other."""
    headline = words(INDICATOR_LABEL[page.indicator])
    affected = [
        view for status in STATUS_ORDER for view in page.components if view.status == status
    ]
    parts = []
    if page.active:
        parts.append(
            words.plural(
                "%(count)d active incident", "%(count)d active incidents", len(page.active)
            )
        )
    if affected:
        listed = ", ".join(f"{v.name} ({words(STATUS_LABEL[v.status]).lower()})" for v in affected)
        parts.append(words("Affected: %(components)s", components=listed))
    if not parts:
        parts.append(words("Every component is working normally."))
    return headline, " · ".join(parts)


def _day_link(day: Day, words: Words) -> str:
    """Where a bar's day leads: its earliest incident on the month page, under its day."""
    if day.first_start is None:
        return ""
    local = day.first_start.astimezone(words.zone)
    return f"{month_file(f'{local:%Y-%m}')}#day-{local:%Y-%m-%d}"


def _day_label(day: Day, words: Words) -> str:
    when = words.day(date.fromisoformat(day.date))
    if not day.incidents:
        if day.maintenance:
            return words("%(day)s: scheduled maintenance", day=when)
        return words("%(day)s: no incidents", day=when)
    names = "; ".join(title for _, title in day.incidents)
    return words(
        "%(day)s: %(status)s: %(incidents)s",
        day=when,
        status=words(STATUS_LABEL[day.status]),
        incidents=names,
    )


def _day_context(day: Day, words: Words, made: dict[Day, dict[str, Any]]) -> dict[str, Any]:
    """A bar's day (made once for the days alike: most days of most components have no
    incident, and model.py gives those one Day for every component)."""
    found = made.get(day)
    if found is None:
        found = made[day] = {
            "status": day.status,
            "label": _day_label(day, words),
            "maintenance": day.maintenance,
            "href": _day_link(day, words),
        }
    return found


def _component_context(
    view: ComponentView, words: Words, made: dict[Day, dict[str, Any]]
) -> dict[str, Any]:
    uptime = f"{view.uptime:.2f}"
    return {
        "id": view.id,
        "name": view.name,
        "description": view.description or "",
        "status": view.status,
        "status_label": words(STATUS_LABEL[view.status]),
        "summary": words.plural(
            "%(count)d incident in 90 days", "%(count)d incidents in 90 days", view.incident_count
        )
        + " · "
        + words("%(uptime)s%% uptime", uptime=uptime),
        "days": [_day_context(day, words, made) for day in view.days],
    }


def _past_days(page: Page, words: Words) -> list[dict[str, Any]]:
    """The last PAST_DAYS days of the team's calendar, newest first, each with the incidents
    that started on it."""
    today = page.now.astimezone(words.zone).date()
    first = today - timedelta(days=PAST_DAYS - 1)
    by_day: dict[date, list[PublicIncident]] = {}
    for incident in page.incidents:  # newest first: stop at the first one before the window
        started = incident.started.astimezone(words.zone).date()
        if started < first:
            break
        by_day.setdefault(started, []).append(incident)
    days = []
    for offset in range(PAST_DAYS):
        day = today - timedelta(days=offset)
        days.append(
            {
                "iso": day.isoformat(),
                "shown": words.day(day),
                "incidents": [line_context(i, page, words) for i in by_day.get(day, [])],
            }
        )
    return days


def index_context(page: Page) -> dict[str, Any]:
    words = Words(page)
    groups: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}
    made: dict[Day, dict[str, Any]] = {}
    for view in page.components:
        key = view.group or ""
        if key not in by_name:
            by_name[key] = {"name": view.group or "", "components": []}
            groups.append(by_name[key])
        by_name[key]["components"].append(_component_context(view, words, made))
    headline, subline = _banner(page, words)
    common = common_context(page, "", page.settings.title, f"{headline}. {subline}", "index.html")
    feeds = [
        {
            "name": view.name,
            "atom": feed_file(view.id, "atom"),
            "rss": feed_file(view.id, "rss"),
        }
        for view in page.components
    ]
    for feed in feeds:
        for kind, mime in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
            common["alternates"].append(
                {
                    "type": mime,
                    "title": words(
                        "%(site)s: %(component)s", site=page.settings.title, component=feed["name"]
                    ),
                    "href": feed[kind],
                }
            )
    return {
        **common,
        "generated": words.time(page.now),
        "indicator": page.indicator,
        "headline": headline,
        "subline": subline,
        "active": [incident_context(i, page, words) for i in page.active],
        "in_progress": [maintenance_context(w, page, words) for w in page.in_progress],
        "upcoming": [maintenance_context(w, page, words) for w in page.upcoming],
        "groups": groups,
        "past": _past_days(page, words),
        "feeds": feeds,
        "channels": [{"name": name, "url": url} for name, url in page.settings.subscribe],
    }


def incident_page_context(incident: PublicIncident, page: Page) -> dict[str, Any]:
    words = words_of(page)
    context = incident_context(incident, page, words)
    description = words(
        "%(title)s: %(status)s, %(impact)s",
        title=incident.title,
        status=context["status_label"],
        impact=context["impact_label"].lower(),
    )
    return {
        **common_context(
            page,
            "../",
            f"{incident.title} - {page.settings.title}",
            description,
            f"incidents/{incident.id}.html",
        ),
        "incident": context,
    }


def month_file(month: str) -> str:
    """The history page of one month ("2026-11"): a permalink that never shifts."""
    return f"history-{month}.html"


def months_of(page: Page) -> dict[str, list[PublicIncident]]:
    """Public incidents by the month (of the team's calendar) they started in, newest month
    and incident first."""
    zone = zone_of(page.settings)
    months: dict[str, list[PublicIncident]] = {}
    for incident in page.incidents:
        started = incident.started.astimezone(zone)
        months.setdefault(f"{started.year:04d}-{started.month:02d}", []).append(incident)
    return months


def history_context(page: Page, months: dict[str, list[PublicIncident]]) -> dict[str, Any]:
    """history.html: every month with incidents, by year, with its count."""
    words = Words(page)
    years: list[dict[str, Any]] = []
    for month, incidents in months.items():
        if not years or years[-1]["name"] != month[:4]:
            years.append({"name": month[:4], "months": []})
        years[-1]["months"].append(
            {
                "name": words.month(month),
                "href": month_file(month),
                "count": words.plural("%(count)d incident", "%(count)d incidents", len(incidents)),
            }
        )
    title = words("Incident history")
    return {
        **common_context(
            page,
            "",
            f"{title} - {page.settings.title}",
            words("Every incident of %(site)s, month by month.", site=page.settings.title),
            "history.html",
        ),
        "years": years,
        "total": words.plural(
            "%(count)d incident in all", "%(count)d incidents in all", len(page.incidents)
        ),
    }


def month_context(
    page: Page, month: str, incidents: list[PublicIncident], newer: str, older: str
) -> dict[str, Any]:
    """One month's history page, day by day (each day an anchor the bars link to). It shows
    no build time, so it changes only with its incidents (or while one is still open)."""
    words = words_of(page)
    words.forget()  # its incidents' pages come next: what they share with it is kept
    days: list[dict[str, Any]] = []
    for incident in incidents:  # newest first
        started = incident.started.astimezone(words.zone).date()
        if not days or days[-1]["iso"] != started.isoformat():
            days.append({"iso": started.isoformat(), "shown": words.day(started), "incidents": []})
        days[-1]["incidents"].append(line_context(incident, page, words))
    name = words.month(month)
    title = words("Incidents in %(month)s", month=name)
    return {
        **common_context(
            page,
            "",
            f"{title} - {page.settings.title}",
            words.plural(
                "%(count)d incident in %(month)s",
                "%(count)d incidents in %(month)s",
                len(incidents),
                month=name,
            ),
            month_file(month),
        ),
        "title": title,
        "count": words.plural("%(count)d incident", "%(count)d incidents", len(incidents)),
        "days": days,
        "newer": {"name": words.month(newer), "href": month_file(newer)} if newer else None,
        "older": {"name": words.month(older), "href": month_file(older)} if older else None,
    }


def tag_authority(settings: Settings) -> str:
    host = urlsplit(settings.base_url).hostname if settings.base_url else None
    return host or "incidents.invalid"


def feed_file(component: str, kind: str) -> str:
    """The feed of one component: feeds/<component>.atom or .rss (ids are [a-z0-9-])."""
    return f"feeds/{component}.{kind}"


FeedItem = tuple[datetime, str, dict[str, Any]]
"""An entry of a feed: its time, its key (the tail of its tag URI) and its fields."""


def feed_context(
    page: Page,
    component: ComponentView | None = None,
    candidates: list[PublicIncident] | None = None,
) -> dict[str, Any]:
    """The Atom and RSS feed of the whole site (every public update), or of one component:
    the updates of incidents that touch it and the maintenance windows that affect it.
    ``candidates``: its part of ``feed_incidents``, if made already."""
    if candidates is None:
        candidates = feed_incidents(page).get(component.id if component else "", [])
    words = Words(page)
    items = _update_items(page, words, candidates)
    if component is not None:
        items += _maintenance_items(page, words, component)
    items.sort(key=lambda item: (item[0], item[1]), reverse=True)
    items = items[:FEED_ENTRIES]
    updated = items[0][0] if items else page.now
    if component is None:
        title = words("%(site)s incident history", site=page.settings.title)
        atom, rss, feed_id = "history.atom", "history.rss", "history"
    else:
        title = words("%(site)s: %(component)s", site=page.settings.title, component=component.name)
        atom, rss = feed_file(component.id, "atom"), feed_file(component.id, "rss")
        feed_id = f"component/{component.id}"
    authority = tag_authority(page.settings)
    base = page.settings.base_url
    return {
        "title": title,
        "site": absolute_url(base, "index.html"),
        "self_atom": absolute_url(base, atom),
        "self_rss": absolute_url(base, rss),
        "id": f"tag:{authority},2000:{feed_id}",
        "updated": format_time(updated),
        "updated_rfc822": rfc822(updated),
        "entries": [
            {
                **item,
                "id": f"tag:{authority},2000:{key}",
                "updated": format_time(at),
                "rfc822": rfc822(at),
            }
            for at, key, item in items
        ],
    }


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc822(moment: datetime) -> str:
    """``email.utils.format_datetime(moment, usegmt=True)`` (RSS's dates): written here for
    UTC times, because importing email.utils (sockets, charsets) costs a rebuild that
    renders a feed more than the feed; any other time goes to email.utils itself."""
    if moment.tzinfo is not UTC:
        from email.utils import format_datetime

        return format_datetime(moment, usegmt=True)
    return (
        f"{_WEEKDAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


def feed_incidents(page: Page) -> dict[str, list[PublicIncident]]:
    """The incidents whose updates each feed can show, by component id ("" for the site's
    feed): a feed's entries depend on nothing else of the incidents (a rebuild reuses a
    feed whose incidents did not change)."""
    by_component: dict[str, list[PublicIncident]] = {"": page.incidents}
    for incident in page.incidents:
        for component in incident.touched:
            by_component.setdefault(component, []).append(incident)

    # The newest updates all belong to the incidents whose own newest update is newest, so
    # only those are searched (updates are sorted by time within an incident).
    def newest(incident: PublicIncident) -> tuple[datetime, str, int]:
        return incident.latest[0], incident.id, incident.latest[1]

    return {
        component: heapq.nlargest(FEED_ENTRIES, incidents, key=newest)
        for component, incidents in by_component.items()
    }


def _update_items(page: Page, words: Words, candidates: list[PublicIncident]) -> list[FeedItem]:
    """The newest public updates of these incidents (``feed_incidents``)."""
    entries = [(u.at, incident, u) for incident in candidates for u in incident.updates]
    entries.sort(key=lambda e: (e[0], e[1].id, e[2].number), reverse=True)
    base = page.settings.base_url
    items: list[FeedItem] = []
    for at, incident, update in entries[:FEED_ENTRIES]:
        label = words(UPDATE_STATUS_LABEL.get(update.status, update.status))
        link = absolute_url(base, f"incidents/{incident.id}.html#update-{update.number}")
        fields = {
            "title": f"{incident.title}: {label}",
            "link": link,
            "html": str(markdown(update.message)),
        }
        items.append((at, f"incident/{incident.id}/update/{update.number}", fields))
    return items


def _maintenance_items(page: Page, words: Words, component: ComponentView) -> list[FeedItem]:
    """The maintenance windows that affect ``component``."""
    items: list[FeedItem] = []
    for window in page.maintenances:
        if component.id not in window.components:
            continue
        start, end = words.time(window.start), words.time(window.end)
        assert start is not None and end is not None
        when = words("%(start)s to %(end)s", start=start["shown"], end=end["shown"])
        fields = {
            "title": words("Scheduled maintenance: %(title)s", title=window.title),
            "link": absolute_url(page.settings.base_url, "index.html#maintenance"),
            "html": str(markdown(when)) + (str(markdown(window.message)) if window.message else ""),
        }
        items.append((window.start, f"maintenance/{window.id}", fields))
    return items


def badge_context(label: str, message: str, color: str) -> dict[str, Any]:
    def width(text: str) -> int:
        return 10 + round(6.6 * len(text))

    left, right = width(label), width(message)
    return {
        "label": label,
        "message": message,
        "color": color,
        "left": left,
        "right": right,
        "total": left + right,
        "label_x": left / 2,
        "message_x": left + right / 2,
    }


def badge_contexts(page: Page) -> list[tuple[str, dict[str, Any]]]:
    """badge.svg (the whole site) and badges/<component>.svg, with their contexts."""
    words = Words(page)
    badges = [
        (
            "badge.svg",
            badge_context(
                words("status"),
                words(INDICATOR_LABEL[page.indicator]).lower(),
                BADGE_COLOR[page.indicator],
            ),
        )
    ]
    for view in page.components:
        badges.append(
            (
                f"badges/{view.id}.svg",
                badge_context(
                    view.name, words(STATUS_LABEL[view.status]).lower(), BADGE_COLOR[view.status]
                ),
            )
        )
    return badges


def favicon_context(page: Page) -> dict[str, Any]:
    """favicon.svg: a dot in the colour of the overall status (pages link the one file, so
    a reused page shows the current colour)."""
    return {
        "color": BADGE_COLOR[page.indicator],
        "label": Words(page)(INDICATOR_LABEL[page.indicator]),
    }
