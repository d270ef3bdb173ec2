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
