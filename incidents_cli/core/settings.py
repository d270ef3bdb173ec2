"""The settings of an incident repository (incidents.yaml), with the documented defaults."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from incidents_cli.core.document import mapping
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.timeutil import duration_or
from incidents_cli.core.vocabulary import SEVERITIES

if TYPE_CHECKING:  # every transition reads the settings; only `notify` needs the channels
    from incidents_cli.core.notifications import Channel

DEFAULT_ACK_WITHIN = {
    "critical": timedelta(minutes=5),
    "high": timedelta(minutes=15),
    "medium": timedelta(hours=1),
    "low": timedelta(hours=4),
}
DEFAULT_REQUIRED_FOR = ("critical", "high")
DEFAULT_DUE_WITHIN = timedelta(hours=48)
DEFAULT_UPDATE_EVERY = {"critical": timedelta(minutes=30), "high": timedelta(hours=1)}


# A NamedTuple, not a frozen dataclass: cheaper to create at import (see benchmarks/, --help).
class Component(NamedTuple):
    id: str
    name: str
    group: str | None = None
    description: str | None = None


DEFAULT_ALERT_SEVERITIES = {
    "critical": "critical",
    "page": "critical",
    "high": "high",
    "error": "high",
    "major": "high",
    "medium": "medium",
    "warning": "medium",
    "minor": "low",
    "low": "low",
    "info": "low",
}


class AlertSettings(NamedTuple):
    """The ``alerts:`` section: how `incidents ingest` maps monitor alerts to incidents."""

    component_labels: tuple[str, ...] = ("service", "component")
    components: dict[str, str] = {}  # noqa: RUF012
    """Label value -> component id; a value that is already a component id needs no entry."""
    region_labels: tuple[str, ...] = ("region",)
    severity_labels: tuple[str, ...] = ("severity",)
    severities: dict[str, str] = DEFAULT_ALERT_SEVERITIES
    """Alert severity -> ours; what the settings give is added to the defaults."""
    confirm_regions: int = 1


class Person(NamedTuple):
    """Someone in ``people``: how records name them and how to reach them."""

    handle: str
    name: str
    email: str | None = None
    phone: str | None = None
    chat: str | None = None
    github: str | None = None

    def reach(self) -> str:
        """How to reach them, most immediate first: ``phone +49 30 1234567, chat @alice``."""
        ways = (("phone", self.phone), ("chat", self.chat), ("email", self.email))
        return ", ".join(f"{kind} {value}" for kind, value in ways if value)

    def contact(self) -> dict[str, str]:
        fields = (("email", self.email), ("phone", self.phone), ("chat", self.chat))
        return {k: v for k, v in (*fields, ("github", self.github)) if v}


class Settings(NamedTuple):
    """Read-only: nothing changes settings after they are read (the defaults are shared)."""

    title: str = "Status"
    base_url: str = ""
    timezone: str = "UTC"
    language: str = "en"  # of the status page's fixed text
    logo: str = ""  # an https URL or a path relative to the site
    subscribe: tuple[tuple[str, str], ...] = ()  # (name, url): public sign-up links
    id_prefix: str = "INC"
    push: bool = False
    components: tuple[Component, ...] = ()
    ack_within: dict[str, timedelta] = DEFAULT_ACK_WITHIN
    required_for: tuple[str, ...] = DEFAULT_REQUIRED_FOR
    due_within: timedelta = DEFAULT_DUE_WITHIN
    people: dict[str, str] = {}  # noqa: RUF012  (handle -> name)
    contacts: dict[str, Person] = {}  # noqa: RUF012  (handle -> the whole entry)
    github_logins: dict[str, str] = {}  # noqa: RUF012  (handle -> GitHub login)
    alerts: AlertSettings = AlertSettings()
    emails: dict[str, str] = {}  # noqa: RUF012
    """Handle by email address (lower case), from people's emails and email."""
    update_every: dict[str, timedelta] = DEFAULT_UPDATE_EVERY
    """How often an open incident needs a public update, per severity (`incidents comms`)."""
    notify: tuple[Channel, ...] = ()
    """The channels `incidents notify` tells (secrets named by environment variable)."""

    @property
    def component_ids(self) -> set[str]:
        return {c.id for c in self.components}

    def response_window(self, severity: object) -> tuple[str, timedelta, bool]:
        """The acknowledgment window of an incident of ``severity``: the level whose window
        applies, the window, and whether that level is assumed. An incident with no
        severity yet (or one these settings do not know) is held to the strictest window,
        critical's: `escalations`, `list` and `show` all judge by this one rule."""
        if isinstance(severity, str) and severity in self.ack_within:
            return severity, self.ack_within[severity], False
        return "critical", self.ack_within["critical"], True

    def handle_for_email(self, email: str | None) -> str | None:
        """The handle of the person with this (git) email address, if one is listed."""
        return self.emails.get(email.strip().lower()) if email else None

    def reach(self, handle: str) -> str:
        """How to reach ``handle`` (empty when people has no contact fields for them)."""
        person = self.contacts.get(handle)
        return person.reach() if person is not None else ""


def refuse_unknown(option: str, values: Iterable[str], known: Iterable[str], what: str) -> None:
    """A filter naming something the settings do not know is a mistake, not "no matches":
    refuse it naming the known values (nothing is checked when none are configured)."""
    names = sorted(known)
    for value in values:
        if names and value not in names:
            raise RefusedError(f"{option} {value}: no such {what} (known: {', '.join(names)})")


