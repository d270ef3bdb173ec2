"""Into an empty --out, each incident's page is made where its record is checked, before the
checks across records say whether it is published (site/pages.py EarlyPages): the site is
the same bytes as ever, a record that fails any check is never published, and a build that
fails leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidents_cli.store import parallel

from .conftest import run_cli
from .test_site import _resolved, all_files, commit_all, write

AS_OF = ("--as-of", "2026-02-01T00:00:00Z")
MARK = "EARLY-PAGE-MARKER"


@pytest.mark.parametrize("workers", ["1", "3"])
def test_a_page_made_before_a_check_across_records_fails_is_never_published(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv("INCIDENTS_WORKERS", workers)
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)  # workers even for a few records
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2025-10-07", "October outage"))
    # Each of these passes the checks of a record on its own, or has a page to make, and is
    # left out: the id of an earlier record, the same id in other case (one file name on
    # some systems), a component the settings do not have, an id that is not its file's.
    write(repo, "incidents/INC-0001.yml", _resolved(1, "2025-11-12", f"Twin {MARK}"))
    write(repo, "incidents/INC-0005.yaml", _resolved(5, "2025-09-09", "September outage"))
    write(repo, "incidents/inc-0005.yaml", _resolved(5, "2025-09-10", f"Case {MARK}"))
    (repo / "incidents/inc-0005.yaml").write_text(
        (repo / "incidents/inc-0005.yaml").read_text().replace("INC-0005", "inc-0005")
    )
    write(
        repo,
        "incidents/INC-0003.yaml",
        _resolved(3, "2025-12-09", f"Unknown {MARK}").replace("[api]", "[nowhere]"),
    )
    write(repo, "incidents/INC-0002.yaml", _resolved(9, "2025-08-07", f"Renamed {MARK}"))
    commit_all(repo)
    out = tmp_path / "out"
    result = run_cli("site", "build", "--out", str(out), *AS_OF, cwd=repo)
    assert result.code == 1, result.err
    for rel in ("INC-0001.yml", "inc-0005.yaml", "INC-0003.yaml", "INC-0002.yaml"):
        assert f"incidents/{rel}" in result.err, rel
    site = all_files(out)
    pages = sorted(rel for rel in site if rel.startswith("incidents/"))
    assert pages == ["incidents/INC-0001.html", "incidents/INC-0005.html"]
    assert "October outage" in site["incidents/INC-0001.html"].decode()
    assert "September outage" in site["incidents/INC-0005.html"].decode()
    assert not any(MARK.encode() in content for content in site.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "repo"]  # nothing else left

    # The same bytes as a build that makes every page after the checks (a build over a
    # site in --out, with no cache: every page rendered again, none made early).
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    again = run_cli("site", "build", "--out", str(out), *AS_OF, cwd=repo)
    assert again.code == 1, again.err
    assert all_files(out) == site


def test_a_build_that_fails_after_pages_were_made_leaves_nothing_behind(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    for number, day in enumerate(("2025-08-07", "2025-09-09", "2025-10-07"), start=1):
        write(repo, f"incidents/INC-{number:04d}.yaml", _resolved(number, day, f"Outage {number}"))
    # It parses (validate has nothing to say), and fails only where a month is rendered,
    # after the incidents' pages were made.
    write(repo, "templates/site/history_month.html", "{{ no_such_value.at_all }}\n")
    commit_all(repo)
    out = tmp_path / "out"
    result = run_cli("site", "build", "--out", str(out), *AS_OF, cwd=repo)
    assert result.code == 2, result.err
    assert "templates/site/history_month.html" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]  # no out, no staging
