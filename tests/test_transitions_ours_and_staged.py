"""A transition touches only its own commit, and a person's staged work stays theirs: a
commit someone made on top of ours is never dropped (what cannot be repaired without
dropping it is said, the branch left alone), and a rejected --push's replay keeps what the
person staged, staged as they staged it, or refuses and moves nothing."""

from __future__ import annotations

from pathlib import Path

from .conftest import run_cli
from .git_helpers import git, hook, their_commit_once

RECORD = "incidents/INC-0001.yaml"


def test_someone_elses_commit_made_just_before_ours_is_not_taken_for_ours(repo: Path) -> None:
    """A person's commit lands after the transition looked at HEAD and before it commits
    (here from the post-index-change hook of declare's own `git add`, once): our commit's
    parent is theirs, not the HEAD seen before. Ours is told by its subject: success, and
    both commits stay."""
    their_commit_once(repo, "post-index-change")
    before = git(repo, "rev-parse", "HEAD")
    done = run_cli("declare", "Checkout down", "--by", "ana", cwd=repo)
    assert done.code == 0, done.err
    assert not (repo / ".git" / "once").exists()  # their commit was made
    assert git(repo, "log", "-1", "--format=%s", "HEAD~1") == "theirs"
    assert git(repo, "rev-parse", "HEAD~2") == before
    assert git(repo, "show", "--format=", "--name-only", "HEAD") == RECORD
    assert git(repo, "status", "--porcelain") == ""


def test_a_commit_that_took_a_persons_file_is_left_as_it_is_when_another_is_on_top(
    repo: Path,
) -> None:
    """Our commit took along the person's `git add notes.txt` (from the pre-commit hook),
    and their commit landed on top before HEAD was read: taking notes.txt out would drop
    their commit, so the branch is left alone and that is said."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    notes = repo / "notes.txt"
    notes.write_text("n\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "notes")
    notes.write_text("n\nm\n", encoding="utf-8")
    their_commit_once(repo, "post-commit")  # a person's commit right after ours
    hook(repo, "pre-commit", "[ -f .git/once ] || exit 0\ngit add notes.txt\n")
    before = git(repo, "rev-parse", "HEAD")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2, done.err
    line = done.err.strip()
    assert "also committed notes.txt" in line and "was made on top of it since" in line, line
    assert git(repo, "log", "-1", "--format=%s") == "theirs"
    assert git(repo, "rev-parse", "HEAD~2") == before
    assert sorted(git(repo, "show", "--format=", "--name-only", "HEAD~1").split()) == [
        RECORD,
        "notes.txt",
    ]


def test_a_filtered_record_is_not_undone_past_a_commit_made_on_top_of_it(repo: Path) -> None:
    """A clean filter changed the record's data, and someone's commit is on top of ours:
    the commit cannot be taken back without dropping theirs, so it stays, and one line says
    what is wrong with it and that it was not undone."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    their_commit_once(repo, "post-commit")  # a person's commit right after ours
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_text("incidents/*.yaml filter=swap\n", encoding="utf-8")
    git(repo, "config", "filter.swap.clean", "sed -e 's/^severity: high$/severity: low/'")
    git(repo, "config", "filter.swap.smudge", "cat")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2, done.err
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith(f"{RECORD}: refused: the clean filter `swap`"), lines[0]
    assert "severity: 'low' where this change says 'high'" in lines[0]
    assert "so it was left as it is" in lines[0]
    assert git(repo, "log", "-1", "--format=%s") == "theirs"


def _rejected_push_setup(repo: Path, tmp_path: Path) -> Path:
    """A clone whose next --push is rejected (another responder pushed first)."""
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
    return ours


