"""Recurring maintenance: the subset of RFC 5545 RRULE a maintenance record may carry.

``FREQ=WEEKLY`` or ``FREQ=MONTHLY``, an optional ``INTERVAL``, and exactly one of ``COUNT``
or ``UNTIL`` (so every series ends). Occurrences repeat on the wall clock of the team's time
zone, as a calendar does: a window at 22:00 in Berlin stays at 22:00 across daylight saving,
so its UTC time moves. A monthly series on the 31st skips months without one (RFC 5545
drops invalid dates; COUNT counts only real occurrences).

Pure and stdlib-only (zoneinfo), written here rather than taken from python-dateutil so the
core imports nothing else; the tests hold it to dateutil's rrule on random rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

MAX_OCCURRENCES = 500
"""A series longer than this is refused: a status page lists windows, not a calendar's years."""
MAX_INTERVAL = {"WEEKLY": 521, "MONTHLY": 120}
"""Occurrences at most ten years apart (core/timeutil.py's LONGEST_DAYS), so that the whole
series stays within the dates a time can hold."""

_PART = re.compile(r"^(FREQ|INTERVAL|COUNT|UNTIL)=([A-Z0-9]+)$")
_UNTIL = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$")


class RecurrenceError(ValueError):
    """A rule outside the supported subset; the message says what is wrong."""


@dataclass(frozen=True)
class Rule:
    frequency: str  # "WEEKLY" or "MONTHLY"
    interval: int
    count: int | None
    until: datetime | None  # UTC; inclusive

    def text(self) -> str:
        """The rule as RFC 5545 writes it."""
        parts = [f"FREQ={self.frequency}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until.strftime('%Y%m%dT%H%M%SZ')}")
        return ";".join(parts)


def parse_rule(text: str) -> Rule:
    """``FREQ=WEEKLY;COUNT=4`` and the like, or RecurrenceError."""
    fields: dict[str, str] = {}
    for part in text.strip().upper().removeprefix("RRULE:").split(";"):
        match = _PART.match(part)
        if match is None:
            raise RecurrenceError(
                f"{part!r} is not supported (use FREQ=WEEKLY|MONTHLY, INTERVAL, COUNT or UNTIL)"
            )
        if match[1] in fields:
            raise RecurrenceError(f"{match[1]} is given twice")
        fields[match[1]] = match[2]
    frequency = fields.get("FREQ")
    if frequency not in ("WEEKLY", "MONTHLY"):
        raise RecurrenceError("FREQ must be WEEKLY or MONTHLY")
    if ("COUNT" in fields) == ("UNTIL" in fields):
        raise RecurrenceError("give exactly one of COUNT or UNTIL, so the series ends")
    most = MAX_INTERVAL[frequency]
    interval = _positive(
        fields.get("INTERVAL", "1"),
        "INTERVAL",
        most,
        f"INTERVAL is at most {most} with FREQ={frequency} (ten years between occurrences)",
    )
    count = None
    if "COUNT" in fields:
        count = _positive(
            fields["COUNT"], "COUNT", MAX_OCCURRENCES, f"COUNT is at most {MAX_OCCURRENCES}"
        )
    until = None
    if "UNTIL" in fields:
        match = _UNTIL.match(fields["UNTIL"])
        if match is None:
            raise RecurrenceError("UNTIL must look like 20260401 or 20260401T000000Z")
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        # a date alone: the whole of that day counts
        hour, minute, second = (
            (int(match[4]), int(match[5]), int(match[6])) if match[4] else (23, 59, 59)
        )
        try:
            until = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError as exc:
            raise RecurrenceError(f"UNTIL: {exc}") from None
    return Rule(frequency, interval, count, until)


def _positive(text: str, name: str, most: int, too_many: str) -> int:
    """A whole number from 1 to ``most``, or RecurrenceError (``too_many`` says why it is
    too large). Its length is compared first: int() refuses thousands of digits."""
    digits = text.lstrip("0")
    if not text.isdigit() or not digits:
        raise RecurrenceError(f"{name} must be a whole number of at least 1")
    if len(digits) > len(str(most)) or int(digits) > most:
        raise RecurrenceError(too_many)
    return int(digits)


def occurrences(start: datetime, rule: Rule, timezone: str) -> list[datetime]:
    """Every start time of the series, in UTC, the first one being ``start`` itself."""
    zone = ZoneInfo(timezone)
    local = start.astimezone(zone)
    wall = local.replace(tzinfo=None)
    found: list[datetime] = []
    step = 0
    while len(found) < MAX_OCCURRENCES:
        candidate = _nth(wall, rule, step)
        step += 1
        if candidate is None:  # no such day in that month
            if step > MAX_OCCURRENCES * 12:
                break
            continue
        moment = candidate.replace(tzinfo=zone).astimezone(UTC)
        if rule.until is not None and moment > rule.until:
            break
        found.append(moment)
        if rule.count is not None and len(found) == rule.count:
            break
    else:
        if rule.until is not None:
            raise RecurrenceError(f"the series has more than {MAX_OCCURRENCES} occurrences")
    return found


def _nth(wall: datetime, rule: Rule, step: int) -> datetime | None:
    if rule.frequency == "WEEKLY":
        return wall + timedelta(weeks=step * rule.interval)
    months = wall.month - 1 + step * rule.interval
    try:
        return wall.replace(year=wall.year + months // 12, month=months % 12 + 1)
    except ValueError:
        return None
