"""Nothing lost (issue #13, items 1-6, 15, 17, 21, 23): transitions under concurrency,
interruption, odd repository states and refusing remotes, through the real CLI and the
installed console script (real processes where signals or parallelism need them)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import run_cli

INCIDENTS = str(Path(sys.executable).parent / "incidents")


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"git {args}: {result.stderr}")
    return result.stdout.strip()


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def at_head(repo: Path, rel: str, rev: str = "HEAD") -> str:
    return git(repo, "show", f"{rev}:{rel}")


def spawn(repo: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [INCIDENTS, "-C", str(repo), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ok(repo: Path, *args: str) -> str:
    result = run_cli(*args, cwd=repo)
    assert result.code == 0, result.err
    return result.out


def active(repo: Path) -> Path:
    """A repository with INC-0001 declared, acknowledged and investigating."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    ok(repo, "ack", "INC-0001", "--severity", "high", "--by", "alice")
    ok(repo, "assign", "INC-0001", "--commander", "alice", "--by", "alice")
    ok(repo, "investigate", "INC-0001", "--by", "alice")
    return repo


def wait_for_git(repo: Path) -> None:
    """A killed command's git child may still be finishing: wait for its index lock."""
    deadline = time.monotonic() + 10
    while (repo / ".git" / "index.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def one_line(text: str) -> str:
    """The one line a refusal says (after the notice of waiting for the lock, if any)."""
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith("incidents: waiting for another")
    ]
    assert len(lines) == 1, text
    return lines[0]


# --- item 1: several commands on one clone ------------------------------------------------


def test_parallel_notes_on_one_clone_each_land_in_head_exactly_once(repo: Path) -> None:
    active(repo)
    before = head(repo)
    procs = {
        i: spawn(repo, "note", "INC-0001", f"parallel note {i}", "--by", "bob") for i in range(10)
    }
    results = {i: (p.wait(timeout=120), *p.communicate()) for i, p in procs.items()}
    record = at_head(repo, "incidents/INC-0001.yaml")
    successes = 0
    for i, (code, out, err) in results.items():
        text = f"parallel note {i}\n"
        if code == 0:
            successes += 1
            assert record.count(text) == 1, (i, out, err)
            commit = out.rsplit("(commit ", 1)[1][:12]
            diff = git(repo, "show", "--format=", commit, "--", "incidents/INC-0001.yaml")
            added = [
                line
                for line in diff.splitlines()
                if line.startswith("+ ") or line.startswith("+  ")
            ]
            assert any(f"parallel note {i}" in line for line in added), (i, diff)
            assert not any(
                f"parallel note {j}" in line for j in range(10) if j != i for line in added
            ), (i, diff)
        else:
            assert code == 2, (i, code, err)
            assert "lock" in one_line(err), err
            assert record.count(text) == 0
    assert successes >= 1
    assert len(git(repo, "rev-list", f"{before}..HEAD").split()) == successes
    assert status(repo) == ""


