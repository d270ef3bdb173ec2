"""core.oncall and core.overview: who is on call, and what list/show compute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.oncall import merged, primary_at, schedule_from_data, secondary_at, shifts
from incidents_cli.core.overview import select, usable, view
from incidents_cli.core.settings import settings_from_data

ONCALL: dict[str, Any] = {
    "rotations": [
        {
            "id": "primary",
            "members": ["alice", "bob"],
            "start": "2026-01-05T09:00:00+01:00",
            "shift": "7d",
            "handoff": "09:00",
            "timezone": "Europe/Berlin",
        },
        {
            "id": "managers",
            "members": ["carol"],
            "start": "2026-01-05T09:00:00+01:00",
            "shift": "1w",
        },
    ],
    "escalation": {"primary": "primary", "secondary": {"rotation": "managers"}},
    "overrides": [
        {
            "rotation": "primary",
            "person": "carol",
            "replaces": "alice",
            "start": "2026-02-03T18:00:00Z",
            "end": "2026-02-04T09:00:00Z",
        }
    ],
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_the_rotation_hands_off_weekly_at_local_time_across_daylight_saving() -> None:
    schedule = schedule_from_data(ONCALL)
    first = primary_at(schedule, _at("2026-01-05T09:00:00+01:00"))
    assert first is not None and first.person == "alice"
    assert first.until == _at("2026-01-12T09:00:00+01:00")
    # 2026-03-29 is the change to summer time in Berlin: the hand-off stays at 09:00 local.
    after = primary_at(schedule, _at("2026-03-30T09:00:00+02:00"))
    before = primary_at(schedule, _at("2026-03-30T08:59:00+02:00"))
    assert after is not None and before is not None and after.person != before.person
    assert primary_at(schedule, _at("2026-01-01T00:00:00Z")).person is None  # type: ignore[union-attr]


def test_an_override_covers_its_period_only_and_says_whom_it_replaces() -> None:
    schedule = schedule_from_data(ONCALL)
    covering = primary_at(schedule, _at("2026-02-03T20:00:00Z"))
    assert covering is not None and covering.person == "carol" and covering.scheduled == "alice"
    assert covering.until == _at("2026-02-04T09:00:00Z")
    assert primary_at(schedule, _at("2026-02-03T17:59:00Z")).person == "alice"  # type: ignore[union-attr]
    secondary = secondary_at(schedule, _at("2026-02-03T20:00:00Z"))
    assert secondary is not None and secondary.person == "carol"


def test_shifts_apply_overrides_and_merge_back_into_whole_shifts() -> None:
    schedule = schedule_from_data(ONCALL)
    found = merged(
        shifts(schedule, "primary", _at("2026-02-02T08:00:00Z"), _at("2026-02-09T08:00:00Z"))
    )
    assert [(s.person, s.start, s.end) for s in found] == [
        ("alice", _at("2026-02-02T08:00:00Z"), _at("2026-02-03T18:00:00Z")),
        ("carol", _at("2026-02-03T18:00:00Z"), _at("2026-02-04T09:00:00Z")),
        ("alice", _at("2026-02-04T09:00:00Z"), _at("2026-02-09T08:00:00Z")),
    ]
    assert sum((s.end - s.start for s in found), timedelta()) == timedelta(days=7)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "not a mapping"),
        ({"rotations": [{"id": "x", "members": ["a"]}]}, "rotation 'x' is incomplete"),
        (
            {"rotations": [{**ONCALL["rotations"][0], "timezone": "Mars/Olympus"}]},
            "unknown time zone 'Mars/Olympus'",
        ),
    ],
)
def test_a_broken_schedule_is_refused_with_what_to_do(data: Any, says: str) -> None:
    with pytest.raises(RefusedError, match=says):
        schedule_from_data(data)


SETTINGS = settings_from_data({})
RECORD = {
    "id": "INC-0001",
    "phase": "resolved",
    "severity": "high",
    "components": ["api"],
    "detected_at": "2026-03-01T10:00:00Z",
    "acknowledged_at": "2026-03-01T10:20:00Z",
    "resolved_at": "2026-03-01T12:00:00Z",
}


def test_a_view_computes_durations_and_a_late_acknowledgment() -> None:
    item = view(RECORD, SETTINGS, _at("2026-03-02T00:00:00Z"))
    assert item.time_to_ack == timedelta(minutes=20)
    assert item.time_to_resolve == timedelta(hours=2)
    assert item.open_for == timedelta(hours=2)
    assert item.ack_breach == "acknowledged 20m after detection, over the 15m window"
    assert item.computed()["ack_within_seconds"] == 900


def test_an_unacknowledged_incident_breaches_once_its_window_passes() -> None:
    waiting = {
        "id": "INC-0002",
        "phase": "detected",
        "severity": "critical",
        "detected_at": "2026-03-01T10:00:00Z",
    }
    assert view(waiting, SETTINGS, _at("2026-03-01T10:05:00Z")).ack_breach is None
    late = view(waiting, SETTINGS, _at("2026-03-01T10:05:01Z")).ack_breach
    assert late == "unacknowledged for 5m 01s, over the 5m window"
    # no severity yet: held to critical's window, as `escalations` holds it
    unset = view({**waiting, "severity": None}, SETTINGS, _at("2026-03-01T10:06:00Z"))
    assert unset.ack_breach == (
        "unacknowledged for 6m, over the 5m window (critical's: severity unset)"
    )


def test_select_filters_and_orders_newest_first() -> None:
    older = {**RECORD, "id": "INC-0000", "detected_at": "2026-02-01T10:00:00Z", "phase": "closed"}
    newer = {
        **RECORD,
        "id": "INC-0003",
        "phase": "investigating",
        "severity": "low",
        "components": ["web"],
        "detected_at": "2026-04-01T10:00:00Z",
    }
    records = [older, RECORD, newer]
    assert [r["id"] for r in select(records)] == ["INC-0003", "INC-0001"]
    assert [r["id"] for r in select(records, include_closed=True)] == [
        "INC-0003",
        "INC-0001",
        "INC-0000",
    ]
    assert [r["id"] for r in select(records, phases=["closed"])] == ["INC-0000"]
    assert [r["id"] for r in select(records, severities=["low"])] == ["INC-0003"]
    assert [r["id"] for r in select(records, components=["api"])] == ["INC-0001"]
    assert [r["id"] for r in select(records, since=_at("2026-03-01T10:00:00Z"))] == [
        "INC-0003",
        "INC-0001",
    ]


def test_only_records_with_an_id_a_phase_and_a_detection_time_are_usable() -> None:
    assert usable(RECORD)
    assert not usable({**RECORD, "detected_at": "yesterday"})
    assert not usable({**RECORD, "id": ["x"]})
