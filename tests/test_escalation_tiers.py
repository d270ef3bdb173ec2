"""Escalation tiers: never the person who did not answer, never beyond the last tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents_cli.core.escalation import escalation_path, step_after
from incidents_cli.core.oncall import Tier, primary_at, schedule_from_data, tiers_from_data

DETECTED = datetime(2026, 3, 25, 13, 0, tzinfo=UTC)  # alice's shift; erin's week


def oncall(members: list[str], **escalation: Any) -> dict[str, Any]:
    return {
        "rotations": [
            {
                "id": "primary",
                "members": members,
                "start": "2026-03-25T09:00:00+01:00",
                "shift": "1d",
                "handoff": "09:00",
                "timezone": "Europe/Berlin",
            },
            {
                "id": "managers",
                "members": ["dana", "erin"],
                "start": "2026-03-02T09:00:00Z",
                "shift": "7d",
            },
        ],
        "escalation": {"primary": "primary", **escalation},
    }


def path_for(data: dict[str, Any]) -> tuple[str | None, list[tuple[int, str, tuple[str, ...]]]]:
    schedule = schedule_from_data(data, "UTC")
    tiers = tiers_from_data(data["escalation"], None)
    first = primary_at(schedule, DETECTED)
    primary = first.person if first else None
    steps = escalation_path(tiers, schedule, DETECTED, primary)
    return primary, [(s.tier.number, s.tier.name, s.people) for s in steps]


def test_the_declared_tiers_in_order() -> None:
    tiers = tiers_from_data(
        {
            "primary": "primary",
            "secondary": {"rotation": "primary", "offset": 1},
            "tiers": [
                {"name": "manager", "rotation": "managers"},
                {"person": "vp"},
                {"name": "everyone", "rotation": "primary", "everyone": True},
            ],
        },
        None,
    )
    assert tiers == (
        Tier(1, "primary", rotation="primary"),
        Tier(2, "secondary", rotation="primary", offset=1),
        Tier(3, "manager", rotation="managers"),
        Tier(4, "tier 4", people=("vp",)),
        Tier(5, "everyone", rotation="primary", everyone=True),
    )


@pytest.mark.parametrize(
    ("members", "escalation", "expected"),
    [
        # one person: the secondary (the next in the rotation) is the same person: nobody
        (["alice"], {"secondary": {"rotation": "primary", "offset": 1}}, []),
        (
            ["alice"],
            {
                "secondary": {"rotation": "primary", "offset": 1},
                "tiers": [{"name": "manager", "rotation": "managers"}],
            },
            [(3, "manager", ("erin",))],
        ),
        # two people: the other one, and there it stays
        (
            ["alice", "bob"],
            {"secondary": {"rotation": "primary", "offset": 1}},
            [(2, "secondary", ("bob",))],
        ),
        # four people: the secondary, the manager, then everyone not paged yet
        (
            ["alice", "bob", "carol", "dave"],
            {
                "secondary": {"rotation": "primary", "offset": 1},
                "tiers": [
                    {"name": "manager", "rotation": "managers"},
                    {"name": "everyone", "rotation": "primary", "everyone": True},
                ],
            },
            [
                (2, "secondary", ("bob",)),
                (3, "manager", ("erin",)),
                (4, "everyone", ("carol", "dave")),
            ],
        ),
        # a tier naming only people already paged is skipped
        (
            ["alice", "bob", "carol", "dave"],
            {
                "secondary": {"rotation": "primary", "offset": 1},
                "tiers": [{"people": ["alice", "bob"]}, {"person": "vp"}],
            },
            [(2, "secondary", ("bob",)), (4, "tier 4", ("vp",))],
        ),
        # no secondary at all
        (["alice", "bob"], {}, []),
    ],
)
def test_each_tier_pages_only_people_not_paged_before(
    members: list[str], escalation: dict[str, Any], expected: list[tuple[int, str, tuple[str, ...]]]
) -> None:
    primary, path = path_for(oncall(members, **escalation))
    assert primary == "alice"
    assert path == expected


@pytest.mark.parametrize("size", [1, 2, 4])
def test_a_long_wait_never_pages_the_non_responder_and_stops_at_the_last_tier(size: int) -> None:
    members = ["alice", "bob", "carol", "dave"][:size]
    data = oncall(
        members,
        secondary={"rotation": "primary", "offset": 1},
        tiers=[{"name": "manager", "rotation": "managers"}],
    )
    primary, _ = path_for(data)
    schedule = schedule_from_data(data, "UTC")
    path = escalation_path(tiers_from_data(data["escalation"], None), schedule, DETECTED, primary)
    seen: list[str] = []
    last_number = 0
    for missed in range(1, 2000):  # a week of 5-minute windows
        step, at_last = step_after(path, missed)
        assert step is not None
        assert primary not in step.people
        assert step.tier.number >= last_number  # never back down, never beyond the last
        assert step.tier.number <= 3
        last_number = step.tier.number
        if missed >= len(path):
            assert at_last and step == path[-1]
        seen.extend(p for p in step.people if p not in seen)
    assert len(seen) == len(set(seen))
    assert seen == [p for s in path for p in s.people]


def test_before_the_first_window_ends_nobody_is_paged() -> None:
    data = oncall(["alice", "bob"], secondary={"rotation": "primary", "offset": 1})
    schedule = schedule_from_data(data, "UTC")
    path = escalation_path(tiers_from_data(data["escalation"], None), schedule, DETECTED, "alice")
    assert step_after(path, 0) == (None, False)
    assert step_after(path, 1) == (path[0], True)
    assert step_after([], 5) == (None, True)


@settings(max_examples=100, deadline=None)
@given(
    size=st.integers(1, 6),
    offset=st.integers(0, 7),
    hours=st.integers(0, 24 * 30),
    missed=st.integers(1, 10_000),
)
def test_whatever_the_rotation_the_first_person_paged_is_never_paged_again(
    size: int, offset: int, hours: int, missed: int
) -> None:
    members = [f"p{i}" for i in range(size)]
    data = oncall(
        members,
        secondary={"rotation": "primary", "offset": offset},
        tiers=[
            {"rotation": "primary", "offset": offset + 1},
            {"rotation": "primary", "everyone": True},
        ],
    )
    schedule = schedule_from_data(data, "UTC")
    detected = DETECTED + timedelta(hours=hours)
    first = primary_at(schedule, detected)
    assert first is not None and first.person is not None
    path = escalation_path(
        tiers_from_data(data["escalation"], None), schedule, detected, first.person
    )
    everyone = [p for s in path for p in s.people]
    assert first.person not in everyone
    assert sorted(everyone) == sorted(set(members) - {first.person})
    step, at_last = step_after(path, missed)
    if size == 1:
        assert step is None and at_last
    else:
        assert step is not None and step in path