def test_parallel_mixed_transitions_on_one_clone_serialize(repo: Path) -> None:
    active(repo)
    ok(repo, "declare", "Sign-in slow", "--component", "auth", "--by", "alice")
    ok(repo, "declare", "Payments failing", "--component", "payments", "--by", "alice")
    before = head(repo)
    commands = [
        ("declare", "Parallel one", "--by", "carol"),
        ("declare", "Parallel two", "--by", "carol"),
        ("ack", "INC-0002", "--severity", "medium", "--by", "bob"),
        ("ack", "INC-0002", "--severity", "low", "--by", "carol"),
        ("note", "INC-0001", "mixed note a", "--by", "bob"),
        ("note", "INC-0001", "mixed note b", "--by", "carol"),
        ("update", "INC-0001", "--status", "identified", "--message", "Found it", "--by", "bob"),
        ("severity", "INC-0001", "critical", "--by", "alice"),
        ("assign", "INC-0001", "--comms", "bob", "--by", "alice"),
        ("ack", "INC-0003", "--severity", "high", "--by", "bob"),
    ]
    procs = [spawn(repo, *command) for command in commands]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    for command, (code, _out, err) in zip(commands, results, strict=True):
        if code != 0:
            assert code == 2, (command, code, err)
            one_line(err)
    succeeded = [c for c, r in zip(commands, results, strict=True) if r[0] == 0]
    commits = git(repo, "rev-list", f"{before}..HEAD").split()
    assert len(commits) == len(succeeded)
    # the two acks of INC-0002: exactly one wins, the other says it is acknowledged already
    acks = [r for c, r in zip(commands, results, strict=True) if c[:2] == ("ack", "INC-0002")]
    assert sorted(r[0] for r in acks) == [0, 2]
    assert "acknowledged" in next(r[2] for r in acks if r[0] == 2)
    # the two declares got two different ids, both in HEAD
    declared = [
        r[1].split()[1].rstrip(":")
        for c, r in zip(commands, results, strict=True)
        if c[0] == "declare" and r[0] == 0
    ]
    assert len(set(declared)) == len(declared)
    for incident_id in declared:
        at_head(repo, f"incidents/{incident_id}.yaml")
    record = at_head(repo, "incidents/INC-0001.yaml")
    for text, command in (("mixed note a", commands[4]), ("mixed note b", commands[5])):
        expected = 1 if results[commands.index(command)][0] == 0 else 0
        assert record.count(text) == expected
    assert status(repo) == ""
    assert run_cli("validate", cwd=repo).code == 0


