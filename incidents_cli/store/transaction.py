"""Carrying out a transition: read the record, apply the pure step, write, commit, push.

Transitions on one work tree run one at a time (store/lock.py): the lock is taken before the
record is read and held until the commit (and push) is done. A failed or interrupted commit
leaves files and index as they were; once the commit exists it is never undone, and success
is reported only when HEAD holds the change. With push, a rejected push is replayed: the
branch is moved to the fetched remote state and the same step runs again on the records
found there, so two responders never have to solve a merge conflict.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

from incidents_cli.core.document import mapping
from incidents_cli.core.errors import (
    GitError,
    IncidentsError,
    InputFileError,
    InternalError,
    RefusedError,
)
from incidents_cli.core.findings import Finding
from incidents_cli.core.lifecycle import Change, TransitionRefused
from incidents_cli.core.records import (
    INCIDENTS_DIR,
    MAINTENANCE_DIR,
    RecordFile,
    classify,
    incident_rel,
    maintenance_rel,
)
from incidents_cli.core.settings import Settings
from incidents_cli.core.text import (
    control_character,
    control_characters_in,
    control_characters_of,
    unfit_character,
)
from incidents_cli.store import open_ids, yamlio
from incidents_cli.store.git import (
    Commit,
    PathStates,
    PushRefused,
    PushRejected,
    Repo,
    blob_id,
)
from incidents_cli.store.layout import load_settings, read_record
from incidents_cli.store.lock import JournalEntry, RepositoryLock, signals_held
from incidents_cli.store.schemas import schema_findings

MAX_PUSH_TRIES = 8


class Workspace:
    """What a step may read: the repository's records as they are now (after any replay).
    (A plain class: making a dataclass costs every transition about half a millisecond.)"""

    def __init__(
        self, root: Path, settings: Settings, attempt: int = 0, repo: Repo | None = None
    ) -> None:
        self.root = root
        self.settings = settings
        self.attempt = attempt
        self.repo = repo
        # each file the step read, as it first read it (None: there was none): a file is
        # written over only if it still holds that (a hand edit saved meanwhile is kept)
        self.seen: dict[str, bytes | None] = {}

    def _read(self, rel: str) -> bytes | None:
        """``rel``'s bytes (None: no such file), remembered in ``seen``."""
        path = self.root / rel
        raw = yamlio.read_bytes(path, rel) if os.path.lexists(path) else None
        self.seen.setdefault(rel, raw)
        return raw

    def text(self, rel: str) -> str:
        """The text of ``rel`` (which exists), remembered as read: a step that rewrites a
        file reads it here, so that the write refuses if it changed since."""
        raw = self._read(rel)
        if raw is None:
            raise RefusedError(f"{rel} was removed while this command ran; nothing was changed")
        return yamlio.decode(raw, rel)

    def exists(self, rel: str) -> bool:
        """Whether ``rel`` exists; remembered when it does not, so that a file the step
        then writes anew is never written over one saved there meanwhile."""
        if os.path.lexists(self.root / rel):
            return True
        self.seen.setdefault(rel, None)
        return False

    def incident(self, incident_id: str) -> dict[str, Any]:
        rel = incident_rel(incident_id)
        if not (self.root / rel).is_file():
            raise RefusedError(f"no incident {incident_id} ({rel} does not exist)")
        return self._valid(rel, "incident", incident_id)

    def maintenance(self, window_id: str) -> dict[str, Any]:
        rel = maintenance_rel(window_id)
        if not (self.root / rel).is_file():
            raise RefusedError(f"no maintenance {window_id} ({rel} does not exist)")
        return self._valid(rel, "maintenance", window_id)

    def maintenance_ids(self) -> list[str]:
        folder = self.root / MAINTENANCE_DIR
        if not folder.is_dir():
            return []
        return [p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.suffix in (".yaml", ".yml")]

    def rewritten(self, rel: str, kind: str, data: dict[str, Any]) -> str:
        """The text of ``rel`` holding ``data``: the file rewritten (its comments and key
        order kept), or a new file. A change that would not validate is a bug, never written."""
        _refuse_control_characters_in(data)
        raw = self._read(rel)
        old = yamlio.decode(raw, rel) if raw is not None else None
        text = yamlio.rewrite(old, data) if old else yamlio.dump(data)
        problems = _problems(RecordFile(kind, rel, yamlio.parse(text, rel)))
        if problems:
            raise InternalError(f"refusing to write an invalid record: {problems[0].text()}")
        return text

    def committed_text(self, rel: str) -> tuple[str | None, bool]:
        """The text of ``rel`` as committed, or as staged when a person staged it (and then
        True); None if it does not exist. Refuses a file with changes that are not even
        staged: they are not in git, so nothing may be judged by them."""
        path = self.root / rel
        repo = self.repo or Repo.at(self.root)
        git_path = path.relative_to(repo.top).as_posix()
        tracked = repo.tracked([git_path])
        if path.exists() and git_path not in tracked:
            raise RefusedError(f"{rel} is not committed; commit it first (`git add {rel}`)")
        if git_path in repo.unstaged([git_path]) or (git_path in tracked) != path.exists():
            raise RefusedError(
                f"{rel} has uncommitted changes; commit them (or stage them with `git add "
                f"{rel}`) first, or undo them (see `git diff -- {rel}`)"
            )
        if not path.exists():
            return None, False
        staged = git_path in repo.uncommitted([git_path], tracked)
        raw = self._read(rel)
        return (yamlio.decode(raw, rel) if raw is not None else None), staged

    def refuse_invalid(self, rel: str, kind: str) -> RecordFile:
        """The record, read; refused if it does not parse or follow its schema, with its
        first problem as `validate` says it: a change is never made on top of it."""
        try:
            raw = self._read(rel)
        except InputFileError:
            raw = None  # read_record says why
        record = read_record(self.root, rel, kind, raw)
        if record.error is not None:
            raise RefusedError(f"{record.error.message} (fix it by hand, then try again)")
        problems = _problems(record)
        if problems:
            raise RefusedError(f"{problems[0].text()} (fix it by hand, then try again)")
        return record

    def _valid(self, rel: str, kind: str, record_id: str) -> dict[str, Any]:
        record = self.refuse_invalid(rel, kind)
        assert record.doc is not None
        data: dict[str, Any] = record.doc.data
        if data.get("id") != record_id:  # a hand copy: writing it would hit the wrong file
            raise RefusedError(
                f"{rel}: id: {data.get('id')!r} does not match the file name {record_id!r}; "
                "fix the id or the file name by hand, then try again"
            )
        return data

    def incident_ids(self) -> list[str]:
        folder = self.root / INCIDENTS_DIR
        if not folder.is_dir():
            return []
        return [p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.suffix in (".yaml", ".yml")]

    def front_matter(self, rel: str) -> dict[str, Any] | None:
        if not (self.root / rel).is_file():
            self.seen.setdefault(rel, None)
            return None
        raw = self._read(rel)
        assert raw is not None
        doc, _, _ = yamlio.parse_front_matter(yamlio.decode(raw, rel), rel)
        return mapping(doc.data)

    def runbook_slugs(self) -> list[str]:
        folder = self.root / "runbooks"
        return sorted(p.stem for p in folder.glob("*.md")) if folder.is_dir() else []


