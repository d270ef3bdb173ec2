"""What to tell whom: notifications derived from two versions of the records.

Pure: takes the records as they were when a channel was last told (``old``) and as they are
now (``new``), the time, and a channel's audience and filters, and returns the notices to send,
in time order. Nothing here sends anything or reads git; the edges do that.

Why it is shaped so: this module builds what internal and support audiences hear, from the
records. A ``public`` audience is built elsewhere, in ``site/notices.py``, only from the public
view of an incident (``site.public``, the same function the status site uses), so the site's
leak guarantee covers notifications too; core cannot even import it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidents_cli.core.cadence import Quiet
from incidents_cli.core.timeutil import format_duration, format_time, maybe_time
from incidents_cli.core.vocabulary import AUDIENCES, CHANNEL_TYPES, NOTIFY_EVENTS, SMTP_SECURITY

if TYPE_CHECKING:  # escalation reads the settings, which read the channels from here
    from incidents_cli.core.escalation import Escalation

RecordData = dict[str, Any]
"""A record as parsed from YAML (an incident, a postmortem's front matter, a window)."""

EVENTS = NOTIFY_EVENTS
# What customers hear of (support hears the same, with more of each: see the builders).
CUSTOMER_EVENTS = frozenset(
    {
        "public_update",
        "resolved",
        "reopened",
        "postmortem_published",
        "maintenance_announced",
        "maintenance_started",
        "maintenance_ended",
    }
)
# Which events each audience may hear of (a channel's own `events` filter narrows it further).
AUDIENCE_EVENTS: dict[str, frozenset[str]] = {
    "public": CUSTOMER_EVENTS,
    "internal": frozenset(EVENTS),
    "support": CUSTOMER_EVENTS,
}
# Events that come from the clock rather than from a commit: remembered by key once sent.
TIMED_EVENTS = frozenset(
    {"escalation_due", "update_due", "maintenance_started", "maintenance_ended"}
)
BACKFILL = timedelta(hours=24)
"""On a channel's first run, events older than this are history, not news."""

# timeline entry kind -> the event it is
TIMELINE_EVENTS = {
    "declared": "declared",
    "acknowledged": "acknowledged",
    "severity": "severity_changed",
    "assigned": "role_assigned",
    "resolved": "resolved",
    "reopened": "reopened",
}
EVENT_LABEL = {
    "declared": "declared",
    "acknowledged": "acknowledged",
    "severity_changed": "severity",
    "role_assigned": "roles",
    "public_update": "public update",
    "resolved": "resolved",
    "reopened": "reopened",
    "postmortem_published": "postmortem published",
    "escalation_due": "escalation due",
    "update_due": "public update due",
    "maintenance_announced": "maintenance scheduled",
    "maintenance_started": "maintenance started",
    "maintenance_ended": "maintenance completed",
}


@dataclass(frozen=True)
class Snapshot:
    """The records at one commit: incidents and maintenance by id, postmortem front matter by
    incident id."""

    incidents: Mapping[str, RecordData] = field(default_factory=dict)
    postmortems: Mapping[str, RecordData] = field(default_factory=dict)
    maintenance: Mapping[str, RecordData] = field(default_factory=dict)


@dataclass(frozen=True)
class Channel:
    """One configured place to tell: `notify:` in incidents.yaml. Secrets are env var names."""

    name: str
    type: str
    audience: str
    url_env: str | None = None
    secret_env: str | None = None
    components: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    # email only
    to: tuple[str, ...] = ()
    subscribers: str | None = None
    sender: str | None = None
    host: str | None = None
    port: int | None = None
    security: str = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    unsubscribe: str | None = None

    @property
    def secret_names(self) -> tuple[str, ...]:
        """The environment variables holding this channel's secrets."""
        names = (self.url_env, self.secret_env, self.username_env, self.password_env)
        return tuple(name for name in names if name)

    def hears(self, event: str) -> bool:
        if event not in AUDIENCE_EVENTS[self.audience]:
            return False
        return not self.events or event in self.events


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Notice:
    """One message for one audience, ready for a channel's format."""

    key: str
    """Stable and unique: what a channel remembers once it is sent."""
    event: str
    audience: str
    at: datetime
    subject: str
    """The incident or maintenance id."""
    headline: str
    body: str
    facts: tuple[Fact, ...] = ()
    link: str | None = None
    severity: str | None = None
    components: tuple[str, ...] = ()
    impact: str | None = None
    """A public notice's impact as the site shows it (it has no severity)."""
    document: Mapping[str, Any] | None = None
    """A public notice's Statuspage document (incident or maintenance), built from the public
    view only; the webhook channel sends it as it is."""
    component_changes: tuple[tuple[str, str, str], ...] = ()
    """(component, old status, new status) for component-status notices."""
    timed: bool = False

    @property
    def order(self) -> tuple[datetime, str, int, str]:
        return (self.at, self.subject, EVENTS.index(self.event), self.key)


@dataclass(frozen=True)
class Links:
    """Where a notice points: the public site, and the record for internal readers."""

    site: str = ""
    record: str = ""
    """A template with {path} and {id}, e.g. https://example.com/org/repo/blob/main/{path}."""
    component_names: Mapping[str, str] = field(default_factory=dict)

    def page(self, incident_id: str) -> str | None:
        if not self.site:
            return None
        return self.site.rstrip("/") + f"/incidents/{incident_id}.html"

    def record_of(self, path: str, ident: str) -> str:
        if not self.record:
            return path
        return self.record.replace("{path}", path).replace("{id}", ident)

    def name(self, component: str) -> str:
        return self.component_names.get(component, component)


def update_key(incident_id: str, at: datetime, status: str) -> str:
    """The key of a public update's notice: its incident, time and status."""
    return f"{incident_id}/update/{format_time(at)}/{status}"


# --- internal and support notices: from the record ---------------------------------------


def _entries(record: RecordData | None) -> list[dict[str, Any]]:
    if record is None:
        return []
    return [e for e in record.get("timeline") or [] if isinstance(e, dict)]


def _identity(entry: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """What makes an entry the same entry: its stable ref (N3, U2) where it has one, so an
    amended text is not news told twice; else its text."""
    return (
        str(entry.get("at")),
        str(entry.get("kind")),
        str(entry.get("actor")),
        f"ref:{entry['ref']}" if entry.get("ref") else str(entry.get("text")),
    )


def _new_items(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries of ``new`` that ``old`` does not have (as a multiset: repeats count)."""
    remaining: dict[tuple[str, str, str, str], int] = {}
    for entry in old:
        remaining[_identity(entry)] = remaining.get(_identity(entry), 0) + 1
    out = []
    for entry in new:
        key = _identity(entry)
        if remaining.get(key):
            remaining[key] -= 1
            continue
        out.append(entry)
    return out


def _updates(record: RecordData | None) -> list[dict[str, Any]]:
    if record is None:
        return []
    return [
        {**u, "kind": "update", "actor": "", "text": str(u.get("message"))}
        for u in record.get("updates") or []
        if isinstance(u, dict)
    ]


def _record_facts(record: RecordData, links: Links, *, audience: str) -> list[Fact]:
    facts = []
    if record.get("severity"):
        facts.append(Fact("Severity", str(record["severity"])))
    facts.append(Fact("Phase", str(record.get("phase"))))
    components = [links.name(str(c)) for c in record.get("components") or []]
    if components:
        facts.append(Fact("Components", ", ".join(components)))
    if audience == "internal":
        if record.get("regions"):
            facts.append(Fact("Regions", ", ".join(str(r) for r in record["regions"])))
        roles = record.get("roles") or {}
        if isinstance(roles, dict):
            for role, label in (("commander", "Commander"), ("communications", "Comms lead")):
                if roles.get(role):
                    facts.append(Fact(label, str(roles[role])))
            if roles.get("responders"):
                facts.append(Fact("Responders", ", ".join(map(str, roles["responders"]))))
    if record.get("public") is False:
        facts.append(Fact("Public", "no (not on the status page)"))
    return facts


def _update_facts(update: Mapping[str, Any], links: Links) -> list[Fact]:
    facts = [Fact("Status", str(update.get("status")))]
    components = update.get("components")
    if isinstance(components, dict) and components:
        facts.append(
            Fact(
                "Components",
                ", ".join(f"{links.name(str(c))}: {s}" for c, s in components.items()),
            )
        )
    eta = maybe_time(update.get("eta"))
    if eta is not None:
        facts.append(Fact("ETA", format_time(eta)))
    return facts


_Draft = tuple[str, str, datetime, str, Sequence[Fact]]
"""A notice before its incident's details: event, key, at, body, facts."""


def _record_notices(
    incident_id: str,
    old: RecordData | None,
    new: RecordData,
    old_pm: RecordData | None,
    new_pm: RecordData | None,
    audience: str,
    links: Links,
) -> list[Notice]:
    title = str(new.get("title", incident_id))
    severity = str(new["severity"]) if new.get("severity") else None
    components = tuple(str(c) for c in new.get("components") or [])
    link = links.record_of(f"incidents/{incident_id}.yaml", incident_id)
    base = _record_facts(new, links, audience=audience)
    summary = str(new.get("summary") or "")
    drafts = [
        *_timeline_drafts(incident_id, old, new, audience, base, summary),
        *_update_drafts(incident_id, old, new, audience, base, summary, links),
        *_postmortem_drafts(incident_id, new, old_pm, new_pm, audience, base),
    ]
    return [
        Notice(
            key=key,
            event=event,
            audience=audience,
            at=at,
            subject=incident_id,
            headline=f"{incident_id} {EVENT_LABEL[event]}: {title}",
            body=body,
            facts=tuple(facts),
            link=link,
            severity=severity,
            components=components,
        )
        for event, key, at, body, facts in drafts
    ]


def _timeline_drafts(
    incident_id: str,
    old: RecordData | None,
    new: RecordData,
    audience: str,
    base: Sequence[Fact],
    summary: str,
) -> list[_Draft]:
    """A notice for each new timeline entry of a kind that is told."""
    out: list[_Draft] = []
    for entry in _new_items(_entries(old), _entries(new)):
        event = TIMELINE_EVENTS.get(str(entry.get("kind")))
        at = maybe_time(entry.get("at"))
        if event is None or at is None:
            continue
        text = str(entry.get("text") or "")
        key = f"{incident_id}/{event}/{format_time(at)}"
        if audience == "support":
            body = text if event != "resolved" else "Resolved."
            body = (summary + "\n\n" + body).strip() if summary else body
            out.append((event, key, at, body, base))
            continue
        facts = [*base]
        if entry.get("actor"):
            facts.append(Fact("By", str(entry["actor"])))
        if event == "declared" and summary:
            text = f"{text}\n\n{summary}"
        out.append((event, key, at, text, facts))
    return out


def _update_drafts(
    incident_id: str,
    old: RecordData | None,
    new: RecordData,
    audience: str,
    base: Sequence[Fact],
    summary: str,
    links: Links,
) -> list[_Draft]:
    """A notice for each new public update, but those a phase change tells already."""
    # the update `resolve` or `reopen` posted with the phase change is told by that event
    told = {
        (entry.get("at"), {"resolved": "resolved", "reopened": "investigating"}[kind])
        for entry in _new_items(_entries(old), _entries(new))
        if (kind := str(entry.get("kind"))) in ("resolved", "reopened")
    }
    out: list[_Draft] = []
    for update in _new_items(_updates(old), _updates(new)):
        at = maybe_time(update.get("at"))
        if at is None or (update.get("at"), update.get("status")) in told:
            continue
        body = str(update.get("message") or "")
        if audience == "support" and summary:
            body = f"{body}\n\nInternal summary: {summary}"
        key = update_key(incident_id, at, str(update.get("status")))
        out.append(("public_update", key, at, body, [*_update_facts(update, links), *base]))
    return out


def _postmortem_drafts(
    incident_id: str,
    new: RecordData,
    old_pm: RecordData | None,
    new_pm: RecordData | None,
    audience: str,
    base: Sequence[Fact],
) -> list[_Draft]:
    """A notice when the postmortem has just been published."""
    was = (old_pm or {}).get("status") == "published"
    if (new_pm or {}).get("status") == "published" and not was:
        pm = new_pm or {}
        at = maybe_time(pm.get("published_at")) or maybe_time(new.get("resolved_at"))
        if at is not None:
            body = f"postmortems/{incident_id}.md"
            if audience == "support" and pm.get("public") is True and pm.get("public_summary"):
                body = str(pm["public_summary"])
            return [("postmortem_published", f"{incident_id}/postmortem", at, body, base)]
    return []


# --- reminders: escalations and quiet incidents -------------------------------------------


def escalation_notice(escalation: Escalation, links: Links) -> Notice:
    """One reminder per ack window missed: the first after one window, the next after two."""
    missed = max(1, math.ceil(escalation.waiting / escalation.window) - 1)
    return Notice(
        key=f"{escalation.incident}/escalation/{missed}",
        event="escalation_due",
        audience="internal",
        at=escalation.detected + escalation.window * missed,
        subject=escalation.incident,
        headline=f"{escalation.incident} {EVENT_LABEL['escalation_due']}: {escalation.title}",
        body=escalation.describe(),
        facts=(
            Fact("Severity", escalation.severity),
            Fact("Unacknowledged for", format_duration(escalation.waiting)),
            Fact("Next", escalation.target()),
        ),
        link=links.record_of(f"incidents/{escalation.incident}.yaml", escalation.incident),
        severity=escalation.severity,
        timed=True,
    )


def quiet_notice(quiet: Quiet, links: Links) -> Notice:
    """A reminder for an incident whose public updates went quiet: once per interval."""
    interval = math.floor(quiet.waiting / quiet.every)  # one reminder per interval of silence
    at = quiet.since + quiet.every * interval
    return Notice(
        key=f"{quiet.incident}/update-due/{format_time(quiet.since)}/{interval}",
        event="update_due",
        audience="internal",
        at=at,
        subject=quiet.incident,
        headline=f"{quiet.incident} {EVENT_LABEL['update_due']}: {quiet.title}",
        body=quiet.describe(),
        facts=(Fact("Severity", quiet.severity), Fact("Waiting", format_duration(quiet.waiting))),
        link=links.record_of(f"incidents/{quiet.incident}.yaml", quiet.incident),
        severity=quiet.severity,
        timed=True,
    )


# --- putting it together -----------------------------------------------------------------


def record_notices(old: Snapshot, new: Snapshot, audience: str, links: Links) -> list[Notice]:
    """What an internal or support audience hears of the incidents between ``old`` and
    ``new``, from the records (a public audience: ``site.notices``)."""
    if audience not in ("internal", "support"):
        raise ValueError(f"record_notices is not for a {audience} audience")
    out: list[Notice] = []
    for ident in sorted(new.incidents):
        out += _record_notices(
            ident,
            old.incidents.get(ident),
            new.incidents[ident],
            old.postmortems.get(ident),
            new.postmortems.get(ident),
            audience,
            links,
        )
    return out


def in_order(found: Iterable[Notice], audience: str) -> list[Notice]:
    """Only what ``audience`` may hear, in time order (per incident, and over all)."""
    return sorted((n for n in found if n.event in AUDIENCE_EVENTS[audience]), key=lambda n: n.order)


def for_channel(
    channel: Channel,
    candidates: Iterable[Notice],
    *,
    sent: Iterable[str] = (),
    since: datetime | None = None,
    impact_of: Mapping[str, str] | None = None,
) -> list[Notice]:
    """The notices a channel is to get: its events, components and severities, minus those it
    was sent already; before ``since`` (a first run) nothing is news. A public notice has no
    severity, only the impact the site shows: ``impact_of`` (severity -> impact) says which
    impacts the channel's severities mean."""
    impacts = {(impact_of or {}).get(s) for s in channel.severities} - {None}
    done = set(sent)
    out = []
    for notice in candidates:
        if notice.key in done or not channel.hears(notice.event):
            continue
        if since is not None and notice.at < since:
            continue
        if channel.components and not set(channel.components) & set(notice.components):
            continue
        if channel.severities and not notice.event.startswith("maintenance_"):
            if notice.impact is not None:
                if notice.impact not in impacts:
                    continue
            elif notice.severity not in channel.severities:
                continue
        out.append(notice)
    return out


# --- settings: `notify:` in incidents.yaml -----------------------------------------------


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int))
    return ()


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def channels_from_data(data: Any) -> tuple[Channel, ...]:
    """The channels of ``notify:``. Tolerant, like the rest of the settings: the schema
    reports what is wrong; an entry without a usable name, type or audience is skipped."""
    if not isinstance(data, list):
        return ()
    out = []
    seen = set()
    for entry in data:
        if not isinstance(entry, dict):
            continue
        name, kind, audience = entry.get("name"), entry.get("type"), entry.get("audience")
        if not isinstance(name, str) or kind not in CHANNEL_TYPES or audience not in AUDIENCES:
            continue
        if name in seen:
            continue
        seen.add(name)
        port = entry.get("port")
        security = entry.get("security")
        out.append(
            Channel(
                name=name,
                type=str(kind),
                audience=str(audience),
                url_env=_text(entry.get("url_env")),
                secret_env=_text(entry.get("secret_env")),
                components=_strings(entry.get("components")),
                severities=_strings(entry.get("severities")),
                events=_strings(entry.get("events")),
                to=_strings(entry.get("to")),
                subscribers=_text(entry.get("subscribers")),
                sender=_text(entry.get("from")),
                host=_text(entry.get("host")),
                port=port if isinstance(port, int) and not isinstance(port, bool) else None,
                security=security if security in SMTP_SECURITY else "starttls",
                username_env=_text(entry.get("username_env")),
                password_env=_text(entry.get("password_env")),
                unsubscribe=_text(entry.get("unsubscribe")),
            )
        )
    return tuple(out)


def secret_names(channels: Sequence[Channel]) -> tuple[str, ...]:
    """Every environment variable the channels read a secret from, sorted, once each."""
    return tuple(sorted({name for channel in channels for name in channel.secret_names}))
