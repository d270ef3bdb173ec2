"""Hostile cases for the transition path (store/transaction.py, store/git.py, store/lock.py):
odd repositories, hooks, filters and interruptions, through the real CLI and console script."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git as gitpython
import pytest

from .conftest import run_cli
from .test_postmortems import publish, resolved_incident
from .test_trust_git import INCIDENTS, git, head, ok, status

# a hook run by `git commit`: SIGKILL to the incidents process that runs git, then a refusal
KILL_INCIDENTS_THEN_REFUSE = "#!/bin/sh\nkill -KILL \"$(cut -d' ' -f4 /proc/$PPID/stat)\"\nexit 1\n"


def hook(repo: Path, name: str, text: str) -> Path:
    hooks = repo / "hooks" if repo.suffix == ".git" else repo / ".git" / "hooks"
    path = hooks / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def test_a_close_killed_mid_commit_keeps_the_staged_postmortem(repo: Path) -> None:
    """The close commits a postmortem a person staged, as staged. Killed after writing and
    before the commit, the next command's recovery must not take that staged work for its
    own half-done write: the person's postmortem stays staged, not reset to HEAD."""
    iid = resolved_incident(repo)
    ok(repo, "postmortem", iid, "--by", "alice")
    rel = f"postmortems/{iid}.md"
    path = repo / rel
    path.write_text(publish(path.read_text()))
    gitpython.Repo(repo).index.add([rel])
    mine = path.read_bytes()
    before = head(repo)
    pre_commit = hook(repo, "pre-commit", KILL_INCIDENTS_THEN_REFUSE)
    killed = subprocess.run([INCIDENTS, "-C", str(repo), "close", iid], capture_output=True)
    assert killed.returncode == -9
    pre_commit.unlink()
    assert head(repo) == before
    ok(repo, "note", iid, "after the crash", "--by", "bob")
    assert path.read_bytes() == mine
    assert status(repo) == f"M  {rel}"


def test_a_refused_commit_puts_a_crlf_record_back_byte_for_byte(repo: Path) -> None:
    """A record committed with CRLF line ends (a Windows editor, no autocrlf): when a
    commit-msg hook refuses, the file is put back as it was, not with LF line ends."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    path = repo / "incidents" / "INC-0001.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    git(repo, "commit", "-qam", "CRLF line ends")
    original, before = path.read_bytes(), head(repo)
    hook(repo, "commit-msg", "#!/bin/sh\necho 'policy: no' >&2\nexit 1\n")
    result = run_cli("ack", "INC-0001", "--severity", "high", "--by", "alice", cwd=repo)
    assert result.code == 2
    assert result.err.strip().endswith("files, index and branch are as they were")
    assert path.read_bytes() == original
    assert head(repo) == before and status(repo) == ""


def test_an_incidents_folder_that_is_a_symlink_or_a_submodule_is_refused_not_a_bug(
    repo: Path, tmp_path: Path
) -> None:
    """git refuses paths beyond a symlink or inside a submodule (`git add` fails): a declare
    there was exit 3 (a bug); it is a refusal in one line, with nothing changed."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    git(repo, "mv", "incidents", "real-incidents")
    (repo / "incidents").symlink_to("real-incidents")
    git(repo, "add", "incidents")
    git(repo, "commit", "-qm", "incidents/ is a symlink")
    before = head(repo)
    result = run_cli("declare", "Second", "--component", "api", "--by", "alice", cwd=repo)
    assert result.code == 2, result.err
    assert result.err.strip() == "incidents/ is a symlink; records must be in the repository itself"
    assert head(repo) == before and status(repo) == ""

    source = tmp_path / "source"
    git(tmp_path, "init", "-q", str(source))
    for record in (repo / "real-incidents").iterdir():
        (source / record.name).write_bytes(record.read_bytes())
    git(source, "add", "-A")
    git(source, "commit", "-qm", "records")
    git(repo, "rm", "-q", "incidents")
    git(
        repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(source), "incidents"
    )
    git(repo, "commit", "-qm", "incidents/ is a submodule")
    before = head(repo)
    for args in (
        ("declare", "Second", "--component", "api"),
        ("ack", "INC-0001", "--severity", "high"),
    ):
        result = run_cli(*args, "--by", "alice", cwd=repo)
        assert result.code == 2, result.err
        assert result.err.strip().startswith("incidents/ is a separate git repository")
        assert head(repo) == before and status(repo) == ""


def test_a_declare_outside_the_sparse_checkout_is_refused_not_a_bug(repo: Path) -> None:
    """With incidents/ outside a sparse checkout, git will not add a new record there
    (and this work tree cannot see the ids already taken): a refusal, nothing changed."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    git(repo, "sparse-checkout", "set", "--no-cone", "/*", "!/incidents/")
    before = head(repo)
    result = run_cli("declare", "Second", "--component", "api", "--by", "alice", cwd=repo)
    assert result.code == 2, result.err
    assert "outside this work tree's sparse checkout" in result.err
    assert head(repo) == before and status(repo) == ""
    assert git(repo, "show", "HEAD:incidents/INC-0001.yaml").startswith("id: INC-0001")


def test_git_commit_cut_short_after_making_the_commit_is_not_reported_as_nothing_done(
    repo: Path,
) -> None:
    """Ctrl-C in a terminal reaches git too: `git commit` killed after it moved HEAD (here
    from its post-commit hook) exits non-zero, but the commit stands. Saying 'files, index
    and branch are as they were' made people run the note again: a second, duplicate note."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    before = head(repo)
    hook(repo, "post-commit", "#!/bin/sh\nkill -INT $PPID\nsleep 1\n")
    result = subprocess.run(
        [INCIDENTS, "-C", str(repo), "note", "INC-0001", "once", "--by", "bob"],
        capture_output=True,
        text=True,
    )
    assert "as they were" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert git(repo, "rev-list", f"{before}..HEAD").count("\n") == 0  # one commit
    assert head(repo) != before and status(repo) == ""
    assert "once" in git(repo, "show", "HEAD:incidents/INC-0001.yaml")


