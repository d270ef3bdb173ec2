"""Attack round 11 on fix10b: git's answers read with surrogateescape reach a transition's
actor (git's user.name) as lone surrogates, which fix10 calls "control characters"."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import run_cli


def test_a_git_user_name_not_in_utf8_is_named_as_git_s_setting(repo: Path) -> None:
    config = repo / ".git" / "config"
    with config.open("ab") as handle:  # an old Windows setup's .gitconfig, in Latin-1
        handle.write(b"[user]\n\tname = Jos\xe9 Garc\xeda\n")
    assert subprocess.run(["git", "config", "user.name"], cwd=repo, capture_output=True).stdout
    result = run_cli("declare", "Checkout down", "--severity", "high", cwd=repo)
    assert result.code == 2, result.out
    assert "control character" not in result.err, result.err
    assert "UTF-8" in result.err, result.err  # as unfit_character says of an argument