def _problems(record: RecordFile) -> list[Finding]:
    assert record.doc is not None
    return [Finding.from_error(p) for p in record.doc.problems] + schema_findings(record)


class Outcome(NamedTuple):
    change: Change
    commit: str
    pushed: bool
    replays: int
    notices: list[str]


Step = Callable[[Workspace], Change]


def carry_out(
    root: Path,
    step: Step,
    *,
    actor: str,
    push: bool | None = None,
    repo: Repo | None = None,
    new_branch: str | None = None,
    on_wait: Callable[[str], None] | None = None,
    settings: Settings | None = None,
    paths: Sequence[str] = (),
) -> Outcome:
    """Apply ``step``, commit its files, and push if asked (replaying on rejection), with
    this work tree's lock held throughout (``on_wait`` is told if it has to wait for it).
    ``settings``: the repository's, if the caller has read them already. ``paths``: the
    files the step is expected to change (an incident's record), which git is asked
    about at once, to answer while the settings and the record are read."""
    import shlex
    import sys

    repo = repo or Repo.at(root)
    _refuse_unusable_state(repo)
    if not actor.strip():
        raise RefusedError("--by: the name is blank; give a person's name or handle")
    found = control_character(actor, one_line=True)
    if found:
        raise RefusedError(f"--by: {unfit_character(found)} is not allowed in a name")
    lock = RepositoryLock(repo.git_dir, shlex.join(sys.argv[1:])[:200] or "a transition")
    with lock.held(on_wait=on_wait) as left:
        _wait_for_index(repo)
        _recover(repo, left)
        if paths:  # the question _planned_writes asks, asked ahead
            repo.ask_path_states([(root / rel).relative_to(repo.top).as_posix() for rel in paths])
        try:
            settings = settings or load_settings(root, repo.git_dir)
            return _carry_out(root, settings, step, actor, push, repo, new_branch, lock)
        finally:
            repo.forget_asked()  # not taken (refused, or other files): no git left running


