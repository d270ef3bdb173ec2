"""The 90-day bars of the front page (site/model.py): worked out once for every component,
they give what a component's own bars and uptime are, to the bit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from incidents_cli.site.model import _Bars, _weighted_union, history_days
from incidents_cli.site.public import Maintenance, public_incident

BASE = datetime(2026, 3, 1, tzinfo=UTC)
WEIGHTS = st.sampled_from([1.0, 0.3])
MOMENTS = st.integers(min_value=0, max_value=40).map(lambda hours: BASE + timedelta(hours=hours))


def _by_definition(intervals: list[tuple[datetime, datetime, float]]) -> float:
    """Each span between two ends, at the heaviest weight of the intervals over it."""
    points = sorted({t for a, b, _ in intervals for t in (a, b)})
    lost = 0.0
    for left, right in pairwise(points):
        weight = max((w for a, b, w in intervals if a <= left and right <= b), default=0.0)
        lost += weight * (right - left).total_seconds()
    return lost


@given(st.lists(st.tuples(MOMENTS, MOMENTS, WEIGHTS), max_size=12))
def test_the_weighted_union_is_the_sum_by_definition_to_the_bit(
    intervals: list[tuple[datetime, datetime, float]],
) -> None:
    # (intervals that end before they start, or share ends, included)
    assert _weighted_union(intervals) == _by_definition(intervals)


def test_the_weighted_union_counts_moments_alike_in_any_time_zone() -> None:
    zone = ZoneInfo("Europe/Paris")
    intervals = [
        (BASE, BASE + timedelta(hours=5), 0.3),
        ((BASE + timedelta(hours=2)).astimezone(zone), BASE + timedelta(hours=3), 1.0),
        (BASE + timedelta(hours=4), (BASE + timedelta(hours=9)).astimezone(zone), 1.0),
    ]
    assert _weighted_union(intervals) == _by_definition(intervals) == 3600 * (0.3 * 3 + 6)


def _incident(number: int, started: str, resolved: str | None, statuses: dict[str, str]) -> Any:
    record: dict[str, Any] = {
        "id": f"INC-{number:04d}",
        "title": f"Incident {number}",
        "severity": "high",
        "phase": "resolved" if resolved else "investigating",
        "detected_at": started,
        "components": sorted(statuses),
        "updates": [{"at": started, "status": "investigating", "message": "Looking."}],
    }
    record["updates"][0]["components"] = statuses
    if resolved:
        record["resolved_at"] = resolved
    return public_incident(record)


def test_each_components_bars_are_its_own_though_worked_out_together() -> None:
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    zone = ZoneInfo("America/New_York")
    incidents = [
        _incident(3, "2026-03-30T23:30:00Z", None, {"api": "major_outage"}),  # its day: 30th
        _incident(2, "2026-03-20T10:00:00Z", "2026-03-22T10:00:00Z", {"api": "partial_outage"}),
        _incident(1, "2025-11-01T10:00:00Z", "2026-01-05T10:00:00Z", {"web": "major_outage"}),
    ]
    windows = [
        Maintenance(
            "M-1", "Upgrade", now - timedelta(days=3), now - timedelta(days=2), ("web",), ""
        )
    ]
    bars = _Bars(incidents, now, zone)
    for component in ("api", "web", "db"):
        together = bars.days(component, windows)
        assert together == history_days(component, incidents, windows, now, zone)  # alone
    api, web, db = (bars.days(c, windows)[0] for c in ("api", "web", "db"))
    assert [d.date for d in api] == [d.date for d in db]
    assert api[-2].status == "major_outage" and api[-2].date == "2026-03-30"
    assert [d.status for d in api[-12:-9]] == ["partial_outage"] * 3
    assert web[-4].maintenance and not api[-4].maintenance and not db[-4].maintenance
    assert web[0].status == "major_outage" and web[0].incidents == (("INC-0001", "Incident 1"),)
    assert all(d.status == "operational" and not d.incidents for d in db)
    assert bars.days("db", windows)[1] == 100.0
