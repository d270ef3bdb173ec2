"""atk6's attacks on main (sixth session): each test proves a defect and is marked
xfail(strict=True) until it is fixed. Real repositories, the installed console script
(run as a person runs it: no INCIDENTS_RAISE_BUGS), no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_site import commit_all, write

SCRIPT = Path(sys.executable).with_name("incidents")
ENV = {k: v for k, v in os.environ.items() if k != "INCIDENTS_RAISE_BUGS"}  # as run


def _incidents(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**ENV, **env},
        check=False,
        timeout=120,
    )


# ---- a repository's templates: a mistake in one is bad input, never "a bug" (exit 3) ------


@pytest.mark.xfail(
    strict=True,
    reason="atk6: a repository template raising a non-jinja error (1/0, recursion, "
    "sandbox range limit, %-format) ends in exit 3 'this is a bug', not exit 2",
)
@pytest.mark.parametrize(
    "body",
    [
        "{{ 1/0 }}",  # ZeroDivisionError
        "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",  # RecursionError
        "{{ range(10**9)|list|length }}",  # the sandbox's own OverflowError (MAX_RANGE)
        '{{ "%s %s" % (1,) }}',  # TypeError: not enough arguments for format string
        '{{ "x" * 2**62 }}',  # MemoryError / OverflowError, allocates nothing
    ],
    ids=["zero-division", "recursion", "range-limit", "percent-format", "huge-repeat"],
)
def test_a_repository_template_that_fails_is_one_line_exit_2_not_a_bug(
    repo: Path, tmp_path: Path, body: str
) -> None:
    write(repo, "templates/site/index.html", body + "\n")
    commit_all(repo, "a template with a mistake")
    done = _incidents(repo, "site", "build", "--out", str(tmp_path / "out"))
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("templates/site/index.html:1:"), done.stderr
    assert "bug" not in done.stderr
