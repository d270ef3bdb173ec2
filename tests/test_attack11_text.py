"""Attack round 11 on fix10's wider "control characters": bidi isolates in records."""

from __future__ import annotations

from pathlib import Path

import git

from .conftest import run_cli
from .test_actions_sync import PM, published

__all__ = ["published"]  # the fixture, used by name

# First-strong isolate around a Hebrew word, then pop directional isolate: what Fluent
# (Firefox, Thunderbird), Matrix clients and others put around a name they paste in. A
# balanced isolate cannot reorder the text around it: it is how UAX #9 says to embed
# right-to-left text, and records held it without complaint until d3fc133.
ISOLATED = "Card payments failing for \u2068\u05dc\u05e7\u05d5\u05d7\u05d5\u05ea\u2069 customers"


def test_a_title_with_a_balanced_isolate_stays_listed_and_published(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    path = demo / "incidents" / "INC-0003.yaml"
    text = path.read_text(encoding="utf-8")
    old = "title: Card payments failing for some customers"
    assert old in text
    path.write_text(text.replace(old, f"title: {ISOLATED}", 1), encoding="utf-8")
    repo = git.Repo(demo)
    repo.git.commit("-qam", "A title pasted from a chat (committed by an older version)")

    assert run_cli("validate", cwd=demo).code == 0
    listed = run_cli("list", cwd=demo)
    assert "INC-0003" in listed.out, listed.err
    built = run_cli("site", "build", cwd=demo)
    assert built.code == 0, built.err
    page = (demo / "_site" / "incidents" / "INC-0003.html").read_text(encoding="utf-8")
    assert "\u05dc\u05e7\u05d5\u05d7\u05d5\u05ea" in page


def test_a_postmortem_body_that_validates_does_not_block_its_action_items(
    published: Path,
) -> None:
    path = published / PM
    said = "\nAs \u2068\u05d3\u05e0\u05d4\u2069 said on the call, the pool was full.\n"
    path.write_text(path.read_text(encoding="utf-8") + said, encoding="utf-8")
    repo = git.Repo(published)
    repo.git.add("-A")
    repo.git.commit("-qm", "A line pasted from the call's chat (before the upgrade)")
    checked = run_cli("validate", cwd=published)
    done = run_cli(
        "actions", "done", "INC-0001", "A1", "--at", "2026-03-21T08:00:00Z", cwd=published
    )
    assert checked.code == 0, checked.err
    assert done.code == 0, done.err  # what validate passes, a transition takes


def test_settings_with_a_balanced_isolate_still_let_an_incident_be_declared(repo: Path) -> None:
    settings = repo / "incidents.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "title: Example Status" in text
    named = "title: \u2068\u05e1\u05d8\u05d8\u05d5\u05e1\u2069 Example Status"
    settings.write_text(text.replace("title: Example Status", named, 1), encoding="utf-8")
    git.Repo(repo).git.commit("-qam", "The site's name in both languages")
    declared = run_cli("declare", "Checkout down", "--severity", "high", cwd=repo)
    assert declared.code == 0, declared.err


def test_a_transition_is_refused_only_for_control_characters_it_adds(published: Path) -> None:
    """An escape sequence already in a postmortem's Markdown body (validate does not read
    the body) does not block a step that leaves the body as it was."""
    path = published / PM
    path.write_text(path.read_text(encoding="utf-8") + "\n\x1b[31mred\x1b[0m\n", "utf-8")
    repo = git.Repo(published)
    repo.git.add("-A")
    repo.git.commit("-qm", "A line pasted from a terminal")
    done = run_cli(
        "actions", "done", "INC-0001", "A1", "--at", "2026-03-21T08:00:00Z", cwd=published
    )
    assert done.code == 0, done.err
    assert "\x1b[31mred" in path.read_text(encoding="utf-8")
