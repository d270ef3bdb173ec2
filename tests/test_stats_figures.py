"""`incidents stats` and `runbook stale` read only each record's figures, and `escalations`
and `comms` only the detected or open incidents, on every core, kept by blob id: their output
is what reading the whole records gave, byte for byte, cold and warm, in one process and in
several."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import datetime
from pathlib import Path

import git
import pytest

from incidents_cli.core import stats as metrics
from incidents_cli.core.cadence import UNRESOLVED_PHASES, quiet_incidents
from incidents_cli.core.escalation import escalations
from incidents_cli.core.runbooks import stale
from incidents_cli.store import parallel
from incidents_cli.store.cache import read_incident_data, read_usable
from incidents_cli.store.layout import load_runbooks, load_schedule, load_settings
from incidents_cli.usecases.followup import stale_runbooks
from incidents_cli.usecases.notify import quiet
from incidents_cli.usecases.oncall import pending_escalations

from .conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
UNTIL = "2026-12-01T00:00:00Z"
WINDOWS = [[], ["--since", "2024-01-01T00:00:00Z"], ["--since", "2026-11-30T23:59:59Z"]]


def _generate(repo: Path, count: int) -> None:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = module
    spec.loader.exec_module(module)
    module.generate(repo, count, seed=7, open_count=20)


def _varied(repo: Path) -> None:
    """Besides the generated history: postmortems with every kind of action item, two of
    one incident (the last one counts), records that do not parse or follow their schema
    (left out), an uncommitted edit and an untracked incident."""
    postmortems = sorted((repo / "postmortems").glob("*.md"))
    first = postmortems[0].read_text()
    items = (
        "action_items:\n"
        "- {id: A1, title: Drop, owner: dave, due: '2021-01-01T00:00:00Z', status: wont_do}\n"
        "- {id: A2, title: Late, owner: dave, due: '2021-01-01T00:00:00Z', status: open}\n"
        "- {id: A3, title: Done, owner: dave, due: '2021-01-01T00:00:00Z', status: done}\n"
    )
    second = postmortems[1].read_text()
    head, _, rest = second.partition("action_items:\n")
    assert rest, second
    postmortems[1].write_text(head + items + rest[rest.index("---\n") :])
    incident = first.split("incident: ", 1)[1].split("\n", 1)[0]
    (repo / "postmortems" / "zz-second.md").write_text(
        first.replace("status: published", "status: draft")
    )
    (repo / "postmortems" / "zz-bad.md").write_text(first.replace(incident, "not an id"))
    records = sorted((repo / "incidents").glob("*.yaml"))
    bad = records[3]
    bad.write_text(bad.read_text().replace("source: ", "source: pigeon-"))
    (repo / "incidents" / "INC-9990.yaml").write_text("id: INC-9990\ntitle: [unclosed\n")
    g = git.Repo(repo)
    g.index.add([str(p.relative_to(repo)) for p in (repo / "postmortems").glob("*.md")])
    g.index.add([str(records[3].relative_to(repo)), "incidents/INC-9990.yaml"])
    g.index.commit("varied")
    edited = records[5]
    text = edited.read_text()
    edited.write_text(text.replace("severity: low", "severity: high").replace("-0", "-1", 1))
    (repo / "incidents" / "INC-9991.yaml").write_text(
        "id: INC-9991\ntitle: Hand-written\nphase: acknowledged\nsource: support\n"
        "severity: critical\ncomponents: [api, web]\n"
        "detected_at: 2026-11-01T00:00:00Z\nacknowledged_at: 2026-11-01T00:03:00Z\n"
    )
    (repo / "incidents" / "INC-9992.yaml").write_text(
        "id: INC-9992\ntitle: Waiting\nphase: detected\nsource: monitor\nseverity: high\n"
        "detected_at: 2026-11-30T00:00:00Z\n"
    )
    _runbook_used(repo)


def _runbook_used(repo: Path) -> None:
    """A runbook with a long review interval, used in an incident whose postmortem was
    published after the runbook's last review (committed), and in an uncommitted edit."""
    (repo / "runbooks" / "queue.md").write_text(
        "---\ntitle: Queue\ncomponents: [queue]\ntags: [q]\nowner: alice\n"
        "last_reviewed: 2024-01-01\nreview_every: 3650\n---\n# Queue\n"
    )
    published = [
        p.stem
        for p in sorted((repo / "postmortems").glob("INC-*.md"))
        if re.search(r"published_at: '202[4-6]-", p.read_text())
    ]
    assert len(published) >= 2, published
    for stem in published[:2]:
        record = repo / "incidents" / f"{stem}.yaml"
        record.write_text(record.read_text() + "runbooks:\n- queue\n")
    git.Repo(repo).git.add("runbooks/queue.md", f"incidents/{published[0]}.yaml")
    git.Repo(repo).index.commit("a runbook used")


