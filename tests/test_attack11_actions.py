"""Attack round 11 on fix10's private action items: a postmortem kept off the status page."""

from __future__ import annotations

from pathlib import Path

import git

from .fakes.github_api import FakeGitHub
from .test_actions_sync import PM, fake, published, sync_cli

__all__ = ["fake", "published"]  # the fixtures, used by name


def test_an_internal_postmortems_items_stay_off_a_public_tracker(
    published: Path, fake: FakeGitHub
) -> None:
    path = published / PM
    text = path.read_text(encoding="utf-8")
    assert "public: true\n" in text
    path.write_text(
        text.replace("public: true\n", "public: false\n", 1).replace(
            "Alert on pool saturation", "Rotate the key leaked in the ops channel"
        ),
        encoding="utf-8",
    )
    repo = git.Repo(published)
    repo.git.add("-A")
    repo.git.commit("-qm", "The postmortem stays internal")
    shown = fake._repo_object
    fake._repo_object = lambda: {**shown(), "private": False}  # type: ignore[method-assign]
    code, _, err = sync_cli(published)
    assert code in (0, 2), err
    assert "INC-0001 has a postmortem that is not public and acme/service is a public" in err
    for request in fake.requests:
        if request.method in ("POST", "PATCH") and isinstance(request.body, dict):
            said = f"{request.body.get('title', '')} {request.body.get('body', '')}"
            assert "Rotate the key leaked" not in said, said
