"""core.settings, core.records, core.document and core.findings: reading and naming."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from incidents_cli.core.document import Document, dotted, mapping
from incidents_cli.core.errors import InputFileError
from incidents_cli.core.findings import (
    REPORTER_BY_NAME,
    Finding,
    github_annotation,
    report_json,
    report_text,
)
from incidents_cli.core.records import RecordFile, classify, incident_rel, postmortem_rel
from incidents_cli.core.settings import DEFAULT_ACK_WITHIN, Settings, settings_from_data


def test_settings_have_the_documented_defaults() -> None:
    settings = settings_from_data({})
    assert settings == Settings()
    assert settings.ack_within["critical"] == timedelta(minutes=5)
    assert settings.ack_within["low"] == timedelta(hours=4)
    assert settings.required_for == ("critical", "high")
    assert settings.due_within == timedelta(hours=48)


def test_settings_read_what_is_there_and_keep_defaults_for_what_is_broken() -> None:
    settings = settings_from_data(
        {
            "title": "Acme status",
            "components": [{"id": "api", "name": "API", "group": "Core"}, {"name": "no id"}, 7],
            "severities": {"high": {"ack_within": "10m"}, "low": {"ack_within": "soon"}},
            "postmortem": {"required_for": ["critical", "nonsense"], "due_within": "3d"},
            "people": [{"handle": "alice", "name": "Alice A."}, {"handle": "bob"}, "carol"],
        }
    )
    assert settings.title == "Acme status"
    assert [c.id for c in settings.components] == ["api"]
    assert settings.component_ids == {"api"}
    assert settings.ack_within["high"] == timedelta(minutes=10)
    assert settings.ack_within["low"] == DEFAULT_ACK_WITHIN["low"]
    assert settings.required_for == ("critical",)
    assert settings.due_within == timedelta(days=3)
    assert settings.people == {"alice": "Alice A.", "bob": "bob"}
    assert settings_from_data(["not", "a", "mapping"]) == Settings()


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        ("incidents.yaml", "settings"),
        ("oncall.yaml", "oncall"),
        ("incidents/INC-0001.yaml", "incident"),
        ("incidents/INC-0001.yml", "incident"),
        ("postmortems/INC-0001.md", "postmortem"),
        ("runbooks/disk-full.md", "runbook"),
        ("maintenance/MNT-1.yaml", "maintenance"),
        ("incidents/.hidden.yaml", None),
        ("incidents/sub/INC-1.yaml", None),
        ("README.md", None),
        ("postmortems/INC-0001.yaml", None),
    ],
)
def test_each_path_is_one_kind_of_record_or_none(rel: str, kind: str | None) -> None:
    assert classify(rel) == kind


def test_record_paths_and_the_record_file() -> None:
    assert incident_rel("INC-0007") == "incidents/INC-0007.yaml"
    assert postmortem_rel("INC-0007") == "postmortems/INC-0007.md"
    record = RecordFile("incident", "incidents/INC-0007.yaml", Document("x", {"id": "INC-0007"}))
    assert record.stem == "INC-0007" and record.data == {"id": "INC-0007"}
    broken = RecordFile("incident", "incidents/X.yaml", None, InputFileError("x", 1, 1, "bad"))
    assert broken.data is None


def test_a_document_locates_a_field_or_its_nearest_parent() -> None:
    doc = Document("f.yaml", {}, places={(): (1, 1), ("updates",): (4, 1), ("updates", 0): (5, 3)})
    doc.line_offset = 2
    assert doc.locate(["updates", 0, "message"]) == (7, 3)
    assert doc.locate(["title"]) == (3, 1)
    assert dotted(["updates", 2, "message"]) == "updates[2].message"
    assert dotted([]) == "(document)"
    assert mapping([1]) == {} and mapping({"a": 1}) == {"a": 1}


def test_findings_are_reported_in_every_format_from_one_table() -> None:
    findings = [Finding("incidents/INC-0001.yaml", 3, 5, "severity", "'urgent' is not one of")]
    assert report_text(findings) == REPORTER_BY_NAME["text"](findings)
    assert "incidents/INC-0001.yaml:3:5: severity: 'urgent' is not one of" in report_text(findings)
    assert json.loads(report_json(findings))[0]["line"] == 3
    annotation = github_annotation(Finding("a,b.yaml", 1, 1, "x", "100% broken\nreally"))
    assert annotation.startswith("::error file=a%2Cb.yaml,line=1,col=1")
    assert "100%25 broken%0Areally" in annotation
    assert set(REPORTER_BY_NAME) == {"text", "json", "github"}
