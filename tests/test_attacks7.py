"""atk7's attacks on main (sixth session, second round): each test proves a defect and is
marked xfail(strict=True) until it is fixed. Real repositories, the installed console script
(run as a person runs it: no INCIDENTS_RAISE_BUGS; the test's own home, read when the test
runs), no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_trust_git import git

SCRIPT = Path(sys.executable).with_name("incidents")


def _env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess, read now (conftest gives each test its own home)."""
    return {**{k: v for k, v in os.environ.items() if k != "INCIDENTS_RAISE_BUGS"}, **extra}


def _incidents(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "-C", str(repo), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
        timeout=120,
    )


# ---- site build: an --out inside the repository is never led out of it by a link ---------


@pytest.mark.xfail(
    strict=True,
    reason="atk7: --out LINK/../x passes the lexical check but the OS follows LINK out",
)
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


# ---- a repository's templates: its mistake is one line and exit 2, never "a bug" --------


@pytest.mark.xfail(
    strict=True,
    reason="atk7: a repository template calling a built-in macro with a wrong value is exit 3",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="atk7: a --at/--since duration of 5000 digits ends in int()'s ValueError, exit 3",
)
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


@pytest.mark.xfail(
    strict=True, reason="atk7: a committed symlink loop at --out ends in RuntimeError, exit 3"
)
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
