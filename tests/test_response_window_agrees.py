"""`escalations`, `list` and `show` judge an incident's acknowledgment window by one rule
(core's ``Settings.response_window``): an incident with no severity yet is held to the
strictest window, critical's. main flagged it in `escalations` and never in `list`/`show`."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import run_cli

DETECTED = "2026-03-01T10:00:00Z"


def _unset(repo: Path) -> str:
    declared = run_cli("declare", "Checkout down", "--at", DETECTED, "--by", "ana", cwd=repo)
    assert declared.code == 0, declared.err
    record = (repo / "incidents" / "INC-0001.yaml").read_text(encoding="utf-8")
    assert "severity" not in record
    return "INC-0001"


def test_an_incident_with_no_severity_is_late_in_list_and_show_when_escalations_says_so(
    repo: Path,
) -> None:
    iid = _unset(repo)
    within, past = "2026-03-01T10:04:00Z", "2026-03-01T10:06:00Z"
    for as_of, late in ((within, False), (past, True)):
        escalated = run_cli("escalations", "--as-of", as_of, "--format", "json", cwd=repo)
        flagged = [e["incident"] for e in json.loads(escalated.out)]
        assert flagged == ([iid] if late else []), escalated.out
        listed = run_cli("list", "--as-of", as_of, cwd=repo).out
        assert ("[ACK LATE: " in listed) is late, listed
        shown = run_cli("show", iid, "--as-of", as_of, cwd=repo).out
        assert ("Response window breached" in shown) is late, shown
    listed = run_cli("list", "--as-of", past, cwd=repo).out
    assert (
        "[ACK LATE: unacknowledged for 6m, over the 5m window (critical's: severity unset)]"
    ) in listed
    as_json = json.loads(run_cli("show", iid, "--json", "--as-of", past, cwd=repo).out)
    assert as_json["computed"]["ack_within_seconds"] == 300
    assert as_json["computed"]["ack_breach"].startswith("unacknowledged for 6m")
