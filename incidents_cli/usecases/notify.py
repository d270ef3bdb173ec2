"""`incidents notify` and `incidents comms`: tell every channel what is new, exactly once.

notify reads committed history only: the records at HEAD against the records at the commit
each channel was last fully told about (its state in refs/incidents/notified/<channel>,
fetched from and pushed to the remote, so a fresh clone continues where the last run
stopped). Messages go out in time order; the first failure stops that channel, and only what
it did not get is retried next time. A mail recipient the server refuses stops only that
recipient: the others get the rest, and who has each message is remembered, so the next run
mails only whom it missed. The state is written after every notice that got through (see
`_Memory` for mail to many), so an interrupted run repeats at most the message in flight,
and pushed after the first message and then every few seconds (`_Pusher`), so a run killed
outright repeats at most those seconds. Two runs at once on two clones: before sending, a run
claims the channel on the remote (store/claims.py); the one that loses skips it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidents_cli.core.cadence import UNRESOLVED_PHASES, Quiet, quiet_incidents
from incidents_cli.core.errors import IncidentsError, RefusedError, SetupError
from incidents_cli.core.escalation import escalations
from incidents_cli.core.notifications import (
    BACKFILL,
    Channel,
    Links,
    Notice,
    Snapshot,
    escalation_notice,
    for_channel,
    in_order,
    quiet_notice,
    record_notices,
)
from incidents_cli.core.oncall import schedule_from_data
from incidents_cli.core.records import (
    INCIDENTS_DIR,
    MAINTENANCE_DIR,
    ONCALL_FILE,
    POSTMORTEMS_DIR,
    SETTINGS_FILE,
    classify,
)
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_time
from incidents_cli.site.notices import maintenance_notices, public_notices
from incidents_cli.site.public import IMPACT_OF_SEVERITY
from incidents_cli.store.claims import Claimer, LocalClaim
from incidents_cli.store.git import Repo
from incidents_cli.store.layout import read_record
from incidents_cli.store.notified import (
    REF_PREFIX,
    ChannelState,
    read_state,
    ref_name,
    write_state,
)

if TYPE_CHECKING:
    from incidents_cli.integrations.mail import Mailer

SECRETS_JSON_ENV = "INCIDENTS_SECRETS"
"""Optional: a JSON object of secrets by name, read when a channel's variable is not in the
environment itself. Notify workflows installed before `ci update --workflows` wrote one env:
line per secret passed every repository secret this way; it is read so they keep working."""


# --- what a run did ------------------------------------------------------------------------


def _brief(notice: Notice) -> dict[str, Any]:
    return {
        "key": notice.key,
        "event": notice.event,
        "subject": notice.subject,
        "at": format_time(notice.at),
        "headline": notice.headline,
    }


@dataclass
class ChannelRun:
    channel: Channel
    sent: list[Notice] = field(default_factory=list)
    pending: list[Notice] = field(default_factory=list)
    history: list[Notice] = field(default_factory=list)
    """Older than a first run's backfill window: recorded as told, not sent."""
    error: str | None = None
    previews: list[dict[str, Any]] = field(default_factory=list)
    """--dry-run: each request or message that would go out."""
    skipped: str | None = None
    """Why this run told the channel nothing: another run holds its claim."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.channel.name,
            "type": self.channel.type,
            "audience": self.channel.audience,
            "sent": [_brief(n) for n in self.sent],
            "pending": [_brief(n) for n in self.pending],
            "skipped_history": len(self.history),
            "error": self.error,
            "skipped": self.skipped,
        }
        if self.previews:
            out["requests"] = self.previews
        return out


@dataclass
class NotifyResult:
    head: str
    as_of: datetime
    dry_run: bool
    channels: list[ChannelRun]
    pushed_to: str | None = None
    warnings: list[str] = field(default_factory=list)
    push_error: str | None = None

    @property
    def failed(self) -> bool:
        return self.push_error is not None or any(c.error for c in self.channels)

    def as_dict(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "as_of": format_time(self.as_of),
            "dry_run": self.dry_run,
            "channels": [c.as_dict() for c in self.channels],
            "pushed_to": self.pushed_to,
            "warnings": self.warnings,
            "push_error": self.push_error,
        }


# --- reading the records at a commit ---------------------------------------------------------


@dataclass(frozen=True)
class _Committed:
    """The incident repository's committed files, by paths from its own folder, which may
    be a folder of the git repository: ``prefix`` is that folder's path from the git top
    ("" at the top, else ending in "/"), which git's paths at a commit start with."""

    repo: Repo
    prefix: str

    @classmethod
    def at(cls, repo: Repo, root: Path) -> _Committed:
        folder = repo.folder_of(root)
        return cls(repo, f"{folder}/" if folder else "")

    @property
    def root(self) -> Path:
        return self.repo.top / self.prefix if self.prefix else self.repo.top

    def file_bytes_at(self, commit: str, rel: str) -> bytes | None:
        """``Repo.file_bytes_at`` of the file ``rel`` of the incident repository."""
        return self.repo.file_bytes_at(commit, self.prefix + rel)

    def blobs_at(self, commit: str, folders: Sequence[str]) -> dict[str, str]:
        """``Repo.blobs_at`` of the incident repository's ``folders``, by its own paths."""
        found = self.repo.blobs_at(commit, [self.prefix + f for f in folders])
        return {path.removeprefix(self.prefix): sha for path, sha in found.items()}


