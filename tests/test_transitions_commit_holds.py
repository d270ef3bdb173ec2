"""What a transition's commit holds: exactly the files the transition wrote, with the bytes
it checked, or no success is reported. Each case here made main commit something else and
say it succeeded: a person's `git add` that landed between the check that nothing is staged
and the commit, and a clean filter that rewrote a record into one that does not validate."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import run_cli
from .git_helpers import git, hook

RECORD = "incidents/INC-0001.yaml"


def changed_by_head(repo: Path) -> list[str]:
    return git(repo, "show", "--format=", "--name-only", "HEAD").splitlines()


def state(repo: Path) -> tuple[str, str, str, bytes]:
    """HEAD, the index, what git status says, and the record's bytes."""
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "ls-files", "-s"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        (repo / RECORD).read_bytes(),
    )


def _persons_edit(repo: Path) -> str:
    """A tracked file the person has edited, not staged yet; what they will stage."""
    notes = repo / "notes.txt"
    notes.write_text("first\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "notes")
    notes.write_text("first\nsecond, staged by the person\n", encoding="utf-8")
    return git(repo, "hash-object", "notes.txt")


def test_a_persons_git_add_between_the_staged_check_and_the_commit_is_not_committed(
    repo: Path,
) -> None:
    """The race itself, made deterministic: `declare` checks that nothing is staged, stages
    its new record (`git add`, which runs the post-index-change hook once git's index is
    written and unlocked), then commits with --include. The hook is the person's `git add`
    in that window, on the real index, exactly as a person's racing command lands. main
    committed the person's file along (2 in 80 runs of a hammering test); their file must
    end up staged as they staged it, and the commit hold the record alone."""
    staged_blob = _persons_edit(repo)
    (repo / ".git" / "race-once").touch()
    hook(
        repo,
        "post-index-change",
        "[ -f .git/race-once ] || exit 0\nrm .git/race-once\ngit add notes.txt\n",
    )
    done = run_cli("declare", "Checkout down", "--by", "ana", cwd=repo)
    assert done.code == 0, done.err
    assert not (repo / ".git" / "race-once").exists()  # the person's add did run
    assert changed_by_head(repo) == [RECORD]
    assert git(repo, "diff", "--cached", "--name-only") == "notes.txt"
    assert git(repo, "rev-parse", ":notes.txt") == staged_blob
    assert git(repo, "status", "--porcelain") == "M  notes.txt"
    assert git(repo, "rev-list", "--count", "HEAD") == "3"  # init, notes, the declare


def test_a_file_staged_during_the_commit_is_taken_out_and_the_hooks_run_on_the_commit_that_stays(
    repo: Path, tmp_path: Path
) -> None:
    """The person's `git add` while git commits (here from the pre-commit hook, once: the
    index git commits is the one it reads after that hook). The commit that stays is made
    by `git commit` again, so the repository's hooks ran on it and its signing applies."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    staged_blob = _persons_edit(repo)
    key = tmp_path / "signing-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    git(repo, "config", "commit.gpgsign", "true")
    (repo / ".git" / "race-once").touch()
    runs = repo / ".git" / "hook-runs"
    hook(
        repo,
        "pre-commit",
        f"echo run >> {runs}\n"
        "[ -f .git/race-once ] || exit 0\nrm .git/race-once\ngit add notes.txt\n",
    )
    hook(repo, "commit-msg", 'echo "Checked-By: hook" >> "$1"\n')
    before = git(repo, "rev-parse", "HEAD")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 0, done.err
    assert changed_by_head(repo) == [RECORD]
    assert git(repo, "rev-parse", "HEAD~1") == before
    assert git(repo, "rev-parse", ":notes.txt") == staged_blob
    assert git(repo, "status", "--porcelain") == "M  notes.txt"
    assert runs.read_text(encoding="utf-8") == "run\nrun\n"
    commit = git(repo, "cat-file", "commit", "HEAD")
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in commit
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("INC-0001") and message.count("Checked-By: hook") == 1


def test_a_hook_that_stages_other_files_in_every_commit_is_said_not_reported_as_success(
    repo: Path,
) -> None:
    """No commit of this change alone can be made: the command says so, and which file,
    and leaves the one commit (the change with the hook's file), not a success."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    _persons_edit(repo)
    hook(repo, "pre-commit", "git add notes.txt\n")
    before = git(repo, "rev-parse", "HEAD")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2, done.err
    line = done.err.strip().splitlines()[-1]
    assert "stages notes.txt in every commit" in line, done.err
    assert git(repo, "rev-parse", "HEAD~1") == before
    assert sorted(changed_by_head(repo)) == [RECORD, "notes.txt"]
    assert git(repo, "status", "--porcelain") == ""


def test_a_clean_filter_that_breaks_the_record_is_refused_and_everything_is_as_it_was(
    repo: Path,
) -> None:
    """The bytes git commits go through the repository's clean filter. One that turns the
    record into YAML that does not validate made main commit it and report success; the
    commit is taken back (HEAD, index entry and file as before) and one line says which
    file and which filter."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_text("incidents/*.yaml filter=breaker\n", encoding="utf-8")
    git(repo, "config", "filter.breaker.clean", "sed -e 's/^severity: high$/severity: [high/'")
    git(repo, "config", "filter.breaker.smudge", "cat")
    before = state(repo)
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2, done.out
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith(f"{RECORD}: refused: the clean filter `breaker`"), lines[0]
    assert lines[0].endswith("nothing was changed")
    assert state(repo) == before


def test_a_clean_filter_that_converts_line_ends_and_still_validates_keeps_working(
    repo: Path,
) -> None:
    """A filter that stores other bytes (CRLF line ends in the repository) but a record
    that validates: every transition still succeeds, and HEAD holds the converted bytes."""
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_text("incidents/*.yaml filter=crlf\n", encoding="utf-8")
    git(repo, "config", "filter.crlf.clean", "sed -e 's/$/\\r/'")
    git(repo, "config", "filter.crlf.smudge", "sed -e 's/\\r$//'")
    for args in (
        ("declare", "Checkout down", "--by", "ana"),
        ("ack", "1", "--severity", "high", "--by", "ana"),
        ("note", "1", "looking", "--by", "ana"),
    ):
        done = run_cli(*args, cwd=repo)
        assert done.code == 0, done.err
        assert changed_by_head(repo) == [RECORD]
        assert git(repo, "status", "--porcelain") == ""
    committed = subprocess.run(
        ["git", "cat-file", "blob", f"HEAD:{RECORD}"], cwd=repo, capture_output=True, check=True
    ).stdout
    assert committed.count(b"\r\n") == committed.count(b"\n") > 0
    assert run_cli("validate", cwd=repo).code == 0


def test_a_hook_that_refuses_the_commit_made_again_leaves_everything_as_it_was(
    repo: Path,
) -> None:
    """Taking the person's file out needs a second `git commit`; when the repository's hook
    refuses that one, nothing of the change remains: HEAD, the record and its index entry
    as before, and the person's file staged as they staged it."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    staged_blob = _persons_edit(repo)
    (repo / ".git" / "race-once").touch()
    hook(
        repo,
        "pre-commit",
        "[ -f .git/race-once ] || { echo 'policy: no second try' >&2; exit 1; }\n"
        "rm .git/race-once\ngit add notes.txt\n",
    )
    head = git(repo, "rev-parse", "HEAD")
    record = (repo / RECORD).read_bytes()
    entry = git(repo, "ls-files", "-s", "--", RECORD)
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2, done.out
    assert "policy: no second try" in done.err
    assert done.err.strip().endswith("files, index and branch are as they were")
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / RECORD).read_bytes() == record
    assert git(repo, "ls-files", "-s", "--", RECORD) == entry
    assert git(repo, "rev-parse", ":notes.txt") == staged_blob
    assert git(repo, "status", "--porcelain") == "M  notes.txt"


def test_a_sha256_repository_commits_and_checks_by_its_own_blob_ids(tmp_path: Path) -> None:
    """The blob ids compared after the commit are the repository's (SHA-256 here): the
    transitions succeed, and a breaking filter is still caught."""
    repo = tmp_path / "sha256"
    subprocess.run(["git", "init", "-q", "--object-format=sha256", str(repo)], check=True)
    assert run_cli("init", str(repo)).code == 0
    assert len(git(repo, "rev-parse", "HEAD")) == 64
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    assert run_cli("note", "1", "looking", "--by", "ana", cwd=repo).code == 0
    assert changed_by_head(repo) == [RECORD]
    assert git(repo, "status", "--porcelain") == ""
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_text("incidents/*.yaml filter=breaker\n", encoding="utf-8")
    git(repo, "config", "filter.breaker.clean", "sed -e 's/^severity: high$/severity: [high/'")
    before = state(repo)
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2 and "the clean filter `breaker`" in done.err, done.err
    assert state(repo) == before
