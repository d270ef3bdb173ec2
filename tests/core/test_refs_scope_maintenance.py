"""core.refs, the scope and correction transitions, and core.maintenance, on plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incidents_cli.core import lifecycle, maintenance, refs
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.lifecycle import Event, Refused
from incidents_cli.core.settings import settings_from_data

SETTINGS = settings_from_data(
    {
        "title": "S",
        "components": [{"id": "api", "name": "API"}, {"id": "web", "name": "Web"}],
        "people": [{"handle": "maria", "emails": ["Maria@Example.com"], "email": "m@x.org"}],
    }
)
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def event(minutes: float = 0, actor: str = "alice") -> Event:
    at = T0 + timedelta(minutes=minutes)
    return Event(actor, at, SETTINGS, now=at + timedelta(hours=1))


def test_refs_are_given_in_order_after_the_highest_and_never_reused() -> None:
    record: dict[str, Any] = {
        "id": "INC-0001",
        "timeline": [{"text": "a"}, {"ref": "N7", "text": "b"}, {"text": "c"}],
        "updates": [{"message": "m"}],
    }
    refs.ensure_refs(record)
    assert [e["ref"] for e in record["timeline"]] == ["N8", "N7", "N9"]
    assert list(record["timeline"][0]) == ["ref", "text"], "the reference goes first"
    assert record["updates"][0]["ref"] == "U1"
    assert refs.next_ref(record, "timeline") == "N10"
    assert refs.number("U12") == 12 and refs.number("X1") is None
    assert refs.find(record, "n7") == ("timeline", record["timeline"][1])
    with pytest.raises(RefusedError, match="INC-0001 has no U2"):
        refs.find(record, "U2")
    with pytest.raises(RefusedError, match="is not a reference"):
        refs.find(record, "7")


def test_people_are_found_by_any_of_their_emails() -> None:
    assert SETTINGS.handle_for_email("maria@example.COM ") == "maria"
    assert SETTINGS.handle_for_email("m@x.org") == "maria"
    assert SETTINGS.handle_for_email("nobody@example.com") is None
    assert SETTINGS.handle_for_email(None) is None


def declared() -> dict[str, Any]:
    record = lifecycle.declare(
        "INC-0001", "Slow", event(), severity="low", components=["api"], regions=["eu"]
    ).record
    record = lifecycle.acknowledge(record, event(1)).record
    return lifecycle.public_update(
        record,
        event(2),
        status="investigating",
        message="Slow.",
        components={"web": "major_outage"},
    ).record


def test_an_update_naming_a_new_component_adds_it_and_a_retraction_takes_it_away() -> None:
    record = declared()
    assert record["components"] == ["api", "web"]
    retracted = lifecycle.retract(record, event(3), "U1", "wrong incident").record
    assert retracted["components"] == ["api"]
    assert retracted["updates"][0]["retracted"]["reason"] == "wrong incident"
    assert lifecycle.posted_updates(retracted) == []


def test_resolve_posts_once_and_reopen_restores_the_statuses() -> None:
    record = declared()
    resolved = lifecycle.resolve(
        record, event(5), action="rollback", summary="x", verified_in=["eu"]
    ).record
    assert resolved["updates"][-1]["components"] == {"api": "operational", "web": "operational"}
    reopened = lifecycle.reopen(resolved, event(6), "back").record
    assert reopened["updates"][-1]["status"] == "investigating"
    assert reopened["updates"][-1]["components"] == {"web": "major_outage"}
    with pytest.raises(Refused, match="--no-public-update goes without"):
        lifecycle.reopen(resolved, event(6), "back", message="m", public_update=False)


def test_a_region_cannot_be_added_after_recovery_was_verified() -> None:
    resolved = lifecycle.resolve(
        declared(), event(5), action="rollback", summary="x", verified_in=["eu"]
    ).record
    with pytest.raises(Refused, match="reopen it first"):
        lifecycle.scope(resolved, event(6), add_regions=["us"])
    narrowed = lifecycle.scope(resolved, event(6), remove_components=["web"]).record
    assert narrowed["components"] == ["api"]


def test_amend_keeps_who_and_when_and_refuses_the_tools_own_entries() -> None:
    record = declared()
    amended = lifecycle.amend(record, event(3, "bob"), "U1", "Slow for some.").record
    assert amended["updates"][0]["message"] == "Slow for some."
    assert amended["updates"][0]["amended"] == {"at": "2026-03-01T10:03:00Z", "actor": "bob"}
    assert amended["timeline"][-1]["refers_to"] == "U1"
    with pytest.raises(Refused, match="only notes and public updates"):
        lifecycle.amend(record, event(3), "N1", "x")
    with pytest.raises(Refused, match="is before U1 itself"):
        lifecycle.amend(record, event(1), "U1", "x")


WINDOW = {
    "id": "MNT-0001",
    "title": "Upgrade",
    "start": "2026-03-01T22:00:00Z",
    "end": "2026-03-01T23:00:00Z",
    "components": ["api"],
}


def test_maintenance_states_and_transitions() -> None:
    assert maintenance.state(WINDOW, T0) == "scheduled"
    assert maintenance.state(WINDOW, T0 + timedelta(hours=12, minutes=30)) == "in_progress"
    assert maintenance.state(WINDOW, T0 + timedelta(days=1)) == "completed"
    moved = maintenance.update(
        WINDOW, event(), message="Later.", end=T0 + timedelta(hours=14)
    ).record
    assert moved["end"] == "2026-03-02T00:00:00Z" and moved["updates"][0]["ref"] == "U1"
    cancelled = maintenance.cancel(moved, event(), "not needed")
    assert cancelled.trailers == (("Maintenance-Id", "MNT-0001"),)
    assert maintenance.state(cancelled.record, T0) == "cancelled"
    with pytest.raises(Refused, match="cancelled already"):
        maintenance.cancel(cancelled.record, event(), "again")
    with pytest.raises(Refused, match="is not after --start"):
        maintenance.schedule(
            "MNT-0002",
            "X",
            event(),
            start=T0 + timedelta(hours=2),
            end=T0 + timedelta(hours=1),
            components=["api"],
        )
    rows = maintenance.rows([cancelled.record, WINDOW], T0)
    assert [r.state for r in rows] == ["cancelled", "scheduled"]  # same start: as given
    assert maintenance.rows_text(rows).splitlines()[0].split() == [
        "ID",
        "STATE",
        "START",
        "END",
        "COMPONENTS",
        "TITLE",
    ]
