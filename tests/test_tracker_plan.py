"""The pure plan of `actions sync`: every rule between an action item and its issue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from incidents_cli.core.tracker import (
    REMOVE,
    SYNC_MARKER,
    ActionItem,
    Comment,
    Issue,
    closing_comment,
    issue_body,
    issue_number,
    marked_key,
    marker,
    needs_comments,
    plan,
)

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
URL = "https://github.com/acme/service/issues"

ITEM = ActionItem(
    incident="INC-0001",
    id="A1",
    path="postmortems/INC-0001.md",
    title="Alert on pool saturation",
    owner="alice",
    due=datetime(2026, 3, 15, tzinfo=UTC),
    incident_title="Database connection timeouts",
    postmortem_url="https://github.com/acme/service/blob/main/postmortems/INC-0001.md",
    extra=(("priority", "high"),),
)


def issue_for(item: ActionItem, number: int = 1, **changes: object) -> Issue:
    base = Issue(
        number=number,
        url=f"{URL}/{number}",
        title=f"[{item.key}] {item.title}",
        body=issue_body(item),
        state="open",
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_open_item_without_an_issue_gets_one_with_its_marker_and_assignee() -> None:
    result = plan([ITEM], [], handles={"alice": "alice-gh"})
    assert [c.title for c in result.creates] == ["[INC-0001/A1] Alert on pool saturation"]
    create = result.creates[0]
    assert create.assignees == ("alice-gh",)
    assert marker("INC-0001/A1") in create.body
    assert "- Due: 2026-03-15T00:00:00Z" in create.body
    assert "- Owner: alice (@alice-gh)" in create.body
    assert "- Priority: high" in create.body
    assert "Database connection timeouts" in create.body
    assert f"[postmortems/INC-0001.md]({ITEM.postmortem_url})" in create.body
    assert not (result.closes or result.edits or result.changes)


def test_settled_items_without_an_issue_get_none() -> None:
    assert plan([replace(ITEM, status="done"), replace(ITEM, status="wont_do")], []).empty


def test_a_linked_item_in_step_with_its_open_issue_needs_nothing() -> None:
    item = replace(ITEM, issue=f"{URL}/1")
    assert plan([item], [issue_for(item)]).empty


def test_a_lost_link_is_recovered_from_the_marker_and_nothing_is_duplicated() -> None:
    result = plan([ITEM], [issue_for(ITEM, 7)])
    assert not result.creates
    assert [(c.item.key, dict(c.fields)) for c in result.changes] == [
        ("INC-0001/A1", {"issue": f"{URL}/7"})
    ]
    assert "found by its marker" in result.changes[0].why


def test_the_oldest_of_two_marked_issues_is_kept_and_the_other_named() -> None:
    result = plan([ITEM], [issue_for(ITEM, 9), issue_for(ITEM, 4)])
    assert dict(result.changes[0].fields) == {"issue": f"{URL}/4"}
    assert result.notices == [
        "#9 and #4 both carry the marker of INC-0001/A1; #4 is the one kept in sync"
    ]


def test_an_issue_closed_as_completed_marks_the_item_done_with_its_close_time() -> None:
    item = replace(ITEM, issue=f"{URL}/1")
    closed = issue_for(item, state="closed", state_reason="completed", closed_at=T0)
    result = plan([item], [closed])
    assert dict(result.changes[0].fields) == {
        "status": "done",
        "done_at": "2026-03-10T12:00:00Z",
        "link": f"{URL}/1",
    }
    assert not (result.closes or result.edits)


def test_a_done_item_keeps_its_own_link() -> None:
    item = replace(ITEM, issue=f"{URL}/1", link="https://github.com/acme/service/pull/5")
    closed = issue_for(item, state="closed", state_reason="completed", closed_at=T0)
    assert "link" not in plan([item], [closed]).changes[0].fields


def test_an_issue_closed_as_not_planned_makes_the_item_wont_do_with_the_closing_comment() -> None:
    item = replace(ITEM, issue=f"{URL}/1")
    closed = issue_for(item, state="closed", state_reason="not_planned", closed_at=T0)
    assert needs_comments([item], [closed]) == [1]
    comments = {
        1: [
            Comment("bob", "an old remark", datetime(2026, 3, 1, tzinfo=UTC)),
            Comment("alice", "Superseded by\n the new pooler.", T0),
        ]
    }
    result = plan([item], [closed], comments=comments)
    assert dict(result.changes[0].fields) == {
        "status": "wont_do",
        "done_at": "2026-03-10T12:00:00Z",
        "reason": "Superseded by the new pooler.",
    }


def test_without_a_closing_comment_wont_do_has_no_reason() -> None:
    item = replace(ITEM, issue=f"{URL}/1")
    closed = issue_for(item, state="closed", state_reason="not_planned", closed_at=T0)
    old = {1: [Comment("bob", "an old remark", datetime(2026, 3, 1, tzinfo=UTC))]}
    assert "reason" not in plan([item], [closed], comments=old).changes[0].fields


def test_a_syncs_own_comment_is_never_taken_for_a_reason() -> None:
    closed = issue_for(ITEM, state="closed", state_reason="not_planned", closed_at=T0)
    own = [Comment("github-actions[bot]", f"Marked won't do.\n\n{SYNC_MARKER}\n", T0)]
    assert closing_comment(closed, own) == ""


def test_an_item_done_in_the_repository_closes_its_issue_with_a_comment() -> None:
    done_at = datetime(2026, 3, 12, tzinfo=UTC)
    item = replace(ITEM, issue=f"{URL}/1", status="done", done_at=done_at)
    result = plan([item], [issue_for(item)])
    assert [(c.issue.number, c.state_reason) for c in result.closes] == [(1, "completed")]
    assert result.closes[0].comment.startswith(
        "Marked done on 2026-03-12T00:00:00Z in `postmortems/INC-0001.md` (action item A1)."
    )
    assert result.closes[0].comment.rstrip().endswith(SYNC_MARKER)
    assert not result.changes


def test_an_item_wont_do_in_the_repository_closes_its_issue_as_not_planned() -> None:
    item = replace(ITEM, issue=f"{URL}/1", status="wont_do", reason="Replaced by A3")
    result = plan([item], [issue_for(item)])
    assert [(c.issue.number, c.state_reason) for c in result.closes] == [(1, "not_planned")]
    assert "Reason: Replaced by A3" in result.closes[0].comment


def test_an_issue_reopened_after_the_item_was_settled_reopens_the_item() -> None:
    item = replace(ITEM, issue=f"{URL}/1", status="done", done_at=T0, reason="x")
    reopened = issue_for(
        item, state_reason="reopened", updated_at=datetime(2026, 3, 11, tzinfo=UTC)
    )
    result = plan([item], [reopened])
    assert dict(result.changes[0].fields) == {"status": "open", "done_at": REMOVE, "reason": REMOVE}
    assert not result.closes


def test_an_item_settled_after_its_issue_was_reopened_closes_the_issue_again() -> None:
    item = replace(ITEM, issue=f"{URL}/1", status="done", done_at=T0)
    reopened = issue_for(item, state_reason="reopened", updated_at=datetime(2026, 3, 9, tzinfo=UTC))
    result = plan([item], [reopened])
    assert [c.issue.number for c in result.closes] == [1]
    assert not result.changes


def test_settled_on_both_sides_needs_nothing() -> None:
    item = replace(ITEM, issue=f"{URL}/1", status="done", done_at=T0)
    closed = issue_for(item, state="closed", state_reason="completed", closed_at=T0)
    assert plan([item], [closed]).empty


def test_a_changed_due_date_updates_the_body_and_a_changed_title_the_title() -> None:
    item = replace(ITEM, issue=f"{URL}/1")
    issue = issue_for(item)
    later = replace(item, due=datetime(2026, 4, 1, tzinfo=UTC))
    result = plan([later], [issue])
    assert [(e.issue.number, e.title) for e in result.edits] == [(1, None)]
    assert result.edits[0].body is not None
    assert "- Due: 2026-04-01T00:00:00Z" in result.edits[0].body
    renamed = replace(item, title="Alert on pool saturation at 80%")
    edit = plan([renamed], [issue]).edits[0]
    assert (edit.title, edit.body) == ("[INC-0001/A1] Alert on pool saturation at 80%", None)


def test_a_linked_issue_that_is_missing_is_named_and_never_recreated() -> None:
    item = replace(ITEM, issue=f"{URL}/40")
    result = plan([item], [])
    assert result.empty
    assert result.notices == [
        f"postmortems/INC-0001.md: INC-0001/A1: issue {URL}/40 was not found; left as it is"
    ]


def test_markers_and_issue_numbers_are_read_back() -> None:
    assert marked_key(f"text\n{marker('INC-0002/B7')}\n") == "INC-0002/B7"
    assert marked_key("no marker") is None
    assert issue_number(f"{URL}/12") == 12
    assert issue_number("https://example.com/x") is None


@given(
    title=st.text(max_size=80),
    incident_title=st.text(max_size=80),
    value=st.text(max_size=80),
    other=st.sampled_from(["INC-0001/A2", "INC-0002/A1"]),
)
def test_an_issue_body_names_its_own_item_whatever_the_texts_in_it_quote(
    title: str, incident_title: str, value: str, other: str
) -> None:
    quoted = f" {marker(other)}\n{marker(other)}\n"
    item = replace(
        ITEM,
        title=title + quoted,
        incident_title=incident_title + quoted,
        extra=(("priority", value + quoted),),
    )
    assert marked_key(issue_body(item)) == ITEM.key


def test_a_closing_comment_is_made_fit_for_a_record() -> None:
    closed = issue_for(ITEM, state="closed", state_reason="not_planned", closed_at=T0)
    said = Comment(
        author="someone",
        body="Superseded\x1b[2J by\x00 the\r\nnew \ud800pooler.\x7f",
        created_at=T0,
    )
    assert closing_comment(closed, [said]) == "Superseded[2J by the new pooler."
