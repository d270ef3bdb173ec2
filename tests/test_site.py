"""The public status site: contents, determinism, Statuspage shapes, feeds, and no leaks."""

from __future__ import annotations

import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import git
import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from .chromium import find_chromium
from .conftest import ROOT, run_cli

MARK = "SECRET-MARKER-7f3a"


def commit_all(repo: Path, message: str = "records") -> None:
    with git.Repo(repo) as g:  # closed: its cat-file processes must not outlive the test
        g.git.add("-A")
        g.index.commit(message)


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build(repo: Path, out: Path, *extra: str) -> Path:
    result = run_cli("site", "build", "--out", str(out), *extra, cwd=repo)
    assert result.code == 0, result.err
    assert result.out.strip().endswith(str(out / "index.html"))
    return out


def stamp(page: Path) -> tuple[int, int]:
    """What tells a page the next build reused (left, or linked from the old site) from one
    it wrote again: its inode and modification time. (A page edited by hand is rendered
    again, even with its time put back, so a test cannot mark a page by editing it.)"""
    found = page.stat()
    return found.st_ino, found.st_mtime_ns


def all_files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


SECRET_INCIDENT = f"""\
id: INC-0001
title: Payments failing
summary: {MARK} summary
severity: critical
phase: postmortem
source: monitor
components: [payments]
regions: [{MARK.lower()}-region]
detected_at: 2026-03-01T10:00:00Z
acknowledged_at: 2026-03-01T10:02:00Z
resolved_at: 2026-03-01T11:00:00Z
primary_at_detection: {MARK}-primary
roles:
  commander: alice
  communications: bob
  responders: [carol]
runbooks: [third-party-provider-outage]
updates:
  - at: 2026-03-01T10:05:00Z
    status: investigating
    message: Card payments are failing.
    components: {{payments: major_outage}}
  - at: 2026-03-01T11:00:00Z
    status: resolved
    message: Payments work again.
    components: {{payments: operational}}
timeline:
  - at: 2026-03-01T10:00:00Z
    actor: {MARK}-actor
    kind: declared
    text: {MARK} timeline text
    evidence: ["https://logs.example.com/{MARK}"]
resolution:
  action: upstream
  summary: {MARK} resolution summary
  workaround: true
  follow_up: {MARK} follow-up
postmortem: postmortems/INC-0001.md
"""

HIDDEN_INCIDENT = f"""\
id: INC-0002
title: {MARK} hidden incident
severity: high
phase: investigating
source: internal
components: [api]
detected_at: 2026-03-02T10:00:00Z
acknowledged_at: 2026-03-02T10:01:00Z
updates:
  - at: 2026-03-02T10:05:00Z
    status: investigating
    message: {MARK} message of a non-public incident
public: false
"""

UNANNOUNCED = f"""\
id: INC-0003
title: {MARK} declared but never announced
severity: low
phase: detected
source: monitor
detected_at: 2026-03-03T10:00:00Z
"""

DRAFT_POSTMORTEM = f"""\
---
incident: INC-0001
status: draft
authors: [alice]
due: 2026-03-03T11:00:00Z
public: true
public_summary: {MARK} summary of an unpublished postmortem
action_items:
  - id: A1
    title: {MARK} action item
    owner: alice
    due: 2026-03-20T00:00:00Z
    status: open
---
# {MARK} body
"""


