"""Attack round 12 on fix11: text taken from a public tracker into a record, now that bidi
isolates count as text only in pairs."""

from __future__ import annotations

from pathlib import Path

import git

from .conftest import run_cli
from .fakes.github_api import FakeGitHub
from .test_actions_sync import PM, fake, first_sync, front, published, sync_cli

__all__ = ["fake", "published"]  # the fixtures, used by name


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


def test_an_action_item_titled_with_a_balanced_isolate_can_be_marked_done(
    published: Path,
) -> None:
    path = published / PM
    text = path.read_text(encoding="utf-8")
    assert "Alert on pool saturation" in text
    title = "x" * 60 + " for \u2068\u05d3\u05e0\u05d4 \u05d3\u05e0\u05d4\u2069 customers"
    path.write_text(text.replace("Alert on pool saturation", title, 1), encoding="utf-8")
    repo = git.Repo(published)
    repo.git.add("-A")
    repo.git.commit("-qm", "An action item named in both languages")
    assert run_cli("validate", cwd=published).code == 0
    done = run_cli(
        "actions", "done", "INC-0001", "A1", "--at", "2026-03-21T08:00:00Z", cwd=published
    )
    assert done.code == 0, done.err
