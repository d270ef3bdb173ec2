"""Monitor alerts in, transitions out: the pure half of `incidents ingest`.

Two steps, both pure (no files, no git, no clock):

1. ``parse_payload(format, data)`` checks one webhook payload (Alertmanager v4, Grafana
   alerting, or the generic shape of schemas/alert-generic.schema.json) and turns it into an
   ``AlertGroup``; a payload that is not the named format raises ``PayloadError`` naming the
   JSON path of the first problem (``$.alerts[0].labels``), so a monitor's owner can fix it.
2. ``decide(group, settings, ...)`` maps the group, the ``alerts:`` settings and what the
   repository already holds for that group (an open incident, or a pending alert still waiting
   for more regions) to one ``Decision``: declare, update, pending or unchanged.

The payload is checked by hand rather than with a JSON Schema because the core imports nothing
but the standard library; the generic format's schema is the documentation, and a test keeps
the two in agreement.

What is remembered about a group (on the incident as ``alert``, or in a pending file under
``alerts/``) is an ``AlertState``: the group key, each fingerprint's region and status, first
and last seen, one link. It is built only from the payloads' own times, never from the clock,
so the same payload delivered twice gives the same state: that is what makes a retry a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.lifecycle import Change, Event, check_regions, declare

# The lifecycle's own checks and time-ordered insertion: an alert entry is added like a note.
from incidents_cli.core.lifecycle import _add_entry as add_entry
from incidents_cli.core.lifecycle import _begin as begin
from incidents_cli.core.settings import AlertSettings
from incidents_cli.core.text import clip
from incidents_cli.core.timeutil import TimeFormatError, format_time, maybe_time, parse_time
from incidents_cli.core.vocabulary import ALERT_FORMATS, ALERT_STATUSES, SEVERITIES

FORMATS = ALERT_FORMATS
# Phases in which an incident still collects its group's alerts; after resolution a new firing
# alert of the group is a new incident (unless it is a retry of what the incident already saw).
COLLECTING_PHASES = ("detected", "acknowledged", "investigating")
# Phases in which a resolved alert of the group is still noted on the incident.
NOTED_PHASES = ("resolved", "postmortem")
SEVERITY_ORDER = SEVERITIES  # most severe first
TITLE_LIMIT = 200
PENDING_FOLDER = "alerts"
ALERT_ENTRY_KIND = "alert"

Action = Literal["declare", "update", "pending", "unchanged"]


class PayloadError(RefusedError):
    """The payload is not the named format; ``path`` is the JSON path of the first problem."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.detail = message


# --- the normalized payload --------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """One alert of a group, whatever format it came in.

    ``components``, ``region`` and ``severity`` are set by the generic format, which names
    them; Alertmanager and Grafana alerts carry them as labels that the settings name.
    """

    fingerprint: str
    status: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    url: str | None = None
    components: tuple[str, ...] | None = None
    region: str | None = None
    severity: str | None = None


@dataclass(frozen=True)
class AlertGroup:
    format: str
    group_key: str
    status: str
    alerts: tuple[Alert, ...]
    title: str | None = None
    """The payload's own title (generic); Alertmanager and Grafana titles come from alerts."""
    description: str | None = None
    resolves_rest: bool = False
    """A resolved alert that names no region resolves every fingerprint of the group."""


# --- checking payloads, with JSON paths ------------------------------------------------------


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(path, f"expected an object, got {_kind(value)}")
    return value


