"""Every cache file is named by ``tool_key()``: the version, a digest of the code and schemas,
and the installed versions of the libraries that shape what a cache holds. An upgrade of one
of those (a Markdown or Jinja fix, a YAML reader that reads a date differently) must be a miss
for every cache at once, as a fix of our own code is."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from incidents_cli.store import resources


@pytest.fixture(autouse=True)
def _fresh_digest() -> Iterator[None]:
    resources.code_digest.cache_clear()
    yield
    resources.code_digest.cache_clear()


def _site_packages(tmp_path: Path, *dist_infos: str) -> Path:
    folder = tmp_path / "lib" / "site-packages"
    for name in dist_infos:
        (folder / name).mkdir(parents=True)
    return folder


def test_every_shaping_library_of_this_install_is_named() -> None:
    named = {name.split("-", 1)[0] for name in resources._shaping_libraries()}
    assert {"pyyaml", "jsonschema", "fastjsonschema", "markdown_it_py", "jinja2"} <= named


def test_an_upgraded_library_first_on_the_path_changes_the_tool_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = resources.tool_key()
    folder = _site_packages(tmp_path, "Jinja2-99.0.dist-info", "unrelated-1.0.dist-info")
    monkeypatch.setattr(sys, "path", [str(folder), *sys.path])
    resources.code_digest.cache_clear()

    assert "jinja2-99.0.dist-info" in resources._shaping_libraries()
    assert resources.tool_key() != before


def test_an_unrelated_package_or_a_folder_outside_site_packages_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = resources.tool_key()
    folder = _site_packages(tmp_path, "unrelated-1.0.dist-info")
    working = tmp_path / "checkout"
    (working / "jinja2-99.0.dist-info").mkdir(parents=True)  # a folder a person made
    monkeypatch.setattr(sys, "path", [str(working), str(folder), *sys.path])
    resources.code_digest.cache_clear()

    assert resources.tool_key() == before
