"""The blob-keyed record cache gives exactly what a cold read gives."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from .conftest import run_cli


def _outputs(repo: Path, out: Path) -> dict[str, object]:
    site = run_cli("site", "build", "--out", str(out), "--as-of", "2026-12-01T00:00:00Z", cwd=repo)
    assert site.code in (0, 1), site.err  # 1: records that do not validate are left out
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    asof = "2026-12-01T00:00:00Z"
    commands = {
        "validate": ["validate"],
        "validate-json": ["validate", "--format", "json"],
        "list": ["list", "--all", "--as-of", asof],
        "list-json": ["list", "--all", "--json", "--as-of", asof],
        "actions": ["actions", "--as-of", asof, "--format", "json"],
        "stats": ["stats", "--until", asof, "--json"],
        "escalations": ["escalations", "--as-of", asof, "--format", "json"],
    }
    outputs: dict[str, object] = {}
    for name, args in commands.items():
        result = run_cli(*args, cwd=repo)
        # The exit code and both streams: two crashes must not compare equal.
        outputs[name] = (result.code, result.out, result.err)
    outputs["site"] = files
    return outputs


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


def test_a_damaged_or_hostile_cache_is_a_miss_and_never_runs_code(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    reference = _outputs(demo, tmp_path / "reference")
    folder = demo / ".git" / "incidents-cache"
    for checks in folder.glob("checks-*.json"):
        checks.unlink()
    assert run_cli("validate", cwd=demo).code == 0  # checks every record: writes packs too
    cached = sorted(folder.glob("*.json"))
    assert cached and not list(folder.glob("*.pickle"))
    # every cache: records (with the packs a first check writes), checks, public views
    names = [path.name for path in cached]
    assert any(n.startswith("checks-") for n in names)
    assert any(n.startswith("records-incident-") and "-p" in n for n in names)
    assert any(n.startswith("public-") for n in names)
    assert any(n.startswith("figures-") for n in names)  # what `stats` reads of each record
    assert any(n.startswith("detected-") for n in names)  # and `escalations`
    marker = tmp_path / "ran"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR."  # a pickle that runs a command
    for number, path in enumerate(cached):
        path.write_text(["{not json", payload, "[1, 2]", '{"x": [1]}'][number % 4])
    (folder / "public-f2-v0.1.0-00.pickle").write_text(payload)
    assert _outputs(demo, tmp_path / "again") == reference
    assert not marker.exists()

    # Well-formed JSON of the wrong shape or types, under the keys of real records: a miss.
    staged = git.Repo(demo).git.ls_files("-s").splitlines()
    blobs = {line.split("\t")[1]: line.split()[1] for line in staged}
    wrong: dict[str, object] = {}
    for rel, blob in blobs.items():
        if rel.startswith("incidents/"):
            wrong[f"i{blob}"] = [
                {"components": 5},
                {"detected_at": 3},
                {"title": "x"},
                ["x"],
                "x",
                {"components": [None]},
            ][len(wrong) % 6]
        elif rel.startswith("postmortems/"):
            wrong[f"p{blob}"] = [
                [5, {}],
                ["INC-0001", {"action_items": [{"due": 5}]}],
                ["INC-0001", {"action_items": "x"}],
                ["INC-0001", {"status": None}],
                ["INC-0001"],
            ][len(wrong) % 5]
    assert any(key.startswith("p") for key in wrong)
    for path in folder.glob("figures-*.json"):
        path.write_text(json.dumps(wrong))
    # `escalations`' detected incidents: data that does not follow the schema is a miss too
    wrong_id = {"phase": "detected", "id": 5, "detected_at": "2020-01-01T00:00:00Z"}
    detected = {blob: {**wrong_id, "title": "x", "source": "monitor"} for blob in blobs.values()}
    assert list(folder.glob("detected-*.json"))
    for path in folder.glob("detected-*.json"):
        path.write_text(json.dumps(detected))
    assert _outputs(demo, tmp_path / "typed") == reference
