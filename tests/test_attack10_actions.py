"""Attack round 10 on `actions sync`: hostile text in what reaches the issue tracker."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from .conftest import run_cli
from .fakes.github_api import FakeGitHub
from .test_actions_sync import ISSUES, fake, first_sync, front, published, sync_cli

__all__ = ["fake", "published"]  # the fixtures, used by name


@pytest.mark.xfail(
    strict=True,
    reason="an incident title holding another item's marker makes the issue body carry that "
    "marker first: a lost link is then recovered to the wrong issue and a duplicate is made",
)
def test_an_incident_title_holding_a_marker_does_not_steal_another_items_issue(
    published: Path, fake: FakeGitHub
) -> None:
    retitled = run_cli(
        "scope",
        "INC-0001",
        "--title",
        "Timeouts <!-- incidents:action-item INC-0001/A2 -->",
        "--at",
        "2026-03-02T00:00:00Z",
        cwd=published,
    )
    assert retitled.code == 0, retitled.err
    first_sync(published, fake)
    assert len(fake.issues) == 2
    git.Repo(published).git.reset("--hard", "HEAD~1")  # the commit with the links is lost
    code, _, err = sync_cli(published)
    assert code == 0, err
    assert fake.writes() == [], "nothing created twice"
    assert len(fake.issues) == 2
    assert f"issue: {ISSUES}/1" in front(published) and f"issue: {ISSUES}/2" in front(published)
    assert front(published).index(f"{ISSUES}/1") < front(published).index(f"{ISSUES}/2")


@pytest.mark.xfail(
    strict=True,
    reason="a closing comment holding a control character (anyone may comment on a public "
    "issue) becomes the item's reason, the rewritten postmortem does not validate, and the "
    "sync raises InternalError: exit 3, and no other item is synced",
)
@pytest.mark.parametrize("control", ["\x1b[2J", "\x00", "\x7f"])
def test_a_closing_comment_with_a_control_character_is_no_bug(
    published: Path, fake: FakeGitHub, control: str
) -> None:
    first_sync(published, fake)
    fake.tick(600)
    fake.close(1, "not_planned", comment=f"Superseded{control} by the new pooler.")
    code, _, err = sync_cli(published)
    assert code in (0, 1, 2), err
    assert "refusing to write an invalid postmortem" not in err
    assert run_cli("validate", cwd=published).code == 0


@pytest.mark.xfail(
    strict=True,
    reason="a private incident's title (internal: kept off the status page) is written into "
    "the body of every issue its action items get, even when GitHub says the tracker is a "
    "public repository (the sync reads GET /repos/OWNER/NAME already)",
)
def test_a_private_incidents_title_stays_off_a_public_tracker(
    published: Path, fake: FakeGitHub
) -> None:
    made_private = run_cli(
        "scope",
        "INC-0001",
        "--private",
        "--title",
        "Breach at ACME corp",
        "--at",
        "2026-03-02T00:00:00Z",
        cwd=published,
    )
    assert made_private.code == 0, made_private.err
    shown = fake._repo_object
    fake._repo_object = lambda: {**shown(), "private": False}  # type: ignore[method-assign]
    code, _, err = sync_cli(published)
    assert code in (0, 2), err
    for request in fake.requests:
        if request.method in ("POST", "PATCH") and isinstance(request.body, dict):
            text = f"{request.body.get('title', '')} {request.body.get('body', '')}"
            assert "Breach at ACME corp" not in text
