"""Postmortem action items mirrored as issues in a tracker: what a sync must do, decided.

Pure: takes the action items (as the postmortems say) and the issues (as the tracker says)
and returns a plan, the issues to create, close or edit and the items to change. Nothing
here talks to GitHub or writes a file, so every rule of the two-way sync can be read (and
tested) in one place:

- an open item without an issue gets one, unless an issue already carries its marker (a
  hidden comment in the body naming the item): then that issue's link is written back instead,
  which is how a lost ``issue:`` write is repaired and how a sync never duplicates;
- an issue closed as completed marks its open item done (``done_at`` from the close time,
  ``link`` to the issue if the item had none); closed as not planned, ``wont_do`` with the
  closing comment as the ``reason``;
- an item settled in the repository (done or wont_do) closes its open issue with a comment,
  unless the issue was reopened after the item was settled: then the item is reopened;
- a due date (or title) changed in the repository updates the issue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from incidents_cli.core.text import clip, without_control_characters
from incidents_cli.core.timeutil import format_time

LABEL = "incident-action"
LABEL_COLOR = "d93f0b"
LABEL_DESCRIPTION = "A postmortem action item (kept in sync by `incidents actions sync`)"
NOT_PLANNED = ("not_planned", "duplicate")
SYNC_MARKER = "<!-- incidents:sync -->"
"""Ends every comment a sync makes, so a sync never takes its own comment for a reason."""
REMOVE = None
"""In ``ItemChange.fields``: the field is removed from the item."""

# A marker counts only on a line of its own: the body's last line that is one is the item's
# (issue_body writes it last), so a title or an owner quoting a marker cannot claim an issue.
_MARKER = re.compile(r"^[ \t]*<!--[ \t]*incidents:action-item[ \t]+(\S+)[ \t]*-->[ \t]*\r?$", re.M)
_ISSUE_NUMBER = re.compile(r"/issues/(\d+)/?$")
# A comment made this long before (or after) the close counts as the closing comment.
CLOSING_COMMENT_WINDOW = timedelta(minutes=10)
MAX_REASON = 500  # characters of a closing comment kept as the reason


@dataclass(frozen=True)
class ActionItem:
    """One action item of a published postmortem, as its front matter says."""

    incident: str
    id: str
    path: str  # the postmortem, relative to the incident repository
    title: str
    owner: str
    due: datetime | None
    status: str = "open"  # open, done, wont_do
    issue: str | None = None  # the issue's URL
    link: str | None = None
    done_at: datetime | None = None
    reason: str = ""  # why it will not be done
    incident_title: str = ""
    postmortem_url: str = ""  # where a person reads the postmortem
    extra: tuple[tuple[str, str], ...] = ()  # priority, type, ... shown when set
    internal: str = ""  # why it is kept off the status page ("is private"), or ""

    @property
    def key(self) -> str:
        return f"{self.incident}/{self.id}"


@dataclass(frozen=True)
class Issue:
    """What the tracker knows of one issue."""

    number: int
    url: str  # the page a person opens
    title: str
    body: str
    state: str  # open or closed
    state_reason: str | None = None  # completed, not_planned, duplicate, reopened
    closed_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Comment:
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Create:
    item: ActionItem
    title: str
    body: str
    assignees: tuple[str, ...] = ()


@dataclass(frozen=True)
class Close:
    item: ActionItem
    issue: Issue
    state_reason: str  # completed or not_planned
    comment: str


@dataclass(frozen=True)
class Edit:
    item: ActionItem
    issue: Issue
    title: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class ItemChange:
    """New values for fields of one item (``REMOVE`` drops the field), and why."""

    item: ActionItem
    fields: Mapping[str, Any]
    why: str


@dataclass
class Plan:
    creates: list[Create] = field(default_factory=list)
    closes: list[Close] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    changes: list[ItemChange] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.creates or self.closes or self.edits or self.changes)


def marker(key: str) -> str:
    """The hidden line that names the item in its issue's body."""
    return f"<!-- incidents:action-item {key} -->"


