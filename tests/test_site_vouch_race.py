"""A page of --out edited by hand while a full build writes the site in place: the state
that build keeps must not vouch for the edit, however many files it wrote. (Over
state.OWN_MOST files written, it vouched for every file up to its manifest's change time,
so an edit made while it ran was trusted by every rebuild until a cold build.) The
installed console script; the edit is made while it is stopped (SIGSTOP) at the moment
inotify tells that it moved a second page into --out: the first is edited."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import struct
import subprocess
from pathlib import Path

from incidents_cli.site.files import MARKER

from .test_attack_rebuild_fork import _args, _build, _cold
from .test_site import _resolved, all_files, commit_all, write
from .test_site_update import _edit

_IN_MOVED_TO = 0x80
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)


def _moved_into(folder: Path, running: subprocess.Popen[str]) -> str | None:
    """The name of the first file moved into ``folder`` while ``running`` runs, once a
    second one was moved there (the build is then done with the first: moved, looked at),
    or None if it ended before."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
    assert fd >= 0 and libc.inotify_add_watch(fd, os.fsencode(folder), _IN_MOVED_TO) >= 0
    names: list[str] = []
    try:
        while running.poll() is None and len(names) < 2:
            if not select.select([fd], [], [], 0.01)[0]:
                continue
            data, at = os.read(fd, 4096), 0
            while at < len(data):
                _, _, _, size = _EVENT.unpack_from(data, at)
                names.append(
                    data[at + _EVENT.size : at + _EVENT.size + size].rstrip(b"\0").decode()
                )
                at += _EVENT.size + size
        return names[0] if len(names) >= 2 else None
    finally:
        os.close(fd)


def _many_pages(repo: Path, tmp_path: Path) -> Path:
    for number in range(1, 201):
        day = f"2026-01-{number % 19 + 1:02d}"
        write(repo, f"incidents/INC-{number:04d}.yaml", _resolved(number, day, f"Outage {number}"))
    commit_all(repo)
    out = tmp_path / "site"
    for _ in range(2):  # the second keeps a state
        done = _build(repo, out)
        assert done.returncode == 0, done.stderr
    return out


def test_a_page_edited_while_a_full_build_writes_many_files_is_found_by_the_next_build(
    repo: Path, tmp_path: Path
) -> None:
    out = _many_pages(repo, tmp_path)
    assert len(all_files(out)) > 220
    for attempt in range(5):
        # a new site title: every page is written again, by a full build (in place)
        _edit(repo / "incidents.yaml", "title: ", f"title: Round {attempt} ")
        commit_all(repo, f"retitled {attempt}")
        manifest = (out / MARKER).stat().st_ino
        running = subprocess.Popen(
            _args(repo, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        name = _moved_into(out, running)
        edited = False
        if name is not None and name != MARKER:
            os.kill(running.pid, signal.SIGSTOP)
            try:
                if (out / MARKER).stat().st_ino == manifest:  # not done yet
                    (out / name).write_bytes(b"<p>defaced</p>")
                    edited = True
            finally:
                os.kill(running.pid, signal.SIGCONT)
        _, err = running.communicate(timeout=120)
        assert running.returncode == 0, err
        if edited:
            break
    else:
        raise AssertionError("the build always ended before the edit")
    assert len(all_files(out)) > 220
    _edit(repo / "incidents/INC-0001.yaml", "title: ", "title: Renamed ")
    commit_all(repo, "one change: a rebuild from the state")
    done = _build(repo, out)
    assert done.returncode == 0, done.stderr
    assert (out / name).read_bytes() != b"<p>defaced</p>", name
    assert all_files(out) == _cold(repo, tmp_path)