def test_a_replay_keeps_a_staged_new_file_and_a_staged_removal_staged(
    repo: Path, tmp_path: Path
) -> None:
    ours = _rejected_push_setup(repo, tmp_path)
    (ours / "new.txt").write_text("staged\n", encoding="utf-8")
    git(ours, "add", "new.txt")
    staged = git(ours, "rev-parse", ":new.txt")
    (ours / "new.txt").write_text("staged\nthen edited\n", encoding="utf-8")
    git(ours, "rm", "-q", "--cached", "notes.txt")
    done = run_cli("note", "1", "hello", "--by", "ana", "--push", cwd=ours)
    assert done.code == 0, done.err
    assert "push rejected: replayed" in done.err
    assert git(ours, "rev-parse", ":new.txt") == staged
    assert (ours / "new.txt").read_text(encoding="utf-8") == "staged\nthen edited\n"
    assert sorted(git(ours, "status", "--porcelain").splitlines()) == [
        "?? notes.txt",
        "AM new.txt",
        "D  notes.txt",
    ]
    assert git(ours, "show", "--format=", "--name-only", "HEAD") == RECORD
    assert git(ours, "rev-parse", "HEAD~1") == git(ours, "rev-parse", "origin/main~1")


def test_a_replay_that_would_change_a_file_the_person_staged_is_refused_and_moves_nothing(
    repo: Path, tmp_path: Path
) -> None:
    """The remote changed notes.txt, which the person has staged (and reverted in the work
    tree, so git itself would not stop): putting their entry back would undo the remote's
    change in what they commit next. Refused; the local commit and the index untouched."""
    ours = _rejected_push_setup(repo, tmp_path)
    theirs = tmp_path / "theirs"
    (theirs / "notes.txt").write_text("n\nremote\n", encoding="utf-8")
    git(theirs, "commit", "-q", "-am", "remote notes")
    git(theirs, "push", "-q")
    (ours / "notes.txt").write_text("n\nmine\n", encoding="utf-8")
    git(ours, "add", "notes.txt")
    (ours / "notes.txt").write_text("n\n", encoding="utf-8")
    index = git(ours, "ls-files", "-s")
    done = run_cli("note", "1", "hello", "--by", "ana", "--push", cwd=ours)
    assert done.code == 2, done.err
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert "changed notes.txt, which you have staged" in lines[0]
    assert git(ours, "log", "-1", "--format=%s").startswith("INC-0001")
    assert git(ours, "show", "--format=", "--name-only", "HEAD") == RECORD
    head_index = git(ours, "ls-files", "-s", RECORD)
    assert git(ours, "ls-files", "-s") == "\n".join(
        head_index if line.endswith(RECORD) else line for line in index.splitlines()
    )
    assert git(ours, "status", "--porcelain") == "MM notes.txt"


def test_ctrl_c_on_the_whole_command_during_the_repair_ends_one_commit_ahead_and_says_so(
    repo: Path,
) -> None:
    """Ctrl-C reaches both the command and git: here the repair's update-ref (HEAD back to
    its parent, after the ref moved) and this process, from a reference-transaction hook.
    The command holds it until the repair is done: one commit ahead holding the record
    alone, the person's file staged as before, and exit 130 saying what is committed."""
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    notes = repo / "notes.txt"
    notes.write_text("n\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "notes")
    notes.write_text("n\nm\n", encoding="utf-8")
    staged = git(repo, "hash-object", "notes.txt")
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
        "if [ -f .git/arm2 ]; then rm .git/arm2\n"
        "  kill -INT $(cut -d' ' -f4 /proc/$PPID/stat) $PPID; exit 0; fi\n"
        "if [ -f .git/arm ]; then rm .git/arm; touch .git/arm2; fi\n",
    )
    before = git(repo, "rev-parse", "HEAD")
    done = run_cli("note", "1", "looking", "--by", "ana", cwd=repo)
    assert not (repo / ".git" / "arm2").exists()  # the signals were sent
    assert done.code == 130, done.err
    assert "interrupted after the commit" in done.err
    assert git(repo, "rev-parse", "HEAD~1") == before
    assert git(repo, "show", "--format=", "--name-only", "HEAD") == RECORD
    assert git(repo, "rev-parse", ":notes.txt") == staged
    assert git(repo, "status", "--porcelain") == "M  notes.txt"
