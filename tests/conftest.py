"""Shared fixtures: isolated git identity and home, real repositories in temp folders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from incidents_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed identity and an empty home, so no test reads or writes the real ones."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Responder\n\temail = responder@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("INCIDENTS_RAISE_BUGS", "1")  # a bug fails its test, with a traceback
    for name in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)
    import incidents_cli.store.git as gitrepo

    monkeypatch.setattr(gitrepo, "_ENV", None)  # rebuilt from the environment above


@dataclass
class Run:
    result: Result

    @property
    def code(self) -> int:
        return self.result.exit_code

    @property
    def out(self) -> str:
        return self.result.stdout

    @property
    def err(self) -> str:
        return self.result.stderr


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None) -> Run:
    """The real CLI through click's runner (``input``: standard input); exceptions are not
    swallowed."""
    runner = CliRunner()
    full = ["-C", str(cwd), *args] if cwd is not None else list(args)
    return Run(runner.invoke(cli, full, input=input, catch_exceptions=False))


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A fresh incident repository made by `incidents init`."""
    path = tmp_path / "repo"
    result = run_cli("init", str(path))
    assert result.code == 0, result.err
    yield path
