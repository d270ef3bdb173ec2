"""The first day: a team replaces the starter components and people, and everything still
validates (the pull-request check stays green on files the team did not write)."""

from __future__ import annotations

from pathlib import Path

import git
import yaml

from .conftest import run_cli


def _replace_starter_settings(repo: Path) -> None:
    path = repo / "incidents.yaml"
    data = yaml.safe_load(path.read_text())
    data["components"] = [
        {"id": "shop", "name": "Shop", "group": "Storefront"},
        {"id": "search", "name": "Search"},
    ]
    data["people"] = [{"handle": "zoe", "name": "Zoe Doe"}, {"handle": "yann"}]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_replacing_the_starter_components_and_people_keeps_every_file_valid(repo: Path) -> None:
    _replace_starter_settings(repo)
    result = run_cli("validate", cwd=repo)
    assert result.code == 0, result.out + result.err
    g = git.Repo(repo)
    g.index.add(["incidents.yaml"])
    g.index.commit("Our components and people")
    assert run_cli("validate", cwd=repo).code == 0


def test_starter_runbooks_are_found_by_their_tags_before_they_are_linked(repo: Path) -> None:
    _replace_starter_settings(repo)
    declared = run_cli("declare", "TLS certificate expired", "--component", "shop", cwd=repo)
    assert declared.code == 0, declared.err
    assert "runbooks/expired-tls-certificate.md" in declared.out


def test_init_prints_the_next_things_to_edit(tmp_path: Path) -> None:
    result = run_cli("init", str(tmp_path / "ops"))
    assert result.code == 0, result.err
    steps = result.out[result.out.index("Next, edit:") :].splitlines()
    assert steps[1].startswith("  1. incidents.yaml: your components")
    assert steps[2].startswith("  2. oncall.yaml: uncomment the rotation")
    assert steps[3].startswith("  3. runbooks/: link the starter runbooks")
    assert steps[4].startswith("Then: cd ")


def test_the_starter_rotation_lists_the_people_init_finds(tmp_path: Path) -> None:
    folder = tmp_path / "ops"
    folder.mkdir()
    git.Repo.init(folder)
    (folder / "incidents.yaml").write_text(
        "title: Ours\ntimezone: Europe/Berlin\ncomponents: [{id: shop, name: Shop}]\n"
        "people:\n  - handle: zoe\n  - handle: yann\n"
    )
    result = run_cli("init", str(folder))
    assert result.code == 0, result.err
    assert "oncall.yaml: check the order and start of the rotation (zoe, yann)" in result.out
    oncall = yaml.safe_load((folder / "oncall.yaml").read_text())
    assert oncall["rotations"][0]["members"] == ["zoe", "yann"]
    assert oncall["rotations"][0]["timezone"] == "Europe/Berlin"
    assert oncall["escalation"] == {
        "primary": "primary",
        "secondary": {"rotation": "primary", "offset": 1},
    }
    g = git.Repo(folder)
    g.index.add(["incidents.yaml"])
    g.index.commit("Our settings")
    assert run_cli("validate", cwd=folder).code == 0
    assert "secondary  yann" in run_cli("oncall", "--at", "2026-01-06T12:00:00Z", cwd=folder).out
