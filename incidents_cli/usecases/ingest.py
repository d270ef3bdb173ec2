"""`incidents ingest`: one monitor payload in, at most one commit out.

The payload is checked before anything is read or written (a bad one changes nothing).
Then one step, run by the transaction and run again on the remote's state if a push is
rejected, finds what the repository holds for the alert group (the latest incident with
that group key, and a pending file under alerts/), asks core.alerts what to do, and returns
the change. A payload that changes nothing makes no commit: monitors retry, and after a
replay the other clone may already have recorded the same alert.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from incidents_cli.core import alerts, lifecycle
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.lifecycle import Change, Event
from incidents_cli.core.records import INCIDENTS_DIR
from incidents_cli.core.text import clip
from incidents_cli.core.timeutil import format_time, now_utc, parse_time_option
from incidents_cli.store import yamlio
from incidents_cli.store.git import Repo
from incidents_cli.store.layout import find_root, read_record
from incidents_cli.store.schemas import schema_findings
from incidents_cli.store.transaction import Workspace, carry_out

ACTIONS_DONE = {"declare": "declared", "update": "updated", "pending": "pending"}
PAYLOAD_LIMIT = 2 * 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


class IngestOptions(NamedTuple):
    directory: Path
    format: str
    text: str
    """The payload as read from the file or standard input."""
    source: str = "-"
    """Where the payload came from, for messages: a path, or ``-``."""
    push: bool | None = None
    as_of: datetime | str | None = None  # a str is read as RFC 3339 (the CLI gives datetimes)
    by: str | None = None


@dataclass
class IngestResult:
    action: str
    """declared, updated, unchanged or pending (the --json vocabulary)."""
    alerts: int
    id: str | None = None
    record: dict[str, Any] | None = None
    commit: str | None = None
    pushed: bool = False
    waiting: str = ""
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "alerts": self.alerts}


class _Unchanged(Exception):
    """Raised by the step when the payload changes nothing: no commit is made."""

    def __init__(self, decision: alerts.Decision, incident_id: str | None) -> None:
        super().__init__("unchanged")
        self.decision = decision
        self.incident_id = incident_id


def payload_text(stream: BinaryIO, source: str) -> str:
    """The payload's text, read from ``stream`` (a file or standard input) no further than
    its limit, so an endless one (a device, a pipe that never ends) is refused, not held."""
    where = "<stdin>" if source == "-" else source
    try:
        raw = stream.read(PAYLOAD_LIMIT + 1)
    except OSError as exc:
        raise RefusedError(f"{where}: cannot read the payload: {exc.strerror}") from None
    if len(raw) > PAYLOAD_LIMIT:
        raise RefusedError(f"{where}: the payload is bigger than 2 MiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedError(f"{where}: the payload is not UTF-8 text") from None


def read_payload(text: str, source: str, fmt: str) -> alerts.AlertGroup:
    """The payload, checked against its format; a problem is one line naming its place."""
    where = "<stdin>" if source == "-" else source
    if len(text.encode("utf-8", "surrogatepass")) > PAYLOAD_LIMIT:
        raise RefusedError(f"{where}: the payload is bigger than 2 MiB")
    try:
        data = json.loads(text)
        found = _lone_surrogate(data, "$")
    except json.JSONDecodeError as exc:
        raise RefusedError(
            f"{where}:{exc.lineno}:{exc.colno}: (payload): not JSON: {exc.msg}"
        ) from None
    except RecursionError:  # no monitor nests its payload hundreds of levels deep
        raise RefusedError(f"{where}: (payload): nested too deeply") from None
    if found is not None:  # JSON's \ud800 escape: no file or commit can hold it
        raise RefusedError(f"{where}: {found}: a lone surrogate is not text")
    try:
        return alerts.parse_payload(fmt, data)
    except alerts.PayloadError as exc:
        raise RefusedError(f"{where}: {exc.path}: {exc.detail}") from None


def _lone_surrogate(value: Any, path: str) -> str | None:
    """The JSON path of the first string (or key) in ``value`` holding a lone surrogate."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _lone_surrogate(key, path) or _lone_surrogate(item, f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _latest_with_group(root: Path, repo: Repo, group_key: str) -> dict[str, Any] | None:
    """The most recently detected incident whose alert group is this one. Only files that
    git grep finds holding a group key (and the longest plain word of this one, which no
    YAML quoting or line folding can split) are parsed: most incidents never are."""
    folder = root / INCIDENTS_DIR
    if not folder.is_dir():
        return None
    words = sorted(re.findall(r"[A-Za-z0-9_]{3,}", group_key), key=len, reverse=True)
    found: list[dict[str, Any]] = []
    for path in repo.files_containing(folder, ["group_key:", *words[:1]]):
        if path.suffix not in (".yaml", ".yml") or path.parent != folder:
            continue
        record = read_record(root, path.relative_to(root).as_posix(), "incident")
        data = record.data
        if record.error is not None or not isinstance(data, dict):
            continue
        alert = data.get("alert")
        if isinstance(alert, dict) and alert.get("group_key") == group_key:
            problems = schema_findings(record)
            if problems:  # the transitions read it as valid; a second incident would split it
                raise RefusedError(
                    f"{problems[0].text()} (the incident of this alert group does not "
                    "validate; fix it, then deliver the alert again)"
                )
            found.append(data)
    if not found:
        return None
    return max(found, key=lambda r: (str(r.get("detected_at")), str(r.get("id"))))