@dataclass
class _Snapshots:
    """The records at each commit asked for that pass their schema: a record that does not
    validate is told to no one (the public never; internal channels would be fed types the
    rules do not expect), and `validate` names it. Each blob is read and parsed once, so the
    two commits of a channel cost one parse of every record plus one of each change."""

    committed: _Committed
    cache: dict[str, Snapshot] = field(default_factory=dict)
    parsed: dict[tuple[str, str], tuple[dict[str, Any] | None, bool]] = field(default_factory=dict)
    """(blob id, kind) -> (data or None if unreadable, passes its schema)."""

    def at(self, commit: str) -> Snapshot:
        if commit not in self.cache:
            self.cache[commit] = self._read(commit)
        return self.cache[commit]

    def _read(self, commit: str) -> Snapshot:
        from incidents_cli.store.schemas import is_valid

        committed = self.committed
        blobs = committed.blobs_at(commit, (INCIDENTS_DIR, POSTMORTEMS_DIR, MAINTENANCE_DIR))
        kinds = {rel: kind for rel in blobs if (kind := classify(rel)) in _SNAPSHOT_KINDS}
        place = {
            (blobs[r], str(k)): r for r, k in kinds.items() if (blobs[r], k) not in self.parsed
        }
        contents = committed.repo.read_blobs([sha for sha, _ in place])
        for (sha, kind), rel in place.items():
            record = read_record(committed.root, rel, kind, contents[sha])
            data = record.data if record.error is None and isinstance(record.data, dict) else None
            self.parsed[sha, kind] = (data, data is not None and is_valid(kind, data))
        valid: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in _SNAPSHOT_KINDS}
        for rel, kind in sorted(kinds.items()):
            data, ok = self.parsed[blobs[rel], str(kind)]
            if data is None or not ok:
                continue
            stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            key = str(data.get("incident", stem)) if kind == "postmortem" else stem
            valid[str(kind)][key] = data
        return Snapshot(valid["incident"], valid["postmortem"], valid["maintenance"])


_SNAPSHOT_KINDS = ("incident", "postmortem", "maintenance")


