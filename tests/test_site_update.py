"""A rebuild writes only the pages that changed, in place, and gives a cold build's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_cli
from .test_site import _resolved, all_files, build, commit_all, write

AS_OF = ("--as-of", "2026-02-01T00:00:00Z")


def test_a_rebuild_rewrites_only_changed_pages_and_equals_a_cold_build(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number, month in enumerate(("2025-08-07", "2025-09-09", "2025-10-07"), start=1):
        write(
            repo, f"incidents/INC-{number:04d}.yaml", _resolved(number, month, f"Outage {number}")
        )
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    inodes = {rel: (out / rel).stat().st_ino for rel in all_files(out)}
    write(repo, "incidents/INC-0002.yaml", _resolved(2, "2025-09-09", "Slowdown 2"))
    write(repo, "incidents/INC-0004.yaml", _resolved(4, "2025-11-12", "Outage 4"))
    commit_all(repo, "one changed, one new")
    build(repo, out, *AS_OF)
    after = {rel: (out / rel).stat().st_ino for rel in all_files(out)}
    # Untouched: the unchanged incidents' pages and their months' pages (same files).
    for rel in ("incidents/INC-0001.html", "incidents/INC-0003.html"):
        assert after[rel] == inodes[rel], rel
    assert after["incidents/INC-0002.html"] != inodes["incidents/INC-0002.html"]
    assert "incidents/INC-0004.html" in after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "site"]  # no staging left

    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    cold = build(repo, tmp_path / "cold", *AS_OF)
    assert all_files(out) == all_files(cold)


def test_a_rebuild_removes_the_pages_of_records_that_are_gone(repo: Path, tmp_path: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2025-10-07", "October outage"))
    write(repo, "incidents/INC-0002.yaml", _resolved(2, "2025-11-12", "November outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    assert (out / "incidents" / "INC-0002.html").is_file()
    (repo / "incidents" / "INC-0002.yaml").unlink()
    commit_all(repo, "retracted")
    build(repo, out, *AS_OF)
    assert not (out / "incidents" / "INC-0002.html").exists()
    fresh = build(repo, tmp_path / "fresh", *AS_OF)
    assert all_files(out) == all_files(fresh)


def test_a_refused_path_in_place_leaves_the_site_whole(repo: Path, tmp_path: Path) -> None:
    from incidents_cli.core.errors import RefusedError
    from incidents_cli.site.build import Reused, write_tree

    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2025-10-07", "October outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    before = all_files(out)
    with pytest.raises(RefusedError):
        write_tree(out, [("index.html", "new"), ("../escaped.html", "x")])
    assert all_files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "site"]
    assert run_cli("site", "build", "--out", str(out), *AS_OF, cwd=repo).code == 0
    assert Reused  # the marker type write_tree takes for reused pages
