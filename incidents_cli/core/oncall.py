"""On-call schedules: who is primary and secondary at any moment, the escalation tiers
after them, and their shifts.

Pure: takes the parsed oncall.yaml and times. Hand-offs happen at the same local wall-clock
time in the rotation's time zone, so a daylight-saving change does not move them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.timeutil import TimeFormatError, parse_duration, parse_time


@dataclass(frozen=True)
class Rotation:
    id: str
    name: str
    members: tuple[str, ...]
    start_local: datetime  # naive, in the rotation's zone
    shift: timedelta
    zone: ZoneInfo

    def boundary(self, index: int) -> datetime:
        """Start of shift ``index`` in UTC (wall-clock arithmetic in the local zone)."""
        local = self.start_local + self.shift * index
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def index_at(self, moment: datetime) -> int | None:
        if moment < self.boundary(0):
            return None
        guess = int((moment - self.boundary(0)) / self.shift)
        while self.boundary(guess) > moment:
            guess -= 1
        while self.boundary(guess + 1) <= moment:
            guess += 1
        return guess

    def member(self, index: int, offset: int = 0) -> str:
        return self.members[(index + offset) % len(self.members)]


@dataclass(frozen=True)
class Override:
    rotation: str
    person: str
    replaces: str | None
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class Tier:
    number: int  # 1: the primary, 2: the secondary, 3...: the further tiers
    name: str  # what people call it: primary, secondary, manager, everyone, tier 4
    rotation: str | None = None  # that rotation's person on call (offset: the next ones)...
    offset: int = 0
    everyone: bool = False  # ...or every member of it
    people: tuple[str, ...] = ()  # named people


@dataclass(frozen=True)
class Schedule:
    rotations: dict[str, Rotation]
    primary: str | None
    secondary: tuple[str, int] | None
    overrides: tuple[Override, ...]
    tiers: tuple[Tier, ...] = ()  # who is paged, in order: primary, secondary, further tiers


@dataclass(frozen=True)
class OnCall:
    person: str | None
    scheduled: str | None
    until: datetime | None
    override: Override | None = None


@dataclass(frozen=True)
class Shift:
    rotation: str
    person: str
    start: datetime
    end: datetime
    override: Override | None = None

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (KeyError, ValueError) as exc:
        raise RefusedError(f"oncall.yaml: unknown time zone {name or fallback!r}") from exc


def schedule_from_data(data: Any, default_zone: str = "UTC") -> Schedule:
    """The schedule from parsed oncall.yaml (validated beforehand by `incidents validate`)."""
    if not isinstance(data, dict):
        raise RefusedError("oncall.yaml: not a mapping; run `incidents validate`")
    rotations: dict[str, Rotation] = {}
    for raw in data.get("rotations") or []:
        try:
            zone = _zone(raw.get("timezone"), default_zone)
            start = parse_time(str(raw["start"])).astimezone(zone).replace(tzinfo=None)
            if raw.get("handoff"):
                hour, minute = (int(x) for x in str(raw["handoff"]).split(":"))
                start = datetime.combine(start.date(), time(hour, minute))
            rotations[str(raw["id"])] = Rotation(
                id=str(raw["id"]),
                name=str(raw.get("name") or raw["id"]),
                members=tuple(str(m) for m in raw["members"]),
                start_local=start,
                shift=parse_duration(str(raw["shift"])),
                zone=zone,
            )
        except (KeyError, TypeError, ValueError, TimeFormatError) as exc:
            raise RefusedError(
                f"oncall.yaml: rotation {raw.get('id') if isinstance(raw, dict) else raw!r} "
                f"is incomplete ({exc}); run `incidents validate`"
            ) from None
    escalation: dict[str, Any] = (
        data["escalation"] if isinstance(data.get("escalation"), dict) else {}
    )
    primary = escalation.get("primary") or (next(iter(rotations), None))
    secondary_raw = escalation.get("secondary")
    secondary = None
    if isinstance(secondary_raw, dict) and secondary_raw.get("rotation"):
        secondary = (str(secondary_raw["rotation"]), int(secondary_raw.get("offset", 0)))
    overrides = []
    for raw in data.get("overrides") or []:
        try:
            overrides.append(
                Override(
                    rotation=str(raw["rotation"]),
                    person=str(raw["person"]),
                    replaces=str(raw["replaces"]) if raw.get("replaces") else None,
                    start=parse_time(str(raw["start"])),
                    end=parse_time(str(raw["end"])),
                    reason=str(raw.get("reason") or ""),
                )
            )
        except (KeyError, TimeFormatError) as exc:
            raise RefusedError(f"oncall.yaml: an override is incomplete ({exc})") from None
    tiers = tiers_from_data(escalation, primary)
    return Schedule(rotations, primary, secondary, tuple(overrides), tiers)


def tiers_from_data(escalation: Mapping[str, Any], default_primary: str | None) -> tuple[Tier, ...]:
    """The declared tiers, primary first (oncall.yaml validated beforehand)."""
    tiers: list[Tier] = []
    primary = escalation.get("primary") or default_primary
    if primary:
        tiers.append(Tier(1, "primary", rotation=str(primary)))
    secondary = escalation.get("secondary")
    if isinstance(secondary, Mapping) and secondary.get("rotation"):
        tiers.append(
            Tier(
                len(tiers) + 1,
                "secondary",
                rotation=str(secondary["rotation"]),
                offset=int(secondary.get("offset", 0)),
            )
        )
    for raw in escalation.get("tiers") or []:
        if not isinstance(raw, Mapping):
            continue
        number = len(tiers) + 1
        people = tuple(str(p) for p in raw.get("people") or ())
        if raw.get("person"):
            people = (str(raw["person"]), *people)
        tiers.append(
            Tier(
                number,
                str(raw.get("name") or f"tier {number}"),
                rotation=str(raw["rotation"]) if raw.get("rotation") else None,
                offset=int(raw.get("offset", 0)),
                everyone=bool(raw.get("everyone", False)),
                people=people,
            )
        )
    return tuple(tiers)


def _rotation(schedule: Schedule, rotation_id: str) -> Rotation:
    if rotation_id not in schedule.rotations:
        raise RefusedError(f"oncall.yaml: no rotation {rotation_id!r}")
    return schedule.rotations[rotation_id]


def _override_at(
    schedule: Schedule, rotation: str, scheduled: str | None, moment: datetime
) -> Override | None:
    for override in schedule.overrides:
        if override.rotation != rotation or not (override.start <= moment < override.end):
            continue
        if override.replaces is None or override.replaces == scheduled:
            return override
    return None


def on_call(schedule: Schedule, rotation_id: str, moment: datetime, offset: int = 0) -> OnCall:
    """Who is on call in a rotation at ``moment`` (``offset`` 1: the next person in it)."""
    rotation = _rotation(schedule, rotation_id)
    index = rotation.index_at(moment)
    if index is None:
        return OnCall(None, None, rotation.boundary(0))
    scheduled = rotation.member(index, offset)
    until = rotation.boundary(index + 1)
    override = _override_at(schedule, rotation_id, scheduled, moment) if offset == 0 else None
    for other in schedule.overrides:
        if other.rotation != rotation_id:
            continue
        for edge in (other.start, other.end):
            if moment < edge < until:
                until = edge
    if override is not None:
        return OnCall(override.person, scheduled, min(until, override.end), override)
    return OnCall(scheduled, scheduled, until)


def primary_at(schedule: Schedule, moment: datetime) -> OnCall | None:
    if schedule.primary is None:
        return None
    return on_call(schedule, schedule.primary, moment)


def secondary_at(schedule: Schedule, moment: datetime, extra: int = 0) -> OnCall | None:
    """The secondary tier at ``moment``; ``extra`` 1 is the tier after it."""
    if schedule.secondary is None:
        return None
    rotation, offset = schedule.secondary
    return on_call(schedule, rotation, moment, offset + extra)


def shifts(schedule: Schedule, rotation_id: str, start: datetime, end: datetime) -> Iterator[Shift]:
    """The shifts that actually happen between ``start`` and ``end``, overrides applied."""
    rotation = _rotation(schedule, rotation_id)
    moment = max(start, rotation.boundary(0))
    while moment < end:
        current = on_call(schedule, rotation_id, moment)
        stop = min(current.until or end, end)
        if current.person is not None and stop > moment:
            yield Shift(rotation_id, current.person, moment, stop, current.override)
        moment = stop


def merged(items: Iterator[Shift]) -> list[Shift]:
    """Adjacent pieces of one person's shift joined back together."""
    out: list[Shift] = []
    for item in items:
        if (
            out
            and out[-1].person == item.person
            and out[-1].end == item.start
            and (out[-1].override == item.override)
        ):
            out[-1] = Shift(item.rotation, item.person, out[-1].start, item.end, item.override)
        else:
            out.append(item)
    return out


def whole_shifts(
    schedule: Schedule, rotation_id: str, start: datetime, end: datetime
) -> list[Shift]:
    """Every shift (or covered part of one) that overlaps ``start``..``end``, whole: a shift
    that began before ``start`` keeps its real start, one that ends after ``end`` its real
    end. So a shift reads the same whatever day it is exported on, and a calendar that
    subscribes to the export sees the same events, not new ones each day.

    Pieces are joined only within one rotation shift (an override splits a shift in up to
    three); a person's consecutive shifts stay separate events, each with its own start.
    """
    rotation = _rotation(schedule, rotation_id)
    index = rotation.index_at(start)
    index = 0 if index is None else index
    out: list[Shift] = []
    while rotation.boundary(index) < end:
        begin, finish = rotation.boundary(index), rotation.boundary(index + 1)
        out.extend(
            piece
            for piece in merged(shifts(schedule, rotation_id, begin, finish))
            if piece.end > start and piece.start < end
        )
        index += 1
    return out
