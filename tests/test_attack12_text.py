"""Attack round 12 on fix11: bidi isolates allowed in pairs, a step refused only for the
control characters it adds."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_cli

HEBREW = "\u05dc\u05e7\u05d5\u05d7\u05d5\u05ea"


def test_a_long_title_with_a_balanced_isolate_can_be_declared(repo: Path) -> None:
    title = "x" * 70 + f" for \u2068{HEBREW} {HEBREW}\u2069 customers"
    declared = run_cli("declare", title, "--severity", "high", cwd=repo)
    assert declared.code == 0, declared.err


def test_an_unbalanced_isolate_in_an_error_message_is_escaped(repo: Path) -> None:
    assert run_cli("declare", "Checkout down", "--severity", "high", cwd=repo).code == 0
    refused = run_cli("note", "INC-0001", "checked", "--runbook", "\u2067abc", cwd=repo)
    assert refused.code == 2, refused.err
    assert "runbooks/" in refused.err
    assert "\u2067" not in refused.err, refused.err  # escaped: \u2067


def test_a_long_note_with_a_balanced_isolate_is_added(repo: Path) -> None:
    assert run_cli("declare", "Checkout down", "--severity", "high", cwd=repo).code == 0
    text = "y" * 78 + f" as \u2068{HEBREW} {HEBREW}\u2069 said"
    noted = run_cli("note", "INC-0001", text, cwd=repo)
    assert noted.code == 0, noted.err


def test_a_note_validate_would_accept_is_not_refused_for_its_subject(repo: Path) -> None:
    assert run_cli("declare", "Checkout down", "--severity", "high", cwd=repo).code == 0
    text = f"as \u2066{HEBREW}\u2028{HEBREW}\u2069 said"
    noted = run_cli("note", "INC-0001", text, cwd=repo)
    assert noted.code == 0, noted.err
    assert run_cli("validate", cwd=repo).code == 0


@pytest.mark.parametrize(
    "planted",
    [
        pytest.param(
            "\x1b]0;owned\x07",
            id="osc",
        ),
        pytest.param(
            "\u2067",
            id="lone-isolate",
        ),
    ],
)
def test_runbook_show_escapes_what_the_body_holds(repo: Path, planted: str) -> None:
    runbooks = sorted((repo / "runbooks").glob("*.md"))
    if not runbooks:
        made = run_cli("runbook", "new", "Roll back a bad deploy", cwd=repo)
        assert made.code == 0, made.err
        runbooks = sorted((repo / "runbooks").glob("*.md"))
    path = runbooks[0]
    path.write_text(
        path.read_text(encoding="utf-8") + f"\nRun {planted}this first.\n", encoding="utf-8"
    )
    shown = run_cli("runbook", "show", path.stem, cwd=repo)
    assert shown.code == 0, shown.err
    assert "this first." in shown.out
    assert planted not in shown.out, repr(shown.out[-80:])
