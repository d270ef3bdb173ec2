"""Programs the tests run for real that pip does not install (Chromium, axe-core,
Alertmanager): .ci/run installs them. Where one is missing, a test fails in CI (CI is set)
and is skipped with the command that installs it on a developer's machine, so the README's
test command works on a fresh machine with only Python and git, and CI never skips."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(what: str, install: str) -> NoReturn:
    message = f"{what} is not installed: `{install}` (.ci/run does it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
