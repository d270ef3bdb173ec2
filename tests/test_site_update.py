"""A rebuild writes only the pages that changed, in place, and gives a cold build's bytes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import run_cli
from .test_site import ROOT, _resolved, all_files, build, commit_all, write

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


def _same_as_cold(repo: Path, out: Path, cold: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Build ``out`` again (in place), then a cold build of the same commit: equal bytes."""
    assert run_cli("site", "build", "--out", str(out), cwd=repo).code in (0, 1)
    shutil.rmtree(cold, ignore_errors=True)
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    assert run_cli("site", "build", "--out", str(cold), cwd=repo).code in (0, 1)
    monkeypatch.delenv("INCIDENTS_NO_CACHE")
    built, fresh = all_files(out), all_files(cold)
    assert built.keys() == fresh.keys()
    assert [rel for rel in built if built[rel] != fresh[rel]] == []
    assert _folders(out) == _folders(cold)  # no folder left empty that a cold build lacks


def _demo_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """The demo repository, its site (built, then rebuilt with nothing changed: a cold
    build's bytes), and the folder for cold builds to compare with."""
    demo, cold = tmp_path / "demo", tmp_path / "cold"
    assert run_cli("demo", str(demo)).code == 0
    out = demo / "_site"
    _same_as_cold(demo, out, cold, monkeypatch)
    return demo, out, cold


def _folders(site: Path) -> set[str]:
    return {str(p.relative_to(site)) for p in site.rglob("*") if p.is_dir()}


def test_a_rebuild_after_every_incident_is_gone_leaves_no_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo, out, cold = _demo_rebuilt(tmp_path, monkeypatch)
    assert (out / "incidents").is_dir()
    for folder in ("incidents", "postmortems"):
        for record in (demo / folder).iterdir():
            record.unlink()
    commit_all(demo, "every incident gone")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert not (out / "incidents").exists()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_rebuild_gives_a_cold_builds_bytes_after_every_kind_of_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo, out, cold = _demo_rebuilt(tmp_path, monkeypatch)
    steps: list[tuple[str, Callable[[], object]]] = [
        (
            "added",
            lambda: write(demo, "incidents/INC-0004.yaml", _resolved(4, "2026-01-05", "New")),
        ),
        (
            "updated",
            lambda: run_cli(
                "update", "INC-0003", "--status", "identified", "--message", "Found it", cwd=demo
            ),
        ),
        (
            "made private",
            lambda: _edit(demo / "incidents/INC-0002.yaml", "phase:", "public: false\nphase:"),
        ),
        (
            "made invalid",
            lambda: _edit(demo / "incidents/INC-0004.yaml", "severity: high", "severity: huge"),
        ),
        (
            "valid again",
            lambda: _edit(demo / "incidents/INC-0004.yaml", "severity: huge", "severity: low"),
        ),
        ("public again", lambda: _edit(demo / "incidents/INC-0002.yaml", "public: false\n", "")),
        ("deleted", lambda: (demo / "incidents/INC-0004.yaml").unlink()),
        ("postmortem gone", lambda: (demo / "postmortems/INC-0001.md").unlink()),
        ("maintenance gone", lambda: (demo / "maintenance/MNT-0002.yaml").unlink()),
        ("settings", lambda: _edit(demo / "incidents.yaml", "name: Public API", "name: The API")),
        (
            "template",
            lambda: write(
                demo,
                "templates/site/_macros.html",
                (ROOT / "templates/site/_macros.html")
                .read_text(encoding="utf-8")
                .replace('class="updates"', 'class="updates custom"'),
            ),
        ),
    ]
    for name, change in steps:
        change()
        if name != "updated":  # `update` commits itself
            commit_all(demo, name)
        _same_as_cold(demo, out, cold, monkeypatch)
    assert b"updates custom" in (out / "incidents/INC-0001.html").read_bytes()


def test_a_rebuild_over_a_site_edited_by_hand_or_built_elsewhere_gives_a_cold_builds_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo, other, cold = tmp_path / "demo", tmp_path / "other", tmp_path / "cold"
    for repo in (demo, other):
        assert run_cli("demo", str(repo)).code == 0
    out = demo / "_site"
    # edited by hand: a page reused otherwise, a feed, one deleted, one added
    _edit(out / "incidents/INC-0001.html", "<main", "<!-- edited --><main")
    _edit(out / "history.atom", "<feed", "<!-- edited --><feed")
    (out / "incidents/INC-0002.html").unlink()
    (out / "incidents/stray.html").write_text("stray", encoding="utf-8")
    _same_as_cold(demo, out, cold, monkeypatch)
    # built from another repository, whose records differ
    _edit(other / "incidents/INC-0001.yaml", "title: ", "title: Other ")
    commit_all(other, "retitled")
    assert run_cli("site", "build", "--out", str(out), cwd=other).code == 0
    _same_as_cold(demo, out, cold, monkeypatch)


