"""core.alerts: payload checks with JSON paths, and what each payload decides."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from incidents_cli.core.alerts import (
    AlertState,
    Decision,
    PayloadError,
    alert_state_from_data,
    decide,
    monitors_green,
    parse_payload,
    pending_path,
)
from incidents_cli.core.settings import AlertSettings, alert_settings_from_data

from ..alertmanager_harness import alert, alertmanager_binary, running_alertmanager
from ..conftest import ROOT
from ..external import missing

DATA = ROOT / "tests" / "data" / "alerts"
EXAMPLES = ROOT / "tests" / "examples" / "alert-generic"
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
KNOWN = ["api", "checkout", "web"]


def payload(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text())


def decide_for(
    name_or_data: str | dict[str, Any],
    fmt: str = "alertmanager",
    settings: AlertSettings | None = None,
    **kwargs: Any,
) -> Decision:
    data = payload(name_or_data) if isinstance(name_or_data, str) else name_or_data
    return decide(parse_payload(fmt, data), settings or AlertSettings(), KNOWN, now=NOW, **kwargs)


def incident_after(decision: Decision, phase: str = "detected", **fields: Any) -> dict[str, Any]:
    """The record the use case would write for a declare or update (the parts decide reads)."""
    assert decision.state is not None
    record: dict[str, Any] = {
        "id": "INC-0001",
        "phase": phase,
        "components": list(decision.components),
        "regions": list(decision.regions),
        "alert": decision.state.to_data(),
    }
    record.update(fields)
    return record


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(DATA.glob("alertmanager-*.json")), ids=lambda p: p.name)
def test_every_captured_alertmanager_payload_parses(path: Path) -> None:
    group = parse_payload("alertmanager", json.loads(path.read_text()))
    assert group.group_key == '{}:{alertname="HighErrorRate", service="api"}'
    assert all(a.fingerprint and a.starts_at for a in group.alerts)
    assert all(a.ends_at is None for a in group.alerts if a.status == "firing")


def test_grafana_prefers_the_dashboard_link_and_reads_its_extra_fields() -> None:
    group = parse_payload("grafana", payload("grafana-firing"))
    (only,) = group.alerts
    assert only.url == "https://grafana.example.com/d/payments?orgId=1"
    assert only.starts_at == datetime(2026, 3, 1, 13, 2, 0, 157076, tzinfo=UTC)


def test_generic_makes_one_alert_per_region() -> None:
    data = payload("generic-firing")
    data["regions"] = ["eu-west", "us-east"]
    group = parse_payload("generic", data)
    assert [a.fingerprint for a in group.alerts] == [
        "kuma-monitor-12@eu-west",
        "kuma-monitor-12@us-east",
    ]


@pytest.mark.parametrize(
    ("fmt", "change", "path"),
    [
        ("alertmanager", lambda d: d.pop("groupKey"), "$"),
        (
            "alertmanager",
            lambda d: d["alerts"][0]["labels"].update(region=3),
            "$.alerts[0].labels.region",
        ),
        ("alertmanager", lambda d: d["alerts"][0].update(status="broken"), "$.alerts[0].status"),
        (
            "alertmanager",
            lambda d: d["alerts"][0].update(startsAt="yesterday"),
            "$.alerts[0].startsAt",
        ),
        ("alertmanager", lambda d: d.update(alerts={}), "$.alerts"),
        ("alertmanager", lambda d: d.update(version="3"), "$.version"),
        ("grafana", lambda d: d["alerts"][0].update(values=[1]), "$.alerts[0].values"),
        ("generic", lambda d: d.update(regions="eu-west"), "$.regions"),
        ("generic", lambda d: d.update(components=["api", 7]), "$.components[1]"),
        ("generic", lambda d: d.update(colour="red"), "$.colour"),
    ],
)
def test_a_malformed_payload_names_the_json_path_of_its_first_problem(
    fmt: str, change: Any, path: str
) -> None:
    data = payload(
        {
            "alertmanager": "alertmanager-firing-one-region",
            "grafana": "grafana-firing",
            "generic": "generic-firing",
        }[fmt]
    )
    change(data)
    with pytest.raises(PayloadError) as caught:
        parse_payload(fmt, data)
    assert caught.value.path == path
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"{path}: ")


def test_a_payload_that_is_not_an_object_is_refused_at_the_root() -> None:
    with pytest.raises(PayloadError, match=r"^\$: expected an object, got an array$"):
        parse_payload("alertmanager", [])


def test_a_grafana_payload_is_not_a_generic_one() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_payload("generic", payload("grafana-firing"))
    assert caught.value.path == "$.receiver"


# --- the generic schema and the parser agree ------------------------------------------------


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (ROOT / "schemas" / "alert-generic.schema.json").read_text()
    )
    return loaded


def test_the_generic_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(_schema())


@pytest.mark.parametrize(
    "path",
    [*sorted((EXAMPLES / "valid").glob("*.json")), *sorted(DATA.glob("generic-*.json"))],
    ids=lambda p: p.name,
)
def test_valid_generic_examples_pass_the_schema_and_the_parser(path: Path) -> None:
    data = json.loads(path.read_text())
    jsonschema.Draft202012Validator(_schema()).validate(data)
    parse_payload("generic", data)


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "invalid").glob("*.json")), ids=lambda p: p.name
)
def test_invalid_generic_examples_fail_the_schema_and_the_parser(path: Path) -> None:
    data = json.loads(path.read_text())
    assert list(jsonschema.Draft202012Validator(_schema()).iter_errors(data))
    with pytest.raises(PayloadError):
        parse_payload("generic", data)


# --- settings -------------------------------------------------------------------------------


def test_alert_settings_have_the_documented_defaults_and_read_overrides() -> None:
    default = alert_settings_from_data(None)
    assert default.component_labels == ("service", "component")
    assert default.region_labels == ("region",)
    assert default.confirm_regions == 1
    read = alert_settings_from_data(
        {
            "component_label": "app",
            "region_label": ["region", "zone"],
            "components": {"checkout-api": "checkout"},
            "severities": {"warning": "high"},
            "confirm_regions": 2,
        }
    )
    assert read.component_labels == ("app",)
    assert read.region_labels == ("region", "zone")
    assert read.components == {"checkout-api": "checkout"}
    assert read.severities["warning"] == "high"
    assert read.severities["critical"] == "critical"
    assert read.confirm_regions == 2


# --- decisions ------------------------------------------------------------------------------


def test_firing_with_no_incident_declares_with_title_components_regions_and_severity() -> None:
    decision = decide_for("alertmanager-firing-one-region")
    assert decision.action == "declare"
    assert decision.title == "API error rate above 5%"
    assert decision.summary == "5xx responses above 5% for 5 minutes in eu-west"
    assert decision.severity == "critical"
    assert decision.components == ("api",)
    assert decision.regions == ("eu-west",)
    assert decision.at == datetime(2026, 11, 28, 2, 49, 40, tzinfo=UTC)
    assert decision.alerts == 1
    assert decision.state is not None
    stored = decision.state.to_data()
    assert stored == {
        "group_key": '{}:{alertname="HighErrorRate", service="api"}',
        "format": "alertmanager",
        "url": "http://prometheus.example.com/graph?g0.expr=job%3Aerrors%3Arate5m+%3E+0.05",
        "first_seen": "2026-11-28T02:49:40Z",
        "last_seen": "2026-11-28T02:49:40Z",
        "fingerprints": [
            {
                "fingerprint": "18e820817811faaf",
                "status": "firing",
                "region": "eu-west",
                "starts_at": "2026-11-28T02:49:40Z",
            }
        ],
    }
    assert alert_state_from_data(stored) == decision.state


def test_the_same_payload_again_is_unchanged() -> None:
    first = decide_for("alertmanager-firing-one-region")
    again = decide_for("alertmanager-firing-one-region", incident=incident_after(first))
    assert again.action == "unchanged"
    assert again.state is None


def test_a_second_region_adds_the_region_and_a_timeline_entry() -> None:
    first = decide_for("alertmanager-firing-one-region")
    second = decide_for("alertmanager-firing-two-regions", incident=incident_after(first))
    assert second.action == "update"
    assert second.regions == ("us-east",)
    assert second.components == ()
    assert [e.text for e in second.entries] == ["Alert firing in us-east (7c8db0710685972b)"]
    assert second.entries[0].at == datetime(2026, 11, 28, 2, 50, 40, tzinfo=UTC)


def test_confirm_regions_two_waits_for_the_second_region_then_declares_with_both() -> None:
    settings = AlertSettings(confirm_regions=2)
    first = decide_for("alertmanager-firing-one-region", settings=settings)
    assert first.action == "pending"
    assert first.state is not None
    assert first.state.title == "API error rate above 5%"
    assert "1 of the 2 regions" in first.waiting
    same = decide_for("alertmanager-firing-one-region", settings=settings, pending=first.state)
    assert same.action == "unchanged"
    second = decide_for("alertmanager-firing-two-regions", settings=settings, pending=first.state)
    assert second.action == "declare"
    assert second.regions == ("eu-west", "us-east")
    assert second.at == datetime(2026, 11, 28, 2, 49, 40, tzinfo=UTC)
    assert second.state is not None and second.state.title is None


def test_a_pending_group_that_resolves_clears_its_pending_state() -> None:
    settings = AlertSettings(confirm_regions=2)
    first = decide_for("alertmanager-firing-one-region", settings=settings)
    gone = copy.deepcopy(payload("alertmanager-one-region-resolved"))
    gone["alerts"] = gone["alerts"][:1]  # only eu-west, now resolved
    cleared = decide_for(gone, settings=settings, pending=first.state)
    assert cleared.action == "pending"
    assert cleared.state is None


def test_resolved_adds_entries_per_region_and_then_says_every_alert_is_resolved() -> None:
    first = decide_for("alertmanager-firing-two-regions")
    record = incident_after(first, phase="investigating")
    partly = decide_for("alertmanager-one-region-resolved", incident=record)
    assert partly.action == "update"
    assert [e.text for e in partly.entries] == ["Alert resolved in eu-west (18e820817811faaf)"]
    assert not monitors_green(incident_after(partly, phase="investigating"))
    record = incident_after(partly, phase="investigating", regions=["eu-west", "us-east"])
    done = decide_for("alertmanager-resolved", incident=record)
    assert [e.text for e in done.entries] == [
        "Alert resolved in us-east (7c8db0710685972b)",
        "Every alert of the group is resolved",
    ]
    assert done.regions == ()
    green = incident_after(done, phase="investigating")
    assert monitors_green(green)
    assert decide_for("alertmanager-resolved", incident=green).action == "unchanged"


def test_a_resolved_payload_without_an_incident_changes_nothing() -> None:
    assert decide_for("alertmanager-resolved").action == "unchanged"


def test_after_resolution_a_retry_is_unchanged_and_a_new_firing_declares_again() -> None:
    first = decide_for("alertmanager-firing-one-region")
    closed = incident_after(first, phase="closed")
    assert decide_for("alertmanager-firing-one-region", incident=closed).action == "unchanged"
    again = copy.deepcopy(payload("alertmanager-firing-one-region"))
    again["alerts"][0]["startsAt"] = "2026-11-28T02:58:00Z"
    assert decide_for(again, incident=closed).action == "declare"


def test_a_late_resolved_alert_is_noted_on_a_resolved_incident() -> None:
    first = decide_for("alertmanager-firing-one-region")
    resolved = incident_after(first, phase="resolved")
    gone = copy.deepcopy(payload("alertmanager-one-region-resolved"))
    gone["alerts"] = gone["alerts"][:1]
    decision = decide_for(gone, incident=resolved)
    assert decision.action == "update"
    assert decision.entries[0].text == "Alert resolved in eu-west (18e820817811faaf)"


def test_unknown_components_are_noted_and_mapped_ones_are_used() -> None:
    data = payload("grafana-firing")
    decision = decide_for(data, "grafana")
    assert decision.components == ("checkout",)
    data["alerts"][0]["labels"]["service"] = "payments-gw"
    unknown = decide_for(data, "grafana")
    assert unknown.components == ()
    assert any("'payments-gw', which is not a component" in e.text for e in unknown.entries)
    mapped = decide_for(data, "grafana", AlertSettings(components={"payments-gw": "checkout"}))
    assert mapped.components == ("checkout",)


def test_severity_labels_map_through_the_settings() -> None:
    assert decide_for("grafana-firing", "grafana").severity == "medium"  # warning, by default
    settings = AlertSettings(severities={"warning": "high"})
    assert decide_for("grafana-firing", "grafana", settings).severity == "high"
    data = payload("grafana-firing")
    data["alerts"][0]["labels"]["severity"] = "whatever"
    assert decide_for(data, "grafana").severity is None


def test_generic_without_a_time_uses_now_once_and_a_retry_stays_unchanged() -> None:
    data = payload("generic-firing")
    del data["at"]
    first = decide_for(data, "generic")
    assert first.at == NOW
    later = decide(
        parse_payload("generic", data),
        AlertSettings(),
        KNOWN,
        now=datetime(2026, 11, 28, 3, 5, tzinfo=UTC),
        incident=incident_after(first),
    )
    assert later.action == "unchanged"


def test_generic_resolved_without_regions_resolves_every_region() -> None:
    data = payload("generic-firing")
    data["regions"] = ["eu-west", "us-east"]
    first = decide_for(data, "generic")
    resolved = {
        "title": data["title"],
        "status": "resolved",
        "dedup_key": data["dedup_key"],
        "at": "2026-03-01T15:00:00Z",
    }
    decision = decide_for(resolved, "generic", incident=incident_after(first))
    assert [e.text for e in decision.entries] == [
        "Alert resolved in eu-west (kuma-monitor-12@eu-west)",
        "Alert resolved in us-east (kuma-monitor-12@us-east)",
        "Every alert of the group is resolved",
    ]


def test_pending_paths_are_short_and_stable() -> None:
    key = '{}:{alertname="HighErrorRate", service="api"}'
    assert pending_path(key) == pending_path(key)
    assert pending_path(key).startswith("alerts/") and pending_path(key).endswith(".yaml")
    assert pending_path(key) != pending_path(key + " ")


def test_alert_state_from_data_ignores_what_it_cannot_read() -> None:
    assert alert_state_from_data("nope") is None
    state = alert_state_from_data({"group_key": "k", "fingerprints": [7, {"fingerprint": "a"}]})
    assert isinstance(state, AlertState)
    assert [f.fingerprint for f in state.fingerprints] == ["a"]


# --- against a live Alertmanager ------------------------------------------------------------


def test_a_live_alertmanager_group_declares_then_adds_the_second_region() -> None:
    if alertmanager_binary() is None:
        missing("Prometheus Alertmanager", "apt-get install prometheus-alertmanager")
    start = datetime.now(UTC).replace(microsecond=0)
    with running_alertmanager() as manager:
        manager.post([alert("eu-west", starts_at=start)])
        (first_payload,) = manager.wait_for(1)
        manager.post([alert("eu-west", starts_at=start), alert("ap-south", starts_at=start)])
        second_payload = manager.wait_for(2)[-1]
    first = decide(parse_payload("alertmanager", first_payload), AlertSettings(), KNOWN, now=start)
    assert first.action == "declare"
    assert first.regions == ("eu-west",)
    second = decide(
        parse_payload("alertmanager", second_payload),
        AlertSettings(),
        KNOWN,
        now=start,
        incident=incident_after(first),
    )
    assert second.action == "update"
    assert second.regions == ("ap-south",)


def test_a_resolved_alert_never_seen_firing_leaves_a_pending_group_unchanged() -> None:
    settings = AlertSettings(confirm_regions=2)
    first = decide_for("alertmanager-firing-one-region", settings=settings)
    other = decide_for("alertmanager-resolved", settings=settings, pending=first.state)
    assert other.action == "unchanged"


def _apply(
    decision: Decision, record: dict[str, Any] | None, pending: AlertState | None
) -> tuple[dict[str, Any] | None, AlertState | None]:
    """What the use case would store after ``decision``, with the core's own transitions."""
    from incidents_cli.core.alerts import declare_change, update_change
    from incidents_cli.core.lifecycle import Event
    from incidents_cli.core.settings import Component, Settings

    settings = Settings(components=tuple(Component(c, c) for c in KNOWN))
    event = Event("alertmanager", NOW, settings, NOW)
    if decision.action == "declare":
        assert decision.at is not None
        at = min(decision.at, NOW)
        return declare_change(decision, "INC-0001", event._replace(at=at)).record, None
    if decision.action == "update":
        assert record is not None
        return update_change(record, decision, event).record, pending
    if decision.action == "pending":
        return record, decision.state
    return record, pending


@pytest.mark.parametrize("confirm", [1, 2])
def test_every_order_of_the_captured_payloads_is_idempotent(confirm: int) -> None:
    """Monitors retry and deliver out of order: after any sequence, the last payload again
    changes nothing, and an incident never loses a region or a fingerprint."""
    import itertools

    names = sorted(p.stem for p in DATA.glob("alertmanager-*.json"))
    settings = AlertSettings(confirm_regions=confirm)
    for order in itertools.permutations(names):
        record: dict[str, Any] | None = None
        pending: AlertState | None = None
        for name in order:
            decision = decide_for(name, settings=settings, incident=record, pending=pending)
            before = record
            record, pending = _apply(decision, record, pending)
            if before is not None and record is not None:
                assert set(before.get("regions") or []) <= set(record.get("regions") or [])
                old = {f["fingerprint"] for f in before["alert"]["fingerprints"]}
                assert old <= {f["fingerprint"] for f in record["alert"]["fingerprints"]}
            again = decide_for(name, settings=settings, incident=record, pending=pending)
            assert again.action == "unchanged", (order, name, again)
