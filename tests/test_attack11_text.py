"""Attack round 11 on fix10's wider "control characters": bidi isolates in records."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from .conftest import run_cli

# First-strong isolate around a Hebrew word, then pop directional isolate: what Fluent
# (Firefox, Thunderbird), Matrix clients and others put around a name they paste in. A
# balanced isolate cannot reorder the text around it: it is how UAX #9 says to embed
# right-to-left text, and records held it without complaint until d3fc133.
ISOLATED = "Card payments failing for \u2068\u05dc\u05e7\u05d5\u05d7\u05d5\u05ea\u2069 customers"


@pytest.mark.xfail(
    strict=True,
    reason="fix10 made U+2066-2069 control characters: a record committed before the "
    "upgrade with a balanced isolate no longer validates, and the open incident drops off "
    "`list` and the status page (overall status: operational)",
)
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
