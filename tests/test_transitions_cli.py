"""Every lifecycle command through the CLI on real repositories, with their commits."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import git
import pytest

from .conftest import run_cli


def state(repo: Path) -> tuple[str, str, str, dict[str, bytes]]:
    """HEAD, the index, `git status`, and every file's bytes: what must not change."""
    g = git.Repo(repo)
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    # The index's entries (its bytes change whenever git refreshes stat data).
    index = g.git.ls_files("--stage")
    return g.head.commit.hexsha, index, g.git.status("--porcelain"), files


def declare(repo: Path, *extra: str) -> str:
    result = run_cli("declare", "Database unreachable", *extra, "--json", cwd=repo)
    assert result.code == 0, result.err
    return str(json.loads(result.out)["id"])


def trailers(repo: Path) -> list[tuple[str, dict[str, str]]]:
    out = subprocess.run(
        ["git", "log", "--format=%s%x1f%(trailers:only,unfold)%x1e"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    commits = []
    for chunk in filter(str.strip, out.split("\x1e")):
        subject, _, raw = chunk.strip().partition("\x1f")
        pairs = dict(line.split(": ", 1) for line in raw.strip().splitlines() if ": " in line)
        commits.append((subject, pairs))
    return commits


def test_a_critical_incident_through_every_phase(repo: Path) -> None:
    iid = declare(
        repo,
        "--component",
        "database",
        "--component",
        "api",
        "--region",
        "eu-west",
        "--region",
        "us-east",
        "--source",
        "monitor",
        "--summary",
        "DB refuses connections",
        "--at",
        "2026-03-01T10:00:00Z",
    )
    assert iid == "INC-0001"
    steps = [
        ("ack", iid, "--severity", "critical", "--at", "2026-03-01T10:04:00Z", "--by", "alice"),
        ("assign", iid, "--commander", "alice", "--comms", "bob", "--responder", "carol"),
        ("investigate", iid, "--by", "alice"),
        (
            "note",
            iid,
            "Pool at 100% on all pods",
            "--kind",
            "finding",
            "--evidence",
            "https://grafana.example.com/d/db",
            "--runbook",
            "database-connection-pool-exhaustion",
        ),
        (
            "update",
            iid,
            "--status",
            "identified",
            "--message",
            "We found the cause.",
            "--component",
            "database=major_outage",
            "--eta",
            "2030-01-01T00:00:00Z",
        ),
        ("severity", iid, "high"),
        (
            "resolve",
            iid,
            "--action",
            "rollback",
            "--summary",
            "Rolled back v2.31",
            "--verified-in",
            "eu-west",
            "--verified-in",
            "us-east",
        ),
        ("reopen", iid, "--reason", "Errors are back in us-east"),
        (
            "resolve",
            iid,
            "--action",
            "hotfix",
            "--summary",
            "Fixed the pool leak",
            "--verified-in",
            "eu-west",
            "--verified-in",
            "us-east",
        ),
        ("postmortem", iid),
    ]
    for step in steps:
        result = run_cli(*step, cwd=repo)
        assert result.code == 0, (step, result.err)
        assert "Traceback" not in result.err
    (repo / "postmortems").mkdir(exist_ok=True)
    (repo / "postmortems" / f"{iid}.md").write_text(
        "---\nincident: INC-0001\nstatus: published\ndue: 2026-03-03T10:00:00Z\n"
        "action_items:\n  - {id: A1, title: Alert, owner: alice, due: 2026-03-09T00:00:00Z,"
        " status: open}\n---\n# PM\n\n## What happened\n\nThe pool filled up.\n\n"
        "## Why it happened\n\nA slow query.\n\n## How we responded\n\nRolled back.\n\n"
        "## What we will do\n\nAlert on pools.\n"
    )
    g = git.Repo(repo)
    g.index.add([f"postmortems/{iid}.md"])
    g.index.commit("Publish postmortem")
    closed = run_cli("close", iid, "--json", cwd=repo)
    assert closed.code == 0, closed.err
    record = json.loads(closed.out)
    assert record["phase"] == "closed"
    assert record["roles"] == {
        "commander": "alice",
        "communications": "bob",
        "responders": ["carol"],
    }
    assert record["runbooks"] == ["database-connection-pool-exhaustion"]
    assert record["resolution"]["action"] == "hotfix"
    kinds = [e["kind"] for e in record["timeline"]]
    assert kinds == [
        "declared",
        "acknowledged",
        "assigned",
        "investigating",
        "finding",
        "severity",
        "resolved",
        "reopened",
        "resolved",
        "postmortem",
        "closed",
    ]
    assert run_cli("validate", cwd=repo).code == 0

    log = trailers(repo)
    ours = [(s, t) for s, t in log if t.get("Incident-Id") == iid]
    assert len(ours) == 1 + len(steps) + 1, "one commit per event"
    assert ours[-1][0] == "INC-0001 declared: Database unreachable"
    assert ours[-2] == (
        "INC-0001 acknowledged: Database unreachable",
        {"Incident-Id": "INC-0001", "Phase": "acknowledged", "Actor": "alice"},
    )
    assert ours[0][1]["Phase"] == "closed"
    assert ours[0][1]["Actor"] == "Test Responder"
    for sha in g.iter_commits(paths=f"incidents/{iid}.yaml"):
        files = sorted(sha.stats.files)
        if "Phase: postmortem" in sha.message and sha.summary.endswith(
            "postmortem: Database unreachable"
        ):
            assert files == [f"incidents/{iid}.yaml", f"postmortems/{iid}.md"]  # draft, same commit
        else:
            assert files == [f"incidents/{iid}.yaml"]
    show = run_cli("show", iid, cwd=repo)
    assert "Acknowledged  2026-03-01 10:04:00Z  (after 4m)" in show.out
    assert "Commander:   alice" in show.out


def test_list_and_show_flag_window_breaches(repo: Path) -> None:
    late = declare(repo, "--severity", "critical", "--at", "2026-03-01T10:00:00Z")
    run_cli("ack", late, "--at", "2026-03-01T10:09:00Z", cwd=repo)
    waiting = declare(repo, "--severity", "high", "--at", "2026-03-01T11:00:00Z")
    listing = run_cli("list", "--as-of", "2026-03-01T11:20:00Z", cwd=repo)
    lines = listing.out.splitlines()
    assert lines[0].split() == [
        "ID",
        "SEVERITY",
        "PHASE",
        "DETECTED",
        "OPEN",
        "FOR",
        "COMMANDER",
        "TITLE",
    ]
    assert lines[1].startswith(f"{waiting}  high      detected      2026-03-01 11:00Z  20m")
    assert "[ACK LATE: unacknowledged for 20m, over the 15m window]" in lines[1]
    assert "[ACK LATE: acknowledged 9m after detection, over the 5m window]" in lines[2]
    as_json = json.loads(run_cli("list", "--json", "--as-of", "2026-03-01T11:10:00Z", cwd=repo).out)
    assert [i["id"] for i in as_json] == [waiting, late]
    assert as_json[0]["computed"]["ack_breach"] is None
    assert as_json[1]["computed"]["time_to_acknowledge_seconds"] == 540
    shown = json.loads(run_cli("show", late, "--json", cwd=repo).out)
    assert shown["computed"]["ack_within_seconds"] == 300
    assert "Response window breached" in run_cli("show", late, cwd=repo).out
    assert run_cli("list", "--severity", "low", cwd=repo).out == "No incidents match.\n"
    assert len(run_cli("list", "--phase", "acknowledged", "--json", cwd=repo).out) > 2


REFUSALS = [
    (("investigate", "INC-0001"), "cannot investigate INC-0001: it is detected"),
    (("ack", "INC-0001"), "its severity is not known yet; pass --severity"),
    (
        ("resolve", "INC-0001", "--action", "rollback", "--summary", "x"),
        "cannot resolve INC-0001: it is detected",
    ),
    (("close", "INC-0001"), "cannot close INC-0001: it is detected"),
    (("reopen", "INC-0001", "--reason", "x"), "cannot reopen INC-0001: it is detected"),
    (
        ("ack", "inc-9", "--severity", "low"),
        "no incident INC-0009 (incidents/INC-0009.yaml does not exist); the closest open ones: INC-0001",
    ),
    (
        ("ack", "INC-0001", "--severity", "low", "--at", "2026-03-01T09:00:00Z"),
        "is before INC-0001 was detected",
    ),
    (
        ("ack", "INC-0001", "--severity", "low", "--at", "half past ten"),
        "Invalid value for '--at': 'half past ten' is not a time I can read; accepted: ",
    ),
    (
        (
            "update",
            "INC-0001",
            "--status",
            "identified",
            "--message",
            "m",
            "--component",
            "api=down",
        ),
        "--component 'api=down': write ID=STATUS",
    ),
    (
        (
            "update",
            "INC-0001",
            "--status",
            "identified",
            "--message",
            "m",
            "--component",
            "nope=major_outage",
        ),
        "unknown component 'nope'",
    ),
    (("assign", "INC-0001", "--commander", "mallory"), "--commander: unknown person 'mallory'"),
    (("note", "INC-0001", "x", "--runbook", "nope"), "--runbook: no runbook runbooks/nope.md"),
    (("declare", "X", "--component", "nope"), "unknown component 'nope'"),
]


@pytest.mark.parametrize(("args", "message"), REFUSALS, ids=[" ".join(a[:2]) for a, _ in REFUSALS])
def test_refusals_change_nothing(repo: Path, args: tuple[str, ...], message: str) -> None:
    declare(repo, "--at", "2026-03-01T10:00:00Z", "--region", "eu")
    before = state(repo)
    result = run_cli(*args, cwd=repo)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert state(repo) == before


@pytest.mark.parametrize("staged_work", [False, True], ids=["clean-index", "staged-work"])
def test_a_failing_pre_commit_hook_leaves_everything_as_it_was(
    repo: Path, staged_work: bool
) -> None:
    iid = declare(repo, "--severity", "low")
    if staged_work:
        (repo / "README.md").write_text("staged by a person\n")
        git.Repo(repo).index.add(["README.md"])
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'policy: no commits on Fridays' >&2\nexit 1\n")
    hook.chmod(0o755)
    (repo / "unrelated.txt").write_text("mine\n")
    before = state(repo)
    for args in (("ack", iid), ("declare", "Another one", "--severity", "low")):
        result = run_cli(*args, cwd=repo)
        assert result.code == 2
        assert "policy: no commits on Fridays" in result.err
        assert result.err.strip().endswith("files, index and branch are as they were")
        assert state(repo) == before


def test_a_pre_commit_hook_that_rewrites_the_record_is_caught_or_committed(repo: Path) -> None:
    """Success when HEAD holds the change, judged by the commit and never by the work
    tree (where a person may save the moment after): a hook that edits the record without
    staging its edit leaves the edit, said as a note; one that stages it is what HEAD
    holds."""
    iid = declare(repo, "--severity", "low")
    hook = repo / ".git" / "hooks" / "pre-commit"
    edit = f'printf "# checked by a hook\\n" >> incidents/{iid}.yaml\n'
    hook.write_text(f"#!/bin/sh\n{edit}")
    hook.chmod(0o755)
    result = run_cli("ack", iid, cwd=repo)
    assert result.code == 0, result.err  # HEAD holds the change; the hook's edit is theirs
    assert f"note: incidents/{iid}.yaml was changed after the commit" in result.err
    assert "phase: acknowledged" in git.Repo(repo).git.show(f"HEAD:incidents/{iid}.yaml")
    assert (repo / "incidents" / f"{iid}.yaml").read_text().endswith("# checked by a hook\n")
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, check=True)
    hook.write_text(f"#!/bin/sh\n{edit}git add incidents/{iid}.yaml\n")
    result = run_cli("note", iid, "checked", cwd=repo)
    assert result.code == 0, result.err
    assert git.Repo(repo).git.status("--porcelain") == ""
    assert (repo / "incidents" / f"{iid}.yaml").read_text().endswith("# checked by a hook\n")


def test_unrelated_uncommitted_work_survives_every_command(repo: Path) -> None:
    g = git.Repo(repo)
    (repo / "README.md").write_text("edited but not staged\n")
    (repo / "oncall.yaml").write_text((repo / "oncall.yaml").read_text() + "# staged edit\n")
    g.index.add(["oncall.yaml"])
    (repo / "scratch.txt").write_text("untracked notes\n")
    expected_status = g.git.status("--porcelain")
    iid = declare(repo, "--region", "eu")
    for args in (
        ("ack", iid, "--severity", "high"),
        ("assign", iid, "--commander", "alice"),
        ("investigate", iid),
        ("note", iid, "looking"),
        ("update", iid, "--status", "investigating", "--message", "Looking into it"),
        ("resolve", iid, "--action", "scale", "--summary", "More pods", "--verified-in", "eu"),
        ("postmortem", iid),
    ):
        assert run_cli(*args, cwd=repo).code == 0
        assert g.git.status("--porcelain") == expected_status
        assert (repo / "README.md").read_text() == "edited but not staged\n"
        assert "oncall.yaml" not in g.head.commit.stats.files


def test_hand_edits_to_the_incident_itself_are_refused(repo: Path) -> None:
    iid = declare(repo, "--severity", "low")
    path = repo / "incidents" / f"{iid}.yaml"
    path.write_text(path.read_text().replace("Database unreachable", "DB down"))
    before = state(repo)
    result = run_cli("ack", iid, cwd=repo)
    assert result.code == 2
    assert result.err == (
        f"incidents/{iid}.yaml has uncommitted changes; commit or stash them first "
        f"(see `git diff -- incidents/{iid}.yaml`)\n"
    )
    assert state(repo) == before


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("staged edit", "has uncommitted changes"),
        ("deleted", "does not exist"),
        ("staged deletion", "does not exist"),
        ("removed from the index", "has uncommitted changes"),
        ("unstaged edit", "has uncommitted changes"),
        ("mode change", "has uncommitted changes"),
        ("untracked and ignored", "has uncommitted changes"),
    ],
)
def test_every_uncommitted_state_of_the_incident_file_is_refused(
    repo: Path, how: str, message: str
) -> None:
    iid = declare(repo, "--severity", "low")
    rel = f"incidents/{iid}.yaml"
    path = repo / rel
    g = git.Repo(repo)
    if how == "staged edit":
        path.write_text(path.read_text().replace("Database unreachable", "DB down"))
        g.git.add(rel)
    elif how == "deleted":
        path.unlink()
    elif how == "staged deletion":
        g.git.rm("--quiet", rel)
    elif how == "unstaged edit":
        path.write_text(path.read_text().replace("Database unreachable", "DB down"))
    elif how == "mode change":
        path.chmod(0o755)
    elif how == "untracked and ignored":
        g.git.rm("--quiet", "--cached", rel)
        (repo / ".git" / "info" / "exclude").write_text(f"{rel}\n")
    else:
        g.git.rm("--quiet", "--cached", rel)
    before = state(repo)
    result = run_cli("ack", iid, cwd=repo)
    assert result.code == 2
    assert message in result.err and result.err.count("\n") == 1, result.err
    assert state(repo) == before


