"""`incidents actions sync`: every action item of a published postmortem mirrored as a GitHub
issue, kept in step both ways.

The rules are core/tracker.py's plan. This module reads the postmortems, asks GitHub, carries
the plan out on GitHub, and writes what changed back into the postmortems in ONE commit
through the transaction, staging only the postmortem files it changed. The whole sync is the
transaction's step, so a rejected ``--push`` replays it on the fetched remote state: the second
run finds the issues the first one made by their markers and creates nothing twice.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from incidents_cli.core import tracker
from incidents_cli.core.document import mapping
from incidents_cli.core.errors import InternalError, RefusedError
from incidents_cli.core.lifecycle import Change
from incidents_cli.core.records import incident_rel
from incidents_cli.core.text import clip
from incidents_cli.core.timeutil import due_time, maybe_time
from incidents_cli.integrations.github import GitHub, Repository
from incidents_cli.site.public import may_be_public
from incidents_cli.store import yamlio
from incidents_cli.store.git import Repo
from incidents_cli.store.layout import find_root, load_settings, read_record, record_paths
from incidents_cli.store.schemas import schema_findings
from incidents_cli.store.transaction import Workspace, carry_out

REPOSITORY_ENV = "GITHUB_REPOSITORY"
# https://host/OWNER/NAME(.git), ssh://git@host/OWNER/NAME, git@host:OWNER/NAME.git
_REMOTE = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/]+/|[^@/\s]+@[^:/\s]+:)"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)
SHOWN_EXTRA = ("priority", "type")


@dataclass(frozen=True)
class SyncOptions:
    directory: Path
    repo: str | None = None
    dry_run: bool = False
    push: bool | None = None
    by: str | None = None


@dataclass
class SyncResult:
    repo: str
    dry_run: bool
    created: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    edited: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    commit: str | None = None
    pushed: bool = False
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "dry_run": self.dry_run,
            "created": self.created,
            "closed": self.closed,
            "edited": self.edited,
            "changed": self.changed,
            "commit": self.commit,
            "pushed": self.pushed,
            "notices": self.notices,
        }

    def lines(self) -> list[str]:
        would = "would " if self.dry_run else ""
        out = []
        for c in self.created:
            where = f": {c['issue']}" if c.get("issue") else ""
            out.append(f"{would}create an issue for {c['item']}{where}")
        for c in self.closed:
            out.append(f"{would}close #{c['number']} ({c['as']}) for {c['item']}")
        for e in self.edited:
            out.append(f"{would}update the {' and '.join(e['fields'])} of #{e['number']}")
        for c in self.changed:
            out.append(f"{would}change {c['item']} in {c['path']}: {c['why']}")
        if not out:
            out.append(f"Nothing to sync: the action items and the issues of {self.repo} agree.")
        if self.commit:
            out.append(f"committed {self.commit[:12]}" + (" and pushed" if self.pushed else ""))
        return out


class _NothingToCommit(Exception):
    """The sync changed no postmortem: there is no commit to make."""


def default_repo(repo: Repo, env: Mapping[str, str]) -> str:
    """OWNER/NAME from GITHUB_REPOSITORY (as Actions sets it), else from the origin remote."""
    named = env.get(REPOSITORY_ENV, "").strip()
    if named:
        return named
    url = repo.remote_url("origin")
    found = _REMOTE.match(url.strip()) if url else None
    if found is None:
        shown = re.sub(r"//[^@/]*@", "//", url or "")  # never print a token kept in the URL
        raise RefusedError(
            f"which GitHub repository? pass --repo OWNER/NAME (or set {REPOSITORY_ENV}); "
            + (f"the origin remote {shown!r} names none" if url else "there is no origin remote")
        )
    return f"{found['owner']}/{found['name']}"


def sync(
    options: SyncOptions, *, client: GitHub | None = None, env: Mapping[str, str] | None = None
) -> SyncResult:
    env = os.environ if env is None else env
    root = find_root(options.directory)
    git = Repo.at(root)
    full_name = options.repo or default_repo(git, env)
    actor = (options.by or "").strip() or (
        load_settings(root).handle_for_email(git.user_email()) or git.user_name() or ""
    )
    if not actor and not options.dry_run:
        raise RefusedError("who is doing this? pass --by NAME, or set git config user.name")
    if not options.dry_run:
        _refuse_uncommitted(root, git)
    github = client or GitHub.from_env(full_name, env, token_required=not options.dry_run)
    result = SyncResult(github.repo, options.dry_run)
    with github:
        repository = github.repository()
        prefix = git.folder_of(root)
        base = f"{repository.html_url}/blob/{repository.default_branch}/"
        postmortem_url = base + (f"{prefix}/" if prefix else "")
        session = _Session(github, repository, result, postmortem_url)
        if options.dry_run:
            settings = load_settings(root)
            session.run(Workspace(root, settings), execute=False)
            return result

        def step(workspace: Workspace) -> Change:
            files = session.run(workspace, execute=True)
            if not files:
                raise _NothingToCommit
            return _change(files, result, github.repo)

        try:
            outcome = carry_out(root, step, actor=actor, push=options.push, repo=git)
        except _NothingToCommit:
            return result
        result.commit = outcome.commit
        result.pushed = outcome.pushed
        result.notices.extend(n for n in outcome.notices if n not in result.notices)
    return result


def _refuse_uncommitted(root: Path, git: Repo) -> None:
    """Refuse before GitHub is touched if a postmortem the sync may write has uncommitted
    changes (the transaction would refuse too, but only after the issues were made)."""
    items, _ = read_items(root, "")
    rels = sorted({item.path for item in items})
    paths = {(root / rel).resolve().relative_to(git.top.resolve()).as_posix(): rel for rel in rels}
    dirty = git.uncommitted(list(paths), git.tracked(list(paths)))
    if dirty:
        rel = paths[sorted(dirty)[0]]
        raise RefusedError(
            f"{rel} has uncommitted changes; commit or stash them first "
            f"(see `git diff -- {rel}`); nothing was synced"
        )


@dataclass
class _Session:
    github: GitHub
    repository: Repository
    result: SyncResult
    postmortem_url: str

    def run(self, workspace: Workspace, *, execute: bool) -> dict[str, str]:
        """One sync: read, ask, plan, act on GitHub (when ``execute``), and the new text of
        each postmortem that changes."""
        items, notices = read_items(
            workspace.root, self.postmortem_url, workspace.settings.timezone
        )
        for notice in notices:
            self._notice(notice)
        items = self._for_this_tracker(items)
        issues = self.github.issues(tracker.LABEL)
        known = {issue.url.rstrip("/") for issue in issues}
        ours = f"{self.repository.html_url}/issues/"
        for item in items:  # linked issues that lost the label are asked for one by one
            number = tracker.issue_number(item.issue or "")
            if item.issue and item.issue.rstrip("/") not in known and number is not None:
                found = self.github.issue(number) if item.issue.startswith(ours) else None
                if found is not None:
                    issues.append(found)
                    known.add(found.url.rstrip("/"))
        comments = {n: self.github.comments(n) for n in tracker.needs_comments(items, issues)}
        plan = tracker.plan(
            items, issues, comments=comments, handles=workspace.settings.github_logins
        )
        for notice in plan.notices:
            self._notice(notice)
        fields: dict[tuple[str, str], dict[str, Any]] = {}
        whys: dict[tuple[str, str], list[str]] = {}
        self.result.changed = []
        if plan.creates and execute:
            self.github.ensure_label(tracker.LABEL, tracker.LABEL_COLOR, tracker.LABEL_DESCRIPTION)
        assignable = self._assignable(plan.creates) if execute else set()
        for create in plan.creates:
            entry: dict[str, Any] = {"item": create.item.key, "title": create.title, "issue": None}
            if execute:
                logins = [a for a in create.assignees if a in assignable]
                issue = self.github.create_issue(create.title, create.body, [tracker.LABEL], logins)
                entry["issue"] = issue.url
                key = (create.item.path, create.item.id)
                fields.setdefault(key, {})["issue"] = issue.url
                whys.setdefault(key, []).append(f"linked to the new issue #{issue.number}")
            self.result.created.append(entry)
        for close in plan.closes:
            if execute:
                self.github.comment(close.issue.number, close.comment)
                self.github.update_issue(
                    close.issue.number, state="closed", state_reason=close.state_reason
                )
            self.result.closed.append(
                {
                    "item": close.item.key,
                    "number": close.issue.number,
                    "issue": close.issue.url,
                    "as": close.state_reason,
                }
            )
        for edit in plan.edits:
            if execute:
                self.github.update_issue(edit.issue.number, title=edit.title, body=edit.body)
            what = [name for name, value in (("title", edit.title), ("body", edit.body)) if value]
            self.result.edited.append(
                {"item": edit.item.key, "number": edit.issue.number, "fields": what}
            )
        for change in plan.changes:
            key = (change.item.path, change.item.id)
            fields.setdefault(key, {}).update(change.fields)
            whys.setdefault(key, []).append(change.why)
        for (path, item_id), new in fields.items():
            self.result.changed.append(
                {
                    "item": f"{_incident_of(items, path)}/{item_id}",
                    "path": path,
                    "fields": dict(new),
                    "why": "; ".join(whys[(path, item_id)]),
                }
            )
        return write_back(workspace, fields) if execute else {}

    def _for_this_tracker(self, items: list[tracker.ActionItem]) -> list[tracker.ActionItem]:
        """The items this tracker may hear of: those of a private incident, or of a
        postmortem not marked public, are internal (kept off the status page), so a tracker
        anyone can read never gets them, nor their titles."""
        if self.repository.private:
            return items
        for incident, why in sorted({(item.incident, item.internal) for item in items}):
            if why:
                self._notice(
                    f"{incident} {why} and {self.github.repo} is a public repository: its "
                    "action items are not mirrored there"
                )
        return [item for item in items if not item.internal]

    def _assignable(self, creates: Sequence[tracker.Create]) -> set[str]:
        logins = sorted({login for create in creates for login in create.assignees})
        allowed = {login for login in logins if self.github.can_assign(login)}
        for login in logins:
            if login not in allowed:
                self._notice(f"{login} cannot be assigned issues in {self.github.repo}; left out")
        return allowed

    def _notice(self, text: str) -> None:
        if text not in self.result.notices:
            self.result.notices.append(text)


def _incident_of(items: Sequence[tracker.ActionItem], path: str) -> str:
    return next((i.incident for i in items if i.path == path), path)


def read_items(
    root: Path, postmortem_url: str, zone: str = "UTC"
) -> tuple[list[tracker.ActionItem], list[str]]:
    """The action items of every published postmortem, and what was skipped and why."""
    items: list[tracker.ActionItem] = []
    notices: list[str] = []
    for rel, kind in record_paths(root, ["postmortem"]):
        record = read_record(root, rel, kind)
        if record.error is not None or record.doc is None:
            notices.append(f"{rel} skipped: {record.error.message if record.error else '?'}")
            continue
        data = mapping(record.data)
        if data.get("status") != "published":
            continue
        problems = schema_findings(record)
        if problems:
            notices.append(f"{rel} skipped until it validates: {problems[0].text()}")
            continue
        incident = str(data.get("incident"))
        title = ""
        internal = "cannot be read"  # not known to be public
        if (root / incident_rel(incident)).is_file():
            found = mapping(read_record(root, incident_rel(incident), "incident").data)
            title = str(found.get("title") or "")
            internal = "" if may_be_public(found) else "is private"
        if not internal and data.get("public") is not True:  # as site/public.py reads it
            internal = "has a postmortem that is not public"
        for raw in data.get("action_items") or []:
            if not isinstance(raw, dict) or not raw.get("id"):
                continue
            items.append(
                tracker.ActionItem(
                    incident=incident,
                    id=str(raw["id"]),
                    path=rel,
                    title=str(raw.get("title") or ""),
                    owner=str(raw.get("owner") or ""),
                    due=due_time(raw.get("due"), zone),
                    status=str(raw.get("status") or "open"),
                    issue=str(raw["issue"]) if raw.get("issue") else None,
                    link=str(raw["link"]) if raw.get("link") else None,
                    done_at=maybe_time(raw.get("done_at")),
                    reason=str(raw.get("reason") or ""),
                    incident_title=title,
                    postmortem_url=postmortem_url + rel if postmortem_url else "",
                    extra=tuple((k, str(raw[k])) for k in SHOWN_EXTRA if raw.get(k)),
                    internal=internal,
                )
            )
    return items, notices


def write_back(
    ws: Workspace, fields: Mapping[tuple[str, str], Mapping[str, Any]]
) -> dict[str, str]:
    """The new text of each postmortem whose items change (only those that really change),
    each read through the workspace: a save made since is never written over."""
    root = ws.root
    by_path: dict[str, dict[str, Mapping[str, Any]]] = {}
    for (path, item_id), new in fields.items():
        by_path.setdefault(path, {})[item_id] = new
    files: dict[str, str] = {}
    for path, changes in sorted(by_path.items()):
        text = ws.text(path)
        front, body, _ = yamlio.split_front_matter(text, path)
        doc = yamlio.parse(front, path, line_offset=1)
        data = mapping(doc.data)
        for raw in data.get("action_items") or []:
            if isinstance(raw, dict) and str(raw.get("id")) in changes:
                for name, value in changes[str(raw.get("id"))].items():
                    if value is tracker.REMOVE:
                        raw.pop(name, None)
                    else:
                        raw[name] = value
        new_text = f"---\n{yamlio.rewrite(front, data)}---\n{body}"
        if new_text == text:
            continue
        check = read_record(root, path, "postmortem", new_text.encode("utf-8"))
        problems = schema_findings(check) if check.doc is not None else []
        if check.error is not None or problems:  # the sync made an invalid file: a bug
            what = check.error.message if check.error else problems[0].text()
            raise InternalError(f"refusing to write an invalid postmortem: {what}")
        files[path] = new_text
    return files


def _change(files: dict[str, str], result: SyncResult, repo: str) -> Change:
    counts = []
    linked = sum(1 for c in result.changed if "issue" in c["fields"])
    done = sum(1 for c in result.changed if c["fields"].get("status") == "done")
    wont = sum(1 for c in result.changed if c["fields"].get("status") == "wont_do")
    reopened = sum(1 for c in result.changed if c["fields"].get("status") == "open")
    for count, what in (
        (linked, "linked"),
        (done, "done"),
        (wont, "won't do"),
        (reopened, "reopened"),
    ):
        if count:
            counts.append(f"{count} {what}")
    incidents = sorted({c["item"].split("/")[0] for c in result.changed})
    subject = f"Action items synced with {repo}: {', '.join(counts) or 'updated'}"
    change = Change(
        {"id": ", ".join(incidents), "phase": "postmortem"},
        "actions-sync",
        clip(subject, 100, ""),
        write_record=False,
        trailers=(*(("Incident-Id", i) for i in incidents), ("Action", "actions-sync")),
    )
    change.files.update(files)
    return change