def test_a_transition_waits_a_bounded_time_for_the_lock_then_names_its_holder(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl
    import json

    active(repo)
    before = head(repo)
    lock = repo / ".git" / "incidents.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(json.dumps({"pid": 4242, "command": "note INC-0001 slow", "since": "then"}))
        held.flush()
        monkeypatch.setenv("INCIDENTS_LOCK_WAIT", "1.5")
        started = time.monotonic()
        result = run_cli("note", "INC-0001", "x", "--by", "bob", cwd=repo)
        waited = time.monotonic() - started
    assert result.code == 2
    assert 1.4 < waited < 10
    line = one_line(result.err)
    assert "pid 4242" in line and "note INC-0001 slow" in line and "incidents.lock" in line
    assert head(repo) == before and status(repo) == ""
    # the holder is gone: the next command goes through at once
    assert run_cli("note", "INC-0001", "x", "--by", "bob", cwd=repo).code == 0


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf", "1e999"])
def test_a_lock_wait_that_is_not_a_number_of_seconds_is_one_line_naming_the_variable(
    repo: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    active(repo)
    before = head(repo)
    monkeypatch.setenv("INCIDENTS_LOCK_WAIT", value)
    result = run_cli("note", "INC-0001", "x", "--by", "bob", cwd=repo)
    assert result.code == 2
    line = one_line(result.err)
    assert line.startswith(f"INCIDENTS_LOCK_WAIT={value!r}: not a number of seconds"), line
    assert head(repo) == before and status(repo) == ""
    for fine in ("0", " 2.5 ", ""):  # 0: do not wait; empty: as if unset
        monkeypatch.setenv("INCIDENTS_LOCK_WAIT", fine)
        assert run_cli("note", "INC-0001", f"x{fine}", "--by", "bob", cwd=repo).code == 0


# --- item 2: id and file name disagree ------------------------------------------------------


def test_a_record_whose_id_differs_from_its_file_name_is_refused(repo: Path) -> None:
    active(repo)
    shutil.copy(repo / "incidents/INC-0001.yaml", repo / "incidents/INC-0002.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "hand copy")
    before, original = head(repo), (repo / "incidents/INC-0001.yaml").read_bytes()
    result = run_cli("note", "INC-0002", "x", cwd=repo)
    assert result.code == 2
    line = one_line(result.err)
    assert "incidents/INC-0002.yaml" in line and "INC-0001" in line
    assert head(repo) == before
    assert (repo / "incidents/INC-0001.yaml").read_bytes() == original
    assert status(repo) == ""


# --- item 3: interrupted at random points -------------------------------------------------


def test_an_interrupt_at_any_point_leaves_the_repository_unchanged_or_one_commit_ahead(
    repo: Path,
) -> None:
    active(repo)
    rng = random.Random(1313)
    # how long one note takes here, to spread the interrupts over its whole run
    started = time.monotonic()
    subprocess.run(
        [INCIDENTS, "-C", str(repo), "note", "INC-0001", "timing"], check=True, capture_output=True
    )
    span = time.monotonic() - started
    bad: list[str] = []
    for round_ in range(30):
        before = head(repo)
        sig = signal.SIGINT if round_ % 3 else signal.SIGKILL
        proc = spawn(repo, "note", "INC-0001", f"interrupted {round_}", "--by", "bob")
        time.sleep(rng.uniform(0.2, 1.1) * span)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        wait_for_git(repo)
        ahead = git(repo, "rev-list", f"{before}..HEAD").split()
        if sig == signal.SIGINT and (len(ahead) > 1 or status(repo) != ""):
            bad.append(f"SIGINT round {round_}: {len(ahead)} ahead, status {status(repo)!r}")
        # the next command works, and after it the tree is clean again
        after = run_cli("note", "INC-0001", f"next {round_}", "--by", "bob", cwd=repo)
        if after.code != 0:
            bad.append(f"{sig.name} round {round_}: next command: {after.err}")
            git(repo, "reset", "-q", "--hard")
            git(repo, "clean", "-qfd")
            continue
        ahead = git(repo, "rev-list", f"{before}..HEAD").split()
        if len(ahead) not in (1, 2) or status(repo) != "":
            bad.append(f"{sig.name} round {round_}: {len(ahead)} ahead, status {status(repo)!r}")
        record = at_head(repo, "incidents/INC-0001.yaml")
        if record.count(f"interrupted {round_}\n") != len(ahead) - 1:
            bad.append(f"{sig.name} round {round_}: commits and notes disagree")
    assert not bad, bad


# --- item 4: a merge, rebase, cherry-pick, revert or bisect in progress --------------------


def _side_branch(repo: Path, conflict: bool) -> None:
    """A branch `side` changing README.md (and main changing it too, if ``conflict``)."""
    git(repo, "checkout", "-qb", "side")
    (repo / "README.md").write_text("side\n", encoding="utf-8")
    git(repo, "commit", "-qam", "side edit")
    git(repo, "checkout", "-q", "main")
    if conflict:
        (repo / "README.md").write_text("main\n", encoding="utf-8")
        git(repo, "commit", "-qam", "main edit")


def _merge(repo: Path) -> None:
    _side_branch(repo, conflict=False)
    git(repo, "merge", "--no-commit", "--no-ff", "-q", "side")


def _rebase(repo: Path) -> None:
    (repo / "README.md").write_text("one\n", encoding="utf-8")
    git(repo, "commit", "-qam", "readme one")
    (repo / "README.md").write_text("two\n", encoding="utf-8")
    git(repo, "commit", "-qam", "readme two")
    env = dict(os.environ, GIT_SEQUENCE_EDITOR="sed -i 1s/^pick/edit/")
    subprocess.run(
        ["git", "rebase", "-qi", "HEAD~2"], cwd=repo, env=env, check=True, capture_output=True
    )


def _cherry_pick(repo: Path) -> None:
    _side_branch(repo, conflict=True)
    git(repo, "cherry-pick", "side", check=False)
    git(repo, "checkout", "--theirs", "README.md")
    git(repo, "add", "README.md")


def _revert(repo: Path) -> None:
    (repo / "README.md").write_text("one\n", encoding="utf-8")
    git(repo, "commit", "-qam", "readme one")
    (repo / "README.md").write_text("two\n", encoding="utf-8")
    git(repo, "commit", "-qam", "readme two")
    git(repo, "revert", "--no-edit", "HEAD~1", check=False)
    (repo / "README.md").write_text("resolved\n", encoding="utf-8")
    git(repo, "add", "README.md")


def _bisect(repo: Path) -> None:
    git(repo, "bisect", "start")


@pytest.mark.parametrize(
    ("make", "state_word", "marker"),
    [
        (_merge, "merge", "MERGE_HEAD"),
        (_rebase, "rebase", "rebase-merge"),
        (_cherry_pick, "cherry-pick", "CHERRY_PICK_HEAD"),
        (_revert, "revert", "REVERT_HEAD"),
        (_bisect, "bisect", "BISECT_START"),
    ],
)
def test_a_transition_is_refused_while_git_is_in_the_middle_of_something(
    repo: Path, make: object, state_word: str, marker: str
) -> None:
    active(repo)
    make(repo)  # type: ignore[operator]
    assert (repo / ".git" / marker).exists()
    before, index, files = head(repo), git(repo, "ls-files", "-s"), status(repo)
    result = run_cli("note", "INC-0001", "during", cwd=repo)
    assert result.code == 2, result.err
    assert state_word in one_line(result.err)
    assert (head(repo), git(repo, "ls-files", "-s"), status(repo)) == (before, index, files)
    assert (repo / ".git" / marker).exists()


# --- item 5: a record larger than the read limit ------------------------------------------


def test_a_transition_that_would_make_a_record_too_big_to_read_is_refused(repo: Path) -> None:
    active(repo)
    big = "x" * 500_000
    refused = None
    for _ in range(8):
        result = run_cli("note", "INC-0001", big, "--by", "bob", cwd=repo)
        if result.code != 0:
            refused = result
            break
    assert refused is not None, "never refused"
    assert refused.code == 2
    line = one_line(refused.err)
    assert "incidents/INC-0001.yaml" in line and "limit" in line
    assert len(line) < 400
    assert status(repo) == ""
    assert run_cli("validate", cwd=repo).code == 0
    shown = run_cli("list", cwd=repo)
    assert shown.code == 0 and "INC-0001" in shown.out


# --- item 6: a push the server refuses ------------------------------------------------------


def test_a_push_refused_by_a_hook_says_why_keeps_the_commit_and_a_retry_does_not_duplicate(
    repo: Path, tmp_path: Path
) -> None:
    active(repo)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'protected branch: ask an admin' >&2\nexit 1\n", encoding="utf-8"
    )
    hook.chmod(0o755)
    before = head(repo)
    result = run_cli("note", "INC-0001", "pushed note", "--push", "--by", "bob", cwd=repo)
    assert result.code == 2, result.err
    assert "protected branch: ask an admin" in result.err
    committed = head(repo)
    assert git(repo, "rev-parse", "HEAD~1") == before
    assert "committed locally" in result.err and committed[:12] in result.err
    assert "git push" in result.err
    assert status(repo) == ""
    hook.unlink()
    retry = run_cli("note", "INC-0001", "pushed note", "--push", "--by", "bob", cwd=repo)
    assert retry.code == 0, retry.err
    remote_record = git(remote, "show", "main:incidents/INC-0001.yaml")
    assert remote_record.count("pushed note\n") == 1
    assert head(repo) == git(remote, "rev-parse", "main")


# --- item 15: exit 2, not 3 ---------------------------------------------------------------


def test_a_title_over_the_limit_is_refused_in_one_short_line(repo: Path) -> None:
    before = head(repo)
    result = run_cli("declare", "T" * 5000, cwd=repo)
    assert result.code == 2
    line = one_line(result.err)
    assert "title" in line and len(line) < 300
    assert head(repo) == before and status(repo) == ""


def test_a_blank_actor_is_refused(repo: Path) -> None:
    active(repo)
    before = head(repo)
    result = run_cli("note", "INC-0001", "x", "--by", "   ", cwd=repo)
    assert result.code == 2
    assert "--by" in one_line(result.err)
    assert head(repo) == before and status(repo) == ""


def test_an_existing_index_lock_is_reported_as_such(repo: Path) -> None:
    active(repo)
    (repo / ".git" / "index.lock").write_text("", encoding="utf-8")
    before = head(repo)
    result = run_cli("note", "INC-0001", "x", "--by", "bob", cwd=repo)
    assert result.code == 2
    line = one_line(result.err)
    assert "index.lock" in line and "reset" not in line
    (repo / ".git" / "index.lock").unlink()
    assert head(repo) == before and status(repo) == ""


@pytest.fixture
def read_only(repo: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    active(repo)
    view = tmp_path / "ro"
    view.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(["mount", "--bind", str(repo), str(view)], capture_output=True).returncode
    ):
        pytest.skip("needs root to bind-mount a read-only view")
    try:
        if subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(view)], capture_output=True
        ).returncode:
            pytest.skip("cannot remount read-only here")
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=False)


