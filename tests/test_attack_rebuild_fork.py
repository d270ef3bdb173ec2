"""Attacks on the rebuild's check of --out in a forked process (site/state.py _OutCheck):
what is done to --out while a rebuild runs, the check in the command's own process, an
interrupted rebuild. Real repositories, the installed console script, real processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .test_attack_rebuild_state import AS_OF, _site_after_an_update, _site_with_a_state
from .test_rebuild_state import _inode
from .test_site import all_files, commit_all
from .test_site_update import _edit

SCRIPT = Path(sys.executable).with_name("incidents")


def _env() -> dict[str, str]:
    """The environment as a person runs the CLI, read when a test runs: after conftest gave
    it an empty home and a fixed identity (read at import, it would be the real ones)."""
    return {k: v for k, v in os.environ.items() if k != "INCIDENTS_RAISE_BUGS"}


def _args(repo: Path, out: Path) -> list[str]:
    return [str(SCRIPT), "-C", str(repo), "site", "build", "--out", str(out), *AS_OF]


def _build(repo: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _args(repo, out), capture_output=True, text=True, env={**_env(), **env}, check=False
    )


def _cold(repo: Path, tmp_path: Path) -> dict[str, bytes]:
    cold = tmp_path / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    done = _build(repo, cold, INCIDENTS_NO_CACHE="1")
    assert done.returncode == 0, done.stderr
    return all_files(cold)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _name_and_state(pid: int) -> tuple[str, str]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "", ""
    return stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2]


def _when_the_check_is_done(repo: Path, out: Path, act: Callable[[], None]) -> bool:
    """Run a rebuild into ``out``; the moment its forked check of --out has answered (the
    forked process has ended, not yet waited for: a zombie), before the rebuild writes,
    do ``act``. Whether it was done (the rebuild may end first)."""
    running = subprocess.Popen(
        _args(repo, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    acted = False
    while running.poll() is None and not acted:
        for child in _children(running.pid):
            name, state = _name_and_state(child)
            if name != "git" and state == "Z":
                act()
                acted = True
                break
    _, err = running.communicate()
    assert running.returncode == 0, err
    return acted


def test_a_page_edited_while_a_rebuild_runs_is_found_by_the_next_build(
    repo: Path, tmp_path: Path
) -> None:
    """A hand edit made after the forked check answered, before the rebuild wrote its
    manifest, has an older change time than the new manifest: no later rebuild (nor a full
    build into --out, which reuses pages by the same change time) finds it; only a cold
    build into an empty folder. Found in 4 of 4 rounds at 2,000 incidents, 3 of 3 here."""
    out = _site_with_a_state(repo, tmp_path)
    page = out / "incidents" / "INC-0001.html"  # resolved: no rebuild writes it again
    for attempt in range(5):
        _edit(repo / "incidents/INC-0061.yaml", "message: ", f"message: Race {attempt}. ")
        commit_all(repo, f"race {attempt}")
        before = _inode(out)
        if _when_the_check_is_done(repo, out, lambda: page.write_bytes(b"<p>defaced</p>")):
            assert _inode(out) == before  # the rebuild from the state ran
            break
    else:
        raise AssertionError("the rebuild always ended before its check did")
    _edit(repo / "incidents/INC-0061.yaml", "message: ", "message: Calm. ")
    commit_all(repo, "no race")
    done = _build(repo, out)  # no one touches --out now
    assert done.returncode == 0, done.stderr
    assert page.read_bytes() != b"<p>defaced</p>"
    assert all_files(out) == _cold(repo, tmp_path)


def test_a_folder_swapped_for_a_symlink_while_a_rebuild_runs_is_never_written_through(
    repo: Path, tmp_path: Path
) -> None:
    """incidents/ replaced by a symlink to a folder outside --out after the forked check
    answered: the rebuild renames its new incident page into the folder outside."""
    out = _site_with_a_state(repo, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()

    def swap() -> None:
        (out / "incidents").rename(tmp_path / "incidents-away")
        (out / "incidents").symlink_to(outside, target_is_directory=True)

    for attempt in range(5):
        shutil.rmtree(tmp_path / "incidents-away", ignore_errors=True)
        if (out / "incidents").is_symlink():
            (out / "incidents").unlink()
            assert _build(repo, out).returncode == 0  # the site whole again
        _edit(repo / "incidents/INC-0061.yaml", "message: ", f"message: Swap {attempt}. ")
        commit_all(repo, f"swap {attempt}")
        if _when_the_check_is_done(repo, out, swap):
            break
    else:
        raise AssertionError("the rebuild always ended before its check did")
    assert [p.name for p in outside.iterdir()] == []  # nothing written outside --out


def test_a_folder_with_a_name_not_in_utf8_is_a_full_build_with_the_check_in_process(
    repo: Path, tmp_path: Path
) -> None:
    """INCIDENTS_WORKERS=1 (or one core, or no fork): the check runs in the command's own
    process; a folder of --out renamed to a name that is not UTF-8 made its digest raise
    UnicodeEncodeError, and rebuild()'s handler asked the check again, which raised again
    from the handler: exit 3. Forked, the same site is a full build, exit 0."""
    out = _site_after_an_update(repo, tmp_path)
    os.rename(out / "badges", os.fsencode(out) + b"/\xff")  # noqa: PTH104  (bytes: a name)
    done = _build(repo, out, INCIDENTS_WORKERS="1")
    assert done.returncode == 0, done.stderr
    assert all_files(out) == _cold(repo, tmp_path)


def test_a_rebuild_stopped_by_sigterm_while_it_writes_leaves_the_old_site_and_no_folder(
    repo: Path, tmp_path: Path
) -> None:
    """SIGTERM (a cancelled CI job, `timeout`) while the rebuild renames its files into
    place: some files are new, the manifest old (a site neither old nor new), and its
    staging folder stays beside --out for good (1 of 30 random rounds at 2,000 incidents).
    (This predates the forked check: write() renames file by file, with no handler.)"""
    out = _site_with_a_state(repo, tmp_path)
    for attempt in range(40):
        _edit(repo / "incidents/INC-0061.yaml", "message: ", f"message: Term {attempt}. ")
        commit_all(repo, f"term {attempt}")
        before = all_files(out)
        running = subprocess.Popen(
            _args(repo, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()
        )
        stopped = False
        while running.poll() is None and not stopped:
            if any(p.name.startswith(f".{out.name}.building-") for p in out.parent.iterdir()):
                running.send_signal(signal.SIGTERM)  # its staging folder exists: writing
                stopped = True
        running.communicate()
        if stopped and running.returncode == -signal.SIGTERM:
            break
    else:
        raise AssertionError("the rebuild was never stopped while it wrote")
    after = all_files(out)
    left = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert left == []
    assert after in (before, _cold(repo, tmp_path))  # the old site whole, or the new one


def test_a_deep_folder_in_out_is_a_full_build_not_a_bug(repo: Path, tmp_path: Path) -> None:
    """A folder 1,100 levels deep in --out: the forked check says no, and the full build's
    files_of (site/files.py, recursive) raises RecursionError: exit 3. (Predates the fork.)"""
    out = _site_after_an_update(repo, tmp_path)
    here = Path.cwd()
    try:
        os.chdir(out)
        for _ in range(1100):
            Path("d").mkdir()  # relative: the full path is over PATH_MAX
            os.chdir("d")
    finally:
        os.chdir(here)
    try:
        done = _build(repo, out)
    finally:
        subprocess.run(["rm", "-rf", str(out)], check=True)  # (pytest's clean-up recurses)
    assert done.returncode in (0, 2), done.stderr
    assert "this is a bug" not in done.stderr
