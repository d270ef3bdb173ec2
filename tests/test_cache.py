"""The blob-keyed record cache gives exactly what a cold read gives."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from .conftest import run_cli


def _outputs(repo: Path, out: Path) -> dict[str, object]:
    site = run_cli("site", "build", "--out", str(out), "--as-of", "2026-12-01T00:00:00Z", cwd=repo)
    assert site.code in (0, 1), site.err  # 1: records that do not validate are left out
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    return {
        "validate": run_cli("validate", cwd=repo).out,
        "validate-json": run_cli("validate", "--format", "json", cwd=repo).out,
        "list": run_cli("list", "--all", "--as-of", "2026-12-01T00:00:00Z", cwd=repo).out,
        "list-json": run_cli(
            "list", "--all", "--json", "--as-of", "2026-12-01T00:00:00Z", cwd=repo
        ).out,
        "actions": run_cli(
            "actions", "--as-of", "2026-12-01T00:00:00Z", "--format", "json", cwd=repo
        ).out,
        "stats": run_cli("stats", "--until", "2026-12-01T00:00:00Z", "--json", cwd=repo).out,
        "escalations": run_cli(
            "escalations", "--as-of", "2026-12-01T00:00:00Z", "--format", "json", cwd=repo
        ).out,
        "site": files,
    }


def test_cached_reads_equal_cold_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    # A committed record with problems, one with uncommitted edits, and an untracked one.
    bad = demo / "incidents" / "INC-0002.yaml"
    bad.write_text(bad.read_text().replace("severity: medium", "severity: urgent"))
    g = git.Repo(demo)
    g.index.add(["incidents/INC-0002.yaml"])
    g.index.commit("typo")
    edited = demo / "incidents" / "INC-0003.yaml"
    edited.write_text(edited.read_text().replace("Card payments failing", "Card payments down"))
    run_cli("declare", "Untracked test", "--severity", "low", cwd=demo)
    (demo / "incidents" / "INC-0009.yaml").write_text(
        "id: INC-0009\ntitle: Hand-written\nphase: detected\nsource: support\n"
        "detected_at: 2026-11-01T00:00:00Z\n"
    )

    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    cold = _outputs(demo, tmp_path / "cold")
    monkeypatch.delenv("INCIDENTS_NO_CACHE")
    first = _outputs(demo, tmp_path / "first")  # fills the cache
    assert list((demo / ".git" / "incidents-cache").glob("*.json"))
    warm = _outputs(demo, tmp_path / "warm")  # reads from it
    assert first == cold
    assert warm == cold
    assert "Card payments down" in str(warm["list"])
    assert "'urgent' is not one of" in str(warm["validate"])

    # A change, committed: a new blob, read afresh.
    edited.write_text(edited.read_text().replace("Card payments down", "Card payments slow"))
    g.index.add(["incidents/INC-0003.yaml"])
    g.index.commit("retitle")
    after = _outputs(demo, tmp_path / "after")
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    assert after == _outputs(demo, tmp_path / "after-cold")
    assert "Card payments slow" in str(after["list"])
    assert not g.is_dirty(path="incidents-cache")
