"""--push against a real bare remote: replays, conflicts, concurrent responders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import git
import yaml

from .conftest import run_cli


def clones(repo: Path, tmp_path: Path, count: int = 2) -> tuple[Path, list[Path]]:
    remote = tmp_path / "remote.git"
    git.Repo.clone_from(repo, remote, bare=True)
    paths = []
    for index in range(count):
        path = tmp_path / f"clone{index}"
        git.Repo.clone_from(remote, path)
        paths.append(path)
    return remote, paths


def remote_record(remote: Path, incident_id: str) -> dict:
    text = git.Repo(remote).git.show(f"main:incidents/{incident_id}.yaml")
    return yaml.safe_load(text)


def test_push_replays_on_top_of_a_moved_remote(repo: Path, tmp_path: Path) -> None:
    remote, (a, b) = clones(repo, tmp_path)
    assert run_cli("declare", "API errors", "--severity", "low", "--push", cwd=a).code == 0
    (b / "local-notes.txt").write_text("uncommitted, unrelated\n")
    result = run_cli("declare", "Payments failing", "--severity", "high", "--push", cwd=b)
    assert result.code == 0, result.err
    assert result.out.startswith("Declared INC-0002: Payments failing")
    assert "push rejected: replayed on origin/main" in result.err
    assert remote_record(remote, "INC-0001")["title"] == "API errors"
    assert remote_record(remote, "INC-0002")["title"] == "Payments failing"
    gb = git.Repo(b)
    assert gb.head.commit.hexsha == git.Repo(remote).commit("main").hexsha
    assert (b / "local-notes.txt").read_text() == "uncommitted, unrelated\n"
    assert (b / "incidents" / "INC-0001.yaml").is_file()


def test_a_transition_that_no_longer_applies_says_who_and_when(repo: Path, tmp_path: Path) -> None:
    remote, (a, b) = clones(repo, tmp_path)
    assert run_cli("declare", "API errors", "--severity", "low", "--push", cwd=a).code == 0
    subprocess.run(["git", "pull", "-q"], cwd=b, check=True)
    assert run_cli("ack", "INC-0001", "--by", "alice", "--push", cwd=a).code == 0
    result = run_cli("ack", "INC-0001", "--by", "bob", "--push", cwd=b)
    assert result.code == 2
    assert "cannot ack INC-0001: it is acknowledged (since " in result.err
    assert ", by alice)" in result.err
    assert "your branch now equals the remote and nothing of yours was lost" in result.err
    gb = git.Repo(b)
    assert gb.head.commit.hexsha == git.Repo(remote).commit("main").hexsha
    assert not gb.is_dirty(untracked_files=True)
    assert remote_record(remote, "INC-0001")["timeline"][-1]["actor"] == "alice"


NOTES = 20


def _notes_loop(clone: Path, label: str) -> subprocess.Popen[str]:
    script = (
        f"for i in $(seq 1 {NOTES}); do "
        f'"{sys.executable}" -m incidents_cli note INC-0001 "{label} note $i" --push || exit 1; '
        "done"
    )
    return subprocess.Popen(
        ["bash", "-c", script],
        cwd=clone,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_clones_adding_notes_at_once_lose_nothing(repo: Path, tmp_path: Path) -> None:
    remote, (a, b) = clones(repo, tmp_path)
    assert run_cli("declare", "Latency", "--severity", "medium", "--push", cwd=a).code == 0
    subprocess.run(["git", "pull", "-q"], cwd=b, check=True)
    loops = [_notes_loop(a, "A"), _notes_loop(b, "B")]
    for loop in loops:
        _, err = loop.communicate(timeout=300)
        assert loop.returncode == 0, err[-2000:]
    timeline = remote_record(remote, "INC-0001")["timeline"]
    texts = [e["text"] for e in timeline if e["kind"] == "note"]
    expected = {f"{label} note {i}" for label in "AB" for i in range(1, NOTES + 1)}
    assert sorted(texts) == sorted(expected), "every note once"
    times = [e["at"] for e in timeline]
    assert times == sorted(times), "in time order"
    for label in "AB":
        mine = [t for t in texts if t.startswith(label)]
        assert mine == [f"{label} note {i}" for i in range(1, NOTES + 1)]
    log = git.Repo(remote).git.log("--format=%s", "main").splitlines()
    assert sum(1 for s in log if s.startswith("INC-0001 note:")) == 2 * NOTES


def test_two_clones_declaring_at_once_get_two_ids(repo: Path, tmp_path: Path) -> None:
    remote, (a, b) = clones(repo, tmp_path)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "incidents_cli",
                "declare",
                f"Outage seen by {c.name}",
                "--push",
                "--json",
            ],
            cwd=c,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in (a, b)
    ]
    ids = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        ids.append(json.loads(out)["id"])
    assert sorted(ids) == ["INC-0001", "INC-0002"]
    titles = {remote_record(remote, i)["title"] for i in ids}
    assert titles == {"Outage seen by clone0", "Outage seen by clone1"}


def test_push_without_a_remote_is_a_clear_error(repo: Path) -> None:
    result = run_cli("declare", "x", "--push", cwd=repo)
    assert result.code == 2
    assert result.err == "--push: this repository has no remote; add one with `git remote add`\n"


def test_a_hooks_commit_on_top_of_ours_is_not_pushed_with_it_and_that_is_said(
    repo: Path, tmp_path: Path
) -> None:
    """A post-commit hook commits other files (a log of its own) on top of the
    transition's commit. --push publishes the transition's commit only: the hook's commit
    is not ours to publish, so it stays on the branch, unpushed, and a note says so."""
    remote, (a,) = clones(repo, tmp_path, count=1)
    assert run_cli("declare", "API errors", "--severity", "low", "--push", cwd=a).code == 0
    hook = a / ".git" / "hooks" / "post-commit"
    hook.write_text(
        '#!/bin/sh\nif [ -z "$IN_HOOK" ]; then\n'
        "  date >> hook-log.txt && git add hook-log.txt\n"
        '  IN_HOOK=1 git commit -q --no-verify -m "hook: log the commit"\n'
        "fi\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    result = run_cli("note", "INC-0001", "looking at the API logs", "--push", cwd=a)
    assert result.code == 0, result.err
    local = git.Repo(a)
    ours = local.head.commit.parents[0]
    assert local.head.commit.message.startswith("hook: log the commit")
    timeline = remote_record(remote, "INC-0001")["timeline"]
    assert timeline[-1]["text"] == "looking at the API logs"
    assert git.Repo(remote).commit("main").hexsha == ours.hexsha  # not the hook's commit
    assert local.commit("origin/main").hexsha == ours.hexsha
    said = [line for line in result.err.splitlines() if "were not pushed" in line]
    assert len(said) == 1, result.err
    assert said[0].startswith("note: 1 commit(s) made on top of yours since"), said
    assert f"{local.head.commit.hexsha[:12]} 'hook: log the commit'" in said[0]
    assert "they stay on main and go with its next push" in said[0]
