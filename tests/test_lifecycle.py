"""The pure lifecycle: the table, each transition, and random walks that stay valid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents_cli.core import lifecycle
from incidents_cli.core.lifecycle import PHASES, TRANSITIONS, Event, TransitionRefused
from incidents_cli.core.records import RecordFile
from incidents_cli.core.rules import check_repository
from incidents_cli.core.settings import settings_from_data
from incidents_cli.core.text import control_character
from incidents_cli.store import yamlio
from incidents_cli.store.schemas import schema_findings

from .conftest import ROOT

SETTINGS = settings_from_data(
    yamlio.parse((ROOT / "templates/init/incidents.yaml").read_text(), "incidents.yaml").data
)
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def event(minutes: float = 0, actor: str = "alice") -> Event:
    at = T0 + timedelta(minutes=minutes)
    return Event(actor, at, SETTINGS, now=at + timedelta(hours=1))


def declared(**kwargs: Any) -> dict[str, Any]:
    return lifecycle.declare("INC-0001", "Checkout fails", event(), **kwargs).record


def test_next_id() -> None:
    assert lifecycle.next_id([], "INC") == "INC-0001"
    assert lifecycle.next_id(["INC-0009", "INC-0010", "OPS-0100", "junk"], "INC") == "INC-0011"
    assert lifecycle.next_id(["INC-9999"], "INC") == "INC-10000"
    # the prefix in any case is the same prefix (ids.resolve_id reads inc-0007 as INC-0007)
    assert lifecycle.next_id(["INC-0002", "inc-0007", "Inc-5"], "INC") == "INC-0008"
    assert lifecycle.next_id(["ops-0003"], "OPS") == "OPS-0004"


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("phase", PHASES)
def test_every_refusal_names_the_phase_and_what_is_allowed(action: str, phase: str) -> None:
    record = {"id": "INC-0001", "title": "x", "phase": phase, "detected_at": "2026-03-01T10:00:00Z"}
    if phase in TRANSITIONS[action][0]:
        return
    with pytest.raises(TransitionRefused) as caught:
        lifecycle._check_allowed(record, action)
    message = caught.value.message
    assert f"it is {phase}" in message
    for allowed in lifecycle.allowed_actions(phase):
        assert allowed in message


def test_ack_needs_a_severity_and_flags_a_late_ack() -> None:
    record = declared()
    with pytest.raises(TransitionRefused, match="pass --severity"):
        lifecycle.acknowledge(record, event(1))
    change = lifecycle.acknowledge(record, event(6), "critical")
    assert change.record["acknowledged_at"] == "2026-03-01T10:06:00Z"
    assert change.notices == ["late acknowledgment: 6m after detection, over the 5m window"]
    assert record["phase"] == "detected", "the input record is not changed"


def test_at_cannot_put_the_timeline_out_of_order() -> None:
    record = lifecycle.acknowledge(declared(severity="low"), event(10)).record
    with pytest.raises(TransitionRefused, match="out of order"):
        lifecycle.investigate(record, event(5))
    with pytest.raises(TransitionRefused, match="before INC-0001 was detected"):
        lifecycle.note(record, event(-5), "early")
    future = Event("alice", T0 + timedelta(days=1), SETTINGS, now=T0)
    with pytest.raises(TransitionRefused, match="in the future"):
        lifecycle.note(record, future, "later")


def test_backfilled_note_lands_in_time_order() -> None:
    record = lifecycle.acknowledge(declared(severity="low"), event(10)).record
    record = lifecycle.note(record, event(20), "second").record
    record = lifecycle.note(record, event(15), "first").record
    assert [e["text"] for e in record["timeline"]][-2:] == ["first", "second"]


def test_resolve_needs_every_region_or_a_workaround() -> None:
    record = declared(severity="high", regions=["eu", "us"])
    record = lifecycle.acknowledge(record, event(1)).record
    with pytest.raises(TransitionRefused, match="not verified in us"):
        lifecycle.resolve(record, event(9), action="rollback", summary="x", verified_in=["eu"])
    with pytest.raises(TransitionRefused, match="needs --follow-up"):
        lifecycle.resolve(record, event(9), action="rollback", summary="x", workaround=True)
    with pytest.raises(TransitionRefused, match="not an affected region"):
        lifecycle.resolve(record, event(9), action="rollback", summary="x", verified_in=["ap"])
    done = lifecycle.resolve(
        record, event(9), action="other", summary="flag off", workaround=True, follow_up="fix"
    )
    assert done.record["resolution"] == {
        "action": "other",
        "summary": "flag off",
        "workaround": True,
        "follow_up": "fix",
    }


def test_close_needs_a_published_postmortem_for_required_severities() -> None:
    record = lifecycle.acknowledge(declared(severity="high"), event(1)).record
    record = lifecycle.resolve(record, event(5), action="hotfix", summary="x").record
    with pytest.raises(TransitionRefused, match="run `incidents postmortem INC-0001` first"):
        lifecycle.close(record, event(6), None)
    record = lifecycle.start_postmortem(record, event(6), "postmortems/INC-0001.md").record
    with pytest.raises(TransitionRefused, match="does not exist yet"):
        lifecycle.close(record, event(7), None)
    with pytest.raises(TransitionRefused, match="is draft, not published"):
        lifecycle.close(record, event(7), "draft")
    assert lifecycle.close(record, event(7), "published").record["phase"] == "closed"
    low = lifecycle.acknowledge(declared(severity="low"), event(1)).record
    low = lifecycle.resolve(low, event(5), action="hotfix", summary="x").record
    assert lifecycle.close(low, event(6), None).record["closed_at"] == "2026-03-01T10:06:00Z"


def _valid(record: dict[str, Any]) -> list[str]:
    text = yamlio.dump(record)
    rec = RecordFile("incident", f"incidents/{record['id']}.yaml", yamlio.parse(text, "x"))
    settings_text = (ROOT / "templates/init/incidents.yaml").read_text()
    settings_record = RecordFile("settings", "incidents.yaml", yamlio.parse(settings_text, "s"))
    runbook = RecordFile(
        "runbook",
        "runbooks/database-connection-pool-exhaustion.md",
        yamlio.parse("title: x\nowner: alice\nlast_reviewed: 2026-01-01\nreview_every: 9\n", "r"),
    )
    findings = schema_findings(rec) + check_repository([settings_record, rec, runbook])
    from jsonschema import Draft202012Validator

    from incidents_cli.store.schemas import schema

    slow = Draft202012Validator(schema("incident")).iter_errors(rec.data)
    return [f.text() for f in findings] + [e.message for e in slow]


ACTIONS = st.sampled_from(
    [
        "ack",
        "severity",
        "assign",
        "investigate",
        "note",
        "update",
        "resolve",
        "reopen",
        "postmortem",
        "close",
        "scope",
        "amend",
        "retract",
    ]
)


def _apply(record: dict[str, Any], action: str, ev: Event, draw: Any) -> dict[str, Any]:
    if action == "ack":
        return lifecycle.acknowledge(record, ev, draw(st.sampled_from(["critical", "low"]))).record
    if action == "severity":
        return lifecycle.change_severity(
            record, ev, draw(st.sampled_from(["high", "medium"]))
        ).record
    if action == "assign":
        return lifecycle.assign(record, ev, commander="alice", responders=["bob"]).record
    if action == "investigate":
        return lifecycle.investigate(record, ev).record
    if action == "note":
        return lifecycle.note(
            record,
            ev,
            # control characters are refused by the transaction (tests/test_trust_git.py)
            draw(
                st.text(min_size=1, max_size=20).filter(
                    lambda t: t.strip() and not control_character(t)
                )
            ),
        ).record
    if action == "update":
        return lifecycle.public_update(
            record, ev, status="identified", message="We know", components={"api": "major_outage"}
        ).record
    if action == "resolve":
        return lifecycle.resolve(
            record, ev, action="rollback", summary="rolled back", verified_in=["eu"]
        ).record
    if action == "reopen":
        return lifecycle.reopen(record, ev, "came back").record
    if action == "scope":
        return lifecycle.scope(record, ev, add_regions=[draw(st.sampled_from(["us", "ap"]))]).record
    if action == "amend":
        ref = draw(st.sampled_from(["U1", "U2", "N2", "N5"]))
        return lifecycle.amend(record, ev, ref, draw(st.sampled_from(["Fixed", "Better"]))).record
    if action == "retract":
        ref = draw(st.sampled_from(["U1", "U2", "N5"]))
        return lifecycle.retract(record, ev, ref, "wrong").record
    if action == "postmortem":
        return lifecycle.start_postmortem(record, ev, "postmortems/INC-0001.md").record
    return lifecycle.close(record, ev, draw(st.sampled_from([None, "published"]))).record


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_walks_only_produce_valid_records(data: st.DataObject) -> None:
    record = declared(components=["api"], regions=["eu"])
    minute = 0.0
    for _ in range(data.draw(st.integers(1, 25))):
        minute += data.draw(st.sampled_from([0, 0.5, 3, 60]))
        action = data.draw(ACTIONS)
        try:
            record = _apply(record, action, event(minute), data.draw)
        except TransitionRefused:
            continue
        assert _valid(record) == [], (action, record)
