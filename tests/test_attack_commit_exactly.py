"""Attacks on how a transition's commit is made to hold exactly its files (commit
``commit_exactly``'s repair of a commit that took along a person's work). Each test here
failed on the branch it attacked: the promise is that a person's work, staged, unstaged or
committed, is never committed by us, dropped or lost, and that what is said is true."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import run_cli
from .git_helpers import git, hook, their_commit_once

RECORD = "incidents/INC-0001.yaml"


def is_ancestor(repo: Path, commit: str, of: str = "HEAD") -> bool:
    done = subprocess.run(["git", "merge-base", "--is-ancestor", commit, of], cwd=repo)
    return done.returncode == 0


def test_someone_elses_commit_made_right_after_ours_stays_on_the_branch(repo: Path) -> None:
    """Another process (here the post-commit hook, run once, as a stand-in for a person's
    `git commit` in another terminal) commits a file of theirs right after the transition's
    commit, before the transition reads HEAD back. The transition takes that commit for its
    own, sees a file it did not write, and moves HEAD back to that commit's parent: the
    person's commit is dropped from the branch (reflog only), their change left staged, and
    the command says "git commit failed ...; files, index and branch are as they were" with
    exit 2 while its own commit stands."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    their_commit_once(repo, "post-commit")
    before = git(repo, "rev-parse", "HEAD")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    theirs = [
        line.split()[0]
        for line in git(repo, "log", "-g", "--format=%H %gs", "HEAD").splitlines()
        if line.endswith("commit: theirs")
    ]
    assert theirs, "the person's commit was made"
    assert is_ancestor(repo, theirs[0]), (done.code, done.err, git(repo, "status", "--short"))
    assert git(repo, "diff", "--cached", "--name-only") == ""
    assert done.code == 0 or git(repo, "rev-parse", "HEAD") == before, done.err


def test_a_persons_git_add_in_the_first_commit_of_a_repository_is_not_committed(
    tmp_path: Path,
) -> None:
    """A repository with no commit yet (incidents works in one: `declare` makes its first
    commit). A person's `git add README.md` lands between the check that nothing is staged
    and `git commit --include` (the post-index-change hook of declare's own `git add`, as in
    test_transitions_commit_holds). With no parent to go back to, the repair gives up: the
    person's README.md is committed in the transition's commit (exit 2, "also committed
    README.md"), and their staged file is no longer theirs to commit."""
    repo = tmp_path / "repo"
    assert run_cli("init", str(repo)).code == 0
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    git(repo, "init", "-q")
    (repo / ".git" / "race-once").touch()
    hook(
        repo,
        "post-index-change",
        "[ -f .git/race-once ] || exit 0\nrm .git/race-once\ngit add README.md\n",
    )
    done = run_cli("declare", "Checkout down", "--by", "ana", cwd=repo)
    assert not (repo / ".git" / "race-once").exists()  # the person's add did run
    committed = git(repo, "log", "--all", "--format=", "--name-only").splitlines()
    assert "README.md" not in committed, (done.code, done.err)
    assert "README.md" in git(repo, "ls-files", "--", "README.md")
    assert done.code == 0, done.err