def _refuse_unusable_state(repo: Repo) -> None:
    """A merge, rebase, ... in progress, or a locked index: no transition may commit now."""
    unfinished = repo.unfinished_operation()
    if unfinished is not None:
        raise RefusedError(f"refusing to commit: {unfinished}")


def _wait_for_index(repo: Repo, wait: float = 3.0) -> None:
    """git's own index lock: a person's git command may hold it for a moment; one that
    stays is refused (after this lock, so our own commands never see each other's)."""
    import time

    deadline = time.monotonic() + wait
    while (locked := repo.index_locked()) is not None:
        if time.monotonic() >= deadline:
            from incidents_cli.store.git import INDEX_LOCKED

            raise RefusedError(INDEX_LOCKED.format(path=locked))
        time.sleep(0.05)


def _carry_out(
    root: Path,
    settings: Settings,
    step: Step,
    actor: str,
    push: bool | None,
    repo: Repo,
    new_branch: str | None,
    lock: RepositoryLock,
) -> Outcome:
    push = settings.push if push is None else push
    if new_branch is not None:
        push = False  # the commit goes to a new branch; the person pushes it for review
    branch = repo.branch() if push else None
    if push and branch is None:
        raise RefusedError("--push: HEAD is detached; check out a branch first")
    remote = repo.remote_for_branch(branch) if push and branch else None
    workspace = Workspace(root, settings, repo=repo)
    notices: list[str] = []
    completion = open_ids.read(root)  # the open ids, if current: kept current below
    for attempt in range(MAX_PUSH_TRIES):
        workspace.attempt = attempt
        workspace.seen = {}  # a replay reads the records anew
        try:
            change = step(workspace)
        except TransitionRefused as refusal:
            if attempt:
                raise TransitionRefused(
                    f"{refusal.message} (the remote changed while you were working; your "
                    "branch now equals the remote and nothing of yours was lost)"
                ) from None
            raise
        _refuse_control_characters(change, workspace.seen)
        message = commit_message(change, actor)
        if attempt == 0 and remote is not None and _unpushed_retry(repo, remote, message):
            commit = repo.head(fresh=True) or ""
            notices.append(f"the same change is committed already as {commit[:12]}; pushing it")
        else:
            commit = _commit(repo, root, change, actor, new_branch, lock, workspace.seen, notices)
        if not push or remote is None or branch is None:
            _keep_open_ids(root, completion, change)
            return Outcome(change, commit, False, 0, change.notices + notices)
        try:
            # our commit, not the branch: a commit a hook made on top of it is not ours to
            # publish (it stays local, and that is said)
            repo.push(remote[0], commit, remote[1])
            notices.extend(_left_local(repo, commit, branch))
            if not attempt:  # a replay brought other incidents along: let completion reread
                _keep_open_ids(root, completion, change)
            return Outcome(change, commit, True, attempt, change.notices + notices)
        except PushRejected:
            with signals_held():
                _rewind_to_remote(repo, commit, remote)
                _restage(repo, root, change)
            notices.append(f"push rejected: replayed on {remote[0]}/{remote[1]}")
        except PushRefused as refused:
            raise RefusedError(
                f"{refused.message}; your change is committed locally as {commit[:12]}: push "
                f"it with `git push {remote[0]} {branch}` once {remote[0]} accepts it "
                "(so does the next command run with --push)"
            ) from None
    raise GitError(
        f"push to {remote[0] if remote else '?'} still rejected after {MAX_PUSH_TRIES} tries; "
        "nothing of yours is lost: run the command again"
    )


def _left_local(repo: Repo, commit: str, branch: str) -> list[str]:
    """What to say of commits made on top of ours since (a post-commit hook's): only our
    commit was pushed, so they stay on the branch, unpushed, and go with its next push."""
    head = repo.head(fresh=True)
    if head is None or head == commit:
        return []
    count = repo.git("rev-list", "--count", f"{commit}..{head}", check=False).stdout.strip()
    subject = repo.commit_message(head).partition("\n")[0]
    return [
        f"{count} commit(s) made on top of yours since (by a post-commit hook?) were not "
        f"pushed: {head[:12]} {subject!r}; they stay on {branch} and go with its next push "
        f"(see `git log --stat {commit[:12]}..{branch}`)"
    ]


