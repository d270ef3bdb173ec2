"""Nothing lost, beyond transitions: the commands that write a file of the person's
repository outside a transition (`ci update`, `runbook new`, `init`) never write over a
file a person saved while they ran. As in test_hand_edit_race.py, the installed console
script is stopped (SIGSTOP) at the nth event inotify reports on the file (or its folder),
the person's save is made, and the command let go on; every n, until the command ends
before its nth event. Whatever the moment, the save is in the file afterwards, and the
command either refused in one line (exit 2) or did its work around it."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from .console_helpers import IN_OPEN, SCRIPT, Inotify, person_env
from .test_trust_git import git, head, status

IN_CREATE = 0x100

Save = Callable[[], None]


def _stopped_at(
    args: Sequence[str], watched: Path, mask: int, nth: int, save: Save
) -> tuple[bool, int, str]:
    """Run the console script with ``args`` and call ``save`` while it is stopped at the
    ``nth`` event of ``watched``: whether the save was made, the exit code and stderr."""
    events = Inotify(watched, mask)
    command = subprocess.Popen(
        [str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=person_env(),
    )
    seen, saved = 0, False
    try:
        while seen < nth:
            got = events.wait(until=command)
            if not got:
                break
            seen += got
        else:
            os.kill(command.pid, signal.SIGSTOP)
            try:
                events.close()  # the save's own events are not counted
                save()
                saved = True
            finally:
                os.kill(command.pid, signal.SIGCONT)
    finally:
        events.close()
        _, err = command.communicate(timeout=120)
    return saved, command.returncode, err


def _saved_by_hand(path: Path, text: str) -> Save:
    """An editor's save: a new file renamed over the old one (vim, emacs)."""

    def save() -> None:
        swap = path.parent / f".{path.name}.swp"
        swap.write_text(text, encoding="utf-8")
        swap.replace(path)

    return save


def _refused_in_one_line(code: int, err: str) -> bool:
    """Exit 2 with one line (True), or exit 0 (False)."""
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
        return True
    assert code == 0, err
    return False


def test_a_requirements_file_saved_by_hand_while_ci_update_runs_is_never_overwritten(
    repo: Path,
) -> None:
    requirements = repo / ".incidents" / "requirements.txt"
    mine = requirements.read_text(encoding="utf-8") + "# pinned by hand, do not touch\n"
    start, rounds, refused_late = head(repo), 0, 0
    for nth in range(1, 20):
        saved, code, err = _stopped_at(
            ["-C", str(repo), "ci", "update", "--cli", "incidents==9.9"],
            requirements,
            IN_OPEN,
            nth,
            _saved_by_hand(requirements, mine),
        )
        if not saved:
            break
        rounds += 1
        assert requirements.read_text(encoding="utf-8") == mine, f"round {nth}: lost ({err})"
        if _refused_in_one_line(code, err):
            assert head(repo) == start, "nothing committed"
            refused_late += "was changed while `incidents ci update` ran" in err
        else:  # saved after the commit: kept as the person's edit of what was committed
            assert "by hand" not in git(repo, "show", "HEAD:.incidents/requirements.txt"), nth
        assert status(repo) == "M .incidents/requirements.txt", f"round {nth}: {status(repo)}"
        git(repo, "reset", "-q", "--hard", start)
    assert rounds >= 2 and refused_late >= 1  # saved after git looked, found by the swap


def test_a_runbook_saved_by_hand_while_runbook_new_writes_it_is_never_overwritten(
    repo: Path,
) -> None:
    runbook = repo / "runbooks" / "queue-backlog.md"
    mine = "---\ntitle: Queue backlog, mine\n---\nWritten by hand.\n"
    rounds = 0
    for nth in range(1, 40):
        runbook.unlink(missing_ok=True)
        saved, code, err = _stopped_at(
            ["-C", str(repo), "runbook", "new", "Queue backlog", "--owner", "alice"],
            runbook.parent,  # the new file, made beside it first, then put in place
            IN_CREATE,
            nth,
            _saved_by_hand(runbook, mine),
        )
        if not saved:
            break
        rounds += 1
        assert runbook.read_text(encoding="utf-8") == mine, f"round {nth}: lost ({err})"
        _refused_in_one_line(code, err)
    assert rounds >= 2


