"""RFC 3339 times with an offset, stored in UTC, and short durations like ``15m``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from incidents_cli.core.errors import RefusedError

# Compiled on first use (re caches them): reading stored times never needs the first one.
_RFC3339 = r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
_DURATION = r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$"

TIME_HINT = "write it like 2026-03-01T14:05:00Z or 2026-03-01T15:05:00+01:00"


class TimeFormatError(ValueError):
    """A time that is not RFC 3339 with an offset."""


# Times outside these years are typing mistakes (and years below 1 or above 9999 cannot
# even be converted to UTC): refused, so that every time the tool handles can be.
EARLIEST_YEAR = 1970
LATEST_YEAR = 2999
# What a stored time looks like, to find the strings of a record that claim to be times.
TIME_SHAPE = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}"
# And a plain date (a review's, a postmortem's, a due day): the whole string.
DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"


def _in_range(value: datetime, text: str) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise TimeFormatError(f"{text!r} is out of range (years {EARLIEST_YEAR} to {LATEST_YEAR})")
    return value


@lru_cache(maxsize=1024)  # a record's times are parsed by its checks, rules and public view
def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time; a time without an offset is an error that says so."""
    if len(text) == 20 and text[19] == "Z" and text[10] == "T" and text[:4].isdigit():
        try:  # the stored form, 2026-03-01T10:00:00Z: the C parser alone
            return _in_range(datetime.fromisoformat(text), text)
        except ValueError:
            pass
    match = re.match(_RFC3339, text.strip())
    if not match:
        raise TimeFormatError(f"{text!r} is not an RFC 3339 time; {TIME_HINT}")
    if match.group(8) is None:
        raise TimeFormatError(f"{text!r} has no UTC offset; {TIME_HINT}")
    normalized = text.strip().replace("z", "Z").replace("t", "T").replace(" ", "T")
    try:
        value = datetime.fromisoformat(normalized)
    except ValueError as exc:
        raise TimeFormatError(f"{text!r} is not a valid time: {exc}") from None
    _in_range(value, text)  # before the conversion, which overflows at years 1 and 9999
    return _in_range(value.astimezone(UTC), text)


def parse_date(text: str) -> date:
    """A calendar date, ``2026-12-01``, in the years a stored time may have (else
    TimeFormatError), so that adding a duration to it never overflows."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise TimeFormatError(f"{text!r} is not a date like 2026-12-01")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise TimeFormatError(f"{text!r} is not a valid date: {exc}") from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise TimeFormatError(f"{text!r} is out of range (years {EARLIEST_YEAR} to {LATEST_YEAR})")
    return day


def maybe_time(value: object) -> datetime | None:
    """The time in ``value`` if it is a valid RFC 3339 string, else None (for reading records
    that validation may not have passed)."""
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except TimeFormatError:
        return None


def due_time(value: object, zone: str = "UTC") -> datetime | None:
    """When something with this ``due`` is due: an RFC 3339 time as it says, or a plain
    date (2026-12-01) at the end of that day (23:59:59) in ``zone``, the settings' time
    zone; None for anything else (see ``maybe_time``)."""
    if isinstance(value, str) and len(value) == 10 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        from datetime import time
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            day = parse_date(value)
        except TimeFormatError:
            return None
        try:
            where: Any = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):  # a settings finding of its own
            where = UTC  # meanwhile UTC ("", "/abs" and "../x" are ValueErrors)
        return datetime.combine(day, time(23, 59, 59), tzinfo=where)
    return maybe_time(value)


def parse_time_option(text: str, option: str) -> datetime:
    """Parse a time given on the command line, or refuse with the option's name."""
    try:
        return parse_time(text)
    except TimeFormatError as exc:
        raise RefusedError(f"{option}: {exc}") from None


def format_time(value: datetime) -> str:
    """UTC, seconds precision, with a ``Z``: the one way times are stored."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    utc = value.astimezone(UTC)  # four-digit years always (strftime's %Y may not pad)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def format_local(value: datetime, zone: str = "UTC", seconds: bool = True) -> str:
    """A time for people: in the team's time zone with its offset (``2026-03-01 15:05:00
    +01:00``), or in UTC with a ``Z``; an unknown zone falls back to UTC."""
    clock = "%H:%M:%S" if seconds else "%H:%M"
    if zone != "UTC":
        from zoneinfo import ZoneInfo

        try:
            local = value.astimezone(ZoneInfo(zone))
        except (KeyError, ValueError):
            local = None
        if local is not None:
            offset = local.strftime("%z")
            return f"{local.strftime(f'%Y-%m-%d {clock}')} {offset[:3]}:{offset[3:]}"
    return value.astimezone(UTC).strftime(f"%Y-%m-%d {clock}Z")


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


LONGEST_DAYS = 3650
"""The longest a duration of the settings or a record may be (a response window, a shift, a
review interval, a recurrence's step): ten years. Longer is a typing mistake, and soon more
than a date can hold (a time plus 999999999w overflows)."""


class DurationRangeError(ValueError):
    """A duration in the right form that is longer than ``LONGEST_DAYS``."""


def parse_duration(text: str) -> timedelta:
    """``5m``, ``1h30m``, ``2d``, ``1w``: the duration format of the settings; at most
    ``LONGEST_DAYS`` (DurationRangeError), so adding it to a time never overflows."""
    match = re.match(_DURATION, text.strip())
    if not text.strip() or not match:
        raise ValueError(f"{text!r} is not a duration like 15m, 1h30m or 2d")
    units = (604800, 86400, 3600, 60, 1)  # w, d, h, m, s: the groups of _DURATION
    parts = [(g or "0", u) for g, u in zip(match.groups(), units, strict=True)]
    return bounded_duration(text, parts)


def bounded_duration(text: str, parts: Iterable[tuple[str, int]]) -> timedelta:
    """The duration ``text`` names, as its parts (the digits of a number, and the seconds
    in its unit); at most ``LONGEST_DAYS``, else DurationRangeError. Summed in whole numbers
    first (timedelta itself overflows), of at most 12 digits each (int() refuses thousands,
    and more than 12 is longer than ten years in any unit)."""
    total = 0
    for digits, unit in parts:
        number = digits.lstrip("0") or "0"
        if len(number) > 12:
            total = LONGEST_DAYS * 86400 + 1
            break
        total += int(number) * unit
    if total > LONGEST_DAYS * 86400:
        shown = text.strip() if len(text.strip()) <= 24 else f"{text.strip()[:20]}..."
        raise DurationRangeError(f"{shown!r} is longer than ten years (at most {LONGEST_DAYS}d)")
    return timedelta(seconds=total)


def duration_or(value: object, fallback: timedelta) -> timedelta:
    """A window from settings (``15m``), or ``fallback`` if it is missing, not a duration, or
    not positive: a zero window would divide by zero, and the schema reports the mistake."""
    if not isinstance(value, str):
        return fallback
    try:
        parsed = parse_duration(value)
    except ValueError:
        return fallback
    return parsed if parsed > timedelta(0) else fallback


def format_duration(delta: timedelta) -> str:
    """A readable duration: ``4m 10s``, ``2h 05m``, ``3d 4h``."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m" if minutes else f"{sign}{hours}h"
    if minutes:
        return f"{sign}{minutes}m {seconds:02d}s" if seconds else f"{sign}{minutes}m"
    return f"{sign}{seconds}s"