def _unpushed_retry(repo: Repo, remote: tuple[str, str], message: str) -> bool:
    """Whether HEAD is this very change, committed by an earlier run whose push failed."""
    head = repo.head(fresh=True)
    if head is None or repo.commit_message(head) != message.strip():
        return False
    tracking = repo.git(
        "rev-parse", "--verify", "-q", f"refs/remotes/{remote[0]}/{remote[1]}", check=False
    ).stdout.strip()
    return not tracking or not repo.is_ancestor(head, tracking)


def _refuse_control_characters(change: Change, seen: dict[str, bytes | None]) -> None:
    _refuse_control_characters_in(change.record)
    found_in_subject = control_character(change.subject, one_line=True)
    if found_in_subject:
        raise RefusedError(f"{unfit_character(found_in_subject)} is not allowed in a record")
    for rel, text in change.files.items():
        in_file = control_character(text.replace("\r", ""))
        if in_file and _added(in_file, rel, text, seen):
            raise RefusedError(f"{rel}: {unfit_character(in_file)} is not allowed in a record")


def _added(found: str, rel: str, text: str, seen: dict[str, bytes | None]) -> bool:
    """Whether the step put a control character into ``rel``: a file it rewrites may hold
    one already where no check looks (a postmortem's Markdown body, which `validate` does
    not read): a step that leaves that text as it was must not be refused for it."""
    raw = seen.get(rel)
    if raw is None:
        return True
    try:
        old = raw.decode("utf-8").replace("\r", "")
    except UnicodeDecodeError:
        return True
    return control_characters_of(text.replace("\r", "")) != control_characters_of(old)


def _refuse_control_characters_in(data: Any) -> None:
    """Refuse text a person gave that no record may hold, naming its field (before it is
    written: a lone surrogate, say, would otherwise be blamed on the file it breaks)."""
    for where, found in control_characters_in(data):
        field = ".".join(str(part) for part in where)
        raise RefusedError(f"{field}: {unfit_character(found)} is not allowed in a record")


def _recover(repo: Repo, left: dict[str, Any]) -> None:
    """Undo what a transition that was killed between writing and committing left behind:
    a file is put back as HEAD has it only if it still holds exactly what that transition
    wrote and HEAD does not."""
    writes = left.get("writes")
    if not isinstance(writes, list):
        return
    for entry in writes:
        if not isinstance(entry, dict) or not isinstance(entry.get("git_path"), str):
            continue
        git_path = entry["git_path"]
        path = repo.top / git_path
        for tmp in path.parent.glob(f".{path.name}.{left.get('pid')}.*.tmp"):
            tmp.unlink(missing_ok=True)  # an atomic write cut short
        for aside in path.parent.glob(f".{path.name}.{left.get('pid')}.*{yamlio.ASIDE_SUFFIX}"):
            yamlio.put_back_aside(aside, path)  # a compare-and-swap cut short
        try:
            current = blob_id(path.read_bytes()) if path.is_file() else None
        except OSError:
            continue
        if current != entry.get("new_blob"):
            continue  # never written (or removed), or changed since: not ours to touch
        if repo.blob_at_head(git_path) == current:
            continue  # the commit was made
        repo.restore_from_head(git_path)


def _keep_open_ids(root: Path, before: list[str] | None, change: Change) -> None:
    """Shell completion's list of open ids, updated for this one change, so completion stays
    fast after a transition (the change rewrote a file, so the folder's time moved on)."""
    incident_id = change.record.get("id")
    if before is None or not change.write_record or not isinstance(incident_id, str):
        return
    ids = set(before)
    if change.record.get("phase") == "closed":
        ids.discard(incident_id)
    else:
        ids.add(incident_id)
    open_ids.write(root, sorted(ids), open_ids.stamp(root))