def test_a_file_saved_by_hand_while_init_writes_the_same_file_is_never_overwritten(
    tmp_path: Path,
) -> None:
    rounds = 0
    for nth in range(1, 200):
        folder = tmp_path / f"round-{nth}"
        folder.mkdir()
        git(folder, "init", "-q")
        readme = folder / "README.md"
        saved, code, err = _stopped_at(
            ["init", str(folder)],
            folder,
            IN_CREATE,  # each file init writes is made beside it first, then put in place
            nth,
            _saved_by_hand(readme, "# Ours, written by hand\n"),
        )
        if not saved:
            break
        rounds += 1
        assert readme.read_text(encoding="utf-8") == "# Ours, written by hand\n", err
        if not _refused_in_one_line(code, err) and "README.md" not in git(
            folder, "ls-files", "README.md"
        ):
            assert status(folder) == "?? README.md"  # skipped, as a file that was there
        if nth > 12:
            break  # README.md is among the first files init writes
    assert rounds >= 4


def test_a_runbook_saved_by_hand_while_runbook_reviewed_rewrites_it_is_never_overwritten(
    repo: Path,
) -> None:
    """`runbook reviewed` reads the runbook in its step, then asks git whether it has
    uncommitted changes, then writes it. Its step read the file itself, not through the
    workspace, so the write compared the file with what it held after git looked: a save
    made while git looked (git reading the old file, stopped here at git's own open of it;
    the file's time is moved on first, so that git reads it) was written over and its edit
    lost. Now the write compares with what the step read, and refuses."""
    runbook = repo / "runbooks" / "expired-tls-certificate.md"
    original = runbook.read_text(encoding="utf-8")
    mine = original + "\nChecked by hand: the queue's dashboard moved.\n"
    start, rounds = head(repo), 0
    for nth in range(1, 20):
        stamp = runbook.stat().st_mtime + nth
        os.utime(runbook, (stamp, stamp))  # git must read the file to compare it
        saved, code, err = _stopped_at(
            ["-C", str(repo), "runbook", "reviewed", "expired-tls-certificate", "--by", "alice"],
            runbook,
            IN_OPEN,
            nth,
            _saved_by_hand(runbook, mine),
        )
        if not saved:
            break
        rounds += 1
        assert runbook.read_text(encoding="utf-8") == mine, f"round {nth}: lost ({err})"
        if _refused_in_one_line(code, err):
            assert head(repo) == start, "nothing committed"
        else:  # saved after the commit
            assert "Checked by hand" not in git(
                repo, "show", "HEAD:runbooks/expired-tls-certificate.md"
            )
        git(repo, "reset", "-q", "--hard", start)
    assert rounds >= 3


def test_a_postmortem_saved_by_hand_while_the_draft_is_written_is_never_overwritten(
    repo: Path,
) -> None:
    """`incidents postmortem` writes a draft where there is no postmortem yet. Its step
    looked for the file itself, not through the workspace, so the draft's write compared
    with what the path held after git looked: a postmortem saved there then (here while the
    command is stopped at its last open of the incident's record, after git's answer) was
    written over. Now the step's look is remembered (no file), and the write refuses."""
    from .test_postmortems import resolved_incident

    incident = resolved_incident(repo)
    record = repo / "incidents" / f"{incident}.yaml"
    postmortem = repo / "postmortems" / f"{incident}.md"
    mine = "---\ntitle: Written by hand first\n---\nOurs.\n"
    start, rounds = head(repo), 0
    for nth in range(1, 20):
        saved, code, err = _stopped_at(
            ["-C", str(repo), "postmortem", incident, "--by", "alice"],
            record,
            IN_OPEN,
            nth,
            _saved_by_hand(postmortem, mine),
        )
        if not saved:
            break
        rounds += 1
        assert postmortem.read_text(encoding="utf-8") == mine, f"round {nth}: lost ({err})"
        if _refused_in_one_line(code, err):
            assert head(repo) == start, "nothing committed"
        else:  # saved after the commit, or before the step looked (then kept as it is)
            assert "Ours." not in git(repo, "show", f"HEAD:postmortems/{incident}.md", check=False)
        git(repo, "reset", "-q", "--hard", start)
        postmortem.unlink(missing_ok=True)
    assert rounds >= 3
