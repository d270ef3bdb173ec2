"""core.timeutil: RFC 3339 in, UTC out; durations both ways."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.timeutil import (
    DurationRangeError,
    TimeFormatError,
    duration_or,
    format_duration,
    format_time,
    maybe_time,
    parse_date,
    parse_duration,
    parse_time,
    parse_time_option,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T11:30:00+01:30", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01t10:00:00z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01 10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T10:00:00.250Z", datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_rfc3339_times_are_read_as_utc(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected
    assert parse_time(text).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-03-01T10:00:00", "has no UTC offset"),
        ("yesterday", "is not an RFC 3339 time"),
        ("2026-02-30T10:00:00Z", "is not a valid time"),
    ],
)
def test_bad_times_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(TimeFormatError, match=says):
        parse_time(text)
    assert maybe_time(text) is None


def test_an_option_names_itself_when_refused() -> None:
    with pytest.raises(RefusedError, match=r"^--at: 'soon' is not an RFC 3339 time"):
        parse_time_option("soon", "--at")


def test_maybe_time_reads_only_strings() -> None:
    assert maybe_time(12) is None and maybe_time(None) is None
    assert maybe_time("2026-03-01T10:00:00Z") == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_times_are_stored_in_utc_to_the_second() -> None:
    moment = datetime(2026, 3, 1, 11, 0, 0, 999, tzinfo=UTC) + timedelta(hours=1)
    assert format_time(moment) == "2026-03-01T12:00:00Z"
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 3, 1))  # noqa: DTZ001


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=datetime(2999, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_a_stored_time_reads_back_as_itself(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    assert parse_time(format_time(moment)) == moment


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
    ],
)
def test_durations_as_in_the_settings(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["", "5", "m5", "1.5h", "5 minutes"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_a_duration_is_at_most_ten_years_and_longer_ones_never_overflow() -> None:
    assert parse_duration("3650d") == timedelta(days=3650)
    assert parse_duration("521w3d") == timedelta(days=3650)
    for text in ("3650d1s", "2000000w", "999999999w", "9" * 5000 + "s"):
        with pytest.raises(DurationRangeError, match="longer than ten years"):
            parse_duration(text)
    # a reader of settings nobody validated falls back to the default, never overflows
    assert duration_or("999999999w", timedelta(minutes=15)) == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(seconds=42), "42s"),
        (timedelta(minutes=4, seconds=10), "4m 10s"),
        (timedelta(minutes=4), "4m"),
        (timedelta(hours=2, minutes=5), "2h 05m"),
        (timedelta(hours=2), "2h"),
        (timedelta(days=3, hours=4, minutes=59), "3d 4h"),
        (timedelta(days=3), "3d"),
        (-timedelta(minutes=5), "-5m"),
    ],
)
def test_durations_read_like_people_write_them(delta: timedelta, shown: str) -> None:
    assert format_duration(delta) == shown


def test_a_settings_window_that_is_zero_or_broken_falls_back_to_the_default() -> None:
    from incidents_cli.core.timeutil import duration_or

    fallback = timedelta(minutes=5)
    assert duration_or("15m", fallback) == timedelta(minutes=15)
    assert duration_or("0m", fallback) == fallback  # would divide by zero in escalations
    assert duration_or("soon", fallback) == fallback
    assert duration_or(None, fallback) == fallback


def test_a_date_is_a_real_day_in_the_years_of_a_stored_time() -> None:
    assert str(parse_date("2999-12-31")) == "2999-12-31"
    assert str(parse_date("1970-01-01")) == "1970-01-01"
    for text, said in [
        ("9999-12-30", "out of range (years 1970 to 2999)"),
        ("2026-02-30", "is not a valid date"),
        ("20261201", "is not a date like 2026-12-01"),
        ("2026-12-01\n", "is not a date like 2026-12-01"),
    ]:
        with pytest.raises(TimeFormatError, match=re.escape(said)):
            parse_date(text)