def _settings_at(committed: _Committed, commit: str) -> Settings:
    """The settings as committed (notify tells what the commits say, not the work tree)."""
    from incidents_cli.store.layout import settings_from_bytes

    raw = committed.file_bytes_at(commit, SETTINGS_FILE)
    if raw is None:
        raise SetupError(f"{SETTINGS_FILE} is not committed; commit it before `incidents notify`")
    # refused in one line as every other command refuses it (a field of the wrong type, a
    # port no socket takes, a byte that is not UTF-8): code that reads it expects its shape
    return settings_from_bytes(committed.root, raw)


# --- secrets ----------------------------------------------------------------------------------


class _Secrets:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self._json: dict[str, Any] | None = None

    def get(self, name: str | None, channel: str, what: str) -> str:
        if not name:
            raise IncidentsError(f"{channel}: no {what} configured (set {what} in notify:)", 1)
        value = self.env.get(name)
        if not value:
            value = self._from_json().get(name)
        if isinstance(value, str):
            value = value.strip()  # a secret pasted with its newline
        if not isinstance(value, str) or not value:
            hint = ""
            if self.env.get("GITHUB_ACTIONS") == "true":
                hint = (
                    f"; add the repository secret {name}, and pass it to the Notify step with "
                    "`incidents ci update --workflows` (it writes the secrets incidents.yaml names)"
                )
            raise IncidentsError(
                f"{channel}: the environment variable {name} ({what}) is not set{hint}", 1
            )
        return value

    def maybe(self, name: str | None, channel: str, what: str) -> str | None:
        return self.get(name, channel, what) if name else None

    def _from_json(self) -> dict[str, Any]:
        if self._json is None:
            try:
                data = json.loads(self.env.get(SECRETS_JSON_ENV) or "{}")
            except ValueError:
                data = {}
            self._json = data if isinstance(data, dict) else {}
        return self._json


CHECKPOINT_SECONDS = 5.0
"""How often, while one notice is mailed to many, who already has it is written down."""


class _Memory:
    """A channel's state as the run goes: written after every notice that got through, so
    an interrupted run repeats at most the message in flight; and at the end of a run with
    no failure, moved on to HEAD with only the reminders' keys that are still current.

    A mail notice goes to each subscriber in a message of its own: who has it is written
    when the notice is done, when the run stops (a failure, Ctrl-C), and every few seconds
    in between, not after every message (each write copies the whole list of who has it;
    per message, that is quadratic in the subscribers). A run killed outright repeats at
    most the messages of those few seconds."""

    def __init__(
        self,
        repo: Repo,
        channel: str,
        state: ChannelState | None,
        base: str | None,
        history: set[str],
        dry_run: bool,
        pusher: _Pusher | None = None,
    ) -> None:
        self.repo = repo
        self.pusher = pusher
        self.channel = channel
        self.before = state
        self.parent = state.ref_commit if state is not None else None
        self.commit = base
        self.sent = set(state.sent if state is not None else ()) | history
        self.recipients = {
            key: set(who) for key, who in (state.recipients if state is not None else {}).items()
        }
        self.dry_run = dry_run
        self.written = False
        self.unwritten = False
        self.written_at = time.monotonic()

    def has(self, notice: Notice) -> set[str]:
        """The mail recipients who already have ``notice`` (it did not reach everyone)."""
        return set(self.recipients.get(notice.key, ()))

    def delivered(self, notice: Notice, recipients: Collection[str]) -> None:
        """``notice`` reached these mail recipients (written now and then: `checkpoint`)."""
        if not recipients:
            return
        self.recipients.setdefault(notice.key, set()).update(recipients)
        self.unwritten = True
        if time.monotonic() - self.written_at >= CHECKPOINT_SECONDS:
            self._write()

    def checkpoint(self) -> None:
        if self.unwritten:
            self._write()

    def told(self, notice: Notice) -> None:
        self.sent.add(notice.key)
        self.recipients.pop(notice.key, None)
        self._write()

    def would_change(self, head: str, live: set[str]) -> bool:
        """Whether `finish` would write a new state (nothing sent)."""
        before = self.before
        return not (
            before is not None
            and (before.commit, set(before.sent)) == (head, self.sent & live)
            and not before.recipients
        )

    def finish(self, head: str, live: set[str]) -> None:
        changed = self.would_change(head, live)
        self.commit = head
        self.sent &= live
        self.recipients.clear()  # nothing failed: every message still wanted reached everyone
        if changed:  # else nothing new: no state commit every ten minutes
            self._write(push=False)

    def _write(self, push: bool = True) -> None:
        if self.dry_run:
            return
        recipients = {key: frozenset(who) for key, who in self.recipients.items()}
        state = ChannelState(self.commit, tuple(sorted(self.sent)), recipients, self.parent)
        self.parent = write_state(self.repo, self.channel, state)
        self.written = True
        self.unwritten = False
        self.written_at = time.monotonic()
        if self.pusher is not None:
            if push:
                self.pusher.checkpoint(self.channel)
            else:
                self.pusher.unpushed.add(self.channel)