def _required(data: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise PayloadError(path, f"required property {key!r} is missing")
    return data[key]


def _string(value: object, path: str, *, empty: bool = True) -> str:
    if not isinstance(value, str):
        raise PayloadError(path, f"expected a string, got {_kind(value)}")
    if not empty and not value.strip():
        raise PayloadError(path, "must not be empty")
    return value


def _optional_string(data: Mapping[str, Any], key: str, path: str) -> str | None:
    if key not in data or data[key] is None:
        return None
    return _string(data[key], f"{path}.{key}") or None


def _string_map(value: object, path: str) -> dict[str, str]:
    data = _object(value, path)
    for key, item in data.items():
        _string(item, f"{path}.{key}")
    return dict(data)


def _status(value: object, path: str) -> str:
    text = _string(value, path)
    if text not in ALERT_STATUSES:
        raise PayloadError(path, f"{text!r} is not one of firing, resolved")
    return text


def _time(value: object, path: str) -> datetime | None:
    """An RFC 3339 time; Go's zero time (year 1), which both monitors send for 'not yet', is
    None."""
    if value is None or value == "":
        return None
    text = _string(value, path)
    if text.startswith("0001-01-01T00:00:00"):  # Go's zero time, before the range check
        return None
    try:
        parsed = parse_time(text)
    except TimeFormatError as exc:
        raise PayloadError(path, str(exc)) from None
    return parsed


def _alertmanager_alert(value: object, path: str, grafana: bool) -> Alert:
    data = _object(value, path)
    status = _status(_required(data, "status", path), f"{path}.status")
    labels = _string_map(_required(data, "labels", path), f"{path}.labels")
    annotations = _string_map(data.get("annotations") or {}, f"{path}.annotations")
    starts_at = _time(_required(data, "startsAt", path), f"{path}.startsAt")
    ends_at = _time(data.get("endsAt"), f"{path}.endsAt")
    fingerprint = _string(_required(data, "fingerprint", path), f"{path}.fingerprint", empty=False)
    urls = ["dashboardURL", "panelURL", "generatorURL"] if grafana else ["generatorURL"]
    url = next((u for key in urls if (u := _optional_string(data, key, path))), None)
    if grafana and "values" in data and data["values"] is not None:
        _object(data["values"], f"{path}.values")
    return Alert(
        fingerprint=fingerprint,
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at if status == "resolved" else None,
        url=url,
    )


def _parse_alertmanager(data: Mapping[str, Any], grafana: bool) -> AlertGroup:
    version = data.get("version")
    if not grafana and version is not None and version != "4":
        raise PayloadError("$.version", f"{version!r}: only version 4 of the webhook is known")
    status = _status(_required(data, "status", "$"), "$.status")
    group_key = _string(_required(data, "groupKey", "$"), "$.groupKey", empty=False)
    raw_alerts = _required(data, "alerts", "$")
    if not isinstance(raw_alerts, list):
        raise PayloadError("$.alerts", f"expected an array, got {_kind(raw_alerts)}")
    if not raw_alerts:
        raise PayloadError("$.alerts", "expected at least one alert")
    for key in ("groupLabels", "commonLabels", "commonAnnotations"):
        if data.get(key) is not None:
            _string_map(data[key], f"$.{key}")
    if grafana:
        for key in ("title", "state", "message"):
            _optional_string(data, key, "$")
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise PayloadError("$.truncatedAlerts", f"expected a count, got {truncated!r}")
    alerts = tuple(
        _alertmanager_alert(item, f"$.alerts[{index}]", grafana)
        for index, item in enumerate(raw_alerts)
    )
    common = data.get("commonAnnotations") or {}
    return AlertGroup(
        format="grafana" if grafana else "alertmanager",
        group_key=group_key,
        status=status,
        alerts=alerts,
        description=common.get("description"),
    )


GENERIC_FIELDS = (
    "$schema",
    "title",
    "status",
    "dedup_key",
    "severity",
    "components",
    "regions",
    "url",
    "description",
    "at",
)


def _string_list(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PayloadError(f"$.{key}", f"expected an array, got {_kind(value)}")
    items = tuple(
        _string(item, f"$.{key}[{index}]", empty=False) for index, item in enumerate(value)
    )
    if len(set(items)) != len(items):
        raise PayloadError(f"$.{key}", "has the same item twice")
    return items


def _parse_generic(data: Mapping[str, Any]) -> AlertGroup:
    for key in data:
        if key not in GENERIC_FIELDS:
            raise PayloadError(
                f"$.{key}", f"unknown property (known: {', '.join(GENERIC_FIELDS[1:])})"
            )
    title = _string(_required(data, "title", "$"), "$.title", empty=False)
    if len(title) > TITLE_LIMIT:
        raise PayloadError("$.title", f"longer than {TITLE_LIMIT} characters")
    status = _status(_required(data, "status", "$"), "$.status")
    key = _string(_required(data, "dedup_key", "$"), "$.dedup_key", empty=False)
    severity = _optional_string(data, "severity", "$")
    components = _string_list(data, "components")
    regions = _string_list(data, "regions")
    url = _optional_string(data, "url", "$")
    description = _optional_string(data, "description", "$")
    at = _time(data.get("at"), "$.at")
    if "at" in data and at is None:
        raise PayloadError("$.at", "expected a time like 2026-03-01T14:05:00Z")
    # One alert per region, so that regions confirm one another as Alertmanager's do.
    alerts = tuple(
        Alert(
            fingerprint=f"{key}@{region}" if region else key,
            status=status,
            starts_at=at if status == "firing" else None,
            ends_at=at if status == "resolved" else None,
            url=url,
            components=components,
            region=region,
            severity=severity,
        )
        for region in (regions or (None,))
    )
    return AlertGroup(
        format="generic",
        group_key=key,
        status=status,
        alerts=alerts,
        title=title,
        description=description,
        resolves_rest=status == "resolved" and not regions,
    )


def parse_payload(format: str, data: object) -> AlertGroup:
    """Check a parsed JSON payload against the named format and normalize it."""
    if format not in FORMATS:
        raise RefusedError(f"unknown alert format {format!r} (known: {', '.join(FORMATS)})")
    payload = _object(data, "$")
    if format == "generic":
        return _parse_generic(payload)
    return _parse_alertmanager(payload, grafana=format == "grafana")


# --- what is remembered about a group --------------------------------------------------------


@dataclass(frozen=True)
class FingerprintState:
    fingerprint: str
    status: str
    starts_at: datetime | None
    region: str | None = None
    ends_at: datetime | None = None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"fingerprint": self.fingerprint, "status": self.status}
        if self.region:
            data["region"] = self.region
        if self.starts_at:
            data["starts_at"] = format_time(self.starts_at)
        if self.ends_at:
            data["ends_at"] = format_time(self.ends_at)
        return data


@dataclass(frozen=True)
class AlertState:
    """A group as the repository remembers it: on an incident (``alert:``), or pending."""

    group_key: str
    format: str
    fingerprints: tuple[FingerprintState, ...]
    url: str | None = None
    title: str | None = None
    """Kept while pending only: the title the incident will have when it is declared."""

    @property
    def first_seen(self) -> datetime | None:
        times = [f.starts_at for f in self.fingerprints if f.starts_at]
        return min(times) if times else None

    @property
    def last_seen(self) -> datetime | None:
        times = [t for f in self.fingerprints for t in (f.starts_at, f.ends_at) if t]
        return max(times) if times else None

    @property
    def firing(self) -> tuple[FingerprintState, ...]:
        return tuple(f for f in self.fingerprints if f.status == "firing")

    @property
    def all_resolved(self) -> bool:
        return bool(self.fingerprints) and not self.firing

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"group_key": self.group_key, "format": self.format}
        if self.title:
            data["title"] = self.title
        if self.url:
            data["url"] = self.url
        first, last = self.first_seen, self.last_seen
        if first:
            data["first_seen"] = format_time(first)
        if last:
            data["last_seen"] = format_time(last)
        data["fingerprints"] = [f.to_data() for f in self.fingerprints]
        return data