def test_a_read_only_file_system_is_refused(read_only: Path) -> None:
    before = head(read_only)
    result = run_cli("note", "INC-0001", "x", "--by", "bob", cwd=read_only)
    assert result.code == 2, result.err
    assert "read-only" in one_line(result.err)
    assert head(read_only) == before


# --- item 17: control characters in what the CLI writes -----------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("note", "INC-0001", "x", "--by", "mallory\nPhase: closed"),
        ("note", "INC-0001", "bell\x07here", "--by", "bob"),
        ("update", "INC-0001", "--status", "identified", "--message", "a\x1b[2Jb", "--by", "bob"),
        ("declare", "Title\x00with nul", "--by", "bob"),
    ],
)
def test_control_characters_in_what_the_cli_writes_are_refused(
    repo: Path, args: tuple[str, ...]
) -> None:
    active(repo)
    before = head(repo)
    result = run_cli(*args, cwd=repo)
    assert result.code == 2, result.err
    assert "control character" in one_line(result.err)
    assert head(repo) == before and status(repo) == ""


# --- item 21: ids checked against the id pattern ------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("postmortem", "../incidents/INC-0001"),
        ("note", "../incidents/INC-0001", "x"),
        ("ack", "INC-0001/../INC-0001", "--severity", "low"),
        ("show", "../incidents/INC-0001"),
    ],
)
def test_ids_given_to_commands_must_match_the_id_pattern(repo: Path, args: tuple[str, ...]) -> None:
    active(repo)
    ok(repo, "resolve", "INC-0001", "--action", "rollback", "--summary", "done", "--by", "alice")
    before = head(repo)
    result = run_cli(*args, cwd=repo)
    assert result.code == 2, result.err
    assert "not an incident id" in one_line(result.err)
    assert head(repo) == before and status(repo) == ""
    assert not (repo / "incidents" / "INC-0001.md").exists()


