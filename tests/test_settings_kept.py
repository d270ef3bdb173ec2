"""Settings that passed every check are kept by content for the next transition."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from incidents_cli.store.layout import SETTINGS_KEPT

from .conftest import run_cli
from .test_transitions_cli import declare


def _git_dir(repo: Path) -> Path:
    out = subprocess.run(
        ["git", "rev-parse", "--absolute-git-dir"], cwd=repo, capture_output=True, text=True
    )
    return Path(out.stdout.strip())


def _blob(repo: Path, rel: str) -> str:
    return subprocess.run(
        ["git", "hash-object", rel], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_settings_that_passed_are_kept_under_their_blob_id(repo: Path) -> None:
    iid = declare(repo, "--severity", "low")
    kept = _git_dir(repo) / SETTINGS_KEPT
    entry = json.loads(kept.read_text(encoding="utf-8"))
    assert entry["key"].endswith(" " + _blob(repo, "incidents.yaml"))
    assert entry["data"]["title"]
    assert run_cli("ack", iid, cwd=repo).code == 0  # read from what was kept


def test_changed_settings_are_checked_again(repo: Path) -> None:
    iid = declare(repo, "--severity", "low")
    settings = repo / "incidents.yaml"
    settings.write_text(settings.read_text() + "unknown_setting: 1\n", encoding="utf-8")
    subprocess.run(["git", "commit", "-qam", "break the settings"], cwd=repo, check=True)
    result = run_cli("ack", iid, cwd=repo)
    assert result.code != 0
    assert "incidents.yaml" in result.err and "unknown_setting" in result.err, result.err


@pytest.mark.parametrize("damage", ["{not json", '{"key": 1}', '{"key": "x", "data": []}', ""])
def test_a_damaged_or_foreign_entry_is_ignored(repo: Path, damage: str) -> None:
    iid = declare(repo, "--severity", "low")
    kept = _git_dir(repo) / SETTINGS_KEPT
    kept.write_text(damage, encoding="utf-8")
    assert run_cli("ack", iid, cwd=repo).code == 0
    assert json.loads(kept.read_text(encoding="utf-8"))["key"].endswith(
        _blob(repo, "incidents.yaml")
    )


def test_nothing_is_kept_with_the_cache_off(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    declare(repo, "--severity", "low")
    assert not (_git_dir(repo) / SETTINGS_KEPT).exists()
