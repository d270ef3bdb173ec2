"""iCalendar (RFC 5545) text: the few rules every calendar this tool writes follows.

Written by hand rather than with the icalendar library: the calendars hold only VEVENTs
with UTC times, and the rules that matter (CRLF, 75-octet folding on UTF-8 boundaries,
TEXT escaping) fit in this module, which keeps the core free of dependencies. The tests
parse every calendar with the icalendar library.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime


def ics_time(moment: datetime) -> str:
    """A UTC DATE-TIME value (form #2 of RFC 5545 3.3.5)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    while data:
        cut = 75 if not parts else 74
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut -= 1  # never split a UTF-8 sequence
        parts.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    return "\r\n ".join(parts)


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime
    end: datetime
    summary: str
    stamp: datetime
    description: str = ""
    url: str = ""
    sequence: int = 0
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED
    categories: Sequence[str] = ()

    def lines(self) -> list[str]:
        lines = [
            "BEGIN:VEVENT",
            f"UID:{escape(self.uid)}",
            f"DTSTAMP:{ics_time(self.stamp)}",
            f"DTSTART:{ics_time(self.start)}",
            f"DTEND:{ics_time(self.end)}",
            f"SEQUENCE:{self.sequence}",
            f"STATUS:{self.status}",
            f"SUMMARY:{escape(self.summary)}",
        ]
        if self.description:
            lines.append(f"DESCRIPTION:{escape(self.description)}")
        if self.url:
            lines.append(f"URL:{self.url}")
        if self.categories:
            lines.append("CATEGORIES:" + ",".join(escape(c) for c in self.categories))
        if self.status == "CANCELLED":
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
        return lines


def calendar(name: str, product: str, events: Iterable[Event], *, extra: Sequence[str] = ()) -> str:
    """A whole VCALENDAR, CRLF line ends, every line folded."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//incidents//{product}//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
        *extra,
    ]
    for event in events:
        lines += event.lines()
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
