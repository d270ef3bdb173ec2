"""Times as people type them on the command line, turned into one UTC moment.

Pure: the text, "now", the team's time zone and the option's direction go in; a UTC time
and, for a wall-clock time, a note saying which day it was taken as come out. Nothing here
reads a clock or a file, so every form is tested with a fixed "now".

Accepted forms (``ACCEPTED_FORMS`` is the list the refusal prints):

- RFC 3339 with an offset: ``2026-03-01T14:05:00Z``, ``2026-03-01T15:05:00+01:00``;
- ``now``;
- relative: ``-15m``, ``15m ago``, ``+30m``, ``in 2h``, ``1h30m ago`` (units w, d, h, m, s,
  also written out: ``15 min ago``, ``in 2 hours``);
- a wall-clock time ``HH:MM`` (or ``HH:MM:SS``), today in the team's time zone. For a
  past-only option (``--at``, ``--since``) a time ahead of now is taken from yesterday; for
  a future-only option (``--eta``) a time behind now is taken from tomorrow. The result says
  which day it took;
- a date ``YYYY-MM-DD``: the start of that day in the team's time zone;
- ``YYYY-MM-DD HH:MM`` (or ``THH:MM``, with optional ``:SS``) in the team's time zone;
- a bare duration (``7d``) where the option is a window reaching back (``--since 7d``) or
  ahead (``--eta 30m``).

Daylight saving, chosen deliberately:

- Relative times are elapsed time: ``-1d`` is 24 hours before now even across a DST change,
  because incidents are measured in elapsed time.
- A local time that does not exist (in the spring-forward gap, e.g. 02:30 on 2026-03-29 in
  Europe/Berlin) is refused with a message saying so and showing how to write an offset: a
  record is an audit trail and must not hold a time the tool guessed.
- A local time that happens twice (the autumn fold) is refused naming both readings, unless
  the option's direction rules one of them out (for ``--at`` the later reading may still be
  in the future); then the other is taken and the note says which one (by its offset).
- A date alone means the first moment of that day: where midnight falls in a gap (some zones
  change at 00:00) that is the moment the clocks jumped; in a fold, the first midnight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

Direction = Literal["past", "future", "any"]
"""past: the option names a moment that already happened (``--at``, ``--since``);
future: one still to come (``--eta``); any: either (``--as-of``, ``--until``, ``--from``)."""

DEFAULT_TOLERANCE = timedelta(minutes=5)
"""A wall-clock time at most this far ahead of now still means today for a past option
(people round up: ``--at 02:20`` typed at 02:18), like the lifecycle's future tolerance."""

ACCEPTED_FORMS = (
    "2026-03-01T14:05:00Z",
    "2026-03-01T15:05:00+01:00",
    "now",
    "-15m",
    "15m ago",
    "+30m",
    "in 2h",
    "HH:MM (today)",
    "YYYY-MM-DD",
    "YYYY-MM-DD HH:MM",
)
WINDOW_FORM = "7d"


class TimeInputError(ValueError):
    """Text that is not one of the accepted forms, or a local time that is not one moment."""


@dataclass(frozen=True)
class ResolvedTime:
    moment: datetime  # aware, in UTC
    note: str | None = None  # which day (and which reading) a wall-clock time was taken as


_UNITS = {
    "w": 604800,
    "wk": 604800,
    "wks": 604800,
    "week": 604800,
    "weeks": 604800,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
}
_PART = re.compile(r"(\d+)\s*([a-z]+)")
_DURATION = re.compile(r"^(?:\d+\s*[a-z]+\s*)+$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_LOCAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_OFFSET_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$"
)


def accepted_forms(window: bool = False) -> str:
    forms = (*ACCEPTED_FORMS, f"{WINDOW_FORM} (a window)") if window else ACCEPTED_FORMS
    return ", ".join(forms)