def _outputs(repo: Path) -> list[tuple[int, str, str]]:
    out = []
    for window in WINDOWS:
        for form in ([], ["--json"]):
            result = run_cli("stats", *window, "--until", UNTIL, *form, cwd=repo)
            out.append((result.code, result.out, result.err))
    for form in ("text", "json"):
        # `escalations` reads only the detected incidents (the same way: store/figures.py)
        result = run_cli("escalations", "--as-of", UNTIL, "--format", form, cwd=repo)
        out.append((result.code, result.out, result.err))
    for command in (["comms", "--format", "json"], ["runbook", "stale"]):
        result = run_cli(*command, "--as-of", UNTIL, cwd=repo)
        out.append((result.code, result.out, result.err))
    return out


def _from_whole_records(repo: Path) -> list[tuple[int, str, str]]:
    """What `stats` printed when it read every whole record (``read_incident_data``)."""
    unreadable: list[str] = []
    incidents, postmortems, _ = read_incident_data(repo, unreadable)
    left_out = [rel for rel in unreadable if not rel.startswith("maintenance/")]
    assert left_out, "the generated repository holds records that are not usable"
    warning = (
        f"warning: {len(left_out)} record(s) could not be read ({', '.join(left_out[:3])}"
        f"{', ...' if len(left_out) > 3 else ''}): they are not counted; run `incidents validate`\n"
    )
    settings = load_settings(repo)
    until = datetime.fromisoformat(UNTIL)
    out = []
    for window in WINDOWS:
        since = datetime.fromisoformat(window[1]) if window else None
        report = metrics.compute(incidents, postmortems, settings, since, until)
        out.append((0, metrics.text(report), warning))
        out.append((0, json.dumps(report, indent=2) + "\n", warning))
    return out


def test_stats_are_the_same_cold_warm_single_and_multi_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    _generate(repo, 120)
    _varied(repo)
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)  # every read is split into chunks
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    reference = _from_whole_records(repo)
    monkeypatch.setenv("INCIDENTS_WORKERS", "1")
    single = _outputs(repo)
    monkeypatch.setenv("INCIDENTS_WORKERS", "2")
    multi = _outputs(repo)
    monkeypatch.delenv("INCIDENTS_NO_CACHE")
    first = _outputs(repo)  # fills the cache from the workers' figures
    assert list((repo / ".git" / "incidents-cache").glob("figures-*.json"))
    warm = _outputs(repo)
    monkeypatch.setenv("INCIDENTS_WORKERS", "1")
    warm_single = _outputs(repo)
    report = json.loads(single[1][1])
    assert report["incidents"] > 100
    assert report["action_item_completion"]["wont_do"] >= 1
    assert report["overdue"]["action_items"] >= 1
    assert report["by_source"].keys() <= {"monitor", "customer", "support", "internal"}
    assert "INC-9992" in single[-3][1]  # an escalation, read from a record
    assert single[:-4] == reference
    assert multi == single
    assert first == single
    assert warm == single
    assert warm_single == single
    # escalations as they were read before: from every whole usable record
    as_of = datetime.fromisoformat(UNTIL)
    settings = load_settings(repo)
    schedule = load_schedule(repo, settings)
    whole = [
        (r.rel, r.doc.locate(["detected_at"])[0], r.data)
        for r in read_usable(repo, kinds=("incident",))[0]
        if r.doc is not None and isinstance(r.data, dict) and r.data.get("phase") == "detected"
    ]
    before = escalations(whole, settings, schedule, as_of)
    unusable = read_usable(repo, kinds=("incident",))[1]
    assert before and pending_escalations(repo, as_of) == (before, unusable)

    # comms and runbook stale as they were read before: from every whole usable record
    opened = [
        (r.rel, r.doc.locate(["updates"] if r.data.get("updates") else ["detected_at"])[0], r.data)
        for r in read_usable(repo, kinds=("incident",))[0]
        if r.doc is not None
        and isinstance(r.data, dict)
        and r.data.get("phase") in UNRESOLVED_PHASES
    ]
    was_quiet = quiet_incidents(opened, settings.update_every, settings.ack_within, as_of)
    assert was_quiet and quiet(repo, as_of) == (was_quiet, unusable)
    incidents, postmortems, _ = read_incident_data(repo)
    was_stale = stale(load_runbooks(repo), incidents, postmortems, as_of)
    assert [s.runbook.slug for s in was_stale] == ["database", "queue"]
    assert stale_runbooks(repo, as_of) == was_stale