def _rewind_to_remote(repo: Repo, commit: str, remote: tuple[str, str]) -> None:
    """Drop our unpushed commit and fast-forward to the fetched remote state. What a person
    has staged (other files) is kept staged as they staged it: `git reset --keep` resets
    the index, so their entries are read before and put back after; where the remote
    changed one of those files, nothing is moved and that is said."""
    fetched = repo.fetch(*remote)
    if fetched is None:
        raise GitError(f"push rejected, and {remote[0]} has no branch {remote[1]}")
    if repo.head(fresh=True) != commit:  # someone's commit on top of ours: not dropped
        raise RefusedError(
            f"push rejected: {remote[0]}/{remote[1]} has moved, and a commit was made on top "
            f"of yours ({commit[:12]}) since; run `git pull --rebase` and `git push`"
        )
    staged = repo.staged_entries()
    clash = repo.changed_between(f"{commit}~1", fetched, list(staged))
    if clash:
        raise RefusedError(
            f"push rejected: {remote[0]}/{remote[1]} has moved and changed {clash[0]}, which "
            f"you have staged; your change is committed locally as {commit[:12]}: commit or "
            "unstage your staged changes, then run `git pull --rebase` and `git push`"
        )
    if not repo.reset_keep(f"{commit}~1"):
        raise GitError("push rejected, and the commit could not be replayed (git reset failed)")
    if not repo.fast_forward(fetched):
        repo.reset_keep(commit)
        repo.put_back_staged(staged)
        raise RefusedError(
            f"push rejected: {remote[0]}/{remote[1]} has moved and your branch cannot "
            "fast-forward to it (you have other unpushed commits, or uncommitted edits to "
            f"the same files); your change is committed locally as {commit[:12]}: "
            "run `git pull --rebase` and `git push`"
        )
    repo.put_back_staged(staged)


def _restage(repo: Repo, root: Path, change: Change) -> None:
    """Put back, staged, what a person had staged and the dropped commit carried (a close
    with a staged postmortem), so the replay finds it as they left it."""
    for rel in change.staged:
        yamlio.write_atomic(root / rel, change.files[rel])
    repo.stage([(root / rel).relative_to(repo.top).as_posix() for rel in change.staged])


def commit_message(change: Change, actor: str) -> str:
    trailers = change.trailers or (("Incident-Id", change.incident_id), ("Phase", change.phase))
    lines = "".join(f"{key}: {value}\n" for key, value in (*trailers, ("Actor", actor)))
    body = f"{change.body.strip()}\n\n" if change.body.strip() else ""
    return f"{change.subject}\n\n{body}{lines}"


class _Write(NamedTuple):
    rel: str  # relative to the incident repository
    git_path: str  # relative to the git work tree
    text: str | None  # None: the file is removed
    old_text: str | None
    old_bytes: bytes | None  # what is put back if no commit is made (CRLF line ends kept)


def _planned_writes(repo: Repo, root: Path, change: Change) -> tuple[list[_Write], PathStates]:
    """Every file of the change with its new and old text, refusing files with uncommitted
    changes; and what git says of them (which it tracks, HEAD now, anything staged)."""
    texts: dict[str, str | None] = {}
    if change.write_record:
        texts[incident_rel(change.incident_id)] = None
    texts.update(change.files)
    removed = [rel for rel in change.removes if rel not in texts]
    texts.update(dict.fromkeys(removed))
    for rel in texts:  # git refuses paths beyond a symlink or in a submodule: say why first
        folder = rel.rpartition("/")[0]
        if folder and (root / folder).is_symlink():
            raise RefusedError(f"{folder}/ is a symlink; records must be in the repository itself")
        if folder and os.path.lexists(root / folder / ".git"):
            raise RefusedError(
                f"{folder}/ is a separate git repository (a submodule); records must be in "
                "the repository itself"
            )
    git_paths = {rel: (root / rel).relative_to(repo.top).as_posix() for rel in texts}
    pending = repo.start_path_states(list(git_paths.values()))
    # While git looks, the record's new text is made (its refusal waits for git's answer,
    # so a file with uncommitted changes is still the first thing said).
    record: Callable[[str | None], str] | None = None
    if change.write_record:
        record = _record_text(root, incident_rel(change.incident_id), change)
    states = pending()
    uncommitted = states.uncommitted
    planned = []
    for rel, given in texts.items():
        path = root / rel
        dirty = git_paths[rel] in uncommitted
        if dirty and path.exists() and rel not in change.staged:
            raise RefusedError(
                f"{rel} has uncommitted changes; commit or stash them first "
                f"(see `git diff -- {rel}`)"
            )
        old_bytes = _read_now(path, rel)
        old_text = _text_of(old_bytes, rel)
        if old_text is None and dirty:
            raise RefusedError(f"{rel} is staged but missing from the work tree; restore it first")
        if rel in removed:
            if old_text is None:
                raise InternalError(f"{rel} was to be removed, but it does not exist")
            planned.append(_Write(rel, git_paths[rel], None, old_text, old_bytes))
            continue
        if given is None:
            assert record is not None
            given = record(old_text)
        size = len(given.encode("utf-8"))
        if size > yamlio.MAX_FILE_BYTES:
            raise RefusedError(
                f"{rel}: refused: the file would be {size} bytes, over the "
                f"{yamlio.MAX_FILE_BYTES} byte limit for records; nothing was written"
            )
        planned.append(_Write(rel, git_paths[rel], given, old_text, old_bytes))
    return planned, states