def _pending(root: Path, group_key: str) -> alerts.AlertState | None:
    rel = alerts.pending_path(group_key)
    path = root / rel
    if not path.is_file():
        return None
    doc = yamlio.load(path, rel)
    if doc.problems:
        raise RefusedError(f"{doc.problems[0]} (fix or remove it, then try again)")
    state = alerts.alert_state_from_data(doc.data)
    if state is None or state.group_key != group_key:
        raise RefusedError(f"{rel} does not hold this alert group; remove it, then try again")
    return state


def _pending_change(
    group: alerts.AlertGroup, decision: alerts.Decision, pending: alerts.AlertState | None
) -> Change:
    rel = alerts.pending_path(group.group_key)
    exists = pending is not None
    title = next((s.title for s in (decision.state, pending) if s and s.title), "")
    trailers = (("Alert-Group", rel),)
    if decision.state is None:
        change = Change(
            {},
            "alert-pending",
            clip(f"Alert group no longer pending: {title or group.group_key}", 100, ""),
            write_record=False,
            trailers=trailers,
        )
        if exists:
            change.removes.append(rel)
        return change
    verb = "waiting" if not exists else "still waiting"
    return Change(
        {},
        "alert-pending",
        clip(f"Alert {verb}: {title} ({decision.waiting})", 100, ""),
        files={rel: yamlio.dump(decision.state.to_data())},
        write_record=False,
        trailers=trailers,
    )


def ingest(options: IngestOptions) -> IngestResult:
    group = read_payload(options.text, options.source, options.format)
    root = find_root(options.directory)
    repo = Repo.at(root)
    actor = (options.by or "").strip() or alerts.ALERT_ACTOR_BY_FORMAT[options.format]
    if isinstance(options.as_of, str):
        now = parse_time_option(options.as_of, "--as-of") if options.as_of else now_utc()
    else:
        now = options.as_of or now_utc()
    decisions: list[alerts.Decision] = []  # the last one is what was committed

    def step(ws: Workspace) -> Change:
        settings = ws.settings
        incident = _latest_with_group(ws.root, repo, group.group_key)
        pending = _pending(ws.root, group.group_key)
        decision = alerts.decide(
            group,
            settings.alerts,
            settings.component_ids,
            now=now,
            incident=incident,
            pending=pending,
        )
        decisions.append(decision)
        if decision.action == "unchanged":
            raise _Unchanged(decision, str(incident["id"]) if incident else None)
        if decision.action == "pending":
            return _pending_change(group, decision, pending)
        if decision.action == "update":
            assert incident is not None
            return alerts.update_change(incident, decision, Event(actor, now, settings, now))
        return _declare(ws, decision, actor, now, pending is not None, group.group_key)

    try:
        outcome = carry_out(root, step, actor=actor, push=options.push, repo=repo)
    except _Unchanged as unchanged:
        return IngestResult("unchanged", unchanged.decision.alerts, unchanged.incident_id)
    decision = decisions[-1]
    change = outcome.change
    incident_id = change.incident_id if change.write_record else None
    return IngestResult(
        ACTIONS_DONE[decision.action],
        decision.alerts,
        incident_id,
        change.record if change.write_record else None,
        outcome.commit,
        outcome.pushed,
        decision.waiting,
        outcome.notices,
    )


def _declare(
    ws: Workspace,
    decision: alerts.Decision,
    actor: str,
    now: datetime,
    pending_exists: bool,
    group_key: str,
) -> Change:
    from incidents_cli.core.oncall import primary_at
    from incidents_cli.store.layout import load_schedule

    at = min(decision.at or now, now)
    event = Event(actor, at, ws.settings, now)
    incident_id = lifecycle.next_id(ws.incident_ids(), ws.settings.id_prefix)
    schedule = load_schedule(ws.root, ws.settings)
    on_duty = primary_at(schedule, at) if schedule is not None else None
    change = alerts.declare_change(
        decision, incident_id, event, on_duty.person if on_duty is not None else None
    )
    if pending_exists:
        change.removes.append(alerts.pending_path(group_key))
    change.notices.append(
        f"declared from {decision.alerts} alert(s) first seen {format_time(at)}; "
        "confirm the severity at ack"
    )
    return change