PUSH_SECONDS = 5.0
"""How often, at most, a channel's state is pushed while the run goes (the first time at
once): a run killed outright (SIGKILL, a lost CI runner) repeats at most these seconds."""


class _Pusher:
    """Pushes each channel's state to the remote as the run goes, and with its claim."""

    def __init__(self, repo: Repo, remote: str, claimer: Claimer) -> None:
        self.repo = repo
        self.remote = remote
        self.claimer = claimer
        self.pushed_at: dict[str, float] = {}
        self.unpushed: set[str] = set()

    def checkpoint(self, channel: str) -> None:
        self.unpushed.add(channel)
        last = self.pushed_at.get(channel)
        if last is not None and time.monotonic() - last < PUSH_SECONDS:
            return
        ref = ref_name(channel)
        updates: list[tuple[str, str, str | None]] = [(ref, ref, None)]
        renewal = self.claimer.renewal(channel)
        if renewal is not None:
            updates.append(renewal)
        try:
            pushed = self.repo.push_leased(self.remote, updates, atomic=True)
        except IncidentsError:
            pushed = False  # the remote is unreachable: the end of the channel tries again
        self.pushed_at[channel] = time.monotonic()
        if pushed:
            self.unpushed.discard(channel)
            if renewal is not None:
                self.claimer.renewed(channel, renewal)

    def finish(self, channel: str, written: bool) -> None:
        """Push the channel's state (if not yet) and release its claim, in one push."""
        ref = ref_name(channel)
        updates: list[tuple[str, str, str | None]] = []
        if written and channel in self.unpushed:
            updates.append((ref, ref, None))
        release = self.claimer.release(channel)
        if release is not None:
            updates.append(release)
        self.claimer.released(channel)
        self.unpushed.discard(channel)
        if updates and not self.repo.push_leased(self.remote, updates, atomic=True):
            raise IncidentsError(
                f"{channel}: the remote's state or claim of the channel changed under this "
                "run (its claim expired and another run took it over)",
                1,
            )


# --- the run ----------------------------------------------------------------------------------


def _record_link(env: Mapping[str, str], head: str) -> str:
    """In GitHub Actions, a link to the record at the commit that was notified."""
    server, repository = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY")
    if server and repository:
        return f"{server.rstrip('/')}/{repository}/blob/{head}/{{path}}"
    return ""


def _reminders(
    committed: _Committed,
    head: str,
    snapshot: Snapshot,
    settings: Settings,
    as_of: datetime,
    links: Links,
) -> list[Notice]:
    records = [
        (f"{INCIDENTS_DIR}/{ident}.yaml", 1, record)
        for ident, record in sorted(snapshot.incidents.items())
    ]
    schedule = None
    raw = committed.file_bytes_at(head, ONCALL_FILE)
    if raw is not None:
        from incidents_cli.store import yamlio

        oncall = yamlio.decode(raw, ONCALL_FILE)  # not text: refused in one line, as `oncall`
        try:
            schedule = schedule_from_data(yamlio.parse(oncall, ONCALL_FILE).data, settings.timezone)
        except IncidentsError:
            schedule = None  # `incidents validate` says what is wrong with it
    out = [escalation_notice(e, links) for e in escalations(records, settings, schedule, as_of)]
    quiet = quiet_incidents(records, settings.update_every, settings.ack_within, as_of)
    out += [quiet_notice(q, links) for q in quiet]
    return out