def _read_now(path: Path, rel: str) -> bytes | None:
    """The file's bytes as they are now (None: there is none). One removed or made
    unreadable between the look and the read (by hand, `git rm`, a checkout) is the
    person's doing, said in one line: nothing was written yet."""
    if not path.exists():
        return None
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RefusedError(
            f"{rel} was removed while this command ran (by hand, `git rm` or a checkout?); "
            f"nothing was changed: restore it (see `git status -- {rel}`), then try again"
        ) from None
    except OSError as exc:
        raise RefusedError(
            f"cannot read {rel}: {(exc.strerror or str(exc)).lower()}; nothing was changed"
        ) from None


def _text_of(raw: bytes | None, rel: str) -> str | None:
    """``raw`` as text, its line ends read as Python's text files read them (``\\n``)."""
    if raw is None:
        return None
    text = yamlio.decode(raw, rel)
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _record_text(root: Path, rel: str, change: Change) -> Callable[[str | None], str]:
    """The record's new text, made now; the function returned gives it (or raises what
    made it fail) once the file's old text, as read after git's checks, is the same."""
    try:
        old_text = _text_of(_read_now(root / rel, rel), rel)
        made = _new_record_text(rel, old_text, change)
    except Exception as exc:  # said in its turn, after git's answer
        failed = exc

        def refuse(_: str | None) -> str:
            raise failed

        return refuse

    def text(current: str | None) -> str:
        return made if current == old_text else _new_record_text(rel, current, change)

    return text


def _new_record_text(rel: str, old_text: str | None, change: Change) -> str:
    if not old_text:
        text = yamlio.dump(change.record)
    else:
        try:
            text = yamlio.rewrite(old_text, change.record, rel)
        except InputFileError as exc:  # the step read it valid: a save made meanwhile
            raise RefusedError(
                f"{rel} was changed while this command ran (saved by hand?) and does not read "
                f"as YAML now (line {exc.line}: {exc.detail}); it is left as saved and nothing "
                f"was committed: finish or undo that edit (see `git diff -- {rel}`), then try "
                "again"
            ) from None
    problems = _problems(RecordFile("incident", rel, yamlio.parse(text, rel)))
    if problems:  # what was asked would make an invalid record: never written
        raise RefusedError(f"refused, the record would not be valid: {problems[0].text()}")
    return text


def _commit(
    repo: Repo,
    root: Path,
    change: Change,
    actor: str,
    branch: str | None,
    lock: RepositoryLock,
    seen: dict[str, bytes | None],
    notices: list[str],
) -> str:
    """Write the change's files and commit them. ``seen``: each file as the step read it;
    a file is written over only if it still holds that (else someone saved it meanwhile).
    A file changed in the work tree after the commit is said in ``notices``."""
    planned, states = _planned_writes(repo, root, change)
    before = states.head
    message = commit_message(change, actor)
    if branch is not None:
        texts = {w.git_path: w.text for w in planned if w.text is not None}
        if len(texts) != len(planned):
            raise InternalError("a change that removes files cannot go to a new branch")
        return repo.commit_to_new_branch(branch, texts, message)
    # A file a person staged is committed as they staged it: it is theirs, never undone.
    lock.journal(
        [
            JournalEntry(w.git_path, blob_id(w.text.encode("utf-8")) if w.text else None)
            for w in planned
            if w.rel not in change.staged
        ]
    )
    written: list[_Write] = []
    # Signals wait until the commit is made or undone: cut in half, either would be lost.
    with signals_held() as held:
        try:
            for write in planned:
                _write(root, write, seen.get(write.rel, write.old_bytes))
                written.append(write)
            made = repo.commit_exactly(
                [w.git_path for w in planned], message, states.tracked, states.staged
            )
            _refuse_not_as_written(repo, root, made, planned, change)
            _refuse_read_after_edit(repo, made, planned, change, seen)
        except BaseException as failure:
            if repo.head(fresh=True) == before:  # no commit: put every file back exactly
                _put_back(root, written, failure)
            raise
        lock.clear_journal()
    commit = made.head
    if commit == before or not _holds(repo, made, planned):
        raise GitError(
            f"git made commit {commit[:12]}, but HEAD does not hold this change; "
            "see `git status` and `git log`"
        )
    notices.extend(_changed_since(repo, root, made, planned))
    if held.signal is not None:
        raise IncidentsError(
            f"interrupted after the commit: {change.subject} is committed as {commit[:12]}",
            exit_code=130,
        )
    return commit