def test_a_failed_rebuild_leaves_the_old_site_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    out = demo / "_site"
    before = all_files(out)
    run_cli("update", "INC-0003", "--status", "identified", "--message", "Found it", cwd=demo)
    write(
        demo,
        "templates/site/incident.html",
        "{% extends 'site/base.html' %}{% block main %}{{ nope.x }}{% endblock %}",
    )
    commit_all(demo, "a broken template")
    result = run_cli("site", "build", "--out", str(out), cwd=demo)
    assert result.code == 2, result.err  # a template error: refused, nothing written
    assert all_files(out) == before
    assert [p.name for p in demo.iterdir() if p.name.startswith("._site")] == []  # no staging


def test_a_rebuild_with_views_lost_from_the_cache_gives_a_cold_builds_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo, out, cold = _demo_rebuilt(tmp_path, monkeypatch)
    months = sorted((demo / ".git" / "incidents-cache").glob("public-*-????-??.json"))
    assert months
    months[0].write_text("{not json")
    for month in months[1:]:
        month.unlink()
    run_cli("update", "INC-0003", "--status", "identified", "--message", "Found it", cwd=demo)
    shutil.rmtree(out)  # every page rendered, every view read
    _same_as_cold(demo, out, cold, monkeypatch)


def _tool_copy(where: Path, edit: tuple[str, str, str]) -> Path:
    """A copy of this tool with one edit (path in the package, old text, new text): another
    build of the same version, as a development install or a rebuilt wheel is."""
    package = where / "incidents_cli"
    shutil.copytree(ROOT / "incidents_cli", package, ignore=shutil.ignore_patterns("__pycache__"))
    for data in ("schemas", "templates", "locales", "runbooks", ".github"):
        (where / data).symlink_to(ROOT / data)
    rel, old, new = edit
    text = (package / rel).read_text(encoding="utf-8")
    assert text.count(old) == 1
    (package / rel).write_text(text.replace(old, new), encoding="utf-8")
    return where


