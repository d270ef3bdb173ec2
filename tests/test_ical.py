"""RFC 5545 text helpers, read back by the icalendar library."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from incidents_cli.core.ical import Event, calendar, fold

STAMP = datetime(2026, 3, 1, tzinfo=UTC)


@given(st.text(min_size=0, max_size=300))
def test_any_text_survives_escaping_and_folding(text: str) -> None:
    text = text.replace("\r", "")
    body = calendar(
        "Maintenance",
        "test",
        [
            Event(
                uid="MNT-1@example.com",
                start=datetime(2026, 3, 10, 22, tzinfo=UTC),
                end=datetime(2026, 3, 10, 23, tzinfo=UTC),
                summary=text or "x",
                description=text,
                stamp=STAMP,
            )
        ],
    )
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    parsed = icalendar.Calendar.from_ical(body)
    assert str(parsed["X-WR-CALNAME"]) == "Maintenance"
    (event,) = parsed.walk("VEVENT")
    assert str(event["SUMMARY"]) == (text or "x")
    assert str(event.get("DESCRIPTION", "")) == text


def test_folding_never_splits_a_character() -> None:
    line = "SUMMARY:" + "é" * 100
    folded = fold(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))


def test_a_cancelled_event_says_so_and_keeps_its_uid_and_sequence() -> None:
    body = calendar(
        "x",
        "test",
        [
            Event(
                uid="MNT-1-20260310T220000Z@example.com",
                start=datetime(2026, 3, 10, 22, tzinfo=UTC),
                end=datetime(2026, 3, 10, 23, tzinfo=UTC),
                summary="Database upgrade",
                stamp=STAMP,
                sequence=3,
                status="CANCELLED",
            )
        ],
    )
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 3
    assert str(event["UID"]) == "MNT-1-20260310T220000Z@example.com"
    assert event.decoded("DTSTART") == datetime(2026, 3, 10, 22, tzinfo=UTC)