def _write(root: Path, write: _Write, expected: bytes | None) -> None:
    """Write (or remove) one file of the change, only if it still holds ``expected`` (the
    bytes the step read, None: no file): a compare-and-swap, so that an edit a person saved
    between the read and this write is never overwritten, but refused (yamlio's
    replace_if_unchanged). Committed next: no fsync (see yamlio.write_atomic)."""
    try:
        if yamlio.replace_if_unchanged(root / write.rel, expected, write.text, sync=False):
            return
    except OSError as exc:
        raise RefusedError(
            f"cannot write {write.rel}: {(exc.strerror or str(exc)).lower()}"
        ) from None
    raise RefusedError(
        f"{write.rel} was changed while this command ran (saved by hand?); it is left as "
        "saved and nothing was committed: commit or undo that edit (see `git diff -- "
        f"{write.rel}`), then try again"
    )


def _put_back(root: Path, written: list[_Write], failure: BaseException) -> None:
    """No commit was made: each file written is put back as it was, if it still holds what
    was written. One changed since (a hook's edit, or a person's save while git committed)
    is left as it is, and ``failure`` (the refusal about to be said) says so."""
    for write in reversed(written):
        ours = write.text.encode("utf-8") if write.text is not None else None
        if yamlio.replace_if_unchanged(root / write.rel, ours, write.old_bytes):
            continue
        if isinstance(failure, IncidentsError):
            failure.message = (
                f"{failure.message}; but {write.rel} was changed while git committed (by a "
                f"hook, or saved by hand) and is left as changed (see `git diff -- {write.rel}`)"
            )
            failure.args = (failure.message,)


def _holds(repo: Repo, made: Commit, planned: list[_Write]) -> bool:
    """Whether HEAD holds the change, judged by HEAD's tree, never by the work tree, where
    a person may save an edit the moment after the commit. Our commit (``made``) holds
    each file as written, or as `_refuse_not_as_written` found to hold the same data (a
    filter's bytes, a hook's staged edit). When HEAD, read back after `git commit` and its
    hooks, was that commit, it holds the change (no git call). When a commit was made on
    top of it since (``made.tip``: a post-commit hook's revert, or its own edit of the
    record, committed), git compares HEAD's tree with ours for these paths, read now: any
    other blob there is not this change."""
    if made.tip is None:
        return True
    return repo.head_as(made.head, [w.git_path for w in planned])


def _changed_since(repo: Repo, root: Path, made: Commit, planned: list[_Write]) -> list[str]:
    """What to say of each file whose work-tree copy is no longer as committed (a hook's
    edit it did not stage, or a person's save just after the commit): it is theirs, left
    as it is. Compared with the bytes written first; where they differ, git decides (the
    file may hold what the commit holds: a filter's, or a hook's staged edit)."""
    changed = []
    for write in planned:
        path = root / write.rel
        try:
            now = path.read_bytes() if os.path.lexists(path) else None
        except OSError:
            now = b""  # unreadable: not as written
        if now != (write.text.encode("utf-8") if write.text is not None else None):
            changed.append(write)
    if not changed or repo.work_tree_as(made.head, [w.git_path for w in changed]):
        return []
    return [
        f"{w.rel} was changed after the commit (saved by hand, or by a hook) and is left as "
        f"changed; the commit holds this change (see `git diff -- {w.rel}`)"
        for w in changed
    ]


def _blob(text: str | None, made: Commit) -> str | None:
    """The blob id of ``text`` as written, in the object format of the repository that
    made ``made`` (None: the file is removed)."""
    return blob_id(text.encode("utf-8"), made.head) if text is not None else None


def _refuse_not_as_written(
    repo: Repo, root: Path, made: Commit, planned: list[_Write], change: Change
) -> None:
    """Our commit must hold each file as it was written and checked. A file it deleted or
    left out (a hook's `git rm --cached`), or kept where it was to be removed, is refused;
    one committed with other bytes (a clean filter or an end-of-line conversion of the
    repository's, or a hook that staged its own edit) must parse to the same data, and a
    record must still validate. Else the commit is undone and the change refused, in one
    line naming the path and what changed it."""
    ours = [w.git_path for w in planned if w.rel not in change.staged]
    differs: dict[str, str] = {}
    for write in planned:
        got = made.blobs.get(write.git_path, "")  # "": the commit did not change the path
        if got == _blob(write.text, made) or (got == "" and write.text == write.old_text):
            continue
        if got is None or got == "" or write.text is None:
            what = (
                "kept it, which this change removes"
                if write.text is None
                else f"{'deleted it' if got is None else 'left it out'} instead of holding "
                "this change"
            )
            _undo(
                repo,
                made,
                ours,
                f"{write.rel}: refused: git's commit {what} (a pre-commit hook, or a git "
                "command run at the same moment, changed the index)",
            )
        differs[write.git_path] = got
    if not differs:
        return
    committed = repo.read_blobs(list(differs.values()))
    for write in planned:
        sha = differs.get(write.git_path)
        if sha is not None and write.text is not None:
            wrong = _not_the_same(root, write.rel, committed[sha], write.text)
            if wrong:
                _undo(
                    repo,
                    made,
                    ours,
                    f"{write.rel}: refused: {repo.rewrites(write.git_path)} changes what git "
                    f"commits, and the committed record {wrong}",
                )