def _context(settings: Settings, valid: Snapshot, as_of: datetime) -> tuple[Any, dict[str, Any]]:
    """The page (as the site computes it) and its Statuspage ``page`` object."""
    from incidents_cli.site import model, public

    publics = [
        view
        for ident, record in valid.incidents.items()
        if (view := public.public_incident(record, valid.postmortems.get(ident))) is not None
    ]
    windows = [
        w
        for r in valid.maintenance.values()
        for w in public.maintenance_windows(r, settings.timezone)
    ]
    page = model.build_page(settings, publics, windows, as_of)
    head = {
        "id": "incidents",
        "status_indicator": page.indicator,
        "status_description": page.description,
    }
    return page, head


@dataclass
class _Delivery:
    """What sending needs, the same for every channel of a run."""

    committed: _Committed
    head: str
    page: Any
    page_head: dict[str, Any]
    as_of: datetime
    dry_run: bool
    secrets: _Secrets

    def send(self, run: ChannelRun, to_send: Sequence[Notice], memory: _Memory) -> None:
        """Send ``to_send`` in order, telling ``memory`` after each message got through; the
        first failure stops the channel and leaves the rest pending."""
        remaining = list(to_send)
        if not remaining:
            return  # nothing to say: no secret read, no connection made
        try:
            if run.channel.type == "email":
                self._mail(run, remaining, memory)
            else:
                self._post(run, remaining, memory)
        except IncidentsError as error:
            run.error = error.message
            run.pending = remaining

    def _mail(self, run: ChannelRun, remaining: list[Notice], memory: _Memory) -> None:
        from incidents_cli.integrations import mail

        channel = run.channel
        subscribers: list[str] = []
        if channel.subscribers:
            raw = self.committed.file_bytes_at(self.head, channel.subscribers)
            if raw is None:
                raise IncidentsError(
                    f"{channel.name}: the subscriber list {channel.subscribers} is not committed", 1
                )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:  # this channel fails; the others are told
                line = raw.count(b"\n", 0, error.start) + 1
                raise IncidentsError(
                    f"{channel.name}: {channel.subscribers}:{line}: the subscriber list is not "
                    f"UTF-8 (byte 0x{raw[error.start]:02x}); save it as UTF-8",
                    1,
                ) from None
            subscribers = mail.parse_subscribers(text)
        if self.dry_run:
            for notice in remaining:
                for outgoing in mail.messages_for(
                    notice, channel, subscribers, self.as_of, skip=memory.has(notice)
                ):
                    run.previews.append(
                        {
                            "key": notice.key,
                            "to": ", ".join(outgoing.to),
                            "subject": outgoing.message["Subject"],
                        }
                    )
            return
        if not channel.host:
            raise IncidentsError(f"{channel.name}: no host configured for the mail server", 1)
        server = mail.Server(
            channel.host,
            channel.port or mail.DEFAULT_PORT[channel.security],
            channel.security,
            self.secrets.maybe(channel.username_env, channel.name, "username_env"),
            self.secrets.maybe(channel.password_env, channel.name, "password_env"),
        )
        with mail.Mailer(server, channel.name) as mailer:
            try:
                refused = self._mail_each(mailer, run, remaining, memory, subscribers)
            finally:
                memory.checkpoint()  # who got a message of an unfinished notice: not again
        if refused:
            who = "; ".join(f"{a}: {reply}" for a, reply in sorted(refused.items()))
            raise IncidentsError(f"{channel.name}: the mail server refused {who}", 1)

    def _mail_each(
        self,
        mailer: Mailer,
        run: ChannelRun,
        remaining: list[Notice],
        memory: _Memory,
        subscribers: Sequence[str],
    ) -> dict[str, str]:
        """Mail each notice to whoever does not have it yet; a refused recipient gets no
        later notice in this run (each recipient hears them in order). Returns the refused
        recipients and the server's replies; a notice that reached everyone is told."""
        from incidents_cli.integrations import mail

        channel = run.channel
        everyone = mail.recipients_of(channel, subscribers)
        refused: dict[str, str] = {}
        for notice in list(remaining):
            had = memory.has(notice)
            missing = (everyone & refused.keys()) - had
            for outgoing in mail.messages_for(
                notice, channel, subscribers, self.as_of, skip=had | refused.keys()
            ):
                bad = mailer.send(outgoing, notice.key)
                refused.update({mail.recipient(a): reply for a, reply in bad.items()})
                missing |= {mail.recipient(a) for a in bad}
                memory.delivered(notice, [mail.recipient(a) for a in outgoing.to if a not in bad])
            if not missing:
                memory.told(notice)
                run.sent.append(notice)
                remaining.remove(notice)
        return refused

    def _post(self, run: ChannelRun, remaining: list[Notice], memory: _Memory) -> None:
        from incidents_cli.integrations import chat

        channel = run.channel
        context = chat.Context(
            page=self.page_head,
            component_names={c.id: c.name for c in self.page.settings.components},
            generated_at=format_time(self.as_of),
        )
        if self.dry_run:  # no secret is read: the signature is only announced
            for notice in remaining:
                for request in chat.requests_for(channel, notice, context, None):
                    headers = dict(request.headers)
                    if channel.secret_env:
                        headers[chat.SIGNATURE_HEADER] = f"sha256=(HMAC with ${channel.secret_env})"
                    run.previews.append(
                        {"key": notice.key, "headers": headers, "body": request.payload()}
                    )
            return
        url = self.secrets.get(channel.url_env, channel.name, "url_env")
        secret = self.secrets.maybe(channel.secret_env, channel.name, "secret_env")
        with chat.Poster(url) as poster:
            while remaining:
                for request in chat.requests_for(channel, remaining[0], context, secret):
                    poster.post(request)
                run.sent.append(remaining.pop(0))
                memory.told(run.sent[-1])


