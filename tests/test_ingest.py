"""`incidents ingest`: monitors' payloads through the real CLI, into real git repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from incidents_cli.core.alerts import pending_path

from .alertmanager_harness import alert, alertmanager_binary, running_alertmanager
from .conftest import run_cli
from .external import missing
from .test_push import clones, remote_record

DATA = Path(__file__).parent / "data" / "alerts"
AS_OF = "2026-11-28T03:00:00Z"
GROUP = '{}:{alertname="HighErrorRate", service="api"}'


def fixture(name: str) -> str:
    return str(DATA / f"{name}.json")


def ingest(repo: Path, fmt: str, name: str, *extra: str) -> Any:
    return run_cli("ingest", fmt, fixture(name), "--as-of", AS_OF, *extra, cwd=repo)


def record(repo: Path, incident_id: str = "INC-0001") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (repo / "incidents" / f"{incident_id}.yaml").read_text()
    )
    return loaded


def commits(repo: Path) -> int:
    return len(list(git.Repo(repo).iter_commits()))


def set_alert_settings(repo: Path, text: str) -> None:
    path = repo / "incidents.yaml"
    settings = path.read_text()
    start = settings.index("alerts:\n")
    end = settings.index("\n\n", start)
    path.write_text(settings[:start] + text.rstrip("\n") + settings[end:])
    g = git.Repo(repo)
    g.index.add(["incidents.yaml"])
    g.index.commit("alert settings")


def test_a_firing_payload_declares_an_incident_with_the_alert_recorded(repo: Path) -> None:
    (repo / "oncall.yaml").write_text(  # the starter rotation is only a commented example
        "rotations:\n  - id: primary\n    members: [alice, bob]\n"
        "    start: 2026-01-05T09:00:00Z\n    shift: 7d\n"
    )
    g = git.Repo(repo)
    g.index.add(["oncall.yaml"])
    g.index.commit("Our rotation")
    before = commits(repo)
    result = ingest(repo, "alertmanager", "alertmanager-firing-one-region")
    assert result.code == 0, result.err
    assert result.out.startswith("Declared INC-0001: API error rate above 5% (commit ")
    assert "Runbooks that may help:" in result.out
    assert commits(repo) == before + 1
    data = record(repo)
    assert data["source"] == "monitor"
    assert data["phase"] == "detected"
    assert data["title"] == "API error rate above 5%"
    assert data["severity"] == "critical"
    assert data["components"] == ["api"]
    assert data["regions"] == ["eu-west"]
    assert data["detected_at"] == "2026-11-28T02:49:40Z"
    assert data["primary_at_detection"] == "alice"  # week 46 of the rotation: even
    assert "updates" not in data, "nothing public happens automatically"
    assert data["alert"]["group_key"] == GROUP
    assert data["alert"]["fingerprints"] == [
        {
            "fingerprint": "18e820817811faaf",
            "status": "firing",
            "region": "eu-west",
            "starts_at": "2026-11-28T02:49:40Z",
        }
    ]
    assert data["alert"]["url"].startswith("http://prometheus.example.com/graph")
    assert "receiver" not in json.dumps(data), "never the raw payload"
    head = git.Repo(repo).head.commit
    assert head.message.startswith("INC-0001 declared: API error rate above 5%\n")
    assert "Incident-Id: INC-0001\nPhase: detected\nActor: alertmanager\n" in head.message
    assert not git.Repo(repo).is_dirty(untracked_files=True)
    assert run_cli("validate", cwd=repo).code == 0


def test_the_same_payload_twice_makes_one_commit(repo: Path) -> None:
    assert ingest(repo, "alertmanager", "alertmanager-firing-one-region").code == 0
    before = commits(repo)
    again = ingest(repo, "alertmanager", "alertmanager-firing-one-region", "--json")
    assert again.code == 0, again.err
    assert json.loads(again.out) == [{"id": "INC-0001", "action": "unchanged", "alerts": 1}]
    assert commits(repo) == before
    assert not git.Repo(repo).is_dirty(untracked_files=True)


def test_a_second_region_adds_the_region_in_one_commit(repo: Path) -> None:
    assert ingest(repo, "alertmanager", "alertmanager-firing-one-region").code == 0
    before = commits(repo)
    result = ingest(repo, "alertmanager", "alertmanager-firing-two-regions", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == [{"id": "INC-0001", "action": "updated", "alerts": 2}]
    assert commits(repo) == before + 1
    data = record(repo)
    assert data["regions"] == ["eu-west", "us-east"]
    assert data["timeline"][-1] == {
        "ref": "N3",
        "at": "2026-11-28T02:50:40Z",
        "actor": "alertmanager",
        "kind": "alert",
        "text": "Alert firing in us-east (7c8db0710685972b)",
    }
    subject = git.Repo(repo).head.commit.message.splitlines()[0]
    assert subject == "INC-0001 alert: Alert firing in us-east (7c8db0710685972b)"


def test_confirm_regions_two_waits_for_the_second_region(repo: Path) -> None:
    set_alert_settings(repo, "alerts:\n  confirm_regions: 2\n")
    first = ingest(repo, "alertmanager", "alertmanager-firing-one-region", "--json")
    assert first.code == 0, first.err
    assert json.loads(first.out) == [{"id": None, "action": "pending", "alerts": 1}]
    assert not (repo / "incidents" / "INC-0001.yaml").exists()
    pending = repo / pending_path(GROUP)
    assert yaml.safe_load(pending.read_text())["group_key"] == GROUP
    head = git.Repo(repo).head.commit
    assert set(head.stats.files) == {pending_path(GROUP)}, "the pending alert is committed"
    assert f"Alert-Group: {pending_path(GROUP)}\n" in head.message
    assert ingest(repo, "alertmanager", "alertmanager-firing-one-region").code == 0
    assert git.Repo(repo).head.commit == head, "a retry while pending changes nothing"

    second = ingest(repo, "alertmanager", "alertmanager-firing-two-regions")
    assert second.code == 0, second.err
    assert second.out.startswith("Declared INC-0001: API error rate above 5%")
    data = record(repo)
    assert data["regions"] == ["eu-west", "us-east"]
    assert data["detected_at"] == "2026-11-28T02:49:40Z"
    assert not pending.exists()
    declared = git.Repo(repo).head.commit
    assert set(declared.stats.files) == {"incidents/INC-0001.yaml", pending_path(GROUP)}
    assert not git.Repo(repo).is_dirty(untracked_files=True)
    assert run_cli("validate", cwd=repo).code == 0


def test_resolved_adds_notes_and_leaves_the_phase_and_show_says_monitors_are_green(
    repo: Path,
) -> None:
    assert ingest(repo, "alertmanager", "alertmanager-firing-two-regions").code == 0
    assert run_cli("ack", "INC-0001", "--at", "2026-11-28T02:52:00Z", cwd=repo).code == 0
    partly = ingest(repo, "alertmanager", "alertmanager-one-region-resolved")
    assert partly.code == 0, partly.err
    assert record(repo)["phase"] == "acknowledged"
    assert record(repo)["timeline"][-1]["text"] == "Alert resolved in eu-west (18e820817811faaf)"
    shown = run_cli("show", "INC-0001", "--as-of", AS_OF, cwd=repo)
    assert "Monitors:" in shown.out and "still firing in us-east" in shown.out
    assert "  Alert link:   http://prometheus.example.com/graph?" in shown.out
    done = ingest(repo, "alertmanager", "alertmanager-resolved")
    assert done.code == 0, done.err
    data = record(repo)
    assert data["phase"] == "acknowledged", "a monitor never resolves an incident"
    assert "resolved_at" not in data and "resolution" not in data
    assert [e["text"] for e in data["timeline"][-2:]] == [
        "Alert resolved in us-east (7c8db0710685972b)",
        "Every alert of the group is resolved",
    ]
    assert all(f["status"] == "resolved" for f in data["alert"]["fingerprints"])
    shown = run_cli("show", "INC-0001", "--as-of", AS_OF, cwd=repo)
    assert "Monitors:     every alert of the group is resolved; verify recovery" in shown.out
    listed = run_cli("list", "--as-of", AS_OF, cwd=repo)
    assert "monitors green" in listed.out
    as_json = json.loads(run_cli("show", "INC-0001", "--json", cwd=repo).out)
    assert as_json["computed"]["monitors_green"] is True


@pytest.mark.parametrize(
    ("fmt", "change", "message"),
    [
        (
            "alertmanager",
            lambda d: d["alerts"][0]["labels"].update(region=3),
            "$.alerts[0].labels.region: expected a string, got a number",
        ),
        ("alertmanager", lambda d: d.pop("groupKey"), "$: required property 'groupKey' is missing"),
        ("grafana", lambda d: d.update(alerts="none"), "$.alerts: expected an array, got a string"),
    ],
)
def test_a_malformed_payload_changes_nothing_and_names_the_json_path(
    repo: Path, tmp_path: Path, fmt: str, change: Any, message: str
) -> None:
    name = "alertmanager-firing-one-region" if fmt == "alertmanager" else "grafana-firing"
    data = json.loads(Path(fixture(name)).read_text())
    change(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    before = git.Repo(repo).head.commit
    result = run_cli("ingest", fmt, str(bad), cwd=repo)
    assert result.code == 2
    assert result.err == f"{bad}: {message}\n"
    assert git.Repo(repo).head.commit == before
    assert not git.Repo(repo).is_dirty(untracked_files=True)


def test_a_payload_that_is_not_json_says_where(repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"status": "firing",\n  oops}')
    result = run_cli("ingest", "generic", str(bad), cwd=repo)
    assert result.code == 2
    assert result.err.startswith(f"{bad}:2:3: (payload): not JSON: ")


def test_grafana_and_generic_payloads_declare_too(repo: Path) -> None:
    set_alert_settings(repo, "alerts:\n  components:\n    checkout: payments\n")
    result = ingest(repo, "grafana", "grafana-firing")
    assert result.code == 0, result.err
    data = record(repo)
    assert data["components"] == ["payments"]
    assert data["severity"] == "medium"
    assert data["alert"]["url"] == "https://grafana.example.com/d/payments?orgId=1"
    assert data["detected_at"] == "2026-03-01T13:02:00Z"
    assert data["alert"]["format"] == "grafana"
    resolved = ingest(repo, "grafana", "grafana-resolved", "--json")
    assert json.loads(resolved.out) == [{"id": "INC-0001", "action": "updated", "alerts": 1}]
    generic = run_cli(
        "ingest",
        "generic",
        "-",
        "--as-of",
        AS_OF,
        cwd=repo,
        input=Path(fixture("generic-firing")).read_text(),
    )
    assert generic.code == 0, generic.err
    assert record(repo, "INC-0002")["title"] == "Checkout health check fails"
    assert record(repo, "INC-0002")["timeline"][0]["actor"] == "monitor"
    resolved = ingest(repo, "generic", "generic-resolved")
    assert resolved.code == 0, resolved.err
    assert (
        record(repo, "INC-0002")["timeline"][-1]["text"] == "Every alert of the group is resolved"
    )


def test_unknown_components_are_a_note_not_an_error(repo: Path) -> None:
    result = ingest(repo, "grafana", "grafana-firing")
    assert result.code == 0, result.err
    data = record(repo)
    assert "components" not in data
    assert any("'checkout', which is not a component" in e["text"] for e in data["timeline"])


def test_a_second_region_already_pushed_from_another_clone_is_replayed(
    repo: Path, tmp_path: Path
) -> None:
    remote, (a, b) = clones(repo, tmp_path)
    assert ingest(a, "alertmanager", "alertmanager-firing-one-region", "--push").code == 0
    result = ingest(b, "alertmanager", "alertmanager-firing-two-regions", "--push", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == [{"id": "INC-0001", "action": "updated", "alerts": 2}]
    assert "push rejected: replayed on origin/main" in result.err
    assert remote_record(remote, "INC-0001")["regions"] == ["eu-west", "us-east"]
    tree = git.Repo(remote).commit("main").tree
    assert [b.path for b in tree["incidents"].blobs if b.path.endswith(".yaml")] == [
        "incidents/INC-0001.yaml"
    ]


def test_two_clones_ingesting_the_same_group_at_once_give_one_incident(
    repo: Path, tmp_path: Path
) -> None:
    remote, (a, b) = clones(repo, tmp_path)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "incidents_cli",
                "ingest",
                "alertmanager",
                fixture(name),
                "--push",
                "--json",
                "--as-of",
                AS_OF,
            ],
            cwd=clone,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone, name in (
            (a, "alertmanager-firing-one-region"),
            (b, "alertmanager-firing-two-regions"),
        )
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    tree = git.Repo(remote).commit("main").tree
    assert [b.path for b in tree["incidents"].blobs if b.path.endswith(".yaml")] == [
        "incidents/INC-0001.yaml"
    ]
    assert remote_record(remote, "INC-0001")["regions"] == ["eu-west", "us-east"]
    for clone in (a, b):
        g = git.Repo(clone)
        assert not g.is_dirty(untracked_files=True)


def test_a_live_alertmanager_payload_declares_through_the_cli(repo: Path, tmp_path: Path) -> None:
    if alertmanager_binary() is None:
        missing("Prometheus Alertmanager", "apt-get install prometheus-alertmanager")
    start = datetime.now(UTC).replace(microsecond=0)
    with running_alertmanager() as manager:
        manager.post([alert("eu-west", starts_at=start), alert("us-east", starts_at=start)])
        (payload,) = manager.wait_for(1)
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload))
    result = run_cli("ingest", "alertmanager", str(path), "--json", cwd=repo)
    assert result.code == 0, result.err
    assert json.loads(result.out) == [{"id": "INC-0001", "action": "declared", "alerts": 2}]
    assert sorted(record(repo)["regions"]) == ["eu-west", "us-east"]


def test_validate_flags_an_alert_mapping_to_an_unknown_component(repo: Path) -> None:
    set_alert_settings(repo, "alerts:\n  components:\n    checkout: shop\n")
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert "incidents.yaml:" in result.out
    assert "alerts.components.checkout: unknown component 'shop' (known: api, " in result.out


def test_an_ingested_incident_publishes_nothing_until_a_person_writes_an_update(
    repo: Path, tmp_path: Path
) -> None:
    assert ingest(repo, "alertmanager", "alertmanager-firing-two-regions").code == 0
    out = tmp_path / "site"
    assert run_cli("site", "build", "--out", str(out), "--as-of", AS_OF, cwd=repo).code == 0
    published = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    for private in (
        "API error rate above 5%",
        "eu-west",
        "18e820817811faaf",
        "prometheus.example.com",
    ):
        assert private not in published
    summary = json.loads((out / "api/v2/summary.json").read_text())
    assert summary["incidents"] == []


def test_a_group_key_without_words_is_still_found(repo: Path, tmp_path: Path) -> None:
    """Grafana's default grouping gives the key {}:{}, with nothing for git grep to narrow."""
    data = json.loads(Path(fixture("grafana-firing")).read_text())
    data["groupKey"] = "{}:{}"
    path = tmp_path / "firing.json"
    path.write_text(json.dumps(data))
    assert run_cli("ingest", "grafana", str(path), "--as-of", AS_OF, cwd=repo).code == 0
    data["alerts"][0]["labels"]["region"] = "us-east"
    data["alerts"][0]["fingerprint"] = "5a5a5a5a5a5a5a5a"
    path.write_text(json.dumps(data))
    again = run_cli("ingest", "grafana", str(path), "--as-of", AS_OF, "--json", cwd=repo)
    assert json.loads(again.out) == [{"id": "INC-0001", "action": "updated", "alerts": 1}]
    assert record(repo)["regions"] == ["eu-west", "us-east"]


