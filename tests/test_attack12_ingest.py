"""Attack round 12 on fix11: a monitor's title with a balanced bidi isolate, cut short."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import run_cli

DATA = Path(__file__).parent / "data" / "alerts"
HEBREW = "\u05dc\u05e7\u05d5\u05d7\u05d5\u05ea"
FIRING = {
    "status": "firing",
    "dedup_key": "kuma-monitor-12",
    "severity": "high",
    "components": ["api"],
    "regions": ["eu-west"],
    "url": "https://kuma.example.com/dashboard/12",
    "description": "HTTP 503 from /health for 3 checks in a row",
    "at": "2026-11-28T02:55:00Z",
}


def test_an_alert_titled_with_a_balanced_isolate_declares_an_incident(repo: Path) -> None:
    title = "x" * 70 + f" for \u2068{HEBREW} {HEBREW}\u2069 customers"
    payload = json.dumps({"title": title, **FIRING})
    result = run_cli(
        "ingest", "generic", "-", "--as-of", "2026-11-28T03:00:00Z", cwd=repo, input=payload
    )
    assert result.code == 0, result.err
    assert (repo / "incidents" / "INC-0001.yaml").is_file()


def test_an_alert_summarised_with_a_balanced_isolate_declares_an_incident(
    repo: Path, tmp_path: Path
) -> None:
    data = json.loads((DATA / "alertmanager-firing-one-region.json").read_text())
    summary = "x" * 190 + f" for \u2068{HEBREW} {HEBREW}\u2069 customers"
    data["alerts"][0]["annotations"]["summary"] = summary
    data["commonAnnotations"]["summary"] = summary
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = run_cli(
        "ingest", "alertmanager", str(path), "--as-of", "2026-11-28T03:00:00Z", cwd=repo
    )
    assert result.code == 0, result.err
    assert (repo / "incidents" / "INC-0001.yaml").is_file()