def test_a_rejected_push_and_its_replay_keep_a_persons_staged_change_staged(
    repo: Path, tmp_path: Path
) -> None:
    """The person staged "n/m" in notes.txt, then edited the file on (m taken out, x put
    in), so the staged version exists only in the index. A --push that is rejected and
    replayed (`git reset --keep` to the commit's parent, then a fast-forward) resets the
    index: notes.txt is no longer staged, and the staged version is gone (the command
    reports success)."""
    notes = repo / "notes.txt"
    notes.write_text("n\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "notes")
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    git(tmp_path, "clone", "-q", str(remote), str(ours))
    git(tmp_path, "clone", "-q", str(remote), str(theirs))
    assert run_cli("declare", "Other", "--by", "bob", "--push", cwd=theirs).code == 0
    (ours / "notes.txt").write_text("n\nm\n", encoding="utf-8")
    git(ours, "add", "notes.txt")
    staged = git(ours, "rev-parse", ":notes.txt")
    (ours / "notes.txt").write_text("n\nx\n", encoding="utf-8")
    done = run_cli("note", "1", "hello", "--by", "ana", "--push", cwd=ours)
    assert done.code == 0, done.err
    assert "push rejected: replayed" in done.err
    assert git(ours, "rev-parse", ":notes.txt") == staged, git(ours, "status", "--short")
    assert (ours / "notes.txt").read_text(encoding="utf-8") == "n\nx\n"


def test_a_clean_filter_that_commits_another_valid_record_is_not_reported_as_the_change(
    repo: Path,
) -> None:
    """The record is read back and checked only for validity. A clean filter (a hook that
    stages its own edit does the same) that turns `severity: high` into `severity: low`
    gives a valid record: the command says "acknowledged as high" and exits 0, while HEAD,
    and so every site and feed built from git, says low; the work tree still says high and
    git status is clean, so the person never sees it."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_text("incidents/*.yaml filter=swap\n", encoding="utf-8")
    git(repo, "config", "filter.swap.clean", "sed -e 's/^severity: high$/severity: low/'")
    git(repo, "config", "filter.swap.smudge", "cat")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    committed = git(repo, "show", f"HEAD:{RECORD}")
    if done.code == 0:
        assert "severity: high" in committed.splitlines(), (done.out, committed)
    else:
        assert "severity: low" not in committed.splitlines()
        assert len(done.err.strip().splitlines()) == 1, done.err


def test_ctrl_c_that_cuts_the_repairs_update_ref_short_leaves_the_index_as_it_was(
    repo: Path,
) -> None:
    """Ctrl-C reaches git too. When it lands on `git update-ref` (HEAD back to the parent)
    after the ref has moved, update-ref exits non-zero and the repair says "HEAD moved on
    since; see `git log --stat`" although HEAD is back where it was; the record's file is
    put back, but its index entry keeps the transition's bytes (`MM`): a staged change
    nobody made. Seen 3 times in 100 rounds of a real Ctrl-C at random times (a pre-commit
    hook sleeping to widen the window); made deterministic here with a
    reference-transaction hook that interrupts the update-ref once its ref is moved."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    notes = repo / "notes.txt"
    notes.write_text("n\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "notes")
    notes.write_text("n\nm\n", encoding="utf-8")
    (repo / ".git" / "race-once").touch()
    hook(
        repo,
        "pre-commit",
        "[ -f .git/race-once ] || exit 0\nrm .git/race-once\ngit add notes.txt\ntouch .git/arm\n",
    )
    hook(
        repo,
        "reference-transaction",
        '[ "$1" = committed ] || exit 0\ncat >/dev/null\n'
        "if [ -f .git/arm2 ]; then rm .git/arm2; kill -INT $PPID; exit 0; fi\n"
        "if [ -f .git/arm ]; then rm .git/arm; touch .git/arm2; fi\n",
    )
    before = git(repo, "rev-parse", "HEAD")
    record_index = git(repo, "ls-files", "-s", RECORD)
    record_bytes = (repo / RECORD).read_bytes()
    done = run_cli("note", "1", "looking", "--by", "ana", cwd=repo)
    assert not (repo / ".git" / "arm2").exists()  # the update-ref was interrupted
    head = git(repo, "rev-parse", "HEAD")
    if head == before:
        assert (repo / RECORD).read_bytes() == record_bytes
        assert git(repo, "ls-files", "-s", RECORD) == record_index, git(repo, "status", "--short")
        assert "moved on since" not in done.err, done.err
    else:
        assert git(repo, "rev-parse", "HEAD~1") == before
        assert git(repo, "show", "--format=", "--name-only", "HEAD") == RECORD
    assert git(repo, "diff", "--cached", "--name-only") == "notes.txt"


def test_a_hook_that_takes_the_record_out_of_the_commit_is_not_reported_as_success(
    repo: Path,
) -> None:
    """A pre-commit hook that unstages the record (`git rm --cached`): the commit deletes
    the incident from HEAD (so from every site built from git), the file is left
    untracked, and the command says "INC-0001 note added" with exit 0. The read-back skips
    a path whose committed blob is none, and `git diff HEAD -- path` does not see an
    untracked file, so the check that HEAD holds the change passes."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    hook(repo, "pre-commit", f"git rm --cached -q {RECORD}\n")
    before = git(repo, "rev-parse", "HEAD")
    done = run_cli("note", "1", "looking", "--by", "ana", cwd=repo)
    held = subprocess.run(
        ["git", "cat-file", "-e", f"HEAD:{RECORD}"], cwd=repo, capture_output=True
    ).returncode
    if done.code == 0:
        assert held == 0, (done.out, git(repo, "status", "--short"))
    else:
        assert len(done.err.strip().splitlines()) == 1, done.err
        assert git(repo, "rev-parse", "HEAD") == before or held == 0


def test_a_clean_filter_that_makes_the_record_name_an_unknown_component_is_refused(
    repo: Path, tmp_path: Path
) -> None:
    """The committed record is checked on its own (schema and its own rules), not with the
    rules across records that `incidents validate` runs. A clean filter that turns the
    component `api` into `ghost` is committed and reported as success; a clone of the
    repository then fails `incidents validate` (unknown component 'ghost')."""
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_text("incidents/*.yaml filter=ghost\n", encoding="utf-8")
    git(repo, "config", "filter.ghost.clean", "sed -e 's/^  - api$/  - ghost/'")
    git(repo, "config", "filter.ghost.smudge", "cat")
    done = run_cli("declare", "Checkout down", "--component", "api", "--by", "ana", cwd=repo)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    checked = run_cli("validate", cwd=clone)
    assert checked.code == 0, (done.code, done.out, checked.out, checked.err)