def alert_state_from_data(data: object) -> AlertState | None:
    """An ``AlertState`` from a record's ``alert`` or a pending file; None if unreadable."""
    if not isinstance(data, dict) or not isinstance(data.get("group_key"), str):
        return None
    prints = []
    for item in data.get("fingerprints") or []:
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            continue
        prints.append(
            FingerprintState(
                fingerprint=item["fingerprint"],
                status="resolved" if item.get("status") == "resolved" else "firing",
                starts_at=maybe_time(item.get("starts_at")),
                region=item["region"] if isinstance(item.get("region"), str) else None,
                ends_at=maybe_time(item.get("ends_at")),
            )
        )
    return AlertState(
        group_key=data["group_key"],
        format=str(data.get("format") or ""),
        fingerprints=tuple(prints),
        url=data["url"] if isinstance(data.get("url"), str) else None,
        title=data["title"] if isinstance(data.get("title"), str) else None,
    )


def record_alert_state(record: Mapping[str, Any]) -> AlertState | None:
    return alert_state_from_data(record.get("alert"))


def monitors_green(record: Mapping[str, Any]) -> bool:
    """Every fingerprint of the incident's alert group is resolved: what `show` and `list` say
    so a responder knows the monitors are green (recovery is still theirs to verify)."""
    state = record_alert_state(record)
    return state is not None and state.all_resolved