def parse_duration_text(text: str) -> timedelta | None:
    """``15m``, ``1h30m``, ``2 hours``, ``1d 12h``: a duration, or None if it is not one;
    one longer than the settings' durations may be (ten years) is a TimeInputError."""
    from incidents_cli.core.timeutil import DurationRangeError, bounded_duration

    cleaned = text.strip().lower()
    if not cleaned or not _DURATION.match(cleaned):
        return None
    parts = _PART.findall(cleaned)
    if any(unit not in _UNITS for _, unit in parts):
        return None
    try:
        return bounded_duration(text, [(number, _UNITS[unit]) for number, unit in parts])
    except DurationRangeError as exc:
        raise TimeInputError(str(exc)) from None


def zone_of(name: str | tzinfo) -> tzinfo:
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise TimeInputError(f"unknown time zone {name!r}") from exc


def parse_time_input(
    text: str,
    *,
    now: datetime,
    zone: str | tzinfo,
    direction: Direction = "any",
    window: bool = False,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> ResolvedTime:
    """The moment ``text`` names, seen from ``now`` in ``zone`` (the team's time zone).

    ``window``: a bare duration (``7d``) is accepted, reaching back from now for a past
    option and ahead for a future one. Raises TimeInputError with the accepted forms.
    """
    from incidents_cli.core.timeutil import EARLIEST_YEAR, LATEST_YEAR

    try:
        found = _resolve(text, now, zone, direction, window, tolerance)
    except OverflowError:  # years 1 and 9999 with an offset, or a huge duration
        found = None
    if found is None or not EARLIEST_YEAR <= found.moment.year <= LATEST_YEAR:
        raise TimeInputError(
            f"{text.strip()!r} is out of range (years {EARLIEST_YEAR} to {LATEST_YEAR})"
        )
    return found


def _resolve(
    text: str,
    now: datetime,
    zone: str | tzinfo,
    direction: Direction,
    window: bool,
    tolerance: timedelta,
) -> ResolvedTime:
    if now.tzinfo is None:
        raise ValueError("naive now")
    tz = zone_of(zone)
    raw = text.strip()
    lowered = raw.lower()
    if lowered == "now":
        return ResolvedTime(now.astimezone(UTC))
    relative = _relative(lowered, window, direction)
    if relative is not None:
        return ResolvedTime((now + relative).astimezone(UTC))
    if _OFFSET_TIME.match(raw):
        normalized = raw.replace("z", "Z").replace("t", "T").replace(" ", "T")
        try:
            return ResolvedTime(datetime.fromisoformat(normalized).astimezone(UTC))
        except ValueError as exc:
            raise TimeInputError(f"{raw!r} is not a valid time: {exc}") from None
    match = _CLOCK.match(raw)
    if match:
        return _wall_clock(raw, _clock(raw, *match.groups()), now, tz, direction, tolerance)
    match = _DATE.match(raw)
    if match:
        day = _date(raw, *match.groups())
        return ResolvedTime(_start_of_day(day, tz))
    match = _LOCAL.match(raw)
    if match:
        day = _date(raw, *match.groups()[:3])
        clock = _clock(raw, *match.groups()[3:])
        moment, which = _local(raw, datetime.combine(day, clock), tz, now, direction, tolerance)
        note = f"{raw} taken as {_label(moment, tz)}, {which}" if which else None
        return ResolvedTime(moment, note)
    raise TimeInputError(
        f"{raw!r} is not a time I can read; accepted: {accepted_forms(window)}"
        + (" (with an offset, or in the team's time zone)" if raw[:4].isdigit() else "")
    )


def _relative(text: str, window: bool, direction: Direction) -> timedelta | None:
    sign = 0
    body = text
    if body.startswith("-"):
        sign, body = -1, body[1:]
    elif body.startswith("+"):
        sign, body = 1, body[1:]
    elif body.startswith("in "):
        sign, body = 1, body[3:]
    elif body.endswith(" ago") or body.endswith("ago"):
        sign, body = -1, body.removesuffix("ago")
    amount = parse_duration_text(body)
    if amount is None:
        return None
    if sign == 0:
        if not window or direction == "any":
            hint = "-" if direction != "future" else "+"
            raise TimeInputError(
                f"{text!r} is a duration, not a time; write {hint}{text.strip()} "
                f"or {text.strip()} ago / in {text.strip()}"
            )
        sign = 1 if direction == "future" else -1
    return amount * sign


def _date(raw: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise TimeInputError(f"{raw!r} is not a valid date: {exc}") from None


def _clock(raw: str, hour: str, minute: str, second: str | None) -> time:
    try:
        return time(int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise TimeInputError(f"{raw!r} is not a valid time of day: {exc}") from None


def _readings(local: datetime, tz: tzinfo) -> list[datetime]:
    """The UTC moments a naive local time names: none (a gap), one, or two (a fold)."""
    found: list[datetime] = []
    for fold in (0, 1):
        moment = local.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if moment.astimezone(tz).replace(tzinfo=None) == local and moment not in found:
            found.append(moment)
    return found


def _label(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({local.isoformat()})"


def _local(
    raw: str,
    local: datetime,
    tz: tzinfo,
    now: datetime,
    direction: Direction,
    tolerance: timedelta,
) -> tuple[datetime, str | None]:
    """One moment for a local wall-clock time, refusing gaps and unresolvable folds; with it,
    which reading of a fold was taken (None when the time happens once)."""
    readings = _readings(local, tz)
    name = getattr(tz, "key", None) or str(tz)
    if not readings:
        before = local.replace(tzinfo=tz, fold=0).utcoffset()
        offset = _offset_text(before)
        raise TimeInputError(
            f"{raw!r}: {local:%Y-%m-%d %H:%M} does not exist in {name} (the clocks jumped "
            f"forward); give an offset, e.g. {local:%Y-%m-%dT%H:%M:%S}{offset}"
        )
    if len(readings) == 1:
        return readings[0], None
    allowed = readings
    if direction == "past":
        allowed = [r for r in readings if r <= now + tolerance]
    elif direction == "future":
        allowed = [r for r in readings if r >= now - tolerance]
    if len(allowed) == 1:
        which = "first" if allowed[0] == readings[0] else "second"
        return allowed[0], f"the {which} of the two {local:%H:%M}s (the clocks went back)"
    first, second = (r.astimezone(tz).isoformat() for r in readings)
    raise TimeInputError(
        f"{raw!r}: {local:%Y-%m-%d %H:%M} happened twice in {name} (the clocks went back); "
        f"write {first} (the first) or {second} (the second)"
    )


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _wall_clock(
    raw: str,
    clock: time,
    now: datetime,
    tz: tzinfo,
    direction: Direction,
    tolerance: timedelta,
) -> ResolvedTime:
    today = now.astimezone(tz).date()
    day = today
    if direction != "any":
        # Today unless no reading of today's time fits the direction. Both folds are tried,
        # so a time in today's gap or fold decides here and is refused or resolved below.
        local = datetime.combine(today, clock)
        probes = [local.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1)]
        if direction == "past" and min(probes) > now + tolerance:
            day = today - timedelta(days=1)
        elif direction == "future" and max(probes) < now - tolerance:
            day = today + timedelta(days=1)
    moment, which = _local(raw, datetime.combine(day, clock), tz, now, direction, tolerance)
    word = {0: "today", -1: "yesterday", 1: "tomorrow"}[(day - today).days]
    note = f"{raw} taken as {word}, {_label(moment, tz)}"
    return ResolvedTime(moment, f"{note}, {which}" if which else note)


def _start_of_day(day: date, tz: tzinfo) -> datetime:
    """The first moment of ``day`` in ``tz``: midnight, or when the clocks jumped past it."""
    midnight = datetime.combine(day, time())
    readings = _readings(midnight, tz)
    if readings:
        return readings[0]
    # Midnight is in a gap: the day starts at the jump. Search the minute it happens.
    low = datetime.combine(day - timedelta(days=1), time(12)).replace(tzinfo=tz).astimezone(UTC)
    high = datetime.combine(day, time(12)).replace(tzinfo=tz).astimezone(UTC)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).date() < day:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)