# --- item 23: postmortem --branch and the repository's hooks --------------------------------


def _resolved(repo: Path) -> None:
    active(repo)
    ok(repo, "resolve", "INC-0001", "--action", "rollback", "--summary", "done", "--by", "alice")


def test_postmortem_on_a_branch_runs_the_commit_hooks(repo: Path) -> None:
    _resolved(repo)
    hooks = repo / ".git" / "hooks"
    msg_hook = hooks / "commit-msg"
    msg_hook.write_text('#!/bin/sh\necho "Hooked: yes" >> "$1"\n', encoding="utf-8")
    msg_hook.chmod(0o755)
    before = head(repo)
    result = run_cli("postmortem", "INC-0001", "--branch", "--by", "alice", cwd=repo)
    assert result.code == 0, result.err
    assert "Hooked: yes" in git(repo, "log", "-1", "--format=%B", "postmortem/INC-0001")
    assert head(repo) == before and status(repo) == ""
    assert git(repo, "branch", "--show-current") == "main"


def test_postmortem_on_a_branch_is_refused_by_a_failing_pre_commit_hook(repo: Path) -> None:
    _resolved(repo)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    before = head(repo)
    result = run_cli("postmortem", "INC-0001", "--branch", "--by", "alice", cwd=repo)
    assert result.code == 2
    assert "lint failed" in result.err
    assert git(repo, "branch", "--list", "postmortem/INC-0001") == ""
    assert head(repo) == before and status(repo) == ""
    assert git(repo, "worktree", "list").count("\n") == 0