def _candidates(
    audience: str,
    before: Snapshot,
    now: Snapshot,
    reminders: Sequence[Notice],
    links: Links,
    page: Any,
    as_of: datetime,
    timezone: str,
) -> list[Notice]:
    """Everything ``audience`` may hear between two commits, in time order; the public hears
    only through the public view."""
    if audience == "public":
        found = public_notices(before, now, links, page)
    else:
        found = record_notices(before, now, audience, links)
    found += maintenance_notices(now, as_of, audience, links, page, timezone)
    if audience == "internal":
        found += reminders
    return in_order(found, audience)


def _fetch_states(repo: Repo, remote: str, prefix: str) -> None:
    """Take the remote's states under ``prefix``, but keep a local state that is ahead of
    the remote's (a run killed on this clone after its last push: what it told is here)."""
    before = dict(
        line.split(" ", 1)[::-1]
        for line in repo.git(
            "for-each-ref", "--format=%(objectname) %(refname)", prefix
        ).stdout.splitlines()
        if line.strip()
    )
    repo.fetch_side_refs(remote, prefix)
    for ref, mine in before.items():
        theirs = repo.resolve(ref)
        if theirs is None or theirs == mine:
            continue
        ahead = repo.git("merge-base", "--is-ancestor", theirs, mine, check=False)
        if ahead.returncode == 0:
            repo.git("update-ref", ref, mine, theirs)


def _push_error(error: IncidentsError, remote: str) -> str:
    return (
        f"{error.message}; what was sent is remembered here but not on {remote}: "
        "the next run elsewhere may repeat it"
    )


