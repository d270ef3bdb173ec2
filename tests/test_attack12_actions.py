"""Attack round 12 on fix11: text taken from a public tracker into a record, now that bidi
isolates count as text only in pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_cli
from .fakes.github_api import FakeGitHub
from .test_actions_sync import fake, first_sync, front, published, sync_cli

__all__ = ["fake", "published"]  # the fixtures, used by name


@pytest.mark.xfail(
    strict=True,
    reason="core/text.py without_control_characters no longer drops bidi isolates (fix11 "
    "took them out of _CONTROL), so a closing comment with a lone isolate, which anyone "
    "may write on a public issue, is taken into the reason and the step is refused",
)
def test_a_closing_comment_with_a_lone_isolate_is_made_fit_for_the_record(
    published: Path, fake: FakeGitHub
) -> None:
    first_sync(published, fake)
    fake.tick(600)
    fake.close(1, "not_planned", comment="Superseded \u2067by the new pooler.")
    code, _, err = sync_cli(published)
    assert code == 0, err
    assert "status: wont_do" in front(published)
    assert run_cli("validate", cwd=published).code == 0


@pytest.mark.xfail(
    strict=True,
    reason="core/tracker.py closing_comment cuts a comment over MAX_REASON (500) characters "
    "inside its balanced isolate pair; the postmortem would then hold a lone isolate and "
    "the whole sync is refused",
)
def test_a_long_closing_comment_with_a_balanced_isolate_is_kept_as_the_reason(
    published: Path, fake: FakeGitHub
) -> None:
    first_sync(published, fake)
    fake.tick(600)
    said = "x" * 490 + " per \u2068\u05d3\u05e0\u05d4 \u05d3\u05e0\u05d4\u2069 on the call"
    fake.close(1, "not_planned", comment=said)
    code, _, err = sync_cli(published)
    assert code == 0, err
    assert "status: wont_do" in front(published)