def test_a_touched_but_unchanged_incident_file_is_not_refused(repo: Path) -> None:
    iid = declare(repo, "--severity", "low")
    path = repo / "incidents" / f"{iid}.yaml"
    path.write_bytes(path.read_bytes())  # new mtime, same content: git's stat data is stale
    os.utime(path, (1, 1))
    assert run_cli("ack", iid, cwd=repo).code == 0
    assert git.Repo(repo).git.status("--porcelain") == ""


def test_comments_and_key_order_survive_a_transition(repo: Path) -> None:
    iid = declare(repo, "--severity", "low")
    path = repo / "incidents" / f"{iid}.yaml"
    text = path.read_text().replace("title:", "# edited by hand in review\ntitle:", 1)
    path.write_text(text)
    g = git.Repo(repo)
    g.index.add([f"incidents/{iid}.yaml"])
    g.index.commit("comment")
    assert run_cli("ack", iid, cwd=repo).code == 0
    after = path.read_text()
    assert "# edited by hand in review\ntitle: Database unreachable\n" in after
    assert after.index("id:") < after.index("title:") < after.index("phase:")


def test_a_broken_record_is_refused_with_its_place(repo: Path) -> None:
    iid = declare(repo, "--severity", "low")
    path = repo / "incidents" / f"{iid}.yaml"
    path.write_text(path.read_text().replace("severity: low", "severity: lowish"))
    g = git.Repo(repo)
    g.index.add([f"incidents/{iid}.yaml"])
    g.index.commit("broken by hand")
    result = run_cli("ack", iid, cwd=repo)
    assert result.code == 2
    assert result.err.startswith(f"incidents/{iid}.yaml:3:1: severity: 'lowish' is not one of")