def marked_key(body: str) -> str | None:
    found = _MARKER.findall(body or "")
    return found[-1] if found else None


def issue_number(url: str) -> int | None:
    found = _ISSUE_NUMBER.search(url.strip())
    return int(found.group(1)) if found else None


def issue_title(item: ActionItem) -> str:
    return f"[{item.key}] {item.title}"


def _due_line(item: ActionItem) -> str:
    return f"- Due: {format_time(item.due) if item.due else 'no due date'}"


def issue_body(item: ActionItem, assignee: str | None = None) -> str:
    """The issue's text: what, for which incident, who, when, and the marker."""
    about = f"**{item.incident}**" + (f": {item.incident_title}" if item.incident_title else "")
    postmortem = f"[{item.path}]({item.postmortem_url})" if item.postmortem_url else item.path
    owner = item.owner + (f" (@{assignee})" if assignee and assignee != item.owner else "")
    lines = [
        f"Action item **{item.id}** from the postmortem of {about}.",
        "",
        f"- Postmortem: {postmortem}",
        f"- Owner: {owner}",
        _due_line(item),
        *(f"- {name.replace('_', ' ').capitalize()}: {value}" for name, value in item.extra),
        "",
        "Close this issue as completed when the work is done, or as not planned (with a "
        "comment saying why) if it will not be done: `incidents actions sync` records either "
        "in the postmortem.",
        "",
        marker(item.key),
        "",
    ]
    return "\n".join(lines)


def needs_comments(items: Sequence[ActionItem], issues: Iterable[Issue]) -> list[int]:
    """The issues whose comments the plan needs: those closed as not planned whose items are
    still open (the closing comment is the reason)."""
    found = _match(items, list(issues), Plan())
    return sorted(
        {
            issue.number
            for item, issue in found
            if issue is not None
            and item.status == "open"
            and issue.state == "closed"
            and issue.state_reason in NOT_PLANNED
        }
    )


def plan(
    items: Sequence[ActionItem],
    issues: Iterable[Issue],
    *,
    comments: Mapping[int, Sequence[Comment]] | None = None,
    handles: Mapping[str, str] | None = None,
) -> Plan:
    """What a sync must do to bring ``items`` and ``issues`` together.

    ``issues`` are those of the tracker's label plus any linked issue fetched on its own;
    ``comments`` by issue number (see ``needs_comments``); ``handles`` maps an owner to their
    login in the tracker.
    """
    result = Plan()
    for item, issue in _match(items, list(issues), result):
        if issue is None:
            if item.status == "open":
                login = (handles or {}).get(item.owner)
                result.creates.append(
                    Create(
                        item,
                        issue_title(item),
                        issue_body(item, login),
                        (login,) if login else (),
                    )
                )
            continue
        fields: dict[str, Any] = {}
        whys: list[str] = []
        if (item.issue or "").strip().rstrip("/") != issue.url.rstrip("/"):
            fields["issue"] = issue.url
            whys.append(f"linked to #{issue.number} (found by its marker)")
        _follow(item, issue, fields, whys, result, comments or {}, handles or {})
        if fields:
            result.changes.append(ItemChange(item, fields, "; ".join(whys)))
    return result


def _match(
    items: Sequence[ActionItem], issues: list[Issue], result: Plan
) -> list[tuple[ActionItem, Issue | None]]:
    """Each item with its issue: the linked one, else the oldest carrying its marker."""
    by_url = {issue.url.rstrip("/"): issue for issue in issues}
    by_key: dict[str, Issue] = {}
    for issue in sorted(issues, key=lambda i: i.number):
        key = marked_key(issue.body)
        if key is None:
            continue
        if key in by_key:
            result.notices.append(
                f"#{issue.number} and #{by_key[key].number} both carry the marker of {key}; "
                f"#{by_key[key].number} is the one kept in sync"
            )
            continue
        by_key[key] = issue
    out: list[tuple[ActionItem, Issue | None]] = []
    for item in items:
        if item.issue:
            linked = by_url.get(item.issue.strip().rstrip("/"))
            if linked is None:
                result.notices.append(
                    f"{item.path}: {item.key}: issue {item.issue} was not found; left as it is"
                )
                continue
            out.append((item, linked))
        else:
            out.append((item, by_key.get(item.key)))
    return out


