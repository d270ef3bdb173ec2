"""core.runbooks and core.postmortems: finding runbooks, review rules, publish rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents_cli.core.postmortems import PLACEHOLDER, body_problems, due_date
from incidents_cli.core.runbooks import Runbook, matching, select, slugify, stale
from incidents_cli.core.settings import settings_from_data

REVIEWED = datetime(2026, 1, 1, tzinfo=UTC)


def _runbook(
    slug: str, components: tuple[str, ...] = (), tags: tuple[str, ...] = (), **kw: object
) -> Runbook:
    fields: dict[str, object] = {
        "slug": slug,
        "rel": f"runbooks/{slug}.md",
        "title": slug.replace("-", " "),
        "components": components,
        "tags": tags,
        "owner": "alice",
        "last_reviewed": REVIEWED,
        "review_every": 90,
        "line": 6,
        "body": "",
    }
    fields.update(kw)
    return Runbook(**fields)  # type: ignore[arg-type]


DB = _runbook("db-pool", components=("database",), tags=("connection pool",))
TLS = _runbook("tls", tags=("TLS certificate",))


def test_runbooks_match_by_component_or_by_every_word_of_a_tag_in_the_title() -> None:
    assert matching([DB, TLS], ["database"], "Checkout slow") == [DB]
    assert matching([DB, TLS], [], "TLS certificate expired on edge") == [TLS]
    assert matching([DB, TLS], [], "certificate expired") == []  # "tls" is missing
    assert matching([DB, TLS], ["payments"], "Connection pool exhausted") == [DB]


def test_runbooks_are_selected_by_component_and_tag_case_insensitively() -> None:
    assert select([DB, TLS], "database", None) == [DB]
    assert select([DB, TLS], None, "tls CERTIFICATE") == [TLS]
    assert select([DB, TLS], "database", "tls certificate") == []
    assert select([DB, TLS], None, None) == [DB, TLS]


def test_slugs_are_lowercase_words_joined_by_dashes() -> None:
    assert slugify("Queue backlog: consumers stuck!") == "queue-backlog-consumers-stuck"
    assert slugify("???") == "runbook"
    assert len(slugify("x" * 200)) == 60


def test_a_runbook_is_stale_past_its_interval() -> None:
    found = stale([DB], [], {}, REVIEWED + timedelta(days=91))
    assert [(s.runbook.slug, s.due, s.reason) for s in found] == [
        ("db-pool", REVIEWED + timedelta(days=90), "not reviewed in 90 days")
    ]
    assert stale([DB], [], {}, REVIEWED + timedelta(days=89)) == []


def test_a_runbook_used_in_an_incident_is_stale_once_its_postmortem_is_published() -> None:
    incident = {"id": "INC-0001", "runbooks": ["tls"]}
    published = {"INC-0001": {"status": "published", "published_at": "2026-02-01T00:00:00Z"}}
    draft = {"INC-0001": {"status": "draft", "due": "2026-02-01T00:00:00Z"}}
    as_of = datetime(2026, 2, 2, tzinfo=UTC)
    found = stale([TLS], [incident], published, as_of)
    assert [s.reason for s in found] == ["used in INC-0001; review it after that postmortem"]
    assert stale([TLS], [incident], draft, as_of) == []
    assert stale([TLS], [incident], published, datetime(2026, 1, 31, tzinfo=UTC)) == []
    later = _runbook(
        "tls", tags=("TLS certificate",), last_reviewed=datetime(2026, 2, 3, tzinfo=UTC)
    )
    assert stale([later], [incident], published, datetime(2026, 2, 4, tzinfo=UTC)) == []


def test_the_postmortem_is_due_the_policy_window_after_resolution() -> None:
    settings = settings_from_data({"postmortem": {"due_within": "2d"}})
    assert due_date({"resolved_at": "2026-03-01T10:00:00Z"}, settings) == datetime(
        2026, 3, 3, 10, tzinfo=UTC
    )
    assert due_date({}, settings) is None


COMPLETE = """## What happened
The database ran out of connections.

## Why it happened
A deploy doubled the pool size per pod.

## How we responded
We rolled back.

## What we will do
Cap the pool.
"""


def test_a_complete_body_has_no_problems() -> None:
    assert list(body_problems(COMPLETE, 10)) == []


def test_each_unfinished_section_is_a_problem_on_its_own_line() -> None:
    body = COMPLETE.replace("We rolled back.", f"{PLACEHOLDER}: what did we do?").replace(
        "## What we will do\nCap the pool.\n", "## What we will do\n<!-- list them -->\n"
    )
    problems = list(body_problems(body.replace("## Why it happened\n", "## Why\n"), 10))
    assert [(p.line, p.section) for p in problems] == [
        (10, "Why it happened"),  # missing: reported at the first line of the body
        (17, "How we responded"),  # the placeholder's own line
        (16, "How we responded"),  # and so empty: at its heading
        (19, "What we will do"),  # only a comment: empty, at its heading
    ]
    assert "still has a TODO(postmortem) placeholder" in problems[1].message
