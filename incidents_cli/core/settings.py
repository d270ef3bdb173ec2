"""The settings of an incident repository (incidents.yaml), with the documented defaults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from incidents_cli.core.document import mapping
from incidents_cli.core.timeutil import parse_duration
from incidents_cli.core.vocabulary import SEVERITIES

DEFAULT_ACK_WITHIN = {
    "critical": timedelta(minutes=5),
    "high": timedelta(minutes=15),
    "medium": timedelta(hours=1),
    "low": timedelta(hours=4),
}
DEFAULT_REQUIRED_FOR = ("critical", "high")
DEFAULT_DUE_WITHIN = timedelta(hours=48)


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
    people: dict[str, str] = {}  # noqa: RUF012
    github_logins: dict[str, str] = {}  # noqa: RUF012  (handle -> GitHub login)
    alerts: AlertSettings = AlertSettings()

    @property
    def component_ids(self) -> set[str]:
        return {c.id for c in self.components}


def _duration(value: Any, fallback: timedelta) -> timedelta:
    if not isinstance(value, str):
        return fallback
    try:
        return parse_duration(value)
    except ValueError:
        return fallback


def settings_from_data(data: Any) -> Settings:
    """Settings from parsed YAML. Tolerant: validation reports what is wrong, this reads."""
    if not isinstance(data, dict):
        return Settings()
    components = tuple(
        Component(
            id=str(c.get("id")),
            name=str(c.get("name", c.get("id"))),
            group=c.get("group"),
            description=c.get("description"),
        )
        for c in data.get("components") or []
        if isinstance(c, dict) and c.get("id")
    )
    ack = dict(DEFAULT_ACK_WITHIN)
    severities = data.get("severities")
    if isinstance(severities, dict):
        for level in SEVERITIES:
            entry = severities.get(level)
            if isinstance(entry, dict):
                ack[level] = _duration(entry.get("ack_within"), ack[level])
    policy = mapping(data.get("postmortem"))
    required = policy.get("required_for", DEFAULT_REQUIRED_FOR)
    people = {
        str(p["handle"]): str(p.get("name") or p["handle"])
        for p in data.get("people") or []
        if isinstance(p, dict) and p.get("handle")
    }
    github_logins = {
        str(p["handle"]): str(p["github"])
        for p in data.get("people") or []
        if isinstance(p, dict) and p.get("handle") and p.get("github")
    }
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
        components=components,
        ack_within=ack,
        required_for=tuple(r for r in required if r in SEVERITIES)
        if isinstance(required, list)
        else DEFAULT_REQUIRED_FOR,
        due_within=_duration(policy.get("due_within"), DEFAULT_DUE_WITHIN),
        people=people,
        github_logins=github_logins,
        alerts=alert_settings_from_data(data.get("alerts")),
    )


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
