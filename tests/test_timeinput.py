"""Every time form people type, in zones with daylight saving, across DST changes and at the
edges of midnight (the pure parser; the options that use it are tested through the CLI)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents_cli.core.timeinput import (
    Direction,
    ResolvedTime,
    TimeInputError,
    parse_duration_text,
    parse_time_input,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# zone, now (UTC), typed text, direction, window, expected (UTC), words the note must hold
# fmt: off
CASES: list[tuple[str, str, str, Direction, bool, str, str | None]] = [
    # RFC 3339 and relative forms, winter time (CET, UTC+1), now = 13:00 local
    (BERLIN, "2026-03-01T12:00:00Z", "2026-03-01T14:05:00Z", "any", False, "2026-03-01T14:05:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-03-01T15:05:00+01:00", "any", False, "2026-03-01T14:05:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-03-01 15:05:00+01:00", "past", False, "2026-03-01T14:05:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-03-01t14:05:00.5z", "any", False, "2026-03-01T14:05:00.5Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "now", "past", False, "2026-03-01T12:00:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "NOW", "any", False, "2026-03-01T12:00:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "-15m", "past", False, "2026-03-01T11:45:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "15m ago", "past", False, "2026-03-01T11:45:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "15 min ago", "any", False, "2026-03-01T11:45:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "1h30m ago", "any", False, "2026-03-01T10:30:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "-1h30m", "any", False, "2026-03-01T10:30:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "+30m", "future", False, "2026-03-01T12:30:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "in 2h", "future", False, "2026-03-01T14:00:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "in 2 hours", "any", False, "2026-03-01T14:00:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "-1w", "any", False, "2026-02-22T12:00:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "-90s", "any", False, "2026-03-01T11:58:30Z", None),
    # windows: a bare duration reaches back for a past option, ahead for a future one
    (BERLIN, "2026-03-01T12:00:00Z", "7d", "past", True, "2026-02-22T12:00:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "30m", "future", True, "2026-03-01T12:30:00Z", None),
    # wall-clock times, today in the team's zone
    (BERLIN, "2026-03-01T12:00:00Z", "12:20", "past", False, "2026-03-01T11:20:00Z", "today"),
    (BERLIN, "2026-03-01T12:00:00Z", "9:05", "past", False, "2026-03-01T08:05:00Z", "today"),
    (BERLIN, "2026-03-01T12:00:00Z", "12:20:30", "any", False, "2026-03-01T11:20:30Z", "today"),
    (BERLIN, "2026-03-01T12:00:00Z", "13:10", "past", False, "2026-02-28T12:10:00Z", "yesterday"),
    (BERLIN, "2026-03-01T12:00:00Z", "13:04", "past", False, "2026-03-01T12:04:00Z", "today"),
    (BERLIN, "2026-03-01T12:00:00Z", "13:10", "any", False, "2026-03-01T12:10:00Z", "today"),
    (BERLIN, "2026-03-01T12:00:00Z", "12:00", "future", False, "2026-03-02T11:00:00Z", "tomorrow"),
    (BERLIN, "2026-03-01T12:00:00Z", "14:00", "future", False, "2026-03-01T13:00:00Z", "today"),
    # dates and local date-times
    (BERLIN, "2026-03-01T12:00:00Z", "2026-03-01", "any", False, "2026-02-28T23:00:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-03-01 09:30", "past", False, "2026-03-01T08:30:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-03-01T09:30", "any", False, "2026-03-01T08:30:00Z", None),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-07-01 09:30:15", "any", False, "2026-07-01T07:30:15Z", None),
    # spring forward in Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); now 03:10 CEST
    (BERLIN, "2026-03-29T01:10:00Z", "-1h", "past", False, "2026-03-29T00:10:00Z", None),
    (BERLIN, "2026-03-29T01:10:00Z", "01:50", "past", False, "2026-03-29T00:50:00Z", "today, 2026-03-29 01:50 CET"),
    (BERLIN, "2026-03-29T01:10:00Z", "03:05", "past", False, "2026-03-29T01:05:00Z", "today, 2026-03-29 03:05 CEST"),
    (BERLIN, "2026-03-29T01:10:00Z", "2026-03-29", "any", False, "2026-03-28T23:00:00Z", None),
    (BERLIN, "2026-03-29T01:10:00Z", "2026-03-30", "any", False, "2026-03-29T22:00:00Z", None),
    (BERLIN, "2026-03-29T12:00:00Z", "-1d", "past", False, "2026-03-28T12:00:00Z", None),
    (BERLIN, "2026-03-29T12:00:00Z", "13:00", "past", False, "2026-03-29T11:00:00Z", "today"),
    (BERLIN, "2026-03-29T00:30:00Z", "01:40", "past", False, "2026-03-28T00:40:00Z", "yesterday"),
    # fall back in Berlin: 02:00-03:00 happens twice on 2026-10-25 (CEST 00-01Z, CET 01-02Z)
    (BERLIN, "2026-10-25T00:45:00Z", "02:30", "past", False, "2026-10-25T00:30:00Z", "the first of the two 02:30s"),
    (BERLIN, "2026-10-25T01:45:00Z", "02:30", "future", False, "2026-10-26T01:30:00Z", "tomorrow"),
    (BERLIN, "2026-10-25T00:45:00Z", "2026-10-25 02:30", "future", False, "2026-10-25T01:30:00Z", "the second"),
    (BERLIN, "2026-10-25T01:45:00Z", "-1h", "any", False, "2026-10-25T00:45:00Z", None),
    (BERLIN, "2026-10-25T12:00:00Z", "-1d", "any", False, "2026-10-24T12:00:00Z", None),
    (BERLIN, "2026-10-25T12:00:00Z", "2026-10-25", "any", False, "2026-10-24T22:00:00Z", None),
    (BERLIN, "2026-10-25T12:00:00Z", "2026-10-26", "any", False, "2026-10-25T23:00:00Z", None),
    # spring forward in New York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); now 03:30 EDT
    (NEW_YORK, "2026-03-08T07:30:00Z", "01:30", "past", False, "2026-03-08T06:30:00Z", "EST"),
    (NEW_YORK, "2026-03-08T07:30:00Z", "03:10", "past", False, "2026-03-08T07:10:00Z", "EDT"),
    (NEW_YORK, "2026-03-08T07:30:00Z", "2026-03-08", "any", False, "2026-03-08T05:00:00Z", None),
    (NEW_YORK, "2026-03-08T07:30:00Z", "2026-03-09", "any", False, "2026-03-09T04:00:00Z", None),
    (NEW_YORK, "2026-03-08T07:30:00Z", "-1h", "past", False, "2026-03-08T06:30:00Z", None),
    # fall back in New York: 01:00-02:00 twice on 2026-11-01 (EDT 05-06Z, EST 06-07Z)
    (NEW_YORK, "2026-11-01T05:40:00Z", "01:20", "past", False, "2026-11-01T05:20:00Z", "the first"),
    (NEW_YORK, "2026-11-01T06:40:00Z", "00:30", "past", False, "2026-11-01T04:30:00Z", "today"),
    (NEW_YORK, "2026-11-01T06:40:00Z", "02:10", "past", False, "2026-10-31T06:10:00Z", "yesterday"),
    # the edges of midnight (Berlin, CET): now 00:10 local on 2026-03-02
    (BERLIN, "2026-03-01T23:10:00Z", "02:20", "past", False, "2026-03-01T01:20:00Z", "yesterday, 2026-03-01 02:20 CET"),
    (BERLIN, "2026-03-01T23:10:00Z", "23:50", "past", False, "2026-03-01T22:50:00Z", "yesterday"),
    (BERLIN, "2026-03-01T23:10:00Z", "00:05", "past", False, "2026-03-01T23:05:00Z", "today"),
    (BERLIN, "2026-03-01T23:10:00Z", "00:10", "past", False, "2026-03-01T23:10:00Z", "today"),
    (BERLIN, "2026-03-01T23:10:00Z", "02:20", "any", False, "2026-03-02T01:20:00Z", "today"),
    (BERLIN, "2026-03-01T22:50:00Z", "00:10", "future", False, "2026-03-01T23:10:00Z", "tomorrow"),
    (BERLIN, "2026-03-01T22:50:00Z", "23:55", "future", False, "2026-03-01T22:55:00Z", "today"),
    (BERLIN, "2026-03-01T23:00:00Z", "00:00", "past", False, "2026-03-01T23:00:00Z", "today"),
    (BERLIN, "2026-03-01T23:00:00Z", "23:59", "past", False, "2026-03-01T22:59:00Z", "yesterday"),
    (BERLIN, "2026-03-01T23:30:00Z", "2026-03-02", "any", False, "2026-03-01T23:00:00Z", None),
    # "today" is the team's day, not UTC's: 22:00 EST on 2026-03-01 is 03:00Z on 2026-03-02
    (NEW_YORK, "2026-03-02T03:00:00Z", "21:00", "past", False, "2026-03-02T02:00:00Z", "today, 2026-03-01"),
    (NEW_YORK, "2026-03-02T03:00:00Z", "23:00", "past", False, "2026-03-01T04:00:00Z", "yesterday, 2026-02-28"),
    # a zone whose clocks jumped at midnight: the day starts at 01:00 (Sao Paulo, 2018-11-04)
    ("America/Sao_Paulo", "2018-11-05T12:00:00Z", "2018-11-04", "any", False, "2018-11-04T03:00:00Z", None),
]
# fmt: on


@pytest.mark.parametrize(("zone", "now", "text", "direction", "window", "expected", "note"), CASES)
def test_every_accepted_form_names_one_moment(
    zone: str,
    now: str,
    text: str,
    direction: Direction,
    window: bool,
    expected: str,
    note: str | None,
) -> None:
    found = parse_time_input(text, now=utc(now), zone=zone, direction=direction, window=window)
    assert found.moment == utc(expected)
    assert found.moment.tzinfo is UTC
    if note is None:
        assert found.note is None
    else:
        assert found.note is not None and note in found.note, found.note


# zone, now, text, direction, window, words the refusal must hold
# fmt: off
REFUSED: list[tuple[str, str, str, Direction, bool, str]] = [
    (BERLIN, "2026-03-01T12:00:00Z", "yesterday", "past", False, "accepted: 2026-03-01T14:05:00Z"),
    (BERLIN, "2026-03-01T12:00:00Z", "soon", "future", True, "7d (a window)"),
    (BERLIN, "2026-03-01T12:00:00Z", "15", "past", False, "in 2h"),
    (BERLIN, "2026-03-01T12:00:00Z", "25:00", "past", False, "not a valid time of day"),
    (BERLIN, "2026-03-01T12:00:00Z", "12:60", "past", False, "not a valid time of day"),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-02-30", "any", False, "not a valid date"),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-02-30T10:00:00Z", "any", False, "not a valid time"),
    (BERLIN, "2026-03-01T12:00:00Z", "15m", "past", False, "write -15m"),
    (BERLIN, "2026-03-01T12:00:00Z", "7d", "any", True, "is a duration, not a time"),
    (BERLIN, "2026-03-01T12:00:00Z", "15 fortnights ago", "past", False, "accepted"),
    (BERLIN, "2026-03-01T12:00:00Z", "2026-03-01T14:05:00+1", "any", False, "with an offset"),
    # the spring-forward gap is refused, saying how to write an offset
    (BERLIN, "2026-03-29T01:10:00Z", "02:30", "past", False, "does not exist in Europe/Berlin"),
    (BERLIN, "2026-03-29T01:10:00Z", "2026-03-29 02:30", "any", False, "2026-03-29T02:30:00+01:00"),
    (NEW_YORK, "2026-03-08T07:30:00Z", "02:15", "past", False, "does not exist in America/New_York"),
    # the autumn fold is refused when both readings fit the option
    (BERLIN, "2026-10-25T01:45:00Z", "02:30", "past", False, "2026-10-25T02:30:00+02:00 (the first)"),
    (BERLIN, "2026-10-25T12:00:00Z", "2026-10-25 02:30", "any", False, "2026-10-25T02:30:00+01:00 (the second)"),
    (NEW_YORK, "2026-11-01T06:40:00Z", "01:20", "past", False, "happened twice"),
]
# fmt: on


@pytest.mark.parametrize(("zone", "now", "text", "direction", "window", "words"), REFUSED)
def test_refusals_say_what_is_accepted_or_what_is_wrong(
    zone: str, now: str, text: str, direction: Direction, window: bool, words: str
) -> None:
    with pytest.raises(TimeInputError) as caught:
        parse_time_input(text, now=utc(now), zone=zone, direction=direction, window=window)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_refusal_lists_every_accepted_form() -> None:
    with pytest.raises(TimeInputError) as caught:
        parse_time_input("half past two", now=utc("2026-03-01T12:00:00Z"), zone=BERLIN)
    for form in ("2026-03-01T14:05:00Z", "now", "-15m", "15m ago", "+30m", "in 2h", "HH:MM"):
        assert form in str(caught.value)
    assert "YYYY-MM-DD HH:MM" in str(caught.value)


def test_a_naive_now_is_a_bug() -> None:
    with pytest.raises(ValueError, match="naive"):
        parse_time_input("now", now=datetime(2026, 3, 1), zone=BERLIN)  # noqa: DTZ001


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(TimeInputError, match="unknown time zone"):
        parse_time_input("12:00", now=utc("2026-03-01T12:00:00Z"), zone="Mars/Olympus")


def test_durations_written_many_ways() -> None:
    assert parse_duration_text("1h30m") == timedelta(minutes=90)
    assert parse_duration_text("1d 12h") == timedelta(hours=36)
    assert parse_duration_text("2 weeks") == timedelta(weeks=2)
    assert parse_duration_text("45 secs") == timedelta(seconds=45)
    assert parse_duration_text("") is None
    assert parse_duration_text("12") is None
    assert parse_duration_text("3 parsecs") is None


@pytest.mark.parametrize(
    "text", ["9" * 5000 + "s", "3651d", "522w 1 day", "0" * 5000 + "3651 days"]
)
def test_a_duration_longer_than_ten_years_is_refused_as_the_settings_ones_are(text: str) -> None:
    """The settings' bound (timeutil.LONGEST_DAYS), not a copy: int() refuses thousands of
    digits, and a longer duration is a typing mistake."""
    assert parse_duration_text("3650d") == timedelta(days=3650)
    assert parse_duration_text("0" * 5000 + "1m") == timedelta(minutes=1)
    with pytest.raises(TimeInputError, match=r"is longer than ten years \(at most 3650d\)"):
        parse_duration_text(text)
    with pytest.raises(TimeInputError, match="is longer than ten years"):
        parse_time_input(f"-{text}", now=utc("2026-03-01T12:00:00Z"), zone="UTC")


ZONES = st.sampled_from(["UTC", BERLIN, NEW_YORK, "Australia/Lord_Howe", "Asia/Kolkata"])
NOWS = st.datetimes(
    min_value=datetime(2000, 1, 2),  # noqa: DTZ001
    max_value=datetime(2037, 12, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=200, deadline=None)
@given(zone=ZONES, now=NOWS, minutes=st.integers(0, 60 * 24 * 60))
def test_relative_times_are_elapsed_time_in_every_zone(
    zone: str, now: datetime, minutes: int
) -> None:
    delta = timedelta(minutes=minutes)
    for text, expected in (
        (f"-{minutes}m", now - delta),
        (f"{minutes}m ago", now - delta),
        (f"+{minutes}m", now + delta),
        (f"in {minutes}m", now + delta),
    ):
        assert parse_time_input(text, now=now, zone=zone).moment == expected


@settings(max_examples=200, deadline=None)
@given(zone=ZONES, now=NOWS, moment=NOWS)
def test_rfc3339_round_trips_whatever_the_zone(zone: str, now: datetime, moment: datetime) -> None:
    for text in (
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        moment.astimezone(ZoneInfo(zone)).isoformat(),
    ):
        assert parse_time_input(text, now=now, zone=zone).moment == moment


def _local_outcome(
    text: str, now: datetime, zone: str, direction: Direction
) -> ResolvedTime | None:
    try:
        return parse_time_input(text, now=now, zone=zone, direction=direction)
    except TimeInputError as exc:
        assert "does not exist" in str(exc) or "happened twice" in str(exc)
        return None


@settings(max_examples=300, deadline=None)
@given(
    zone=ZONES,
    now=NOWS,
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    direction=st.sampled_from(["past", "future", "any"]),
)
def test_a_wall_clock_time_is_that_time_on_the_day_the_note_names(
    zone: str, now: datetime, hour: int, minute: int, direction: Direction
) -> None:
    tz = ZoneInfo(zone)
    found = _local_outcome(f"{hour:02d}:{minute:02d}", now, zone, direction)
    if found is None:
        return
    local = found.moment.astimezone(tz)
    assert (local.hour, local.minute) == (hour, minute)
    today = now.astimezone(tz).date()
    days = (local.date() - today).days
    assert found.note is not None
    assert {0: "today", -1: "yesterday", 1: "tomorrow"}[days] in found.note
    tolerance = timedelta(minutes=5)
    if direction == "past":
        assert found.moment <= now + tolerance
        assert days in (0, -1)
    elif direction == "future":
        assert found.moment >= now - tolerance
        assert days in (0, 1)
    else:
        assert days == 0


@settings(max_examples=300, deadline=None)
@given(zone=ZONES, now=NOWS, local=NOWS.map(lambda d: d.replace(tzinfo=None, second=0)))
def test_a_local_date_time_is_that_wall_clock_time_or_refused_in_a_gap_or_fold(
    zone: str, now: datetime, local: datetime
) -> None:
    tz = ZoneInfo(zone)
    found = _local_outcome(f"{local:%Y-%m-%d %H:%M}", now, zone, "any")
    if found is None:
        readings = {local.replace(tzinfo=tz, fold=f).utcoffset() for f in (0, 1)}
        assert len(readings) == 2  # only a gap or a fold is refused
        return
    assert found.moment.astimezone(tz).replace(tzinfo=None) == local


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from([BERLIN, NEW_YORK, "America/Sao_Paulo", "America/Havana", "Asia/Gaza"]),
    day=st.dates(min_value=datetime(2000, 1, 2).date(), max_value=datetime(2030, 12, 30).date()),  # noqa: DTZ001
)
def test_a_date_is_the_first_moment_of_that_day(zone: str, day: object) -> None:
    tz = ZoneInfo(zone)
    found = parse_time_input(f"{day}", now=utc("2026-03-01T12:00:00Z"), zone=zone).moment
    assert found.astimezone(tz).date() == day
    assert (found - timedelta(seconds=1)).astimezone(tz).date() < found.astimezone(tz).date()


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        ("2026-07-01T10:00:00Z", "Europe/Berlin", "2026-07-01 12:00:00 +02:00"),
        ("2026-01-01T10:00:00Z", "Europe/Berlin", "2026-01-01 11:00:00 +01:00"),
        ("2026-01-01T03:00:00Z", "America/New_York", "2025-12-31 22:00:00 -05:00"),
        ("2026-01-01T03:00:00Z", "Asia/Kolkata", "2026-01-01 08:30:00 +05:30"),
        ("2026-01-01T03:00:00Z", "UTC", "2026-01-01 03:00:00Z"),
        ("2026-01-01T03:00:00Z", "Mars/Olympus", "2026-01-01 03:00:00Z"),
    ],
)
def test_times_for_people_are_in_the_teams_zone_with_the_offset(
    moment: str, zone: str, shown: str
) -> None:
    from incidents_cli.core.timeutil import format_local

    assert format_local(utc(moment), zone) == shown