def _refuse_read_after_edit(
    repo: Repo,
    made: Commit,
    planned: list[_Write],
    change: Change,
    seen: dict[str, bytes | None],
) -> None:
    """Each file the step read (and the commit changed) must have been read as the parent
    commit holds it. git's check that it had no uncommitted changes ran while the settings
    and the record were read (carry_out asks it ahead): an edit saved by hand between git's
    look and the step's read would be committed as part of this change, under this name.
    Compared by blob id; where they differ, git says what it would store for the bytes
    read (a clean filter or an end-of-line conversion). Else the commit is undone, and
    the file put back as it was saved (``_put_back``)."""
    ours = [w.git_path for w in planned if w.rel not in change.staged]
    for write in planned:
        if write.rel in change.staged or write.rel not in seen or made.was is None:
            continue
        if write.git_path not in made.was:
            continue  # the commit did not change it
        read, was = seen[write.rel], made.was[write.git_path]
        if read is None and was is None:
            continue  # a new file, as the step found it: none
        if (
            read is not None
            and was is not None
            and (blob_id(read, made.head) == was or repo.stored_blob(write.git_path, read) == was)
        ):
            continue
        _undo(
            repo,
            made,
            ours,
            f"{write.rel} was changed (saved by hand?) just as this command read it; it is "
            "left as saved: commit or undo that edit (see `git diff -- "
            f"{write.rel}`), then try again",
        )


def _not_the_same(root: Path, rel: str, committed: bytes, text: str) -> str | None:
    """How a file committed as ``committed`` differs from ``text`` as written and checked:
    it would not validate, or its data (or text, line ends aside) is another; None when
    they hold the same (an end-of-line conversion, say)."""
    kind = classify(rel)
    if kind is None:
        same = committed.decode("utf-8", "replace").replace("\r\n", "\n")
        return None if same == text.replace("\r\n", "\n") else "is not the text written"
    from incidents_cli.store.checks import check_record
    from incidents_cli.store.layout import read_record

    got = read_record(root, rel, kind, committed)
    want = read_record(root, rel, kind, text.encode("utf-8"))
    known = {(f.field, f.message) for f in check_record(want).findings}
    new = [
        f
        for f in check_record(got).findings
        if f.level == "error" and (f.field, f.message) not in known
    ]
    if new:
        return f"would not be valid ({new[0].text()})"
    if got.doc is None or want.doc is None:
        return None if got.doc is want.doc else "would not parse"
    if got.body.replace("\r\n", "\n") != want.body.replace("\r\n", "\n"):
        return "has another text than this change wrote"
    theirs, mine = got.doc.data, want.doc.data
    if theirs == mine:
        return None
    if isinstance(theirs, dict) and isinstance(mine, dict):
        for key in dict.fromkeys([*mine, *theirs]):
            if theirs.get(key) != mine.get(key):
                return (
                    f"says {key}: {_short(theirs.get(key))} where this change says "
                    f"{_short(mine.get(key))}"
                )
    return "holds other data than this change wrote"


def _short(value: Any) -> str:
    """A value for a one-line message, cut short."""
    shown = repr(value)
    return shown if len(shown) <= 60 else f"{shown[:57]}..."


def _undo(repo: Repo, made: Commit, paths: list[str], refusal: str) -> NoReturn:
    """Take back ``made`` and refuse with ``refusal``; where someone's commit was made on
    top of it since, the branch is not moved, and that is said."""
    if repo.undo_commit(made, paths):
        raise RefusedError(f"{refusal}; nothing was changed")
    raise GitError(
        f"{refusal}; it is committed as {made.head[:12]}, and HEAD moved on since (to "
        f"{(made.tip or repo.head() or 'nothing')[:12]}), so it was left as it is: fix it by "
        "hand (see `git log --stat`)"
    )
