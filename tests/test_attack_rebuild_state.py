"""Attacks on the rebuild from the state (site/state.py): what a failure half way through a
rebuild leaves in --out. Real repositories, the installed console script."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from .test_rebuild_state import _inode
from .test_site import _resolved, all_files, build, commit_all, write
from .test_site_update import _edit

SCRIPT = Path(sys.executable).with_name("incidents")
AS_OF = ("--as-of", "2026-02-01T00:00:00Z")
OPEN = (
    "id: INC-0061\ntitle: Open one\nseverity: high\nphase: investigating\nsource: monitor\n"
    "components: [api]\ndetected_at: 2026-01-20T10:00:00Z\nacknowledged_at: 2026-01-20T10:01:00Z\nupdates:\n"
    "  - at: 2026-01-20T10:05:00Z\n    status: investigating\n    message: Looking.\n"
)


def _site_with_a_state(repo: Path, tmp_path: Path) -> Path:
    """60 resolved incidents with long updates (a big API), one open; built twice, so the
    next build after a commit is a rebuild from the state."""
    long = "Looking. " + "The provider keeps failing. " * 60 + "\n"
    for number in range(1, 61):
        text = _resolved(number, f"2026-01-{number % 19 + 1:02d}", f"Outage {number}")
        write(repo, f"incidents/INC-{number:04d}.yaml", text.replace("Looking.\n", long))
    write(repo, "incidents/INC-0061.yaml", OPEN)
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    build(repo, out, *AS_OF)
    return out


def _site_after_an_update(repo: Path, tmp_path: Path) -> Path:
    """``_site_with_a_state``, then one committed update of the open incident."""
    out = _site_with_a_state(repo, tmp_path)
    _edit(repo / "incidents/INC-0061.yaml", "message: Looking.", "message: Found it.")
    commit_all(repo, "an update of the open incident")
    return out


def _rebuild(repo: Path, out: Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """`site build` into ``out`` by the console script; ``limit``: the largest file it may
    write (RLIMIT_FSIZE: a write past it fails with EFBIG, as on a full disk)."""

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [str(SCRIPT), "-C", str(repo), "site", "build", "--out", str(out), *AS_OF],
        capture_output=True,
        text=True,
        preexec_fn=limited,  # only a resource limit, before exec
        env={k: v for k, v in os.environ.items() if k != "INCIDENTS_RAISE_BUGS"},  # as run
        check=False,
    )


def test_a_rebuild_that_cannot_write_a_file_half_way_leaves_the_old_site_whole(
    repo: Path, tmp_path: Path
) -> None:
    out = _site_after_an_update(repo, tmp_path)
    before = all_files(out)
    biggest = max(len(data) for rel, data in before.items() if rel != "index.html")
    assert len(before["index.html"]) + 4096 < biggest  # a file written after index.html
    inode = _inode(out)
    done = _rebuild(repo, out, limit=len(before["index.html"]) + 4096)
    assert _inode(out) == inode  # the rebuild from the state ran (not the full build)
    assert done.returncode == 2, done.stderr  # the disk's state, not a bug: one line
    assert done.stderr.count("\n") == 1 and "File too large" in done.stderr
    after = all_files(out)
    assert [rel for rel in before if after.get(rel) != before[rel]] == []  # old site whole
    assert [rel for rel in after if ".building" in rel] == []  # no half-written file


def test_a_folder_where_a_rebuild_writes_its_temporary_file_is_not_a_bug_half_way(
    repo: Path, tmp_path: Path
) -> None:
    out = _site_after_an_update(repo, tmp_path)
    before = all_files(out)
    (out / "incidents" / ".INC-0061.html.building").mkdir()  # an empty folder: no file
    done = _rebuild(repo, out)
    assert done.returncode == 0, done.stderr  # its files are staged in a folder of its own
    after = all_files(out)
    assert "incidents/INC-0061.html" in [rel for rel in before if after.get(rel) != before[rel]]


def test_rebuilds_into_one_site_at_once_never_end_in_a_bug(repo: Path, tmp_path: Path) -> None:
    """Rebuilds once wrote their pages beside their places under one fixed temporary name
    (.NAME.building): one renamed the other's file away, whose rename then failed, exit 3
    (30 rounds of 6 builds failed in each of 2 runs). Each now stages in a folder of its
    own, as the full build does."""
    out = _site_with_a_state(repo, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "INCIDENTS_RAISE_BUGS"}
    args = [str(SCRIPT), "-C", str(repo), "site", "build", "--out", str(out), *AS_OF]
    bugs: list[str] = []
    for round_ in range(12):
        _edit(repo / "incidents/INC-0061.yaml", "message: ", f"message: Round {round_}. ")
        commit_all(repo, f"round {round_}")
        running = [
            subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
            for _ in range(4)
        ]
        for job in running:
            _, err = job.communicate()
            if job.returncode == 3:
                bugs.append(err)
    assert bugs == []
