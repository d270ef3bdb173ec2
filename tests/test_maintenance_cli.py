"""#15: scheduled maintenance and runbook reviews from the CLI, with the guarantees of
incident transitions: one commit each with trailers, refusals change nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import git
import pytest

from .conftest import run_cli
from .lifecycle_helpers import (
    assert_api_matches_statuspage_v2,
    assert_one_commit,
    build_site,
    head,
    ok,
)
from .test_postmortems import _publish_and_commit, resolved_incident
from .test_transitions_cli import state

START = "2030-03-01T22:00:00Z"
END = "2030-03-01T23:00:00Z"


def new_window(repo: Path, *extra: str) -> str:
    out = ok(
        repo,
        "maintenance",
        "new",
        "Database upgrade",
        "--start",
        START,
        "--end",
        END,
        "--component",
        "database",
        "--component",
        "api",
        "--message",
        "Writes may be slow for a few minutes.",
        *extra,
    )
    assert "MNT-0001" in out
    return "MNT-0001"


def window(repo: Path, mid: str) -> dict[str, object]:
    import yaml

    data: dict[str, object] = yaml.safe_load((repo / "maintenance" / f"{mid}.yaml").read_text())
    return data


def upcoming(out: Path) -> list[dict[str, object]]:
    data = json.loads((out / "api/v2/scheduled-maintenances/upcoming.json").read_text())
    windows: list[dict[str, object]] = data["scheduled_maintenances"]
    return windows


def test_maintenance_new_update_cancel_each_one_commit(repo: Path, tmp_path: Path) -> None:
    before = head(repo)
    mid = new_window(repo, "--by", "alice")
    subject, files = assert_one_commit(repo, before, Maintenance_Id=mid, Actor="alice")
    assert subject == f"{mid} maintenance scheduled: Database upgrade"
    assert files == [f"maintenance/{mid}.yaml"]
    data = window(repo, mid)
    assert data["components"] == ["database", "api"]
    assert str(data["start"]).startswith("2030-03-01")
    out = build_site(repo, tmp_path / "one", as_of="2030-03-01T00:00:00Z")
    assert [w["id"] for w in upcoming(out)] == [mid]

    before = head(repo)
    ok(
        repo,
        "maintenance",
        "update",
        mid,
        "--message",
        "Moved one hour later.",
        "--start",
        "2030-03-01T23:00:00Z",
        "--end",
        "2030-03-02T00:00:00Z",
    )
    subject, _ = assert_one_commit(repo, before, Maintenance_Id=mid)
    assert subject.startswith(f"{mid} maintenance updated")
    data = window(repo, mid)
    updates = data["updates"]
    assert isinstance(updates, list) and updates[-1]["message"] == "Moved one hour later."
    out = build_site(repo, tmp_path / "two", as_of="2030-03-01T00:00:00Z")
    (shown,) = upcoming(out)
    assert shown["scheduled_for"] == "2030-03-01T23:00:00Z"
    assert "Moved one hour later." in json.dumps(shown)
    assert_api_matches_statuspage_v2(out)

    listing = ok(repo, "maintenance", "list", "--as-of", "2030-03-01T00:00:00Z")
    assert mid in listing and "scheduled" in listing and "Database upgrade" in listing

    before = head(repo)
    ok(repo, "maintenance", "cancel", mid, "--reason", "The vendor postponed it.")
    subject, _ = assert_one_commit(repo, before, Maintenance_Id=mid)
    assert subject.startswith(f"{mid} maintenance cancelled")
    data = window(repo, mid)
    assert data["cancelled"] is True and data["cancel_reason"] == "The vendor postponed it."
    assert "cancelled_at" in data
    out = build_site(repo, tmp_path / "three", as_of="2030-03-01T00:00:00Z")
    assert upcoming(out) == []
    listed = json.loads(ok(repo, "maintenance", "list", "--json"))
    assert [(w["id"], w["state"]) for w in listed] == [(mid, "cancelled")]


def test_the_next_maintenance_id_follows_the_highest(repo: Path) -> None:
    new_window(repo)
    out = ok(
        repo,
        "maintenance",
        "new",
        "Network switch",
        "--start",
        START,
        "--end",
        END,
        "--component",
        "edge",
    )
    assert "MNT-0002" in out
    assert (repo / "maintenance" / "MNT-0002.yaml").is_file()


MAINTENANCE_REFUSALS = [
    (("maintenance", "new", "X", "--start", END, "--end", START, "--component", "api"), "end"),
    (
        ("maintenance", "new", "X", "--start", START, "--end", END, "--component", "nope"),
        "unknown component 'nope'",
    ),
    (("maintenance", "new", " ", "--start", START, "--end", END, "--component", "api"), "title"),
    (("maintenance", "update", "MNT-0009", "--message", "m"), "no maintenance MNT-0009"),
    (("maintenance", "update", "MNT-0001"), "nothing to change"),
    (("maintenance", "update", "MNT-0001", "--end", "2030-03-01T21:00:00Z"), "end"),
    (("maintenance", "cancel", "MNT-0001", "--reason", " "), "--reason"),
    (("maintenance", "cancel", "MNT-0002", "--reason", "r"), "cancelled already"),
    (("maintenance", "update", "MNT-0002", "--message", "m"), "cancelled"),
    (("maintenance", "cancel", "MNT-0003", "--reason", "r"), "ended"),
]


@pytest.mark.parametrize(
    ("args", "message"),
    MAINTENANCE_REFUSALS,
    ids=[f"{a[1]} {i}" for i, (a, _) in enumerate(MAINTENANCE_REFUSALS)],
)
def test_maintenance_refusals_change_nothing(
    repo: Path, args: tuple[str, ...], message: str
) -> None:
    new_window(repo)
    ok(
        repo,
        "maintenance",
        "new",
        "Second",
        "--start",
        START,
        "--end",
        END,
        "--component",
        "api",
    )
    ok(repo, "maintenance", "cancel", "MNT-0002", "--reason", "not needed")
    (repo / "maintenance" / "MNT-0003.yaml").write_text(
        "id: MNT-0003\ntitle: Done already\nstart: 2026-01-01T00:00:00Z\n"
        "end: 2026-01-01T01:00:00Z\ncomponents: [api]\n"
    )
    g = git.Repo(repo)
    g.index.add(["maintenance/MNT-0003.yaml"])
    g.index.commit("an old window")
    before = state(repo)
    result = run_cli(*args, cwd=repo)
    assert result.code == 2, result.err
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert state(repo) == before


def test_a_failing_hook_leaves_maintenance_as_it_was(repo: Path) -> None:
    new_window(repo)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'policy: frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    (repo / "unrelated.txt").write_text("mine\n")
    before = state(repo)
    for args in (
        ("maintenance", "update", "MNT-0001", "--message", "m"),
        ("maintenance", "cancel", "MNT-0001", "--reason", "r"),
        ("maintenance", "new", "Y", "--start", START, "--end", END, "--component", "api"),
    ):
        result = run_cli(*args, cwd=repo)
        assert result.code == 2 and "policy: frozen" in result.err
        assert state(repo) == before


def test_maintenance_help() -> None:
    for sub in ("new", "update", "cancel", "list"):
        result = run_cli("maintenance", sub, "--help")
        assert result.code == 0 and "Usage:" in result.out


# --- runbook reviewed ------------------------------------------------------------------------


def test_runbook_reviewed_is_one_commit_and_clears_stale(repo: Path) -> None:
    iid = resolved_incident(repo)
    _publish_and_commit(repo, iid)
    slug = "database-connection-pool-exhaustion"
    path = repo / "runbooks" / f"{slug}.md"
    path.write_text(
        re.sub(r"last_reviewed: \S+", "last_reviewed: 2026-02-01", path.read_text(), count=1)
    )
    g = git.Repo(repo)
    g.index.add([f"runbooks/{slug}.md"])
    g.index.commit("an old review")
    stale = run_cli("runbook", "stale", "--as-of", "2026-03-05T00:00:00Z", cwd=repo)
    assert stale.code == 1 and slug in stale.out
    body = path.read_text().split("\n---\n", 1)[1]

    before = head(repo)
    ok(
        repo,
        "runbook",
        "reviewed",
        slug,
        "--note",
        "Checked the steps after INC-0001",
        "--at",
        "2026-03-04T09:00:00Z",
        "--by",
        "carol",
    )
    subject, files = assert_one_commit(repo, before, Runbook=slug, Actor="carol")
    assert slug in subject and "reviewed" in subject
    assert files == [f"runbooks/{slug}.md"]
    assert "Checked the steps after INC-0001" in g.head.commit.message
    text = path.read_text()
    assert re.search(r"last_reviewed: '?2026-03-04'?\n", text)
    assert text.split("\n---\n", 1)[1] == body
    stale = run_cli("runbook", "stale", "--as-of", "2026-03-05T00:00:00Z", cwd=repo)
    assert slug not in stale.out

    before_state = state(repo)
    missing = run_cli("runbook", "reviewed", "nope", cwd=repo)
    assert missing.code == 2 and "runbooks/nope.md" in missing.err
    path.write_text(text + "\nmy unsaved edit\n")
    before_state = state(repo)
    dirty = run_cli("runbook", "reviewed", slug, cwd=repo)
    assert dirty.code == 2 and "uncommitted changes" in dirty.err
    assert state(repo) == before_state


def test_maintenance_and_corrections_are_replayed_on_a_moved_remote(
    repo: Path, tmp_path: Path
) -> None:
    from .test_push import clones, remote_record

    investigating_args = ("declare", "API errors", "--severity", "low", "--component", "api")
    ok(repo, *investigating_args)
    ok(repo, "update", "INC-0001", "--status", "investigating", "--message", "Lookng.")
    remote, (a, b) = clones(repo, tmp_path)
    ok(
        a,
        "maintenance",
        "new",
        "Upgrade",
        "--start",
        START,
        "--end",
        END,
        "--component",
        "api",
        "--push",
    )
    ok(a, "scope", "INC-0001", "--add-region", "eu-west", "--push")
    amended = run_cli("amend", "INC-0001", "U1", "--message", "Looking.", "--push", cwd=b)
    assert amended.code == 0, amended.err
    assert "push rejected: replayed on origin/main" in amended.err
    second = run_cli(
        "maintenance",
        "new",
        "Other",
        "--start",
        START,
        "--end",
        END,
        "--component",
        "web",
        "--push",
        cwd=b,
    )
    assert second.code == 0, second.err
    assert "MNT-0002" in second.out, "the id is taken on the remote state"
    record = remote_record(remote, "INC-0001")
    assert record["regions"] == ["eu-west"]
    assert record["updates"][0]["message"] == "Looking."
    names = git.Repo(remote).git.ls_tree("--name-only", "main", "maintenance/").split()
    assert names == ["maintenance/MNT-0001.yaml", "maintenance/MNT-0002.yaml"]