def pending_path(group_key: str) -> str:
    """The repository path of a group's pending file: a digest, as group keys are long and
    full of quotes and braces."""
    digest = hashlib.sha256(group_key.encode()).hexdigest()[:16]
    return f"{PENDING_FOLDER}/{digest}.yaml"


# --- the mapping --------------------------------------------------------------------------


def _label(alert: Alert, names: Sequence[str]) -> str | None:
    for name in names:
        value = alert.labels.get(name)
        if value:
            return value
    return None


def alert_region(alert: Alert, settings: AlertSettings) -> str | None:
    return alert.region if alert.region is not None else _label(alert, settings.region_labels)


def _component_values(alert: Alert, settings: AlertSettings) -> tuple[str, ...]:
    if alert.components is not None:
        return alert.components
    value = _label(alert, settings.component_labels)
    return (value,) if value else ()


def map_components(
    values: Iterable[str], settings: AlertSettings, known: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(component ids, values that name no known component)."""
    known_ids = set(known)
    ids: list[str] = []
    unknown: list[str] = []
    for value in values:
        mapped = settings.components.get(value, value)
        if mapped in known_ids:
            if mapped not in ids:
                ids.append(mapped)
        elif value not in unknown:
            unknown.append(value)
    return ids, unknown


def alert_severity(alert: Alert, settings: AlertSettings) -> str | None:
    value = alert.severity
    if value is None:
        value = _label(alert, settings.severity_labels)
    if value is None:
        return None
    mapped = settings.severities.get(value, settings.severities.get(value.lower(), value.lower()))
    return mapped if mapped in SEVERITY_ORDER else None


def merge(
    prior: AlertState | None,
    group: AlertGroup,
    settings: AlertSettings,
    now: datetime,
    *,
    keep_unseen_resolved: bool = True,
) -> AlertState:
    """The state after this payload. Fingerprints absent from the payload keep their state:
    Alertmanager drops an alert from its group once it has reported it resolved. ``now`` is
    used only where the payload gives no time and the fingerprint's status changes.
    ``keep_unseen_resolved``: also record alerts first seen already resolved (on an
    incident they are news; for a pending group they say nothing)."""
    prints = {f.fingerprint: f for f in (prior.fingerprints if prior else ())}
    order = list(prints)
    seen: set[str] = set()
    for alert in group.alerts:
        seen.add(alert.fingerprint)
        old = prints.get(alert.fingerprint)
        new = _next_print(alert, old, group, settings, now, keep_unseen_resolved)
        if new is None:
            continue
        if old is None:
            order.append(alert.fingerprint)
        prints[alert.fingerprint] = new
    if group.resolves_rest:
        _resolve_unseen(prints, seen, group, now)
    url = (prior.url if prior else None) or next((a.url for a in group.alerts if a.url), None)
    return AlertState(
        group_key=group.group_key,
        format=prior.format if prior and prior.format else group.format,
        fingerprints=tuple(prints[key] for key in order),
        url=url,
        title=prior.title if prior else None,
    )


def _next_print(
    alert: Alert,
    old: FingerprintState | None,
    group: AlertGroup,
    settings: AlertSettings,
    now: datetime,
    keep_unseen_resolved: bool,
) -> FingerprintState | None:
    """A fingerprint's state after this alert, or None when the alert is not recorded."""
    region = alert_region(alert, settings)
    if old is None and group.resolves_rest:
        return None  # stands for "every region", resolved below
    if old is None and alert.status == "resolved" and not keep_unseen_resolved:
        return None
    if old is None:
        firing = alert.status == "firing"
        return FingerprintState(
            alert.fingerprint,
            alert.status,
            alert.starts_at or (now if firing else None),
            region,
            None if firing else alert.ends_at or now,
        )
    if _stale(alert, old):
        return old
    if alert.status == "firing":
        if old.status == "firing" and alert.starts_at in (None, old.starts_at):
            return old
        # firing again, or a newer start
        return replace(
            old,
            status="firing",
            starts_at=alert.starts_at or (old.starts_at if old.status == "firing" else now),
            ends_at=None,
            region=region or old.region,
        )
    if old.status == "resolved":
        return old
    return replace(old, status="resolved", ends_at=alert.ends_at or now)


def _resolve_unseen(
    prints: dict[str, FingerprintState], seen: set[str], group: AlertGroup, now: datetime
) -> None:
    """Resolve, in place, every firing fingerprint that a resolve-the-rest payload left out."""
    for key, old in prints.items():
        if key not in seen and old.status == "firing":
            prints[key] = replace(old, status="resolved", ends_at=group.alerts[0].ends_at or now)


def _stale(alert: Alert, old: FingerprintState) -> bool:
    """A delivery older than what is remembered (monitors retry, and retries overtake one
    another): firing from before the remembered start or end, or resolved before the
    remembered start."""
    if alert.status == "firing" and alert.starts_at is not None:
        latest = old.ends_at if old.status == "resolved" else old.starts_at
        return latest is not None and alert.starts_at < latest
    if alert.status == "resolved" and alert.ends_at is not None and old.status == "firing":
        return old.starts_at is not None and alert.ends_at < old.starts_at
    return False


def group_title(group: AlertGroup) -> str:
    """The incident's title: the generic title, else a firing alert's summary annotation, else
    the alert name."""
    if group.title:
        title = group.title
    else:
        firing = [a for a in group.alerts if a.status == "firing"] or list(group.alerts)
        title = (
            next(
                (a.annotations["summary"] for a in firing if a.annotations.get("summary")),
                None,
            )
            or next((a.labels["alertname"] for a in firing if a.labels.get("alertname")), None)
            or ("Alert " + group.group_key)
        )
    title = " ".join(title.split())
    return clip(title, TITLE_LIMIT)


@dataclass(frozen=True)
class Entry:
    """A timeline entry the ingest adds (kind ``alert``)."""

    at: datetime
    text: str


@dataclass(frozen=True)
class Decision:
    action: Action
    state: AlertState | None
    """The group's state to store: on the incident (declare, update), in the pending file
    (pending; None: remove the pending file), or nothing to store (unchanged)."""
    at: datetime | None = None
    """When a declared incident was detected: the earliest firing alert's start."""
    title: str = ""
    summary: str | None = None
    severity: str | None = None
    components: tuple[str, ...] = ()
    """Components to declare with, or (update) to add."""
    regions: tuple[str, ...] = ()
    """Regions to declare with, or (update) to add."""
    entries: tuple[Entry, ...] = ()
    alerts: int = 0
    """How many alerts the payload held (``--json``'s ``alerts``)."""
    waiting: str = ""
    """Why a pending group is not an incident yet."""


def _most_severe(values: Iterable[str | None]) -> str | None:
    found = [v for v in values if v in SEVERITY_ORDER]
    return min(found, key=SEVERITY_ORDER.index) if found else None


def _regions(prints: Iterable[FingerprintState]) -> list[str]:
    return list(dict.fromkeys(f.region for f in prints if f.region))


def _in(region: str | None) -> str:
    return f" in {region}" if region else ""


def _unknown_component(value: str) -> str:
    return (
        f"Alert names {value!r}, which is not a component; map it under alerts.components "
        "in incidents.yaml"
    )


def _state_time(state: FingerprintState, fallback: datetime) -> datetime:
    return state.starts_at or fallback


def decide(
    group: AlertGroup,
    settings: AlertSettings,
    known_components: Iterable[str],
    *,
    now: datetime,
    incident: Mapping[str, Any] | None = None,
    pending: AlertState | None = None,
) -> Decision:
    """What this payload does, given the latest incident that holds the group (any phase) and
    the group's pending state. ``now`` only fills in times a payload leaves out (generic
    alerts without ``at``); a time already remembered is never replaced by it, so a retry
    stays unchanged."""
    known = list(known_components)
    prior = record_alert_state(incident) if incident is not None else None
    if incident is not None and incident.get("phase") in COLLECTING_PHASES:
        return _update(group, settings, known, incident, prior, now)
    if incident is not None and prior is not None and _is_retry(group, prior):
        if incident.get("phase") in NOTED_PHASES:  # late news of recovery is still worth a line
            return _update(group, settings, known, incident, prior, now)
        return Decision("unchanged", None, alerts=len(group.alerts))
    return _declare_or_wait(group, settings, known, pending, now)


def _is_retry(group: AlertGroup, prior: AlertState) -> bool:
    """A firing payload that an incident past investigation has already seen, as it was."""
    known = {f.fingerprint: f for f in prior.fingerprints}
    for alert in group.alerts:
        old = known.get(alert.fingerprint)
        if alert.status == "firing" and (
            old is None
            or old.status == "resolved"
            or (alert.starts_at is not None and alert.starts_at != old.starts_at)
        ):
            return False
    return True


def _declare_or_wait(
    group: AlertGroup,
    settings: AlertSettings,
    known: Sequence[str],
    pending: AlertState | None,
    now: datetime,
) -> Decision:
    title = group_title(group)
    state = merge(pending, group, settings, now, keep_unseen_resolved=False)
    if pending is None:
        state = replace(state, title=title)
    firing = state.firing
    count = len(group.alerts)
    if not firing:
        if pending is None:
            return Decision("unchanged", None, alerts=count)
        return Decision("pending", None, alerts=count, waiting="every alert of the group resolved")
    regions = _regions(firing)
    if max(len(regions), 1) < settings.confirm_regions:
        if state == pending:
            return Decision("unchanged", None, alerts=count)
        waiting = (
            f"firing in {len(regions)} of the {settings.confirm_regions} regions needed "
            f"({', '.join(regions) or 'no region label'})"
        )
        return Decision("pending", state, alerts=count, waiting=waiting)
    return _declaration(group, settings, known, pending, state, title, now)


def _declaration(
    group: AlertGroup,
    settings: AlertSettings,
    known: Sequence[str],
    pending: AlertState | None,
    state: AlertState,
    title: str,
    now: datetime,
) -> Decision:
    """The decision to declare an incident for a group whose firing alerts are confirmed."""
    firing = state.firing
    regions = _regions(firing)
    count = len(group.alerts)
    by_print = {a.fingerprint: a for a in group.alerts}
    firing_alerts = [by_print[f.fingerprint] for f in firing if f.fingerprint in by_print]
    values = [v for a in firing_alerts for v in _component_values(a, settings)]
    components, unknown = map_components(values, settings, known)
    severity = _most_severe(alert_severity(a, settings) for a in firing_alerts)
    at = min(_state_time(f, now) for f in firing)
    entries = [
        Entry(_state_time(f, now), f"Alert firing{_in(f.region)} ({f.fingerprint})") for f in firing
    ]
    entries += [Entry(at, _unknown_component(value)) for value in unknown]
    summary = group.description or next(
        (a.annotations["description"] for a in firing_alerts if a.annotations.get("description")),
        None,
    )
    return Decision(
        "declare",
        # On the incident, alerts first seen resolved are kept too (as an update keeps them).
        replace(merge(pending, group, settings, now), title=None),
        at=at,
        title=state.title or title,
        summary=summary,
        severity=severity,
        components=tuple(components),
        regions=tuple(regions),
        entries=tuple(sorted(entries, key=lambda e: e.at)),
        alerts=count,
    )


def _update(
    group: AlertGroup,
    settings: AlertSettings,
    known: Sequence[str],
    incident: Mapping[str, Any],
    prior: AlertState | None,
    now: datetime,
) -> Decision:
    state = merge(prior, group, settings, now)
    before = {f.fingerprint: f for f in (prior.fingerprints if prior else ())}
    entries = _status_entries(state, before, now)
    had_regions = list(incident.get("regions") or [])
    new_regions = [r for r in _regions(state.firing) if r not in had_regions]
    components, unknown = _named_components(group, state, before, settings, known)
    had_components = list(incident.get("components") or [])
    new_components = [c for c in components if c not in had_components]
    if new_components:
        entries.append(
            Entry(
                max(e.at for e in entries) if entries else now,
                f"Alert names component{'s' if len(new_components) > 1 else ''} "
                + ", ".join(new_components),
            )
        )
    entries += [Entry(now, _unknown_component(value)) for value in unknown]
    if entries and state.all_resolved:
        entries.append(Entry(max(e.at for e in entries), "Every alert of the group is resolved"))
    if not entries and not new_regions and state == prior:
        return Decision("unchanged", None, alerts=len(group.alerts))
    return Decision(
        "update",
        state,
        components=tuple(new_components),
        regions=tuple(new_regions),
        entries=tuple(sorted(entries, key=lambda e: e.at)),
        alerts=len(group.alerts),
    )


def _status_entries(
    state: AlertState, before: Mapping[str, FingerprintState], now: datetime
) -> list[Entry]:
    """An entry for each fingerprint that started firing (again) or resolved."""
    entries: list[Entry] = []
    for current in state.fingerprints:
        old = before.get(current.fingerprint)
        if old == current:
            continue
        where = _in(current.region)
        if current.status == "firing":
            again = " again" if old is not None else ""
            entries.append(
                Entry(
                    _state_time(current, now),
                    f"Alert firing{again}{where} ({current.fingerprint})",
                )
            )
        elif old is None or old.status == "firing":
            entries.append(
                Entry(current.ends_at or now, f"Alert resolved{where} ({current.fingerprint})")
            )
    return entries


def _named_components(
    group: AlertGroup,
    state: AlertState,
    before: Mapping[str, FingerprintState],
    settings: AlertSettings,
    known: Sequence[str],
) -> tuple[list[str], list[str]]:
    """The components the firing alerts name, and the unknown values newly firing alerts name."""
    by_print = {a.fingerprint: a for a in group.alerts}
    values = [
        v
        for f in state.firing
        if f.fingerprint in by_print
        for v in _component_values(by_print[f.fingerprint], settings)
    ]
    components, _ = map_components(values, settings, known)
    # Unknown values are noted once, by the alert that first named them.
    _, unknown = map_components(
        [
            v
            for a in group.alerts
            if a.status == "firing" and a.fingerprint not in before
            for v in _component_values(a, settings)
        ],
        settings,
        known,
    )
    return components, unknown


# --- the transitions an ingest makes ------------------------------------------------------

ALERT_ACTOR_BY_FORMAT = {"alertmanager": "alertmanager", "grafana": "grafana", "generic": "monitor"}


def _clamp(at: datetime, record: Mapping[str, Any], event: Event) -> datetime:
    """An alert's own time, kept inside the incident's life: not before it was detected, not
    after now (a monitor's clock may run ahead)."""
    detected = parse_time(str(record["detected_at"]))
    return max(detected, min(at, event.now))


def _entry(record: dict[str, Any], at: datetime, text: str, event: Event, url: str | None) -> None:
    entry: dict[str, Any] = {
        "at": format_time(_clamp(at, record, event)),
        "actor": event.actor,
        "kind": ALERT_ENTRY_KIND,
        "text": text,
    }
    if url:
        entry["evidence"] = [url]
    add_entry(record, entry)


def _with_alert(record: dict[str, Any], state: AlertState) -> dict[str, Any]:
    """The record with ``alert`` placed before the timeline (where a person reads it)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in ("timeline", "updates") and "alert" not in out:
            out["alert"] = state.to_data()
        if key != "alert":
            out[key] = value
    out.setdefault("alert", state.to_data())
    return out


def declare_change(
    decision: Decision, incident_id: str, event: Event, primary: str | None = None
) -> Change:
    """The incident a firing group opens: ``declare`` with source monitor, plus the alert."""
    assert decision.action == "declare" and decision.state is not None
    change = declare(
        incident_id,
        decision.title,
        event,
        severity=decision.severity,
        components=decision.components,
        regions=decision.regions,
        source="monitor",
        summary=decision.summary,
        primary=primary,
    )
    record = _with_alert(change.record, decision.state)
    for item in decision.entries:
        _entry(record, item.at, item.text, event, None)
    change.record = record
    return change


def update_change(record: Mapping[str, Any], decision: Decision, event: Event) -> Change:
    """What a payload adds to an open incident: regions, components, the alert's state and
    one ``alert`` timeline entry per change, in one commit."""
    assert decision.action == "update" and decision.state is not None
    new = begin(dict(record), event, "note")
    check_regions(decision.regions, "the alert's region label")
    for key, added in (("regions", decision.regions), ("components", decision.components)):
        if added:
            new[key] = list(dict.fromkeys([*(new.get(key) or []), *added]))
    new = _with_alert(new, decision.state)
    for item in decision.entries:
        _entry(new, item.at, item.text, event, None)
    first = decision.entries[0].text if decision.entries else "alert state updated"
    more = f" (+{len(decision.entries) - 1} more)" if len(decision.entries) > 1 else ""
    return Change(new, "alert", clip(f"{new['id']} alert: {first}{more}", 100))