def test_a_fix_to_the_code_takes_effect_at_once_though_the_version_stayed_the_same(
    tmp_path: Path,
) -> None:
    """Every cache (checks, public views, pages, compiled templates) is named by a digest of
    the tool's code, not by its version alone: a build by a changed tool reuses nothing that
    another build left, so a fix to what is published shows on the next build, not when
    the records next change."""
    import os
    import subprocess
    import sys

    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    out = demo / "_site"
    assert run_cli("site", "build", "--out", str(out), cwd=demo).code == 0  # caches filled
    title = 'title=str(record.get("title", record["id"])),'
    tool = _tool_copy(tmp_path / "tool", ("site/public.py", title, title[:-2] + ").upper(),"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "incidents_cli",
            "-C",
            str(demo),
            "site",
            "build",
            "--out",
            str(out),
        ],
        cwd=tool,  # `python -m` imports from the current folder first
        env={**os.environ, "PYTHONPATH": str(tool)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    page = (out / "incidents" / "INC-0001.html").read_text(encoding="utf-8")
    shown = run_cli("show", "INC-0001", "--json", cwd=demo).out
    assert '"title": "' in shown
    import json

    name = json.loads(shown)["title"]
    assert name.upper() in page and name not in page


def test_a_full_build_in_place_that_writes_more_files_than_it_keeps_digests_of_keeps_them_all(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full build into a site already in --out keeps the digests of the first files it
    writes (state.OWN_MOST); every file past them is moved into place all the same."""
    monkeypatch.setattr("incidents_cli.site.state.OWN_MOST", 3)
    for number, month in enumerate(("2025-08-07", "2025-09-09", "2025-10-07"), start=1):
        write(
            repo, f"incidents/INC-{number:04d}.yaml", _resolved(number, month, f"Outage {number}")
        )
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    build(repo, out, *AS_OF)  # in place: a state kept
    write(repo, "incidents/INC-0004.yaml", _resolved(4, "2025-11-12", "Outage 4"))
    commit_all(repo, "a new one: a full build, in place")
    build(repo, out, *AS_OF)
    build(repo, out, "--as-of", "2026-02-02T00:00:00Z")  # and a rebuild from its state
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    cold = build(repo, tmp_path / "cold", "--as-of", "2026-02-02T00:00:00Z")
    assert all_files(out) == all_files(cold)


def test_an_internal_change_rewrites_no_file_and_a_public_one_gives_a_cold_builds_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages are keyed by the public views, not by the records' blob ids: an internal note
    leaves every byte of --out as it was (the manifest too: it would tell when internal
    data changed) and renders nothing again; a public change after it is rendered."""
    demo, out, cold = _demo_rebuilt(tmp_path, monkeypatch)
    # The site's "now" is HEAD's commit time, which pages of open incidents show: the
    # commits below are made at the time HEAD has, so only what they change can differ.
    import incidents_cli.store.git as gitrepo

    from .git_helpers import git

    head_time = git(demo, "log", "-1", "--format=%ct +0000")  # as git and GitPython read it
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(variable, head_time)
    monkeypatch.setattr(gitrepo, "_ENV", None)  # git's environment read again, with them
    before = all_files(out)
    inodes = {rel: (out / rel).stat().st_ino for rel in before if rel != ".incidents-site"}
    noted = run_cli("note", "INC-0003", "Internal: the vendor's account is suspended", cwd=demo)
    assert noted.code == 0, noted.err
    _same_as_cold(demo, out, cold, monkeypatch)  # an open incident
    assert all_files(out) == before
    # a closed one (with a postmortem): an internal finding edited
    _edit(demo / "incidents/INC-0001.yaml", "pool at 100% on all", "pool at 99% on all")
    commit_all(demo, "an internal change")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert all_files(out) == before
    assert {rel: (out / rel).stat().st_ino for rel in inodes} == inodes
    _edit(demo / "incidents/INC-0001.yaml", "title: Checkout", "title: Payments")
    commit_all(demo, "a public change")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert b"Payments and API" in (out / "incidents/INC-0001.html").read_bytes()
    assert all_files(out)[".incidents-site"] != before[".incidents-site"]


def test_a_change_to_what_the_bars_show_of_a_resolved_incident_gives_a_cold_builds_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebuild reads the 90-day bars of the incidents it does not render from a record
    kept in its state (no view decoded): a change to any field the bars show of a resolved
    incident (its severity, the components and statuses its updates give, their times) is
    rebuilt from the state, and gives a cold build's bytes."""
    demo, out, cold = _demo_rebuilt(tmp_path, monkeypatch)
    record = demo / "incidents/INC-0001.yaml"
    steps = [  # (a component it touches added: the feeds change, the full build runs)
        ("severity: critical", "severity: low", True),  # the impact, and its status
        (
            "      api: major_outage\n      database",
            "      api: partial_outage\n      database",
            True,
        ),
        ("      database: degraded_performance", "      database: major_outage", True),
        ("15:00Z'\n    status: identified", "30:00Z'\n    status: identified", True),  # a time
        ("      api: degraded_performance\n", "      web: major_outage\n", False),
    ]
    for old, new, from_state in steps:
        _edit(record, old, new)
        commit_all(demo, f"bars: {new.strip()}")
        history = (out / "history.html").stat().st_ino
        _same_as_cold(demo, out, cold, monkeypatch)
        if from_state:
            assert (out / "history.html").stat().st_ino == history, old  # not a full build
    assert b"partial" in (out / "index.html").read_bytes()


def _trash(repo: Path) -> list[Path]:
    return sorted((repo / ".git" / "incidents-cache").glob("trash-*"))


def test_a_rebuild_leaves_the_files_it_replaced_in_the_git_folder_for_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild keeps the files it replaced (hard links) in a trash folder under the git
    folder, never in --out or the work tree, so that freeing their blocks is off its path;
    the next build removes it (a rebuild while it renders, a full build at its end), and
    only trash folders, never through a symlink."""
    demo, out, cold = _demo_rebuilt(tmp_path, monkeypatch)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n", encoding="utf-8")
    alien = demo / ".git" / "incidents-cache" / "trash-linked"
    alien.symlink_to(elsewhere, target_is_directory=True)  # never followed
    tree = _git_status(demo)
    old_index = (out / "index.html").read_bytes()
    run_cli("update", "INC-0003", "--status", "identified", "--message", "Found it", cwd=demo)
    history = (out / "history.html").stat().st_ino
    _same_as_cold(demo, out, cold, monkeypatch)  # nothing extra in --out
    assert (out / "history.html").stat().st_ino == history  # rebuilt from the state
    (first,) = [p for p in _trash(demo) if not p.is_symlink()]
    assert old_index in [f.read_bytes() for f in first.iterdir()]  # the replaced index
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")] == []
    assert _git_status(demo) == tree  # nothing new in the work tree
    run_cli("update", "INC-0003", "--status", "monitoring", "--message", "Fixed", cwd=demo)
    _same_as_cold(demo, out, cold, monkeypatch)
    (second,) = [p for p in _trash(demo) if not p.is_symlink()]
    assert second != first and not first.exists()  # the last one's removed
    _edit(demo / "incidents.yaml", "name: Public API", "name: The API")
    commit_all(demo, "settings: the full build runs")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _trash(demo) == [alien]
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "mine\n"


def _git_status(repo: Path) -> str:
    import subprocess

    return subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