def _duration(value: Any, fallback: timedelta) -> timedelta:
    return duration_or(value, fallback)


def settings_from_data(data: Any) -> Settings:
    """Settings from parsed YAML. Tolerant: validation reports what is wrong, this reads."""
    if not isinstance(data, dict):
        return Settings()
    severities = data.get("severities")
    policy = mapping(data.get("postmortem"))
    required = policy.get("required_for", DEFAULT_REQUIRED_FOR)
    contacts = _contacts(data)
    people = {handle: person.name for handle, person in contacts.items()}
    github_logins = {h: p.github for h, p in contacts.items() if p.github}
    return Settings(
        title=str(data.get("title") or "Status"),
        base_url=str(data.get("base_url") or ""),
        timezone=str(data.get("timezone") or "UTC"),
        language=str(data.get("language") or "en"),
        logo=str(data.get("logo") or ""),
        subscribe=tuple(
            (str(s["name"]), str(s["url"]))
            for s in data.get("subscribe") or []
            if isinstance(s, dict) and s.get("name") and s.get("url")
        ),
        id_prefix=str(data.get("id_prefix") or "INC"),
        push=bool(data.get("push", False)),
        components=_components(data),
        ack_within=_ack_within(severities),
        required_for=tuple(r for r in required if r in SEVERITIES)
        if isinstance(required, list)
        else DEFAULT_REQUIRED_FOR,
        due_within=_duration(policy.get("due_within"), DEFAULT_DUE_WITHIN),
        people=people,
        github_logins=github_logins,
        contacts=contacts,
        emails=_emails(data),
        alerts=alert_settings_from_data(data.get("alerts")),
        update_every=update_every_from_data(severities),
        notify=_channels(data.get("notify")),
    )


def _channels(data: Any) -> tuple[Channel, ...]:
    if not data:
        return ()
    from incidents_cli.core.notifications import channels_from_data

    return channels_from_data(data)


def update_every_from_data(severities: Any) -> dict[str, timedelta]:
    """``severities.<level>.update_every`` over the defaults (critical 30m, high 1h)."""
    out = dict(DEFAULT_UPDATE_EVERY)
    if isinstance(severities, dict):
        for level, entry in severities.items():
            value = entry.get("update_every") if isinstance(entry, dict) else None
            every = duration_or(value, timedelta(0))
            if every:  # a bad or zero one: the schema reports it, and the default stays
                out[str(level)] = every
    return out


def _components(data: dict[str, Any]) -> tuple[Component, ...]:
    return tuple(
        Component(
            id=str(c.get("id")),
            name=str(c.get("name", c.get("id"))),
            group=c.get("group"),
            description=c.get("description"),
        )
        for c in data.get("components") or []
        if isinstance(c, dict) and c.get("id")
    )


def _ack_within(severities: Any) -> dict[str, timedelta]:
    """``severities.<level>.ack_within`` over the defaults."""
    ack = dict(DEFAULT_ACK_WITHIN)
    if isinstance(severities, dict):
        for level in SEVERITIES:
            entry = severities.get(level)
            if isinstance(entry, dict):
                ack[level] = _duration(entry.get("ack_within"), ack[level])
    return ack


def _contacts(data: dict[str, Any]) -> dict[str, Person]:
    """Each person of ``people`` with a handle, by handle."""
    return {
        str(p["handle"]): Person(
            handle=str(p["handle"]),
            name=str(p.get("name") or p["handle"]),
            **{k: str(p[k]) for k in ("email", "phone", "chat", "github") if p.get(k)},
        )
        for p in data.get("people") or []
        if isinstance(p, dict) and p.get("handle")
    }


def _emails(data: dict[str, Any]) -> dict[str, str]:
    """Each person's addresses (``emails`` and ``email``), lowercased, to their handle."""
    emails: dict[str, str] = {}
    for person in data.get("people") or []:
        if not isinstance(person, dict) or not person.get("handle"):
            continue
        listed: list[Any] = person["emails"] if isinstance(person.get("emails"), list) else []
        for address in [*listed, person.get("email")]:
            if isinstance(address, str) and address.strip():
                emails.setdefault(address.strip().lower(), str(person["handle"]))
    return emails


def _label_names(value: Any, fallback: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    return fallback


def alert_settings_from_data(data: Any) -> AlertSettings:
    """The ``alerts:`` mapping as read from YAML, tolerant like the rest."""
    if not isinstance(data, dict):
        return AlertSettings()
    base = AlertSettings()
    components = data.get("components")
    severities = dict(DEFAULT_ALERT_SEVERITIES)
    given = data.get("severities")
    if isinstance(given, dict):
        severities.update({str(k): str(v) for k, v in given.items() if v in SEVERITIES})
    confirm = data.get("confirm_regions", 1)
    return AlertSettings(
        component_labels=_label_names(data.get("component_label"), base.component_labels),
        components={str(k): str(v) for k, v in components.items()}
        if isinstance(components, dict)
        else {},
        region_labels=_label_names(data.get("region_label"), base.region_labels),
        severity_labels=_label_names(data.get("severity_label"), base.severity_labels),
        severities=severities,
        confirm_regions=confirm
        if isinstance(confirm, int) and not isinstance(confirm, bool) and confirm >= 1
        else 1,
    )