def _follow(
    item: ActionItem,
    issue: Issue,
    fields: dict[str, Any],
    whys: list[str],
    result: Plan,
    comments: Mapping[int, Sequence[Comment]],
    handles: Mapping[str, str],
) -> None:
    """The rules between one item and its issue (see the module's docstring)."""
    if item.status != "open":
        _follow_settled(item, issue, fields, whys, result)
    elif issue.state == "closed":
        _take_closing(item, issue, fields, whys, comments)
    else:
        title = issue_title(item)
        due_changed = _due_line(item) not in (issue.body or "").splitlines()
        if due_changed or issue.title != title:
            body = issue_body(item, handles.get(item.owner)) if due_changed else None
            result.edits.append(Edit(item, issue, title if issue.title != title else None, body))


def _take_closing(
    item: ActionItem,
    issue: Issue,
    fields: dict[str, Any],
    whys: list[str],
    comments: Mapping[int, Sequence[Comment]],
) -> None:
    """An open item whose issue was closed: done, or won't do with the closing comment."""
    if issue.closed_at is not None:
        fields["done_at"] = format_time(issue.closed_at)
    if issue.state_reason in NOT_PLANNED:
        fields["status"] = "wont_do"
        reason = closing_comment(issue, comments.get(issue.number, ()))
        if reason:
            fields["reason"] = reason
        whys.append(f"won't do: #{issue.number} was closed as not planned")
    else:
        fields["status"] = "done"
        if not item.link:
            fields["link"] = issue.url
        whys.append(f"done: #{issue.number} was closed as completed")


def _follow_settled(
    item: ActionItem, issue: Issue, fields: dict[str, Any], whys: list[str], result: Plan
) -> None:
    """An item settled in the repository: reopen it if its issue was reopened since, else
    close its issue with a comment saying so."""
    if issue.state == "closed":
        return
    reopened_later = (
        issue.state_reason == "reopened"
        and item.done_at is not None
        and issue.updated_at is not None
        and issue.updated_at > item.done_at
    )
    if reopened_later:
        fields["status"] = "open"
        fields["done_at"] = REMOVE
        fields["reason"] = REMOVE
        whys.append(f"reopened: #{issue.number} was reopened")
        return
    settled = "done" if item.status == "done" else "won't do"
    when = f" on {format_time(item.done_at)}" if item.done_at else ""
    text = f"Marked {settled}{when} in `{item.path}` (action item {item.id})."
    if item.reason:
        text += f"\n\nReason: {item.reason}"
    text += f"\n\n{SYNC_MARKER}\n"
    result.closes.append(
        Close(item, issue, "completed" if item.status == "done" else "not_planned", text)
    )


def closing_comment(issue: Issue, comments: Sequence[Comment]) -> str:
    """The text of the comment made as the issue was closed, if any: the latest one not made
    by a sync, within ``CLOSING_COMMENT_WINDOW`` of the close."""
    if issue.closed_at is None:
        return ""
    for comment in sorted(comments, key=lambda c: c.created_at, reverse=True):
        if SYNC_MARKER in comment.body:
            continue
        if abs(comment.created_at - issue.closed_at) <= CLOSING_COMMENT_WINDOW:
            # Anyone may comment on a public issue: what it holds is made fit for a record.
            text = " ".join(without_control_characters(comment.body).split())
            return clip(text, MAX_REASON)
    return ""