def test_after_a_refused_push_the_advice_given_works(repo: Path, tmp_path: Path) -> None:
    """The remote refuses a push once (a pre-receive hook). The message said that running
    the same command again pushes the commit, but an ack run again is refused (the incident
    is acknowledged already): what it says now, the next --push command, does push it."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    remote = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "fetch", "-q", "origin")
    git(repo, "branch", "-q", "--set-upstream-to", "origin/main")
    flag = tmp_path / "refused-once"
    hook(
        remote,
        "pre-receive",
        f'#!/bin/sh\n[ -f "{flag}" ] && exit 0\ntouch "{flag}"\necho "frozen, try later" >&2\n'
        "exit 1\n",
    )
    result = run_cli("ack", "INC-0001", "--severity", "high", "--by", "alice", "--push", cwd=repo)
    assert result.code == 2 and "origin refused the push: frozen, try later" in result.err
    assert "running this command again" not in result.err
    assert "so does the next command run with --push" in result.err
    acked = head(repo)
    again = run_cli("ack", "INC-0001", "--severity", "high", "--by", "alice", "--push", cwd=repo)
    assert again.code == 2 and "it is acknowledged" in again.err
    ok(repo, "note", "INC-0001", "looking", "--by", "alice", "--push")
    git(remote, "merge-base", "--is-ancestor", acked, "main")
    assert git(remote, "rev-parse", "main") == head(repo) and status(repo) == ""


def test_a_new_record_git_ignores_is_refused_not_a_bug(repo: Path) -> None:
    """A .gitignore rule that matches the new record (a mistake, but it happens): git add
    refused it and declare exited 3 with git's advice; now one line naming the way out."""
    with (repo / ".gitignore").open("a", encoding="utf-8") as ignore:
        ignore.write("incidents/*.yaml\n")
    git(repo, "commit", "-qam", "ignore the records by mistake")
    before = head(repo)
    result = run_cli("declare", "Database unreachable", "--component", "api", cwd=repo)
    assert result.code == 2, result.err
    assert result.err.strip().startswith("incidents/INC-0001.yaml is ignored by git")
    assert head(repo) == before and status(repo) == ""


def test_a_record_marked_assume_unchanged_or_skip_worktree_is_refused_clearly(
    repo: Path,
) -> None:
    """git does not look at a file so marked: the commit had 'nothing to commit' and the
    refusal said only 'git commit failed'. Now it names the mark and how to clear it; the
    person's hidden local edit and the mark are kept."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    path = repo / "incidents" / "INC-0001.yaml"
    for mark in ("--assume-unchanged", "--skip-worktree"):
        git(repo, "update-index", "--no-assume-unchanged", "--no-skip-worktree", str(path))
        git(repo, "checkout", "-q", "--", str(path))
        path.write_text(path.read_text(encoding="utf-8") + "# my local note\n", encoding="utf-8")
        git(repo, "update-index", mark, str(path))
        mine, before = path.read_bytes(), head(repo)
        result = run_cli("ack", "INC-0001", "--severity", "high", "--by", "alice", cwd=repo)
        assert result.code == 2, result.err
        assert result.err.startswith("incidents/INC-0001.yaml is marked assume-unchanged or")
        assert path.read_bytes() == mine and head(repo) == before
        assert git(repo, "ls-files", "-v", str(path))[0] in "hS"


def test_the_actor_is_the_author_git_records_when_named_in_the_environment(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the identity only in GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL (CI jobs do this), git
    commits fine, but transitions said 'who is doing this?'; with both, the Actor trailer
    named someone other than the commit's author."""
    git(repo, "config", "user.name", "Config Name")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Env Person")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "env@example.com")
    import incidents_cli.store.git as gitrepo

    monkeypatch.setattr(gitrepo, "_ENV", None)  # git's environment, as a new process has it
    ok(repo, "declare", "Database unreachable", "--component", "api")
    assert git(repo, "log", "-1", "--format=%an|%(trailers:key=Actor,valueonly)") == (
        "Env Person|Env Person"
    )


def test_a_folder_with_a_line_break_in_its_path_is_refused_in_one_line_and_nothing_is_made(
    tmp_path: Path, repo: Path
) -> None:
    """git prints paths one per line: such a folder was read as two paths (exit 3), and init
    left a repository behind."""
    odd = tmp_path / "on\ncall"
    result = run_cli("init", str(odd))
    assert result.code == 2
    assert "line break" in result.err and len(result.err.strip().splitlines()) == 1
    assert not odd.exists()
    moved = repo.rename(tmp_path / "in\nside")
    result = run_cli("declare", "Checkout fails", cwd=moved)
    assert result.code == 2
    assert "line break" in result.err and len(result.err.strip().splitlines()) == 1
    assert not list((moved / "incidents").glob("*.yaml"))
