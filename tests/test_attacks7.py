"""atk7's attacks on main (sixth session, second round): each test proves a defect and is
marked xfail(strict=True) until it is fixed. Real repositories, the installed console script
(run as a person runs it: no INCIDENTS_RAISE_BUGS; the test's own home, read when the test
runs), no mocks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .console_helpers import ANY_EVENT, SCRIPT, Inotify, person_env, run_script
from .test_trust_git import git

_env, _incidents = person_env, run_script


# ---- site build: an --out inside the repository is never led out of it by a link ---------


def test_an_out_with_dot_dot_after_a_committed_symlink_stays_in_the_repository(
    repo: Path, tmp_path: Path
) -> None:
    """`_refuse_links_out_of` normalises --out with os.path.abspath, which drops `docs/..`
    without looking; the build then resolves the path as the kernel does, through the
    committed link `docs` (to a folder outside), and `..` is taken from there. A site meant
    for `<repo>/site2` is written to a folder the repository's link picked."""
    outside = tmp_path / "outside" / "deep"
    outside.mkdir(parents=True)
    (repo / "docs").symlink_to(outside)
    git(repo, "add", "docs")
    git(repo, "commit", "-qm", "a link someone committed")
    done = _incidents(repo, "site", "build", "--out", "docs/../site2")
    assert not (tmp_path / "outside" / "site2").exists(), done.stdout
    assert done.returncode == 2 or (repo / "site2" / "index.html").is_file(), done.stderr


def test_an_out_inside_the_git_folder_is_refused(repo: Path) -> None:
    """`_refuse_links_out_of` takes any folder under the repository's top for inside it,
    .git included: `--out .git/refs/heads/site` writes the site among git's refs (every
    page a broken ref: `git branch` warns of each, `git gc` fails with "bad object"). A
    folder of git's is never a place for a site: refused, one line, exit 2."""
    done = _incidents(
        repo, "site", "build", "--out", str(repo / ".git" / "refs" / "heads" / "site")
    )
    gc = subprocess.run(
        ["git", "-C", str(repo), "gc", "-q"], capture_output=True, text=True, env=_env()
    )
    assert gc.returncode == 0, gc.stderr[-300:]
    assert done.returncode == 2, (done.returncode, done.stdout)
    assert not (repo / ".git" / "refs" / "heads" / "site").exists()


# ---- a repository's templates: its mistake is one line and exit 2, never "a bug" --------


def test_a_repository_template_that_calls_a_built_in_macro_wrongly_is_not_a_bug(
    repo: Path, tmp_path: Path
) -> None:
    """`_raised_by_repository` looks at the innermost frame outside jinja2/markupsafe/render:
    where a repository's template passes a wrong value (a number for the list of updates)
    to a macro of the built-in `site/_macros.html`, that frame is the built-in template, so
    the repository's mistake is said as a bug of ours (exit 3, "this is a bug")."""
    from .test_site import commit_all, write

    write(
        repo,
        "templates/site/index.html",
        '{% from "site/_macros.html" import updates %}{{ updates(5) }}\n',
    )
    commit_all(repo, "a template that calls a built-in macro with a number")
    done = _incidents(repo, "site", "build", "--out", str(tmp_path / "out"))
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith("templates/site/index.html:1:"), done.stderr
    assert "bug" not in done.stderr


# ---- durations: a number too long for int() is bad input, not a bug ------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("note", "INC-0001", "looking", "--by", "bob", "--at", "-" + "9" * 5000 + "s"),
        ("list", "--since", "9" * 5000 + "d"),
    ],
    ids=["note-at", "list-since"],
)
def test_a_time_given_as_a_duration_of_thousands_of_digits_is_bad_input(
    repo: Path, args: tuple[str, ...]
) -> None:
    """core/timeinput.parse_duration_text (the command line's durations: `--at -15m`,
    `--since 7d`) calls int() on the digits as given; parse_duration (the settings') now
    compares their length first, this one does not, and Python refuses to convert more
    than 4300 digits (ValueError): "unexpected error ... this is a bug", exit 3."""
    from .test_trust_git import ok

    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    before = git(repo, "rev-parse", "HEAD")
    done = _incidents(repo, *args)
    assert done.returncode == 2, (done.returncode, done.stderr[:300])
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr[:300]
    assert git(repo, "rev-parse", "HEAD") == before