def test_a_missing_file_is_one_line_and_exit_2(repo: Path) -> None:
    result = run_cli("ingest", "alertmanager", "nope.json", cwd=repo)
    assert result.code == 2
    assert result.err == "nope.json: cannot read the payload: No such file or directory\n"


def test_a_relative_payload_path_is_taken_from_dash_c_like_git(repo: Path) -> None:
    (repo / "payload.json").write_text(Path(fixture("alertmanager-firing-one-region")).read_text())
    result = run_cli("ingest", "alertmanager", "payload.json", "--as-of", AS_OF, cwd=repo)
    assert result.code == 0, result.err


def test_a_pending_group_that_resolves_removes_its_file_in_one_commit(repo: Path) -> None:
    set_alert_settings(repo, "alerts:\n  confirm_regions: 2\n")
    assert ingest(repo, "alertmanager", "alertmanager-firing-one-region").code == 0
    data = json.loads(Path(fixture("alertmanager-one-region-resolved")).read_text())
    data["alerts"] = data["alerts"][:1]  # eu-west, now resolved
    path = repo.parent / "resolved.json"
    path.write_text(json.dumps(data))
    result = run_cli("ingest", "alertmanager", str(path), "--as-of", AS_OF, "--json", cwd=repo)
    assert json.loads(result.out) == [{"id": None, "action": "pending", "alerts": 1}]
    assert not (repo / pending_path(GROUP)).exists()
    head = git.Repo(repo).head.commit
    assert head.message.startswith("Alert group no longer pending: API error rate above 5%\n")
    assert set(head.stats.files) == {pending_path(GROUP)}
    assert not git.Repo(repo).is_dirty(untracked_files=True)


def test_a_hand_broken_incident_of_the_group_is_refused_not_split_or_crashed(repo: Path) -> None:
    assert ingest(repo, "alertmanager", "alertmanager-firing-one-region").code == 0
    path = repo / "incidents" / "INC-0001.yaml"
    path.write_text(path.read_text().replace("regions:\n", "regions: 5\nold_regions:\n", 1))
    g = git.Repo(repo)
    g.index.add(["incidents/INC-0001.yaml"])
    g.index.commit("a hand edit gone wrong")
    before = commits(repo)
    result = ingest(repo, "alertmanager", "alertmanager-firing-two-regions")
    assert result.code == 2
    assert result.err.startswith("incidents/INC-0001.yaml:") and "does not validate" in result.err
    assert commits(repo) == before and not (repo / "incidents" / "INC-0002.yaml").exists()
