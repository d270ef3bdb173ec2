"""Recurring maintenance rules: the RRULE subset, held to python-dateutil's rrule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents_cli.core.recurrence import RecurrenceError, occurrences, parse_rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FREQ=DAILY;COUNT=3", "FREQ must be WEEKLY or MONTHLY"),
        ("FREQ=WEEKLY", "give exactly one of COUNT or UNTIL"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20260101", "give exactly one of COUNT or UNTIL"),
        ("FREQ=WEEKLY;BYDAY=MO;COUNT=2", "'BYDAY=MO' is not supported"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT must be a whole number of at least 1"),
        ("FREQ=WEEKLY;COUNT=501", "COUNT is at most 500"),
        ("FREQ=WEEKLY;COUNT=" + "9" * 5000, "COUNT is at most 500"),
        ("FREQ=WEEKLY;INTERVAL=522;COUNT=5", "INTERVAL is at most 521 with FREQ=WEEKLY"),
        ("FREQ=WEEKLY;INTERVAL=99999999999999;COUNT=5", "INTERVAL is at most 521"),
        ("FREQ=MONTHLY;INTERVAL=121;COUNT=5", "INTERVAL is at most 120 with FREQ=MONTHLY"),
        ("FREQ=MONTHLY;INTERVAL=" + "9" * 5000 + ";COUNT=5", "INTERVAL is at most 120"),
        ("FREQ=WEEKLY;INTERVAL=000;COUNT=5", "INTERVAL must be a whole number of at least 1"),
        ("FREQ=WEEKLY;UNTIL=2026", "UNTIL must look like 20260401"),
        ("FREQ=WEEKLY;UNTIL=20260231", "UNTIL: day is out of range for month"),
        ("FREQ=WEEKLY;FREQ=MONTHLY;COUNT=1", "FREQ is given twice"),
    ],
)
def test_rules_outside_the_subset_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(RecurrenceError, match=message):
        parse_rule(text)


def test_the_longest_steps_keep_every_occurrence_a_time() -> None:
    """Ten years apart, 500 times, from the last year a stored time may have."""
    start = datetime(2999, 12, 31, 23, 0, tzinfo=UTC)
    for text in ("FREQ=WEEKLY;INTERVAL=521;COUNT=500", "FREQ=MONTHLY;INTERVAL=120;COUNT=500"):
        found = occurrences(start, parse_rule(text), "America/New_York")
        assert len(found) == 500 and found[-1].year < 9999


def test_a_weekly_window_keeps_its_wall_clock_time_across_daylight_saving() -> None:
    start = datetime(2026, 3, 17, 21, 0, tzinfo=UTC)  # 22:00 in Berlin (CET)
    found = occurrences(start, parse_rule("FREQ=WEEKLY;COUNT=3"), "Europe/Berlin")
    berlin = [m.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d %H:%M %Z") for m in found]
    assert berlin == ["17 22:00 CET", "24 22:00 CET", "31 22:00 CEST"]
    assert found[2] == datetime(2026, 3, 31, 20, 0, tzinfo=UTC)


def test_a_monthly_series_on_the_31st_skips_shorter_months() -> None:
    start = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)
    found = occurrences(start, parse_rule("FREQ=MONTHLY;COUNT=3"), "UTC")
    assert [m.date().isoformat() for m in found] == ["2026-01-31", "2026-03-31", "2026-05-31"]


def test_until_as_a_date_includes_that_day_and_the_rule_prints_back() -> None:
    rule = parse_rule("freq=weekly;interval=2;until=20260324")
    assert rule.text() == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20260324T235959Z"
    found = occurrences(datetime(2026, 3, 10, 22, 0, tzinfo=UTC), rule, "UTC")
    assert found == [datetime(2026, 3, 10, 22, tzinfo=UTC), datetime(2026, 3, 24, 22, tzinfo=UTC)]


def test_an_endless_until_is_refused() -> None:
    with pytest.raises(RecurrenceError, match="more than 500 occurrences"):
        occurrences(
            datetime(2026, 1, 1, tzinfo=UTC), parse_rule("FREQ=WEEKLY;UNTIL=21000101"), "UTC"
        )


@settings(max_examples=200, deadline=None)
@given(
    frequency=st.sampled_from(["WEEKLY", "MONTHLY"]),
    interval=st.integers(1, 4),
    count=st.one_of(st.none(), st.integers(1, 30)),
    span_days=st.integers(0, 700),
    start=st.datetimes(datetime(2024, 1, 1), datetime(2030, 1, 1)),  # noqa: DTZ001 (wall clock)
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"]),
)
def test_occurrences_match_dateutil_rrule(
    frequency: str,
    interval: int,
    count: int | None,
    span_days: int,
    start: datetime,
    zone: str,
) -> None:
    tz = ZoneInfo(zone)
    local_start = start.replace(second=0, microsecond=0, tzinfo=tz)
    until = None if count is not None else (start + timedelta(days=span_days)).replace(tzinfo=UTC)
    text = f"FREQ={frequency};INTERVAL={interval};" + (
        f"COUNT={count}" if count is not None else f"UNTIL={until:%Y%m%dT%H%M%SZ}"
    )
    ours = occurrences(local_start.astimezone(UTC), parse_rule(text), zone)
    theirs = rrule.rrule(
        {"WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY}[frequency],
        dtstart=local_start,
        interval=interval,
        count=count,
        until=until,
    )
    assert ours == [m.astimezone(UTC) for m in theirs]
