"""What a killed build leaves beside --out is removed by the next build: its clock probe
(site/state.py ``_fs_now``: a file made and removed at once to read the file system's
clock), as its staging folder. The installed console script."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .test_attack_rebuild_fork import _build
from .test_attack_rebuild_state import _site_with_a_state
from .test_site import commit_all
from .test_site_update import _edit


def _dead_pid() -> int:
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


def test_a_clock_probe_left_by_a_killed_build_is_removed_by_the_next(
    repo: Path, tmp_path: Path
) -> None:
    """Killed (SIGKILL, or SIGTERM, which is not held there) between making its probe and
    removing it, a build left `.NAME.clock-*` beside --out for good: its name did not say
    whose it was. Now it names the process, and a later build removes a dead one's (and
    only that: a running build's probe, or a file of that shape that is not a regular
    file, is left)."""
    out = _site_with_a_state(repo, tmp_path)
    dead = out.parent / f".{out.name}.clock-{_dead_pid()}-x1y2z3"
    dead.write_bytes(b"")
    live = out.parent / f".{out.name}.clock-1-x1y2z3"  # pid 1: alive
    live.write_bytes(b"")
    odd = out.parent / f".{out.name}.clock-{_dead_pid()}-folder"
    odd.mkdir()
    _edit(repo / "incidents/INC-0061.yaml", "message: ", "message: Later. ")
    commit_all(repo, "a change: the next build writes")
    done = _build(repo, out)
    assert done.returncode == 0, done.stderr
    assert not dead.exists()
    assert live.exists() and odd.is_dir()
    assert not [p for p in out.rglob("*clock*")]  # (never in the site)