def test_nothing_internal_reaches_any_output_file(repo: Path, tmp_path: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", SECRET_INCIDENT)
    write(repo, "incidents/INC-0002.yaml", HIDDEN_INCIDENT)
    write(repo, "incidents/INC-0003.yaml", UNANNOUNCED)
    write(repo, "postmortems/INC-0001.md", DRAFT_POSTMORTEM)
    commit_all(repo)
    assert run_cli("validate", cwd=repo).code == 0
    out = build(repo, tmp_path / "site", "--as-of", "2026-03-05T00:00:00Z")
    files = all_files(out)
    # every kind of output is searched: pages, feeds (per component too), the calendar,
    # the API, badges and the favicon
    for name in ("feeds/payments.atom", "feeds/api.rss", "maintenance.ics", "favicon.svg"):
        assert name in files
    assert "incidents/INC-0001.html" in files
    assert "incidents/INC-0002.html" not in files
    assert "incidents/INC-0003.html" not in files
    leaks = [name for name, data in files.items() if MARK.lower().encode() in data.lower()]
    assert leaks == []
    for person in (b"alice", b"bob", b"carol"):
        assert not any(person in data for data in files.values())
    page = files["incidents/INC-0001.html"].decode()
    assert "Card payments are failing." in page and "Payments work again." in page


def test_published_public_postmortem_summary_is_shown(repo: Path, tmp_path: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", SECRET_INCIDENT)
    write(
        repo,
        "postmortems/INC-0001.md",
        DRAFT_POSTMORTEM.replace("status: draft", "status: published").replace(
            f"{MARK} summary of an unpublished postmortem", "The *provider* failed."
        )
        # a published postmortem has every section (else it does not validate: not published)
        + "".join(
            f"\n## {name}\n\nText.\n"
            for name in ("What happened", "Why it happened", "How we responded", "What we will do")
        ),
    )
    commit_all(repo)
    out = build(repo, tmp_path / "site", "--as-of", "2026-03-05T00:00:00Z")
    page = (out / "incidents/INC-0001.html").read_text()
    assert "The <em>provider</em> failed." in page
    assert MARK not in page
    data = json.loads((out / "api/v2/incidents.json").read_text())
    assert data["incidents"][0]["status"] == "postmortem"


def test_text_people_typed_is_escaped_and_markdown_is_safe(repo: Path, tmp_path: Path) -> None:
    result = run_cli(
        "declare",
        '<script>alert(1)</script> & "quotes"',
        "--severity",
        "high",
        "--component",
        "api",
        cwd=repo,
    )
    assert result.code == 0
    run_cli("ack", "INC-0001", cwd=repo)
    run_cli(
        "update",
        "INC-0001",
        "--status",
        "investigating",
        "--message",
        "<img src=x onerror=alert(2)> [click](javascript:alert(3)) **bold** "
        '<a href="https://evil.example">raw</a>',
        cwd=repo,
    )
    write(
        repo,
        "maintenance/MNT-0001.yaml",
        "id: MNT-0001\ntitle: '<script>alert(4)</script> & \"m\"'\n"
        "start: 2030-01-01T00:00:00Z\nend: 2030-01-01T01:00:00Z\ncomponents: [api]\n"
        "message: '<img src=x onerror=alert(5)>; a, b'\n",
    )
    out = build(repo, tmp_path / "site")
    for name, data in all_files(out).items():
        text = data.decode()
        if name.endswith(".ics"):
            continue  # plain text for calendars, not markup: checked below
        assert "<script>alert(1)</script>" not in text, name
        assert "<script>alert(4)</script>" not in text, name
        if name.endswith(".json"):
            continue  # data, not markup: checked below
        assert "<img" not in text, name
        assert not re.search(r"href=(&quot;|&#34;|\")?javascript", text), name
        assert 'href="https://evil.example"' not in text, name
    index = (out / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in index
    assert "<strong>bold</strong>" in index
    assert "&lt;img src=x onerror=alert(2)&gt;" in index
    feed = feedparser.parse((out / "history.atom").read_text())
    assert feed.entries[0].title.startswith("<script>alert(1)</script>")
    badge = (out / "badge.svg").read_text()
    assert "<script" not in badge
    api = json.loads((out / "api/v2/incidents/unresolved.json").read_text())
    assert api["incidents"][0]["name"] == '<script>alert(1)</script> & "quotes"'
    component_feed = feedparser.parse((out / "feeds/api.atom").read_text())
    titles = {e.title for e in component_feed.entries}
    assert 'Scheduled maintenance: <script>alert(4)</script> & "m"' in titles
    calendar = icalendar.Calendar.from_ical((out / "maintenance.ics").read_text())
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == 'Scheduled maintenance: <script>alert(4)</script> & "m"'
    assert str(event["DESCRIPTION"]).startswith("<img src=x onerror=alert(5)>; a, b")
    assert api["incidents"][0]["incident_updates"][0]["body"].startswith("<img src=x")


def test_two_builds_of_one_commit_are_byte_identical(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    first = all_files(build(demo, tmp_path / "one"))
    second = all_files(build(demo, tmp_path / "two"))
    assert first == second
    assert first == all_files(demo / "_site")
    later = all_files(build(demo, tmp_path / "three", "--as-of", "2030-01-01T00:00:00Z"))
    assert later != first


class _Links(HTMLParser):
    VOID = frozenset({"meta", "link", "br", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def test_links_are_relative_resolve_and_tags_balance(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    out = demo / "_site"
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        parser = _Links()
        text = page.read_text()
        assert text.startswith('<!DOCTYPE html>\n<html lang="en">')
        parser.feed(text)
        assert parser.errors == [], page
        assert parser.stack == [], page
        assert "<script" not in text
        for link in parser.links:
            if link.startswith(("https://example.com", "https://grafana")):
                continue  # links people wrote in public text
            assert not link.startswith(("/", "http:", "https:")), (page, link)
            target = (page.parent / link.split("#")[0]).resolve()
            assert target.exists(), (page, link)


STATUSPAGE_V2 = {
    "$defs": {
        "time": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"},
        "page": {
            "type": "object",
            "required": ["id", "name", "url", "updated_at"],
            "properties": {"updated_at": {"$ref": "#/$defs/time"}},
        },
        "status": {
            "type": "object",
            "required": ["indicator", "description"],
            "properties": {
                "indicator": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
                "description": {"type": "string"},
            },
        },
        "component": {
            "type": "object",
            "required": [
                "id",
                "name",
                "status",
                "created_at",
                "updated_at",
                "position",
                "description",
                "showcase",
                "start_date",
                "group_id",
                "page_id",
                "group",
                "only_show_if_degraded",
            ],
            "properties": {
                "status": {
                    "enum": [
                        "operational",
                        "degraded_performance",
                        "partial_outage",
                        "major_outage",
                        "under_maintenance",
                    ]
                },
                "position": {"type": "integer"},
                "group": {"type": "boolean"},
            },
        },
        "update": {
            "type": "object",
            "required": ["id", "status", "body", "created_at", "display_at", "affected_components"],
            "properties": {
                "status": {
                    "enum": [
                        "investigating",
                        "identified",
                        "monitoring",
                        "resolved",
                        "scheduled",
                        "in_progress",
                        "verifying",
                        "completed",
                    ]
                },
                "body": {"type": "string"},
                "created_at": {"$ref": "#/$defs/time"},
                "display_at": {"$ref": "#/$defs/time"},
                "affected_components": {
                    "type": ["array", "null"],
                    "items": {
                        "type": "object",
                        "required": ["code", "name", "old_status", "new_status"],
                    },
                },
            },
        },
        "incident": {
            "type": "object",
            "required": [
                "id",
                "name",
                "status",
                "impact",
                "created_at",
                "updated_at",
                "monitoring_at",
                "resolved_at",
                "started_at",
                "shortlink",
                "incident_updates",
                "components",
            ],
            "properties": {
                "status": {
                    "enum": [
                        "investigating",
                        "identified",
                        "monitoring",
                        "resolved",
                        "postmortem",
                        "scheduled",
                        "in_progress",
                        "verifying",
                        "completed",
                    ]
                },
                "impact": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
                "created_at": {"$ref": "#/$defs/time"},
                "resolved_at": {"$ref": "#/$defs/time"},
                "monitoring_at": {"$ref": "#/$defs/time"},
                "shortlink": {"type": "string", "pattern": "^https://"},
                "incident_updates": {"type": "array", "items": {"$ref": "#/$defs/update"}},
                "components": {
                    "type": "array",
                    "items": {"type": "object", "required": ["id", "name"]},
                },
            },
        },
        "maintenance": {
            "allOf": [{"$ref": "#/$defs/incident"}],
            "required": ["scheduled_for", "scheduled_until"],
        },
    },
}


def _shape(ref: str, array_key: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"$ref": f"#/$defs/{ref}"}
    if array_key:
        body = {
            "type": "object",
            "required": ["page", array_key],
            "properties": {
                "page": {"$ref": "#/$defs/page"},
                array_key: {"type": "array", "items": {"$ref": f"#/$defs/{ref}"}},
            },
        }
    return {**STATUSPAGE_V2, **body}


API_SHAPES = {
    "summary.json": {
        **STATUSPAGE_V2,
        "type": "object",
        "required": ["page", "status", "components", "incidents", "scheduled_maintenances"],
        "properties": {
            "page": {"$ref": "#/$defs/page"},
            "status": {"$ref": "#/$defs/status"},
            "components": {"type": "array", "items": {"$ref": "#/$defs/component"}},
            "incidents": {"type": "array", "items": {"$ref": "#/$defs/incident"}},
            "scheduled_maintenances": {"type": "array", "items": {"$ref": "#/$defs/maintenance"}},
        },
    },
    "status.json": {
        **STATUSPAGE_V2,
        "type": "object",
        "required": ["page", "status"],
        "properties": {"status": {"$ref": "#/$defs/status"}},
    },
    "components.json": _shape("component", "components"),
    "incidents.json": _shape("incident", "incidents"),
    "incidents/unresolved.json": _shape("incident", "incidents"),
    "scheduled-maintenances.json": _shape("maintenance", "scheduled_maintenances"),
    "scheduled-maintenances/upcoming.json": _shape("maintenance", "scheduled_maintenances"),
    "scheduled-maintenances/active.json": _shape("maintenance", "scheduled_maintenances"),
}


def test_api_has_the_statuspage_v2_shapes(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    api = demo / "_site" / "api" / "v2"
    for name, shape in API_SHAPES.items():
        data = json.loads((api / name).read_text())
        errors = [e.message for e in Draft202012Validator(shape).iter_errors(data)]
        assert errors == [], name
    summary = json.loads((api / "summary.json").read_text())
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert [i["name"] for i in summary["incidents"]] == ["Card payments failing for some customers"]
    payments = next(c for c in summary["components"] if c["id"] == "payments")
    assert payments["status"] == "partial_outage"
    update = summary["incidents"][0]["incident_updates"][0]
    assert update["affected_components"] == [
        {
            "code": "payments",
            "name": "Payments",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    assert summary["incidents"][0]["shortlink"] == (
        "https://status.example.com/incidents/INC-0003.html"
    )
    upcoming = json.loads((api / "scheduled-maintenances/upcoming.json").read_text())
    assert [m["id"] for m in upcoming["scheduled_maintenances"]] == ["MNT-0002"]


def test_feeds_parse_with_one_entry_per_update(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    for name in ("history.atom", "history.rss"):
        feed = feedparser.parse((demo / "_site" / name).read_text())
        assert not feed.bozo, (name, feed.get("bozo_exception"))
        assert len(feed.entries) == 4 + 2 + 1
        assert feed.entries[0].title == ("Card payments failing for some customers: Identified")
        assert feed.entries[0].link.startswith(
            "https://status.example.com/incidents/INC-0003.html#"
        )
        assert len({e.id for e in feed.entries}) == len(feed.entries)


MAINTENANCE = """\
id: MNT-0001
title: Database upgrade
start: 2026-03-10T22:00:00Z
end: 2026-03-10T23:00:00Z
components: [database]
message: Writes may pause.
"""


@pytest.mark.parametrize(
    ("as_of", "upcoming", "active", "status"),
    [
        ("2026-03-10T21:59:59Z", ["MNT-0001"], [], "operational"),
        ("2026-03-10T22:00:00Z", [], ["MNT-0001"], "under_maintenance"),
        ("2026-03-10T22:59:59Z", [], ["MNT-0001"], "under_maintenance"),
        ("2026-03-10T23:00:00Z", [], [], "operational"),
    ],
)
def test_maintenance_is_upcoming_then_sets_its_components(
    repo: Path, tmp_path: Path, as_of: str, upcoming: list[str], active: list[str], status: str
) -> None:
    write(repo, "maintenance/MNT-0001.yaml", MAINTENANCE)
    commit_all(repo)
    out = build(repo, tmp_path / "site", "--as-of", as_of)
    api = out / "api" / "v2"

    def ids(name: str) -> list[str]:
        return [m["id"] for m in json.loads((api / name).read_text())["scheduled_maintenances"]]

    assert ids("scheduled-maintenances/upcoming.json") == upcoming
    assert ids("scheduled-maintenances/active.json") == active
    components = json.loads((api / "components.json").read_text())["components"]
    assert next(c for c in components if c["id"] == "database")["status"] == status
    index = (out / "index.html").read_text()
    assert ("Database upgrade" in index) == bool(upcoming or active)


def test_history_has_a_page_per_month_and_bars_say_what_happened(
    repo: Path, tmp_path: Path
) -> None:
    def incident(number: int, day: str) -> str:
        return (
            f"id: INC-{number:04d}\ntitle: Incident number {number}\nseverity: low\n"
            "phase: closed\nsource: monitor\ncomponents: [api]\n"
            f"detected_at: {day}T10:00:00Z\nacknowledged_at: {day}T10:01:00Z\n"
            f"resolved_at: {day}T11:00:00Z\nclosed_at: {day}T12:00:00Z\n"
            "resolution: {action: other, summary: x}\n"
            f"updates:\n  - at: {day}T10:05:00Z\n    status: investigating\n"
            "    message: Looking.\n    components: {api: partial_outage}\n"
        )

    for number in range(1, 121):
        write(
            repo,
            f"incidents/INC-{number:04d}.yaml",
            incident(number, f"2026-01-{1 + (number - 1) // 5:02d}"),
        )
    for number in range(121, 124):
        write(repo, f"incidents/INC-{number:04d}.yaml", incident(number, "2025-11-02"))
    commit_all(repo)
    assert run_cli("validate", cwd=repo).code == 0
    out = build(repo, tmp_path / "site", "--as-of", "2026-02-01T00:00:00Z")
    archive = (out / "history.html").read_text()
    assert "123 incidents in all" in archive
    assert archive.index('href="history-2026-01.html">January 2026') < archive.index(
        'href="history-2025-11.html">November 2025'
    )
    assert "120 incidents" in archive and "3 incidents" in archive
    assert sorted(p.name for p in out.glob("history-*.html")) == [
        "history-2025-11.html",
        "history-2026-01.html",
    ]
    january = (out / "history-2026-01.html").read_text()
    assert "Incidents in January 2026" in january and "120 incidents" in january
    assert january.index("Incident number 120<") < january.index("Incident number 1<")
    assert "Incident number 121" not in january
    assert 'href="history-2025-11.html" rel="prev">Previous month: November 2025' in january
    assert 'rel="next"' not in january
    november = (out / "history-2025-11.html").read_text()
    assert 'href="history-2026-01.html" rel="next">Next month: January 2026' in november
    assert "Updated" not in january  # no build time: an unchanged month keeps its bytes
    index = (out / "index.html").read_text()
    # A day with incidents is a link to them, under that day of the month page.
    assert (
        '<a class="bar s-partial_outage" href="history-2026-01.html#day-2026-01-03" '
        'title="3 January 2026: Partial outage: Incident number 11; Incident number 12;'
    ) in index
    assert 'id="day-2026-01-03"' in january
    assert '<span class="bar s-operational" title="30 January 2026: no incidents"' in index
    assert len(re.findall(r'class="bar ', index)) == 90 * 6


def test_out_refuses_a_folder_that_is_not_a_site(repo: Path, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work\n")
    result = run_cli("site", "build", "--out", str(precious), cwd=repo)
    assert result.code == 2
    assert "is not a site built by incidents" in result.err
    assert (precious / "thesis.tex").read_text() == "years of work\n"


def test_compiled_templates_are_never_taken_from_another_kind_of_environment(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jinja keys its bytecode cache by a template's name and source, but the code it
    compiles depends on the environment's options too: each revision of them (and each
    version of the tool and of jinja) keeps files of its own in the user's cache."""
    from incidents_cli.site import render

    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2025-10-07", "October outage"))
    commit_all(repo)
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "incidents" / "templates"
    first = all_files(build(repo, tmp_path / "first", "--as-of", "2026-02-01T00:00:00Z"))
    kept = {p.name for p in cache.iterdir()}
    assert kept
    monkeypatch.setattr(render, "ENVIRONMENT_REVISION", "another")
    second = all_files(build(repo, tmp_path / "second", "--as-of", "2026-02-01T00:00:00Z"))
    assert second == first
    compiled_again = {p.name for p in cache.iterdir()} - kept
    assert len(compiled_again) == len(kept)
    tags = {name.split("-")[0] for name in kept}
    assert tags.isdisjoint(name.split("-")[0] for name in compiled_again)


def _base_context(repo: Path) -> dict[str, object]:
    from incidents_cli.core.timeutil import parse_time
    from incidents_cli.site.contexts import common_context
    from incidents_cli.site.model import build_page
    from incidents_cli.store.layout import load_settings

    page = build_page(load_settings(repo), [], [], parse_time("2026-02-01T00:00:00Z"))
    return common_context(page, "", "Title", "Description", "index.html")


def test_fixed_texts_are_compiled_into_the_built_in_templates_only(repo: Path) -> None:
    """_("text") of a built-in template is compiled as the catalogue's text; a repository's
    template, or one that gives _ a value of its own, still calls it when rendered."""
    from incidents_cli.site.render import Renderer, _fixed_texts

    renderer = Renderer(repo, "de")
    source, filename, _ = renderer.env.loader.get_source(renderer.env, "site/base.html")
    built_in = renderer.env.compile(source, "site/base.html", filename, raw=True)
    assert "Zum Inhalt springen" in built_in and "'Skip to content'" not in built_in
    theirs = str(repo / "templates" / "site" / "base.html")
    assert "'Skip to content'" in renderer.env.compile(source, "site/base.html", theirs, raw=True)
    for binds in (
        "{% set _ = 1 %}",
        "{% macro _() %}{% endmacro %}",
        "{% for _ in x %}{% endfor %}",
        '{% from "x" import y as _ %}',
        '{% import "x" as _ %}',
    ):
        assert _fixed_texts().binds_underscore(renderer.env.parse(binds)), binds
    assert not _fixed_texts().binds_underscore(renderer.env.parse('{{ _("x") }}'))
    # compiled templates are kept by catalogue: English ones are never taken for German
    for language, text in (
        ("en", "Skip to content"),
        ("de", "Zum Inhalt springen"),
        ("en", "Skip to content"),
    ):
        compiled = Renderer(repo, language).env.get_template("site/base.html")
        assert text in compiled.render(_base_context(repo))


def test_one_commit_cloned_to_another_folder_builds_the_same_bytes(
    repo: Path, tmp_path: Path
) -> None:
    # .incidents-site, the manifest of page keys, is in the published folder too: its keys
    # hashed the template folders' absolute paths, so each clone published other bytes.
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    write(repo, "templates/site/style.css", "body { background: hotpink; }\n")
    commit_all(repo)
    elsewhere = tmp_path / "elsewhere" / "clone"
    git.Repo.clone_from(repo, elsewhere)
    as_of = ("--as-of", "2026-02-01T00:00:00Z")
    here, there = build(repo, tmp_path / "a", *as_of), build(elsewhere, tmp_path / "b", *as_of)
    assert all_files(here) == all_files(there)


def test_repository_templates_override_the_built_in_ones(repo: Path, tmp_path: Path) -> None:
    write(repo, "templates/site/style.css", "body { background: hotpink; }\n")
    commit_all(repo)
    out = build(repo, tmp_path / "site")
    assert (out / "style.css").read_text() == "body { background: hotpink; }\n"


def test_pages_render_in_headless_chromium(tmp_path: Path) -> None:
    browser = find_chromium()  # fails, not skips, without it: .ci/run installs it
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    for name, size in (("index.html", "1200,2000"), ("incidents/INC-0001.html", "390,1600")):
        shot = tmp_path / (name.replace("/", "_") + ".png")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                f"--window-size={size}",
                f"--screenshot={shot}",
                (demo / "_site" / name).as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.stat().st_size > 10_000


_plain_text = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 ,.;:'()?!%/-")), min_size=1, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(_plain_text)
def test_the_markdown_fast_path_matches_the_parser(text: str) -> None:
    from incidents_cli.site.render import _markdown, markdown

    assert str(markdown(text)) == _markdown().render(text)


def test_a_rebuild_reuses_unchanged_pages_and_matches_a_fresh_build(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    out = demo / "_site"
    page = out / "incidents" / "INC-0002.html"
    before = stamp(page)
    build(demo, out)
    assert stamp(page) == before, "an unchanged page is reused"
    # A change to the incident: its page is rendered again, and equals a fresh build.
    record = demo / "incidents" / "INC-0002.yaml"
    record.write_text(record.read_text().replace("Sign-in times are back", "Login times are back"))
    commit_all(demo, "Reword an update")
    again = all_files(build(demo, out))
    fresh = all_files(build(demo, tmp_path / "fresh"))
    assert again == fresh
    assert b"Login times are back" in again["incidents/INC-0002.html"]
    # Different templates: nothing is reused.
    (demo / "templates" / "site").mkdir(parents=True)
    (demo / "templates" / "site" / "_macros.html").write_text(
        (ROOT / "templates" / "site" / "_macros.html")
        .read_text()
        .replace('class="updates"', 'class="updates custom"')
    )
    custom = all_files(build(demo, out))
    assert b'class="updates custom"' in custom["incidents/INC-0001.html"]


def test_a_record_that_cannot_be_read_is_named_not_silently_dropped(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, "incidents/INC-0001.yaml", "id: INC-0001\ntitle: [broken\n")
    result = run_cli("site", "build", "--out", str(tmp_path / "site"), cwd=repo)
    assert result.code == 1  # the site is built without it, and the build says so (#13)
    assert result.err.splitlines()[0].startswith("incidents/INC-0001.yaml:3:1: (file): YAML")
    assert result.err.splitlines()[0].endswith("(left out of the site)")
    assert result.err.splitlines()[-1] == (
        "1 record(s) do not validate and were left out of the site; run `incidents validate`"
    )


def _resolved(number: int, day: str, title: str) -> str:
    return (
        f"id: INC-{number:04d}\ntitle: {title}\nseverity: high\nphase: resolved\n"
        f"source: monitor\ncomponents: [api]\ndetected_at: {day}T10:00:00Z\n"
        f"acknowledged_at: {day}T10:01:00Z\nresolved_at: {day}T11:00:00Z\n"
        "resolution: {action: rollback, summary: x}\n"
        f"updates:\n  - at: {day}T10:05:00Z\n    status: investigating\n"
        "    message: Looking.\n"
    )


def test_a_rebuild_renders_only_the_pages_of_what_changed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2025-10-07", "October outage"))
    write(repo, "incidents/INC-0002.yaml", _resolved(2, "2025-11-12", "November outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", "--as-of", "2026-02-01T00:00:00Z")
    marked = ["history-2025-10.html", "incidents/INC-0001.html", "history-2025-11.html"]
    before = {rel: stamp(out / rel) for rel in marked}

    write(repo, "incidents/INC-0002.yaml", _resolved(2, "2025-11-12", "November slowdown"))
    commit_all(repo, "retitle")
    build(repo, out, "--as-of", "2026-02-01T00:00:00Z")
    assert stamp(out / "history-2025-10.html") == before["history-2025-10.html"]
    assert stamp(out / "incidents/INC-0001.html") == before["incidents/INC-0001.html"]
    assert stamp(out / "history-2025-11.html") != before["history-2025-11.html"]
    for rel in ("history-2025-11.html", "incidents/INC-0002.html"):
        assert "November slowdown" in (out / rel).read_text()

    fresh = all_files(build(repo, tmp_path / "fresh", "--as-of", "2026-02-01T00:00:00Z"))
    assert all_files(out) == fresh
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    cold = all_files(build(repo, tmp_path / "cold", "--as-of", "2026-02-01T00:00:00Z"))
    assert cold == fresh  # the manifest's keys too: they come from the files' content

    # An uncommitted edit is content like any other: its pages change, the rest is reused.
    monkeypatch.delenv("INCIDENTS_NO_CACHE")
    write(repo, "incidents/INC-0002.yaml", _resolved(2, "2025-11-12", "November brownout"))
    build(repo, out, "--as-of", "2026-02-01T00:00:00Z")
    assert "November brownout" in (out / "incidents/INC-0002.html").read_text()
    fresh2 = all_files(build(repo, tmp_path / "fresh2", "--as-of", "2026-02-01T00:00:00Z"))
    assert all_files(out) == fresh2
    # A page someone deleted from the built site is rendered again, not linked.
    (out / "incidents/INC-0001.html").unlink()
    (out / "history-2025-10.html").unlink()
    build(repo, out, "--as-of", "2026-02-01T00:00:00Z")
    assert all_files(out) == fresh2


def test_public_incident_fields_have_no_defaults() -> None:
    """A cached incident is loaded on first use of a field it lacks, which only works while
    no field has a class-level default to be found instead."""
    import dataclasses

    from incidents_cli.site.public import PublicIncident

    for field in dataclasses.fields(PublicIncident):
        assert field.default is dataclasses.MISSING, field.name
        assert field.default_factory is dataclasses.MISSING, field.name


def test_a_failed_build_leaves_the_previous_site_as_it_was(repo: Path, tmp_path: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2025-10-07", "October outage"))
    write(repo, "incidents/INC-0002.yaml", _resolved(2, "2025-11-12", "November outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", "--as-of", "2026-02-01T00:00:00Z")
    before = all_files(out)
    # The second incident's page breaks halfway through the build (a team's own template).
    write(repo, "incidents/INC-0002.yaml", _resolved(2, "2025-11-12", "November slowdown"))
    write(repo, "templates/site/incident.html", "{{ incident.title }}{{ no_such_thing.x }}\n")
    commit_all(repo, "break a template")
    result = run_cli(
        "site", "build", "--out", str(out), "--as-of", "2026-02-01T00:00:00Z", cwd=repo
    )
    assert result.code != 0 and result.err.count("\n") == 1, result.err
    assert "templates/site/incident.html:1: template error" in result.err
    assert all_files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "site"]  # nothing half-built


def test_a_build_that_fails_in_a_worker_leaves_the_previous_site_as_it_was(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers render the pages of months and incidents: a page that fails in one of them
    still leaves the previous site whole, and nothing half-built beside it."""
    from incidents_cli.store import parallel

    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)  # every page goes to the workers
    monkeypatch.setenv("INCIDENTS_WORKERS", "3")
    for number in range(1, 13):
        day = f"2025-{number:02d}-1{number % 10}"
        write(repo, f"incidents/INC-{number:04d}.yaml", _resolved(number, day, f"Outage {number}"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", "--as-of", "2026-02-01T00:00:00Z")
    before = all_files(out)
    assert "incidents/INC-0012.html" in before and "history-2025-12.html" in before
    broken = (
        "{% if incident.id == 'INC-0003' %}{{ no_such_thing.x }}{% endif %}{{ incident.title }}\n"
    )
    write(repo, "templates/site/incident.html", broken)
    commit_all(repo, "break a template")
    for out_folder in (out, tmp_path / "fresh"):  # a rebuild in place, and a first build
        result = run_cli(
            "site", "build", "--out", str(out_folder), "--as-of", "2026-02-01T00:00:00Z", cwd=repo
        )
        assert result.code == 2 and result.err.count("\n") == 1, result.err
        assert "templates/site/incident.html:1: template error" in result.err
    assert all_files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "site"]  # nothing half-built


def test_two_records_with_one_id_never_write_into_the_previous_site(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2025-10-07", "October outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", "--as-of", "2026-02-01T00:00:00Z")
    page = out / "incidents" / "INC-0001.html"
    first = page.read_bytes()
    # Another file with the same id, still open and older: the resolved one's page is reused
    # (a link to the old copy), then the open one's is rendered for the same path.
    still_open = _resolved(1, "2025-10-01", "October copy").replace(
        "phase: resolved", "phase: investigating"
    )
    write(
        repo,
        "incidents/INC-0001-copy.yaml",
        still_open.replace("resolved_at: 2025-10-01T11:00:00Z\n", ""),
    )
    commit_all(repo, "copy")
    held = os.open(page, os.O_RDONLY)  # the old copy's inode, whatever happens to the folder
    try:
        # two records with one id do not validate: both are left out (#13), and the
        # previous site's file is untouched
        result = run_cli(
            "site", "build", "--out", str(out), "--as-of", "2026-02-01T00:00:00Z", cwd=repo
        )
        assert result.code == 1
        assert os.pread(held, len(first) + 1, 0) == first
        assert not page.exists()
    finally:
        os.close(held)


def test_a_damaged_page_manifest_in_out_is_ignored_and_every_page_written_anew(
    repo: Path, tmp_path: Path
) -> None:
    """The manifest of page keys in --out is only a hint: nested deeper than Python's JSON
    reader goes, it made a rebuild exit 3."""
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2025-12-11", "Outage 1"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", "--as-of", "2026-02-01T00:00:00Z")
    before = all_files(out)
    (out / ".incidents-site").write_text("[" * 200_000, encoding="utf-8")
    assert all_files(build(repo, out, "--as-of", "2026-02-01T00:00:00Z")) == before