def _finish(pusher: _Pusher, memory: _Memory, result: NotifyResult) -> None:
    """Push the channel's state and release its claim; a failure is the run's push error."""
    try:
        pusher.finish(memory.channel, memory.written)
        if memory.written:
            result.pushed_to = pusher.remote
    except IncidentsError as error:
        result.push_error = _push_error(error, pusher.remote)


@dataclass
class _Planner:
    """What each channel is to be told, from its state as this clone has it now."""

    repo: Repo
    head: str
    snapshots: _Snapshots
    valid_now: Snapshot
    reminders: Sequence[Notice]
    links: Links
    page: Any
    as_of: datetime
    settings: Settings

    def channel(
        self, channel: Channel, warnings: list[str], dry_run: bool, pusher: _Pusher | None
    ) -> tuple[ChannelRun, list[Notice], _Memory, set[str]]:
        state = read_state(self.repo, channel.name)
        base = state.commit if state is not None else None
        if base is not None and not self.repo.has_commit(base):
            warnings.append(
                f"{channel.name}: its last notified commit {base[:12]} is not in this clone "
                "(a shallow clone? check out with fetch-depth: 0); only the last "
                f"{int(BACKFILL.total_seconds() // 3600)}h are news"
            )
            base = None
        before = self.snapshots.at(base) if base is not None else Snapshot()
        candidates = _candidates(
            channel.audience,
            before,
            self.valid_now,
            self.reminders,
            self.links,
            self.page,
            self.as_of,
            self.settings.timezone,
        )
        previously = state.sent if state is not None else ()
        wanted = for_channel(channel, candidates, sent=previously, impact_of=IMPACT_OF_SEVERITY)
        since = self.as_of - BACKFILL if base is None else None
        run = ChannelRun(channel)
        run.history = [n for n in wanted if since is not None and n.at < since]
        skipped = {n.key for n in run.history}
        to_send = [n for n in wanted if n.key not in skipped]
        memory = _Memory(self.repo, channel.name, state, base, skipped, dry_run, pusher)
        return run, to_send, memory, {n.key for n in candidates if n.timed}


def notify(
    root: Path,
    *,
    as_of: datetime,
    dry_run: bool = False,
    only: str | None = None,
    env: Mapping[str, str] | None = None,
) -> NotifyResult:
    env = os.environ if env is None else env
    repo = Repo.at(root)
    head = repo.head()
    if head is None:
        raise RefusedError("nothing is committed yet: notify tells what the commits say")
    remote = repo.default_remote()
    local = LocalClaim(repo.git_dir)
    if not dry_run:
        holder = local.take()
        if holder is not None:
            result = NotifyResult(head=head, as_of=as_of, dry_run=dry_run, channels=[])
            result.warnings.append(
                f"another incidents notify is running on this clone ({holder}): it tells "
                "the channels; this run sent nothing"
            )
            return result
    try:
        return _notify(_Committed.at(repo, root), head, remote, as_of, dry_run, only, env)
    finally:
        local.release()