@pytest.mark.parametrize("out", ["pub", "pub/site"])
def test_an_out_that_is_a_committed_symlink_loop_is_refused_in_one_line(
    repo: Path, out: str
) -> None:
    """`pub -> pub`, committed: os.path.realpath (the check) gives up quietly on a loop and
    says the path is in the repository; the build's Path.resolve() then raises RuntimeError
    ("Symlink loop"), which is said as a bug of ours (exit 3)."""
    (repo / "pub").symlink_to("pub")
    git(repo, "add", "pub")
    git(repo, "commit", "-qm", "a link to itself")
    done = _incidents(repo, "site", "build", "--out", str(repo / out))
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# ---- a transition: the record deleted by its person while the command runs ----------------


def _note_with_the_record_deleted_at(
    repo: Path, nth: int, act: Callable[[Path], None] | None = None
) -> tuple[int, str] | None:
    """`note` run, stopped at the ``nth`` event in incidents/, the record deleted (`rm`,
    `git rm`, a branch switch; or ``act`` done to it), then let go on; None if it ended
    before that event."""
    record = repo / "incidents" / "INC-0001.yaml"
    events = Inotify(record.parent, ANY_EVENT)
    command = subprocess.Popen(
        [str(SCRIPT), "-C", str(repo), "note", "INC-0001", "looking", "--by", "bob"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    seen = 0
    try:
        while seen < nth:
            got = events.wait(until=command)
            if not got:
                break
            seen += got
        else:
            os.kill(command.pid, signal.SIGSTOP)
            events.close()
            if act is None:
                record.unlink(missing_ok=True)
            else:
                act(record)
            os.kill(command.pid, signal.SIGCONT)
    finally:
        events.close()
        _, err = command.communicate(timeout=60)
    return (command.returncode, err) if seen >= nth else None


def test_a_record_deleted_while_a_transition_runs_is_a_refusal_not_a_bug(
    repo: Path, tmp_path: Path
) -> None:
    """transaction._planned_writes asks `path.exists()`, then `path.read_bytes()` (and
    _record_text the same): a record deleted in between (by hand, `git rm`, a checkout)
    raises FileNotFoundError, said as "unexpected error ... this is a bug" (exit 3). It is a
    person's doing, like an edit saved meanwhile: one line, exit 2 (nothing is lost: the
    tree is as the person left it). Stopped at each event in incidents/ around those reads
    (the 10th to the 16th, where sweeps of every event hit it at the 12th to the 16th, at
    times one in two sweeps: so eight sweeps)."""
    from .test_trust_git import ok

    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    template = tmp_path / "template"
    repo.rename(template)
    for nth in [*range(10, 17)] * 8:  # timing: sweeps until one lands in between
        if repo.exists():
            shutil.rmtree(repo)
        subprocess.run(["cp", "-a", str(template), str(repo)], check=True)
        before = git(repo, "rev-parse", "HEAD")
        done = _note_with_the_record_deleted_at(repo, nth)
        if done is None:
            continue
        code, err = done
        assert code in (0, 2), (nth, code, err)
        assert len(err.strip().splitlines()) <= 1, err
        assert git(repo, "rev-list", "--count", f"{before}..HEAD") in ("0", "1")


def _saved(text: str) -> Callable[[Path], None]:
    """An editor's save of ``text`` (a new file renamed over the record: vim, emacs)."""

    def save(record: Path) -> None:
        swap = record.parent / f".{record.name}.swp"
        swap.write_text(text, encoding="utf-8")
        swap.replace(record)

    return save


def test_a_half_typed_record_saved_while_a_transition_runs_is_a_refusal_not_a_bug(
    repo: Path, tmp_path: Path
) -> None:
    """A person's save of a record that does not parse yet (an editor's autosave, a
    half-typed list), after the step read it and before _planned_writes reads it again:
    _record_text's function makes the new text from the file as it now is, and
    yamlio.rewrite falls back to ruamel's round trip, whose ScannerError nobody catches:
    "unexpected error ... this is a bug" (exit 3, a traceback of ruamel's lines in the
    message). It is a save made meanwhile: exit 2, one line, the save kept."""
    from .test_trust_git import ok

    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    template = tmp_path / "template"
    repo.rename(template)
    half = "id: INC-0001\ntitle: [half typed\n"
    for nth in [*range(5, 16)] * 4:  # timing: sweeps until one lands in between
        if repo.exists():
            shutil.rmtree(repo)
        subprocess.run(["cp", "-a", str(template), str(repo)], check=True)
        done = _note_with_the_record_deleted_at(repo, nth, _saved(half))
        if done is None:
            continue
        code, err = done
        assert code in (0, 2), (nth, code, err)
        assert len(err.strip().splitlines()) <= 1, err
        assert (repo / "incidents" / "INC-0001.yaml").read_text(encoding="utf-8") == half


def test_an_edit_saved_just_after_the_commit_is_not_said_as_a_failed_change(
    repo: Path, tmp_path: Path
) -> None:
    """The commit is made; the person saves an edit of the record before _commit's check
    `_holds` (which compares the work tree too, through Repo.holds' `git diff`): the command
    says `git made commit X, but HEAD does not hold this change; see git status` and exits
    2, though HEAD holds exactly this change. Told it failed, a person runs it again and
    the note is recorded twice. Here: the commit holds the note, so the command must not
    say it failed (exit 0, or a message that says it is committed)."""
    from .test_trust_git import ok

    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    template = tmp_path / "template"
    repo.rename(template)
    edited = (template / "incidents" / "INC-0001.yaml").read_text(encoding="utf-8")
    edited = edited.replace("title: Database unreachable", "title: Edited by hand")
    for nth in [*range(30, 40)] * 4:  # timing: sweeps until one lands in between
        if repo.exists():
            shutil.rmtree(repo)
        subprocess.run(["cp", "-a", str(template), str(repo)], check=True)
        before = git(repo, "rev-parse", "HEAD")
        done = _note_with_the_record_deleted_at(repo, nth, _saved(edited))
        if done is None:
            continue
        code, err = done
        committed = git(repo, "rev-list", "--count", f"{before}..HEAD") == "1"
        if committed and "looking" in git(repo, "show", "HEAD:incidents/INC-0001.yaml"):
            assert "does not hold this change" not in err, (nth, code, err)
        assert (repo / "incidents" / "INC-0001.yaml").read_text(encoding="utf-8") == edited


# ---- a runbook's review: a date near the end of the calendar -------------------------------


def test_a_runbook_reviewed_at_the_end_of_the_calendar_is_bad_input_not_a_bug(
    repo: Path,
) -> None:
    """review_every is now at most 3650 days, but last_reviewed is any YYYY-MM-DD that is a
    date: 9999-12-30 validates, and `runbook stale` adds the interval to it (date + 3650
    days: OverflowError, "this is a bug", exit 3). Either validate reports it (exit 1) and
    stale refuses it in one line (exit 2), or stale judges it."""
    from .test_site import commit_all

    path = repo / "runbooks" / "bad-deploy-rollback.md"
    text = path.read_text(encoding="utf-8")
    assert "last_reviewed: 2026-11-01\n" in text and "review_every: 90\n" in text
    path.write_text(
        text.replace("last_reviewed: 2026-11-01", "last_reviewed: 9999-12-30"), encoding="utf-8"
    )
    commit_all(repo, "a review date at the end of the calendar")
    stale = _incidents(repo, "runbook", "stale")
    assert stale.returncode in (0, 1, 2), (stale.returncode, stale.stderr)
    assert "bug" not in stale.stderr, stale.stderr