def test_actor_defaults_to_git_user_name_and_outside_a_repo_is_clear(tmp_path: Path) -> None:
    result = run_cli("ack", "INC-0001", cwd=tmp_path)
    assert result.code == 2
    assert "no incidents.yaml here or in any parent folder" in result.err


@pytest.mark.parametrize(
    "command",
    [
        "declare",
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
        "list",
        "show",
    ],
)
def test_every_command_has_help(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.code == 0 and "Usage:" in result.out


def test_a_hand_written_lower_case_id_counts_for_the_next_one_and_its_twin_is_a_finding(
    repo: Path,
) -> None:
    """The schema allows any case of a prefix, and every command reads inc-0007 as INC-0007:
    the next id is INC-0008, never a second INC-0007 (one file where case is ignored)."""
    assert declare(repo) == "INC-0001"
    g = git.Repo(repo)
    g.git.mv("incidents/INC-0001.yaml", "incidents/inc-0007.yaml")
    moved = repo / "incidents" / "inc-0007.yaml"
    moved.write_text(moved.read_text().replace("id: INC-0001", "id: inc-0007"))
    g.git.commit("-qam", "numbered by hand")
    assert run_cli("validate", cwd=repo).code == 0
    assert declare(repo) == "INC-0008"
    assert run_cli("ack", "7", "--severity", "low", cwd=repo).code == 0  # the hand-written one
    assert "id: inc-0007" in moved.read_text() and "phase: acknowledged" in moved.read_text()
    # a twin that differs only in case is named by validate
    twin = repo / "incidents" / "INC-0007.yaml"
    twin.write_text(moved.read_text().replace("id: inc-0007", "id: INC-0007"))
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    (line,) = result.out.splitlines()
    assert line.startswith("incidents/inc-0007.yaml:"), line
    assert (
        "id: id 'inc-0007' differs only in case from 'INC-0007' (incidents/INC-0007.yaml)" in line
    )


def test_a_failing_clean_filter_of_the_persons_is_exit_2_not_a_bug(repo: Path) -> None:
    """git failing for a reason in the person's setup (a required clean filter that fails)
    is one line with git's words and exit 2, with everything as it was: exit 3 is for bugs
    in our code."""
    iid = declare(repo, "--severity", "low")
    before = state(repo)
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_text("incidents/*.yaml filter=broken\n")
    subprocess.run(["git", "config", "filter.broken.clean", "false"], cwd=repo, check=True)
    subprocess.run(["git", "config", "filter.broken.required", "true"], cwd=repo, check=True)
    result = run_cli("ack", iid, cwd=repo)
    assert result.code == 2, result.err
    assert "filter" in result.err and "unexpected" not in result.err
    # One line of ours, last (after git's own output where the commit itself failed, shown
    # as it comes, like a hook's): which git call meets the filter first depends on timing.
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("git status failed: ") or last.endswith(
        "files, index and branch are as they were"
    ), last
    attributes.unlink()  # (git status itself runs the filter)
    assert state(repo) == before


def test_a_push_to_a_remote_that_is_gone_is_exit_2(repo: Path, tmp_path: Path) -> None:
    iid = declare(repo, "--severity", "low")
    subprocess.run(
        ["git", "remote", "add", "origin", str(tmp_path / "no-such-remote.git")],
        cwd=repo,
        check=True,
    )
    result = run_cli("ack", iid, "--push", cwd=repo)
    assert result.code == 2, result.err
    assert "unexpected" not in result.err