def _notify(
    committed: _Committed,
    head: str,
    remote: str | None,
    as_of: datetime,
    dry_run: bool,
    only: str | None,
    env: Mapping[str, str],
) -> NotifyResult:
    repo = committed.repo
    if remote is not None:
        try:
            _fetch_states(repo, remote, REF_PREFIX)
        except IncidentsError as error:
            # Without the remote's record of what was sent, every channel could hear it twice.
            raise IncidentsError(
                f"{error.message}; nothing was sent (what each channel was told is kept on "
                f"{remote}: run again when it can be reached)",
                1,
            ) from None
    settings = _settings_at(committed, head)
    channels = list(settings.notify)
    if only is not None:
        chosen = [c for c in channels if c.name == only]
        if not chosen:
            names = ", ".join(c.name for c in channels) or "none configured"
            raise RefusedError(f"--channel {only}: no such channel in notify: ({names})")
        channels = chosen
    result = NotifyResult(head=head, as_of=as_of, dry_run=dry_run, channels=[])
    if not channels:
        result.warnings.append(f"no channels under notify: in {SETTINGS_FILE}; nothing to do")
        return result
    snapshots = _Snapshots(committed)
    valid_now = snapshots.at(head)
    links = Links(
        site=settings.base_url,
        record=_record_link(env, head),
        component_names={c.id: c.name for c in settings.components},
    )
    reminders = _reminders(committed, head, valid_now, settings, as_of, links)
    page, page_head = _context(settings, valid_now, as_of)
    delivery = _Delivery(committed, head, page, page_head, as_of, dry_run, _Secrets(env))
    claimer = Claimer(repo, remote) if remote is not None and not dry_run else None
    pusher = _Pusher(repo, remote, claimer) if remote is not None and claimer else None
    plan = _Planner(repo, head, snapshots, valid_now, reminders, links, page, as_of, settings)
    memories: list[_Memory] = []
    # What a channel was told is pushed even when the run stops (Ctrl-C, SIGTERM, a bug) in
    # the middle of that channel or a later one: a fresh clone must not tell it again.
    try:
        for channel in channels:
            run, to_send, memory, live = plan.channel(channel, result.warnings, dry_run, pusher)
            if claimer is not None and (to_send or run.history or memory.would_change(head, live)):
                try:
                    won, note = claimer.take(channel.name)
                    if won:
                        memories.append(memory)  # should the fetch fail: the claim is released
                        # the channel's state as it is now that no one else can change it
                        _fetch_states(repo, str(remote), ref_name(channel.name))
                        memories.pop()
                        if repo.resolve(ref_name(channel.name)) != memory.parent:
                            run, to_send, memory, live = plan.channel(
                                channel, result.warnings, dry_run, pusher
                            )
                except IncidentsError as error:
                    run.error = (
                        f"{channel.name}: cannot claim the channel on {remote} "
                        f"({error.message}); nothing was sent to it"
                    )
                    run.pending = to_send
                    result.channels.append(run)
                    continue
                if not won:
                    run.skipped = note
                    result.warnings.append(f"{channel.name}: skipped: {note}")
                    result.channels.append(run)
                    continue
                if note:
                    result.warnings.append(f"{channel.name}: {note}")
            memories.append(memory)
            delivery.send(run, to_send, memory)
            result.channels.append(run)
            if run.error is None:
                memory.finish(head, live)
            if pusher is not None:
                memories.pop()
                _finish(pusher, memory, result)
    finally:
        if pusher is not None:
            for memory in memories:
                _finish(pusher, memory, result)
        else:
            written = [f"{REF_PREFIX}{m.channel}" for m in memories if m.written]
            if written and remote is not None:
                try:
                    repo.push_side_refs(remote, written)
                    result.pushed_to = remote
                except IncidentsError as error:
                    result.push_error = _push_error(error, remote)
    return result


# --- comms ------------------------------------------------------------------------------------


def quiet(root: Path, as_of: datetime) -> tuple[list[Quiet], list[str]]:
    """Open incidents whose public updates went quiet (from the work tree, like validate),
    and the incident files that could not be read (any of them could be quiet)."""
    from incidents_cli.store.figures import incidents_in
    from incidents_cli.store.layout import load_settings

    settings = load_settings(root)
    records = []
    # only the open ones, read in the workers and kept by blob id; a record that does not
    # validate is named, and validate says what is wrong with it
    found, unreadable = incidents_in(root, tuple(UNRESOLVED_PHASES))
    for record in found:
        assert record.doc is not None and isinstance(record.data, dict)
        data = record.data
        line = record.doc.locate(["updates"] if data.get("updates") else ["detected_at"])[0]
        records.append((record.rel, line, data))
    return quiet_incidents(records, settings.update_every, settings.ack_within, as_of), unreadable
