"""Every git call of the tool, and the translation of git failures into actionable messages.

Git is driven through its command line (as GitPython does underneath): importing GitPython
costs more than a whole transition is allowed to take, so this module runs ``git`` itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar

from incidents_cli.core.errors import (
    EXIT_USAGE,
    GitError,
    IncidentsError,
    RefusedError,
    SetupError,
)

T = TypeVar("T")


class CommitRefused(IncidentsError):
    """git commit failed (a hook said no, say); nothing was changed."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


# What git says when the remote branch moved under us (including a lost race for its lock).
_REMOTE_MOVED = (
    "[rejected]",
    "non-fast-forward",
    "fetch first",
    "cannot lock ref",
    "failed to update ref",
    "stale info",
)


class PushRejected(Exception):
    """The remote has commits this branch has not: fetch and replay."""


class PushRefused(IncidentsError):
    """The remote refused the push for its own reason (a hook, a protected branch)."""

    def __init__(self, remote: str, reason: str) -> None:
        super().__init__(f"{remote} refused the push: {reason}")
        self.remote = remote
        self.reason = reason


# What git is in the middle of, by the file it keeps in the git directory.
_IN_PROGRESS = (
    ("MERGE_HEAD", "a merge is in progress: finish it with `git commit` or `git merge --abort`"),
    ("rebase-merge", "a rebase is in progress: finish it (`git rebase --continue`) or abort it"),
    ("rebase-apply", "a rebase or `git am` is in progress: finish it or abort it"),
    (
        "CHERRY_PICK_HEAD",
        "a cherry-pick is in progress: finish it (`git cherry-pick --continue`) or abort it",
    ),
    ("REVERT_HEAD", "a revert is in progress: finish it (`git revert --continue`) or abort it"),
    ("BISECT_START", "a bisect is in progress: end it with `git bisect reset`"),
)


class PathStates(NamedTuple):
    """HEAD, and the state of some paths against it (Repo.path_states)."""

    head: str | None
    tracked: set[str]
    uncommitted: set[str]
    staged: bool  # the index differs from HEAD (anywhere): a person staged something


# HEAD, and the paths as git sees them: changed (staged or not), untracked or ignored.
_STATUS = (
    "status",
    "--porcelain=v2",
    "-z",
    "--branch",
    "--no-renames",
    "--untracked-files=all",
    "--ignored=matching",
    "--",
)
_STAGED = ("diff", "--cached", "--quiet")


class Commit(NamedTuple):
    """A commit just made, as git reads it after the commit: HEAD, the blob id each of the
    paths committed has there (None: HEAD has no such file; a path the commit did not
    change is left out), HEAD's parent (None for a first commit), and every other path
    the commit changed (a person's work that git took along)."""

    head: str
    blobs: dict[str, str | None]
    parent: str | None = None
    others: tuple[str, ...] = ()
    # HEAD, when it is not this commit: someone's commit made on top of it since (the
    # branch is then never moved by us)
    tip: str | None = None
    # the blob id each of the paths committed had in the parent (None: it had no such file)
    was: dict[str, str | None] | None = None


# A commit and what it changed, with each new blob id: one call answers what it holds
# (followed by the commit and "--"). Porcelain `log` (not `diff-tree`, which reads the
# whole index first); each option that a person's config could change is given.
_COMMITTED = (
    "log",
    "-1",
    "--format=%H %P",
    "--raw",
    "-z",
    "--no-abbrev",
    "--no-renames",
    "--root",
    "--no-color",
    "--no-show-signature",
)


class IndexEntry(NamedTuple):
    mode: str
    sha: str
    stage: str


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # Messages are parsed in a few places: keep git's output in English.
    env["LC_ALL"] = "C"
    env.pop("GIT_INDEX_FILE", None)
    return env


_ENV: dict[str, str] | None = None

INDEX_LOCKED = (
    "git's index is locked ({path} exists): another git command is running, or one was "
    "stopped; when none is running, delete that file and try again"
)


class IndexLocked(RefusedError):
    """git could not take its index lock (another git command holds it); nothing changed."""


def _refuse_index_lock(output: str) -> None:
    """git could not take its index lock: say so (it is not a bug, and nothing changed)."""
    if "index.lock" in output and "File exists" in output:
        found = re.search(r"Unable to create '([^']*index\.lock)'", output)
        raise IndexLocked(INDEX_LOCKED.format(path=found.group(1) if found else ".git/index.lock"))


def _waiting_for_index(action: Callable[[], T], wait: float = 3.0) -> T:
    """``action`` (git commands that take the index lock), tried again while another git
    command (a person's, which holds it for a moment) has the lock, for ``wait`` seconds."""
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            return action()
        except IndexLocked:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _some(paths: Sequence[str]) -> str:
    """A few paths, for a message: ``a, b and 3 more``."""
    shown = ", ".join(paths[:2])
    return f"{shown} and {len(paths) - 2} more" if len(paths) > 2 else shown


_NO_GIT = "git is not installed or not on PATH; install git and try again"


# Commands whose arguments after "--" are pathspecs: there a file's name is given as
# ":(literal)NAME", so that `runbooks/[ab].md` names that file, not a pattern matching others.
_PATHSPEC_COMMANDS = frozenset(
    {"status", "ls-files", "diff", "diff-tree", "add", "checkout", "rm", "commit", "reset", "log"}
)


def _literal(args: Sequence[str]) -> list[str]:
    """``args`` with each path after "--" marked literal, for the commands above."""
    if "--" not in args:
        return list(args)
    cut = args.index("--")
    options = iter(args[:cut])
    command = None
    for arg in options:
        if arg == "-c":
            next(options, None)  # its value
        elif not arg.startswith("-"):
            command = arg
            break
    if command not in _PATHSPEC_COMMANDS:
        return list(args)
    paths = [p if p.startswith(":(") else f":(literal){p}" for p in args[cut + 1 :]]
    return [*args[: cut + 1], *paths]


# git's output read as the file system's names are (os.fsdecode): a path git prints is
# bytes, and a folder's name need not be UTF-8 (a Latin-1 era disk); a byte that is not
# UTF-8 becomes a lone surrogate, which Path and subprocess turn back into the same byte.
_ENCODING, _UNDECODABLE = "utf-8", "surrogateescape"


def run_git(
    cwd: Path, *args: str, check: bool = True, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    global _ENV
    if _ENV is None:
        _ENV = _clean_env()
    try:
        result = subprocess.run(
            ["git", *_literal(args)],
            cwd=cwd,
            capture_output=True,
            input=input_text,
            env=_ENV,
            check=False,
            encoding=_ENCODING,
            errors=_UNDECODABLE,
        )
    except FileNotFoundError:
        raise SetupError(_NO_GIT) from None
    return _checked(result, args, check)


def start_git(cwd: Path, *args: str) -> subprocess.Popen[str]:
    """Start a git command that runs while this process does something else; its result
    comes from ``finish_git``."""
    global _ENV
    if _ENV is None:
        _ENV = _clean_env()
    try:
        process = subprocess.Popen(
            ["git", *_literal(args)],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_ENV,
            encoding=_ENCODING,
            errors=_UNDECODABLE,
        )
    except FileNotFoundError:
        raise SetupError(_NO_GIT) from None
    _widen(process)
    return process


_PIPE_SIZE = 1 << 20
"""What a started git may write before this process reads (Linux's default limit for a
pipe; 64 KB otherwise): a rebuild at 10k starts six at once and reads their answers one
after another, and `ls-files` answers 760 KB, which a 64 KB pipe made wait, a pipe at a
time, for the answers before it and for the interpreter's lock between them."""


def _widen(process: subprocess.Popen[str]) -> None:
    """Room for ``_PIPE_SIZE`` bytes in the pipe of its output, where the system allows."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    setting = getattr(fcntl, "F_SETPIPE_SZ", None)  # (Linux)
    if setting is not None and process.stdout is not None:
        with contextlib.suppress(OSError):  # over a limit of the system's: as it was
            fcntl.fcntl(process.stdout.fileno(), setting, _PIPE_SIZE)


def finish_git(
    process: subprocess.Popen[str], args: Sequence[str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    out, err = process.communicate()
    result = subprocess.CompletedProcess(["git", *args], process.returncode, out, err)
    return _checked(result, args, check)


def _checked(
    result: subprocess.CompletedProcess[str], args: Sequence[str], check: bool
) -> subprocess.CompletedProcess[str]:
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        # git's own words ("fatal:", "error:") say more than the hints that may follow them
        said = [line for line in detail if line.startswith(("fatal:", "error:"))] or detail
        reason = said[0] if said else f"exit code {result.returncode}"
        _refuse_index_lock(result.stderr)
        raise GitError(f"git {args[0]} failed: {reason}")
    return result


def ask_head_time(folder: Path) -> Callable[[], str | None]:
    """The commit time of HEAD of the repository ``folder`` is in (None before the first
    commit, or outside git), asked now and answered by the function returned."""
    args = ("log", "-1", "--format=%cI")
    job = start_git(folder, *args)
    return lambda: finish_git(job, args, check=False).stdout.strip() or None


class Revision(NamedTuple):
    """One commit's change of one file (``git log --raw``): its path, the status letter
    (A added, M modified, D deleted, T type changed), and the blob ids before and after
    (all zeros: none)."""

    path: str
    status: str
    old: str
    new: str


def ask_revisions(
    root: Path, folder: str, commit: str | None = None, since: str | None = None
) -> Callable[[], list[Revision]]:
    """Every change of a file under ``folder`` in the history of ``commit`` (HEAD if None),
    or only in the commits after ``since`` (an ancestor of it: ``since..commit``), newest
    first; asked now and answered by the function returned."""
    args = _revisions_args(folder, commit, since)
    job = start_git(root, *args)
    return lambda: _revisions(finish_git(job, args, check=False).stdout)


def _revisions_args(folder: str, commit: str | None, since: str | None) -> tuple[str, ...]:
    """One `git log` listing the files each commit changed under ``folder``, with their blob
    ids (the same command with or without a range; no rename detection: a renamed file is
    a new one). ``--full-history``: every side of a merge is walked, so a merge that kept
    one side's version of a file hides none of the other side's commits (history
    simplification would, and a count would go down); merges themselves list no change."""
    revisions = (f"{since}..{commit or 'HEAD'}",) if since else (commit,) if commit else ()
    return (
        "log",
        "--full-history",
        "--format=",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "-z",
        *revisions,
        "--",
        folder,
    )


def _revisions(listed: str) -> list[Revision]:
    found: list[Revision] = []
    fields = listed.replace("\n", "\0").split("\0")
    for at, meta in enumerate(fields):
        parts = meta.split(" ")  # ":old-mode new-mode old-id new-id status", then the path
        if meta.startswith(":") and len(parts) == 5 and at + 1 < len(fields):
            found.append(Revision(fields[at + 1], parts[4][:1], parts[2], parts[3]))
    return found


def ask_shallow(root: Path) -> Callable[[], bool | None]:
    """Whether the clone is shallow (None where git cannot say), asked now and answered by
    the function returned."""
    args = ("rev-parse", "--is-shallow-repository")
    job = start_git(root, *args)

    def answer() -> bool | None:
        said = finish_git(job, args, check=False)
        told = said.stdout.strip()
        return None if said.returncode != 0 or told not in ("true", "false") else told == "true"

    return answer


class Counted(NamedTuple):
    """What git says of the commits since the state's commit, for the counts made of
    ``ask_revisions``: whether the clone is shallow (its history is cut: counts are of
    what it holds), whether one of those commits is a merge (history simplification may
    then hide commits the counts at the state's commit included), and the revisions of
    those commits alone. The counts at HEAD are those at the state's commit plus these
    only in a full clone, without a merge in between."""

    shallow: bool
    merges: bool
    since: list[Revision]


class Changes(NamedTuple):
    """What git vouches changed since a commit: HEAD, its commit time, and each file that
    differs from the commit's as (status letter, mode, blob id of HEAD's version); and,
    where asked, what ``Counted`` says of the commits since."""

    head: str
    time: str
    files: dict[str, tuple[str, str, str]]
    counted: Counted | None = None


def ask_changes(
    root: Path, commit: str | None, paths: Sequence[str], counts_of: str | None = None
) -> Callable[[], Changes | None]:
    """The files under ``paths`` that HEAD changed since ``commit``, where git can vouch
    that the work tree holds HEAD's bytes there; None where it cannot: ``commit`` is not an
    ancestor of HEAD (a reset, a rebase), a file there is uncommitted, staged, untracked or
    ignored, or marked skip-worktree or assume-unchanged, or a submodule is there. ``root``:
    the top of the work tree. Asked now (HEAD first, then the other questions at once) and
    answered by the function returned: the caller does its own work while git does this.
    ``commit`` None: only whether git vouches for the work tree at HEAD (no files).
    ``counts_of``: a folder whose revisions since ``commit`` are asked too (``Counted``)."""
    asked = run_git(root, "log", "-1", "--format=%H%n%cI", check=False)
    head, _, time = asked.stdout.strip().partition("\n")
    if asked.returncode != 0 or not head or not time:
        return lambda: None
    spec = ("--", *paths)
    questions: list[tuple[str, ...]] = [
        (
            "--no-optional-locks",
            "-c",
            "core.preloadIndex=false",
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignored=matching",
            *spec,
        ),
        ("ls-files", "-s", "-v", "-z", *spec),
    ]
    if commit is not None:
        # the commits since ``commit``, with their parents: whether it is an ancestor of
        # HEAD (HEAD itself, or a parent of one of them), and whether one is a merge
        questions.append(("rev-list", "--parents", f"{commit}..{head}"))
        questions.append(
            ("diff", "--raw", "-z", "--no-abbrev", "--no-renames", commit, head, *spec)
        )
        if counts_of is not None:
            questions.append(("rev-parse", "--is-shallow-repository"))
            questions.append(_revisions_args(counts_of, head, commit))
    running = [(args, start_git(root, *args)) for args in questions]
    return lambda: _changes(
        head, time, commit, [finish_git(job, a, check=False) for a, job in running]
    )


def _changes(
    head: str, time: str, commit: str | None, answers: list[subprocess.CompletedProcess[str]]
) -> Changes | None:
    if any(answer.returncode != 0 for answer in answers):
        return None
    status, listed = answers[:2]
    since = [line.split(" ") for line in answers[2].stdout.splitlines()] if commit else []
    if commit is not None and head != commit and not any(commit in c[1:] for c in since):
        return None  # not an ancestor of HEAD (a reset, a rebase)
    diff = answers[3].stdout if len(answers) >= 4 else ""
    tags = listed.stdout  # "H " is a file git compares with the work tree
    if status.stdout or (tags and ("\0" + tags).count("\0H ") != tags.count("\0")):
        return None
    if " 160000 " in tags:  # a submodule: its files are another repository's, which this
        return None  # one's status may be told to ignore (submodule.<name>.ignore)
    files: dict[str, tuple[str, str, str]] = {}
    fields = diff.split("\0")
    for meta, rel in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.split(" ")
        if len(parts) != 5 or not rel:
            return None
        files[rel] = (parts[4], parts[1], parts[3])
    counted = None
    if len(answers) == 6:
        shallow = answers[4].stdout.strip()
        if shallow not in ("true", "false"):
            return None
        merges = any(len(c) > 2 for c in since)
        counted = Counted(shallow != "false", merges, _revisions(answers[5].stdout))
    return Changes(head, time, files, counted)


def blob_id(data: bytes, like: str | None = None) -> str:
    """The id git gives a file with these bytes: SHA-1, or SHA-256 when ``like`` (an
    object id git gave, such as HEAD's) is one (git's object format, as git answered)."""
    header = b"blob %d\0" % len(data)
    if like is not None and len(like) == 64:
        from hashlib import sha256

        return sha256(header + data).hexdigest()
    loaded = sys.modules.get("hashlib")
    if loaded is not None:  # OpenSSL's SHA-1, five times faster than CPython's own
        digest: str = loaded.sha1(header + data, usedforsecurity=False).hexdigest()
        return digest
    try:  # CPython's own SHA-1: hashlib would load OpenSSL first, for one small file
        from _sha1 import sha1  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import sha1

    digest = sha1(header + data, usedforsecurity=False).hexdigest()
    return digest


class Repo:
    """A git work tree, addressed by its top-level folder."""

    def __init__(self, top: Path, git_dir: Path | None = None) -> None:
        self.top = top
        self._git_dir = git_dir
        self._head: str | None = None
        self._ident: dict[str, str] | None = None
        # start_path_states asked ahead (ask_path_states): the paths, and the answer to come
        self._asked: tuple[list[str], Callable[[], PathStates]] | None = None

    @staticmethod
    def refuse_line_breaks(folder: Path) -> None:
        """git prints paths one per line, so a folder whose path has a line break in it
        cannot be told apart from two: refused, before anything is made there."""
        where = str(folder.absolute())
        if "\n" in where or "\r" in where:
            raise SetupError(
                f"{where!r}: a path with a line break in it is not supported; "
                "rename the folder (or a parent folder)"
            )

    @classmethod
    def at(cls, folder: Path) -> Repo:
        return cls.ask_at(folder)()

    @classmethod
    def ask_at(cls, folder: Path) -> Callable[[], Repo]:
        """``at``, asked now and answered by the function returned (which must be called):
        the caller can do its own work while git looks."""
        cls.refuse_line_breaks(folder)
        args = ("rev-parse", "--show-toplevel", "--absolute-git-dir", "--verify", "-q", "HEAD")
        job = start_git(folder, *args)

        def answer() -> Repo:
            lines = finish_git(job, args, check=False).stdout.splitlines()
            if len(lines) < 2 or not Path(lines[0]).is_absolute():
                raise SetupError(
                    f"{folder}: not a git repository; run `incidents init {folder}` "
                    "or `git init` there first"
                )
            repo = cls(Path(lines[0]), Path(lines[1]))
            repo._head = lines[2] if len(lines) > 2 else None
            return repo

        return answer

    @property
    def git_dir(self) -> Path:
        """This work tree's git directory (a linked work tree has its own)."""
        if self._git_dir is None:
            self._git_dir = Path(self.git("rev-parse", "--absolute-git-dir").stdout.strip())
        return self._git_dir

    def unfinished_operation(self) -> str | None:
        """What git is in the middle of (a merge, a rebase, ...), said with how to end it;
        None when nothing is."""
        for marker, what in _IN_PROGRESS:
            if (self.git_dir / marker).exists():
                return what
        return None

    def index_locked(self) -> Path | None:
        """git's index lock, if another git command holds it (or died holding it)."""
        lock = self.git_dir / "index.lock"
        return lock if lock.exists() else None

    @staticmethod
    def is_repo(folder: Path) -> bool:
        result = run_git(folder, "rev-parse", "--is-inside-work-tree", check=False)
        return result.returncode == 0 and result.stdout.strip() == "true"

    @staticmethod
    def is_git_folder(folder: Path) -> bool:
        """Whether ``folder`` (an existing folder) is git's own folder or lies in one, as git
        says: also one kept apart from its work tree (`git init --separate-git-dir`)."""
        result = run_git(folder, "rev-parse", "--is-inside-git-dir", check=False)
        return result.returncode == 0 and result.stdout.strip() == "true"

    @staticmethod
    def init(folder: Path) -> Repo:
        run_git(folder, "init", "-q")
        return Repo.at(folder)

    def git(
        self, *args: str, check: bool = True, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_git(self.top, *args, check=check, input_text=input_text)

    def folder_of(self, folder: Path) -> str:
        """``folder``'s path in the repository, as git's paths write it ("" at the top):
        what a repository kept in a folder of the git repository puts before its paths."""
        found = folder.resolve().relative_to(self.top.resolve()).as_posix()
        return "" if found == "." else found

    # --- reading ---------------------------------------------------------------------

    def user_name(self) -> str | None:
        return self._identity().get("user.name")

    def user_email(self) -> str | None:
        return self._identity().get("user.email")

    def _identity(self) -> dict[str, str]:
        """git's user.name and user.email, read together (one git call for both), or the
        author git would record instead (GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL)."""
        if self._ident is None:
            result = self.git("config", "-z", "--get-regexp", r"^user\.(name|email)$", check=False)
            found: dict[str, str] = {}
            for item in result.stdout.split("\0"):
                key, _, value = item.partition("\n")
                if value.strip():  # the last value wins, as with `git config user.name`
                    found[key] = value.strip()
                else:
                    found.pop(key, None)
            # as git itself: the author named in the environment comes before the config
            for key, variable in (
                ("user.name", "GIT_AUTHOR_NAME"),
                ("user.email", "GIT_AUTHOR_EMAIL"),
            ):
                if os.environ.get(variable, "").strip():
                    found[key] = os.environ[variable].strip()
            self._ident = found
        return self._ident

    def head(self, fresh: bool = False) -> str | None:
        """The commit HEAD points at (remembered until this object changes it)."""
        if self._head is None or fresh:
            result = self.git("rev-parse", "--verify", "-q", "HEAD", check=False)
            self._head = result.stdout.strip() or None
        return self._head

    def branch(self) -> str | None:
        result = self.git("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return result.stdout.strip() or None

    def head_time(self) -> str | None:
        """Commit time of HEAD, strict ISO 8601."""
        result = self.git("log", "-1", "--format=%cI", check=False)
        return result.stdout.strip() or None

    def ask_head_time(self) -> Callable[[], str | None]:
        """``head_time``, asked now and answered by the function returned."""
        return ask_head_time(self.top)

    def files_containing(self, folder: Path, texts: Sequence[str]) -> list[Path]:
        """The files under ``folder``, tracked or not, as they are in the work tree, that
        contain every one of ``texts``: one `git grep` instead of reading every file."""
        args = ["grep", "-l", "-z", "--untracked", "--all-match", "-F"]
        for text in texts:
            args += ["-e", text]
        result = run_git(folder, *args, "--", ".", check=False)
        if result.returncode == 1:  # git grep: nothing found
            return []
        if result.returncode != 0:
            raise GitError(f"git grep failed: {result.stderr.strip()}")
        return [folder / name for name in result.stdout.split("\0") if name]

    def changed_paths(self, paths: Sequence[str]) -> list[str]:
        """Those of ``paths`` with uncommitted changes (staged, unstaged or untracked)."""
        if not paths:
            return []
        result = self.git("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths)
        out = []
        for entry in result.stdout.split("\0"):
            if len(entry) > 3:
                out.append(entry[3:])
        return out

    def index_entries(self, paths: Sequence[str]) -> dict[str, IndexEntry]:
        result = self.git("ls-files", "-s", "-z", "--", *paths)
        entries: dict[str, IndexEntry] = {}
        for line in result.stdout.split("\0"):
            if not line:
                continue
            meta, path = line.split("\t", 1)
            mode, sha, stage = meta.split()
            entries[path] = IndexEntry(mode, sha, stage)
        return entries

    def tracked(self, paths: Sequence[str]) -> set[str]:
        """Those of ``paths`` that are in the index."""
        if not paths:
            return set()
        return set(filter(None, self.git("ls-files", "-z", "--", *paths).stdout.split("\0")))

    def uncommitted(self, paths: Sequence[str], tracked: set[str]) -> set[str]:
        """Those of ``paths`` whose work-tree state differs from HEAD (staged or not, deleted,
        or present but untracked); ``tracked`` is ``self.tracked(paths)``."""
        if not paths:
            return set()
        if self.head() is None:
            return set(self.changed_paths(paths))
        # porcelain diff refreshes the index for these paths, so a touched file is not "changed"
        result = self.git("diff", "--name-only", "-z", "HEAD", "--", *paths)
        changed = set(filter(None, result.stdout.split("\0")))
        # present but untracked, or in the index but deleted from the work tree
        odd = {p for p in paths if (p in tracked) != (self.top / p).exists()}
        return changed | odd

    def ask_path_states(self, paths: Sequence[str]) -> None:
        """Start reading ``path_states`` of ``paths`` now, for the next ``start_path_states``
        of the same paths, which then has no git to start: a transaction asks before it
        reads the settings and the record, so git answers while it does. Nothing may change
        the index or these files in between (the transaction's lock is held, and the step
        that runs meanwhile only reads); ``forget_asked`` ends an answer never taken."""
        self.forget_asked()
        self._asked = (list(paths), self._start_path_states(paths))

    def forget_asked(self) -> None:
        """Wait for (and drop) an answer ``ask_path_states`` started and nothing took."""
        asked, self._asked = self._asked, None
        if asked is not None:
            with contextlib.suppress(IncidentsError):  # not taken: nobody's answer
                asked[1]()

    def start_path_states(self, paths: Sequence[str]) -> Callable[[], PathStates]:
        """Start reading ``path_states``; the function returned waits for the answer.
        Meanwhile this process can prepare the files (git runs on the other core)."""
        if self._asked is not None and self._asked[0] == list(paths):
            asked, self._asked = self._asked[1], None
            return asked
        self.forget_asked()
        return self._start_path_states(paths)

    def _start_path_states(self, paths: Sequence[str]) -> Callable[[], PathStates]:
        status = [*_STATUS, *paths]
        # Not a chance for status to rewrite the whole index with the stat data it
        # refreshed (1 MB at 10,000 records, a third of git's work in a transition): the
        # commit that follows writes the index anyway.
        running = start_git(self.top, "--no-optional-locks", *status)
        staged = start_git(self.top, *_STAGED)

        def wait() -> PathStates:
            # both are waited for before either is checked: no git is left running
            states = finish_git(running, status, check=False)
            others = finish_git(staged, _STAGED, check=False)
            return self._path_states(paths, _checked(states, status, True), others)

        return wait

    def path_states(self, paths: Sequence[str]) -> PathStates:
        """HEAD (read now); which of ``paths`` git tracks and which differ from HEAD
        (staged or not, deleted, or present but untracked or ignored): one `git status`
        where `tracked`, `uncommitted` and `head` took three calls; and whether anything
        is staged at all (a person's work, which a commit must leave out)."""
        return self.start_path_states(paths)()

    def _path_states(
        self,
        paths: Sequence[str],
        result: subprocess.CompletedProcess[str],
        staged: subprocess.CompletedProcess[str],
    ) -> PathStates:
        if staged.returncode not in (0, 1):  # git diff --quiet: 1 means a difference
            _checked(staged, _STAGED, True)
        head: str | None = None
        tracked: set[str] = set()
        reported: set[str] = set()
        for entry in result.stdout.split("\0"):
            if entry.startswith("# branch.oid "):
                oid = entry[len("# branch.oid ") :].strip()
                head = None if oid == "(initial)" else oid
            elif entry.startswith("1 "):  # changed: XY sub mH mI mW hH hI path
                fields = entry.split(" ", 8)
                reported.add(fields[8])
                if fields[4] != "000000":  # in the index
                    tracked.add(fields[8])
            elif entry.startswith("u "):  # unmerged: XY sub m1 m2 m3 mW h1 h2 h3 path
                fields = entry.split(" ", 10)
                reported.add(fields[10])
                tracked.add(fields[10])
            elif entry.startswith(("? ", "! ")):  # untracked, ignored
                reported.add(entry[2:])
        # not reported: as HEAD has it (tracked if it exists, else absent everywhere)
        tracked |= {p for p in paths if p not in reported and os.path.lexists(self.top / p)}
        # in the index but not a file here (a dangling symlink), as `uncommitted` says
        odd = {p for p in paths if (p in tracked) != (self.top / p).exists()}
        self._head = head
        uncommitted = (reported & set(paths)) | odd
        return PathStates(head, tracked, uncommitted, staged.returncode == 1)

    def commit_message(self, commit: str) -> str:
        return self.git("log", "-1", "--format=%B", commit).stdout.strip()

    def blob_at_head(self, path: str) -> str | None:
        """The blob id of ``path`` in HEAD, or None if HEAD has no such file."""
        result = self.git("rev-parse", "--verify", "-q", f"HEAD:{path}", check=False)
        return result.stdout.strip() or None

    def head_as(self, commit: str, paths: Sequence[str]) -> bool:
        """Whether HEAD, read now, holds ``paths`` as ``commit`` has them (the same blob
        ids, or both without the file; a mode may differ): trees compared, never the work
        tree."""
        result = self.git("diff-tree", "-r", "-z", commit, "HEAD", "--", *paths, check=False)
        if result.returncode != 0:
            return False
        fields = result.stdout.split("\0")  # ":old-mode new-mode old-blob new-blob status", path
        for meta in fields[0::2]:
            parts = meta.split(" ")
            if len(parts) == 5 and parts[2] != parts[3]:
                return False  # another blob (a mode alone, a hook's chmod, still holds it)
        return True

    def work_tree_as(self, commit: str, paths: Sequence[str]) -> bool:
        """Whether the work tree's ``paths`` are as ``commit`` has them (as git compares
        them: its filters applied); no when one is marked so that git does not look."""
        if self._hidden_from_git(paths):  # git diff would not look at those files
            return False
        return self.git("diff", "--quiet", commit, "--", *paths, check=False).returncode == 0

    # --- writing ---------------------------------------------------------------------

    def unstaged(self, paths: Sequence[str]) -> set[str]:
        """Those of ``paths`` whose work-tree file differs from the index."""
        if not paths:
            return set()
        result = self.git("diff", "--name-only", "-z", "--", *paths)
        return set(filter(None, result.stdout.split("\0")))

    def stage(self, paths: Sequence[str]) -> None:
        """`git add` exactly these paths."""
        if paths:
            self.git("add", "--", *paths)

    def has_staged_changes(self) -> bool:
        """Whether the index differs from HEAD (a person has staged something)."""
        if self.head() is None:
            return bool(self.git("ls-files").stdout.strip())
        return self.git("diff", "--cached", "--quiet", check=False).returncode != 0

    def restore_from_head(self, path: str) -> None:
        """Put ``path`` back in the index and the work tree as HEAD has it (or remove it,
        if HEAD has no such file)."""
        if self.blob_at_head(path) is not None:
            self.git("checkout", "-q", "HEAD", "--", path)
        else:
            self.git("rm", "--cached", "--quiet", "--ignore-unmatch", "--", path)
            (self.top / path).unlink(missing_ok=True)

    def commit_paths(
        self, paths: Sequence[str], message: str, tracked: set[str] | None = None
    ) -> str:
        """Commit exactly ``paths`` (see ``commit_exactly``); the new HEAD."""
        return self.commit_exactly(paths, message, tracked).head

    def commit_exactly(
        self,
        paths: Sequence[str],
        message: str,
        tracked: set[str] | None = None,
        staged: bool | None = None,
    ) -> Commit:
        """Commit exactly ``paths`` as they are in the work tree, running the usual hooks.

        A person's other staged or unstaged changes are neither committed nor touched. On
        failure the index entries of ``paths`` are put back as they were (the callers only
        commit paths that had no staged changes); the caller restores the files themselves.
        ``tracked``: which of ``paths`` are in the index, and ``staged``: whether anything
        is staged, if the caller asked already (under this work tree's lock).
        Returns our commit as read after it, with the blob of each path there (ours is
        told by its parent: HEAD as the caller's git answer read it, else read now).
        """
        if staged is None:  # HEAD as remembered may be older than commits made since
            self.head(fresh=True)
        if self.has_staged_changes() if staged is None else staged:
            # Someone's staged work is in the index: commit our paths alone (slower: git
            # builds a temporary index from HEAD).
            before = self.index_entries(paths)
            new = [p for p in paths if p not in before]
            if new:
                self._add_new("--intent-to-add", "--", *new)
            args = ["commit", "--only", "--quiet", "--file=-", "--", *paths]
        else:
            known = self.tracked(paths) if tracked is None else tracked
            new = [p for p in paths if p not in known]
            if new:
                self._add_new("--", *new)
            # Nothing else is staged: --include adds our paths and commits in one process.
            # A person's `git add` between that check and this commit would be taken along:
            # seen in what the commit holds, and taken out (``_take_out_others``).
            args = ["commit", "--quiet", "--file=-", "--include", "--", *paths]
        made = self._commit(paths, args, message, new if args[1] == "--only" else None)
        if not made.others:
            return made
        from incidents_cli.store.lock import signals_are_held, signals_held

        nested = signals_are_held()  # a transaction's commit holds them, and says it
        # cut in half, the repair would leave the branch or the index in neither state
        with signals_held() as held:
            made = self._take_out_others(made, paths, message)
        if held.signal is not None and not nested:
            raise KeyboardInterrupt
        return made

    def _commit(
        self,
        paths: Sequence[str],
        args: Sequence[str],
        message: str,
        intended: list[str] | None,
    ) -> Commit:
        """Run ``args`` (a `git commit` of ``paths``); on failure, put the index entries of
        ``paths`` back (``intended``: the new paths only added with --intent-to-add, for
        a commit with --only) and refuse. Returns what HEAD holds after the commit."""
        head_before = self.head()
        result = run_git(self.top, *args, check=False, input_text=message)
        if result.returncode != 0 and self.head(fresh=True) != head_before:
            # git was cut short (Ctrl-C reaches it too) after it made the commit, before it
            # wrote the index: the commit stands; our paths' index entries are set to it
            self.git("reset", "--quiet", "--", *paths)
            return self._ours(paths, head_before, message)
        if result.returncode != 0:
            _refuse_index_lock(result.stderr)  # git changed nothing: it had no index lock
            if intended is not None:
                if intended:
                    self.git("rm", "--cached", "--quiet", "--ignore-unmatch", "--", *intended)
            elif self.head() is None:
                self.git("rm", "--cached", "--quiet", "--ignore-unmatch", "--", *paths)
            else:
                self.git("reset", "--quiet", "--", *paths)
            output = (result.stdout + result.stderr).strip()
            hidden = self._hidden_from_git(paths) if "nothing" in output else []
            if hidden:
                raise RefusedError(
                    f"{hidden[0]} is marked assume-unchanged or skip-worktree, so git does not "
                    "see any change to it; clear the mark (`git update-index "
                    f"--no-assume-unchanged --no-skip-worktree -- {hidden[0]}`) and try again"
                )
            if "Please tell me who you are" in output or "empty ident" in output:
                raise SetupError(
                    "git does not know who you are: run `git config --global user.name "
                    '"Your Name"` and `git config --global user.email you@example.com`'
                )
            raise CommitRefused(
                "git commit failed (see git's output above); files, index and branch "
                "are as they were",
                output,
            )
        return self._ours(paths, head_before, message)

    def _ours(self, paths: Sequence[str], before: str | None, message: str) -> Commit:
        """The commit just made on top of ``before`` (HEAD before the commit), as
        ``committed`` reads it: HEAD when its parent is ``before``. Else someone's commit
        landed just before ours, or on top of it before HEAD was read (a person's `git
        commit` in another terminal, a post-commit hook's): ours is the one down HEAD's
        first parents since ``before`` with our subject (else the one whose parent is
        ``before``), and HEAD, when it is another, is kept as its ``tip``."""
        made = self.committed(paths)
        if made.parent == before:
            return made
        spec = ["--not", before] if before else []
        listed = self.git("rev-list", "--first-parent", "--format=%P%x09%s", made.head, *spec)
        lines = listed.stdout.splitlines()
        chain = [  # (commit, its parents, its subject), newest first
            (head.removeprefix("commit "), *about.partition("\t")[::2])
            for head, about in zip(lines[0::2], lines[1::2], strict=False)
        ]
        subject = message.partition("\n")[0].strip()
        named = [commit for commit, _, said in chain if said == subject]
        below = [commit for commit, parents, _ in chain[-1:] if parents == (before or "")]
        found = named if len(named) == 1 else below
        if not found:
            raise GitError(
                f"git commit succeeded, but HEAD ({made.head[:12]}) is not on top of the "
                f"commit it made, nor of {before[:12] if before else 'nothing'}: HEAD moved "
                "meanwhile; see `git reflog`"
            )
        if found[0] == made.head:
            return made
        ours = self.committed(paths, found[0])
        self._head = made.head
        return ours._replace(tip=made.head)

    def _take_out_others(self, made: Commit, paths: Sequence[str], message: str) -> Commit:
        """``made`` holds more than ``paths``: a person staged something between the check
        that nothing was staged and the commit (or a hook staged it during the commit).
        Their work must stay theirs: HEAD goes back to its parent (only if it is still
        ``made``; a first commit: the branch back to no commit), which leaves the index as
        the commit left it (their file staged as before), and ``paths`` alone are committed
        again with `git commit --only` and the same message, so the hooks and signing apply
        to the commit that stays as they did to the first. If a hook puts the others back,
        the commit stands and that is said.

        So every hook runs twice here, post-commit included (it saw the first commit, which
        no branch holds now). Not avoidable without weakening something: the sweep happens
        inside `git commit` (a `git add` in that instant, or a pre-commit hook's), so no
        check before it can see it; committing with --only every time, which cannot take
        anything along, makes git build a temporary index from HEAD (a `git commit` at
        10,000 records took 0.12-0.17 s instead of 0.06-0.10 s); and a commit made without
        the porcelain would skip the hooks and signing altogether."""
        others = _some(made.others)
        if made.tip is not None:
            raise GitError(
                f"git commit {made.head[:12]} also committed {others}, which this command did "
                f"not write, and commit {made.tip[:12]} was made on top of it since, so both "
                "were left as they are; see `git log --stat`"
            )
        if made.parent is not None and " " in made.parent:
            raise GitError(
                f"git commit {made.head[:12]} also committed {others}, which this command did "
                "not write; see `git show --stat HEAD`"
            )
        if not self._back_to_parent(
            made, "incidents: a commit that took along what a person staged, made again without it"
        ):
            raise GitError(
                f"git commit {made.head[:12]} also committed {others}, which this command did "
                f"not write, and HEAD moved on since (to {(self.head() or 'nothing')[:12]}); "
                "see `git log --stat`"
            )
        args = ["commit", "--only", "--quiet", "--file=-", "--", *paths]
        try:  # the person's git command that raced this one may still hold the index
            again = _waiting_for_index(lambda: self._commit(paths, args, message, None))
        except IndexLocked:
            # (a first commit: the ref must still not exist, git's all-zero id)
            parent = made.parent or "0" * len(made.head)
            self.git("update-ref", "-m", "incidents: put back", "HEAD", made.head, parent)
            raise GitError(
                f"git commit {made.head[:12]} also committed {others}, which someone staged "
                "while this command committed, and git's index stayed locked while taking "
                "it out; see `git show --stat HEAD`"
            ) from None
        if again.others:
            raise GitError(
                f"a hook of this repository stages {_some(again.others)} in every commit; "
                f"this change is committed with it as {again.head[:12]} "
                "(see `git show --stat HEAD`)"
            )
        return again

    def _hidden_from_git(self, paths: Sequence[str]) -> list[str]:
        """Those of ``paths`` whose index entry tells git not to look at the work tree
        (`git ls-files -v`: a lower-case tag is assume-unchanged, S is skip-worktree)."""
        listed = self.git("ls-files", "-v", "-z", "--", *paths, check=False).stdout
        return [e[2:] for e in listed.split("\0") if e[:1].islower() or e.startswith("S ")]

    def _add_new(self, *args: str) -> None:
        """`git add` new files; one that git ignores, or outside a sparse checkout, is refused
        (git will not add it), not a bug. Refused or failed, the index is left as it was:
        git adds the others before it says no to one, and they are taken out again (each
        of them was new to the index)."""
        result = self.git("add", *args, check=False)
        new = [a for a in args if not a.startswith("-")]
        if result.returncode != 0:
            self.git("rm", "--cached", "--quiet", "--ignore-unmatch", "--", *new, check=False)
        if result.returncode != 0 and "ignored by one of your .gitignore" in result.stderr:
            raise RefusedError(
                f"{new[0]} is ignored by git, so it would never be committed; remove the rule "
                f"(`git check-ignore -v {new[0]}` names it) and try again"
            )
        if result.returncode != 0 and "sparse-checkout" in result.stderr:
            raise RefusedError(
                f"{new[0]} is outside this work tree's sparse checkout, so git will not add "
                "it; include its folder (`git sparse-checkout add FOLDER`) and try again"
            )
        _checked(result, ("add", *args), True)

    def committed(self, paths: Sequence[str], commit: str = "HEAD") -> Commit:
        """``commit`` (HEAD, read now), with what it changed against its parent: the blob id
        of each of ``paths`` there, and every other path it changed. One git call."""
        asked = self.git(*_COMMITTED, commit, "--", check=False)
        header, _, diff = asked.stdout.partition("\0")
        head, _, parent = header.strip().partition(" ")
        if asked.returncode != 0 or not head:
            raise GitError("git commit succeeded, but HEAD names no commit; see `git log`")
        ours = set(paths)
        blobs: dict[str, str | None] = {}
        was: dict[str, str | None] = {}
        others: list[str] = []
        fields = diff.lstrip("\n").split("\0")
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            if path in ours:  # ":old-mode new-mode old-id new-id status"
                ids = meta.split(" ")[2:4] if meta.count(" ") >= 4 else ["", ""]
                was[path] = None if not ids[0].strip("0") else ids[0]
                blobs[path] = None if not ids[1].strip("0") else ids[1]
            elif path:
                others.append(path)
        self._head = head
        return Commit(head, blobs, parent or None, tuple(others), was=was)

    def _back_to_parent(self, made: Commit, reason: str) -> bool:
        """HEAD from ``made`` back to its parent (a first commit: the branch back to no
        commit), only if HEAD is still ``made`` (update-ref's compare-and-swap). True if
        HEAD is now the parent: also when git was cut short (Ctrl-C reaches it too) after
        it moved the ref, or on a second try when before; False when HEAD is another commit."""
        where = [made.parent, made.head] if made.parent else ["-d", made.head]
        for _ in range(2):
            moved = self.git("update-ref", "-m", reason, "HEAD", *where, check=False)
            now = self.head(fresh=True)
            if moved.returncode == 0 or now == made.parent:
                return now == made.parent
            if now != made.head:
                return False
        return False

    def undo_commit(self, made: Commit, paths: Sequence[str]) -> bool:
        """Take back the commit ``made``: HEAD goes back to its parent only if HEAD is still
        ``made``, and the index entries of ``paths`` are put back as the parent has them
        (the caller puts the files back). False, and nothing moved, when HEAD is another
        commit (``made.tip``: someone's commit on top of it)."""
        if made.tip is not None or not self._back_to_parent(made, "incidents: undo"):
            return False
        if made.parent:
            _waiting_for_index(lambda: self.git("reset", "--quiet", "--", *paths))
        else:
            _waiting_for_index(
                lambda: self.git("rm", "--cached", "--quiet", "--ignore-unmatch", "--", *paths)
            )
        return True

    def rewrites(self, path: str) -> str:
        """What makes git store other bytes for ``path`` than the file holds, as a person
        would name it: the clean filter of its attributes, else its end-of-line conversion,
        else (neither is set) a hook."""
        said = self.git("check-attr", "-z", "filter", "text", "eol", "--", path, check=False)
        fields = said.stdout.split("\0")
        values = dict(zip(fields[1::3], fields[2::3], strict=False))
        unset = ("unspecified", "unset", "")
        if values.get("filter", "") not in unset:
            return f"the clean filter `{values['filter']}` (filter={values['filter']})"
        autocrlf = self.git("config", "core.autocrlf", check=False).stdout.strip()
        if any(values.get(a, "") not in unset for a in ("text", "eol")) or autocrlf in (
            "true",
            "input",
        ):
            return "the end-of-line conversion (text/eol attributes or core.autocrlf)"
        return "a pre-commit hook"

    def commit_to_new_branch(self, branch: str, files: dict[str, str], message: str) -> str:
        """Commit ``files`` on top of HEAD to a new branch, without touching this work tree,
        its index or the current branch: in a temporary linked work tree, with `git commit`,
        so the repository's hooks (pre-commit, commit-msg) and signing apply as usual."""
        import shutil
        import tempfile

        ref = f"refs/heads/{branch}"
        if self.git("show-ref", "--verify", "--quiet", ref, check=False).returncode == 0:
            raise RefusedError(f"branch {branch} exists already; delete or rename it first")
        head = self.head()
        if head is None:
            raise RefusedError("the repository has no commits yet")
        tmp = Path(tempfile.mkdtemp(prefix="incidents-branch-"))
        work = tmp / "work"
        committed: str | None = None
        try:
            self.git("worktree", "add", "--quiet", "-b", branch, str(work), head)
            for path, content in files.items():
                target = work / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8", newline="\n")
            run_git(work, "add", "--", *files)
            result = run_git(work, "commit", "--quiet", "--file=-", check=False, input_text=message)
            if result.returncode != 0:
                raise CommitRefused(
                    f"git commit on branch {branch} failed (see git's output above); "
                    "nothing was changed",
                    (result.stdout + result.stderr).strip(),
                )
            committed = run_git(work, "rev-parse", "HEAD").stdout.strip()
        finally:
            self.git("worktree", "remove", "--force", str(work), check=False)
            shutil.rmtree(tmp, ignore_errors=True)
            self.git("worktree", "prune", check=False)
            if committed is None:
                self.git("branch", "-D", "--quiet", branch, check=False)
        return committed

    def remote_for_branch(self, branch: str) -> tuple[str, str]:
        """(remote, remote branch) that ``branch`` pushes to; origin/<branch> by default."""
        remote = self.git("config", f"branch.{branch}.remote", check=False).stdout.strip()
        merge = self.git("config", f"branch.{branch}.merge", check=False).stdout.strip()
        remote_branch = merge.removeprefix("refs/heads/") if merge else branch
        if not remote:
            remotes = self.git("remote").stdout.split()
            if not remotes:
                raise SetupError(
                    "--push: this repository has no remote; add one with `git remote add`"
                )
            remote = "origin" if "origin" in remotes else remotes[0]
        return remote, remote_branch

    def remote_url(self, name: str) -> str | None:
        """The URL of the remote ``name``, or None if there is no such remote."""
        result = self.git("remote", "get-url", name, check=False)
        return (result.stdout.strip() or None) if result.returncode == 0 else None

    def push(self, remote: str, source: str, remote_branch: str) -> None:
        """Push ``source`` (a branch, or a commit) to the remote's ``remote_branch``."""
        result = self.git(
            "push", "--porcelain", remote, f"{source}:refs/heads/{remote_branch}", check=False
        )
        if result.returncode == 0:
            return
        text = result.stdout + result.stderr
        if any(sign in text for sign in _REMOTE_MOVED):
            raise PushRejected(text)
        said = [line.strip() for line in text.splitlines() if line.strip()]
        # the server's own words come as "remote: ..." lines; else git's error
        reasons = [line[7:].strip() for line in said if line.startswith("remote:")]
        reasons = [r for r in reasons if r] or [
            line for line in said if line.startswith(("!", "error:", "fatal:"))
        ]
        reason = "; ".join(reasons[:3]) or (said[-1] if said else "no reason given")
        raise PushRefused(remote, reason)

    def fetch(self, remote: str, remote_branch: str) -> str | None:
        """Fetch one branch; the fetched commit, or None if the remote has no such branch."""
        result = self.git("fetch", "--quiet", remote, f"refs/heads/{remote_branch}", check=False)
        if result.returncode != 0:
            if "couldn't find remote ref" in result.stderr:
                return None
            detail = result.stderr.strip().splitlines()[-1:] or ["unknown error"]
            raise IncidentsError(  # the network or the remote, not a bug: exit 2
                f"git fetch from {remote} failed: {detail[0]}", EXIT_USAGE
            )
        return self.git("rev-parse", "FETCH_HEAD").stdout.strip()

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def staged_entries(self) -> dict[str, str]:
        """What a person has staged (the index against HEAD), as lines of `git update-index
        --index-info` that put each entry back (a staged removal: mode 0), by path."""
        listed = self.git("diff", "--cached", "--raw", "-z", "--no-abbrev", "--no-renames")
        fields = listed.stdout.split("\0")
        entries: dict[str, str] = {}
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            parts = meta.split(" ")  # ":old-mode new-mode old-id new-id status"
            if len(parts) == 5 and path:
                entries[path] = f"{parts[1]} {parts[3]}\t{path}"
        return entries

    def put_back_staged(self, entries: dict[str, str]) -> None:
        """Put back index entries read by ``staged_entries`` (git kept their blobs)."""
        if entries:
            text = "".join(f"{line}\0" for line in entries.values())
            self.git("update-index", "-z", "--index-info", input_text=text)

    def changed_between(self, older: str, newer: str, paths: Sequence[str]) -> list[str]:
        """Those of ``paths`` that differ between two commits."""
        if not paths:
            return []
        listed = self.git("diff", "--name-only", "-z", "--no-renames", older, newer, "--", *paths)
        return [path for path in listed.stdout.split("\0") if path]

    def reset_keep(self, commit: str) -> bool:
        """Move the branch to ``commit``, updating only files that differ; keeps local edits."""
        self._head = None
        return self.git("reset", "--keep", "--quiet", commit, check=False).returncode == 0

    def fast_forward(self, commit: str) -> bool:
        self._head = None
        return self.git("merge", "--ff-only", "--quiet", commit, check=False).returncode == 0

    # --- side refs: state kept in git, off every branch (notify) -------------------------

    def resolve(self, ref: str) -> str | None:
        """The commit ``ref`` points at, or None."""
        result = self.git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
        return result.stdout.strip() or None

    def has_commit(self, commit: str) -> bool:
        result = self.git("cat-file", "-e", f"{commit}^{{commit}}", check=False)
        return result.returncode == 0

    def file_at(self, commit: str, path: str) -> str | None:
        """The text of ``path`` at ``commit``, or None if it has no such file."""
        result = self.git("cat-file", "blob", f"{commit}:{path}", check=False)
        if result.returncode != 0:
            return None
        # a file's text must be UTF-8 (UnicodeDecodeError, as ever), not a lone surrogate
        return result.stdout.encode(_ENCODING, _UNDECODABLE).decode(_ENCODING)

    def blobs_at(self, commit: str, folders: Sequence[str]) -> dict[str, str]:
        """The blob id of every file under ``folders`` at ``commit`` (one level deep), by path."""
        listing = self.git("ls-tree", "-z", commit, "--", *(f"{f}/" for f in folders))
        out: dict[str, str] = {}
        for item in listing.stdout.split("\0"):
            if not item:
                continue
            meta, path = item.split("\t", 1)
            mode, kind, sha = meta.split()
            if kind == "blob" and mode in ("100644", "100755"):
                out[path] = sha
        return out

    def stored_blob(self, path: str, data: bytes) -> str:
        """The blob id git stores for ``data`` as the file ``path`` (its clean filter and
        end-of-line conversion applied), without writing it."""
        hashed = subprocess.run(
            ["git", "hash-object", f"--path={path}", "--stdin"],
            cwd=self.top,
            input=data,
            capture_output=True,
            env=_ENV or _clean_env(),
            check=False,
        )
        if hashed.returncode != 0:
            raise GitError(
                f"git hash-object failed: {hashed.stderr.decode(errors='replace').strip()}"
            )
        return hashed.stdout.decode().strip()

    def read_blobs(self, shas: Sequence[str]) -> dict[str, bytes]:
        """The content of each blob, by id: one git call whatever their number."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        batch = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.top,
            input="".join(f"{sha}\n" for sha in wanted).encode(),
            capture_output=True,
            env=_ENV or _clean_env(),
            check=False,
        )
        if batch.returncode != 0:
            raise GitError(f"git cat-file failed: {batch.stderr.decode(errors='replace').strip()}")
        out: dict[str, bytes] = {}
        data = batch.stdout
        position = 0
        for sha in wanted:
            end = data.index(b"\n", position)
            size = int(data[position:end].split()[2])
            out[sha] = data[end + 1 : end + 1 + size]
            position = end + 1 + size + 1
        return out

    def file_bytes_at(self, commit: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``commit``, not decoded (the caller says what is wrong
        with a file that is not UTF-8), or None if it has no such file."""
        result = subprocess.run(
            ["git", "cat-file", "blob", f"{commit}:{path}"],
            cwd=self.top,
            capture_output=True,
            env=_ENV or _clean_env(),
            check=False,
        )
        return result.stdout if result.returncode == 0 else None

    def write_side_ref(
        self, ref: str, files: dict[str, str], message: str, parent: str | None
    ) -> str:
        """A commit holding just ``files``, on top of ``parent``, stored under ``ref`` only if
        ``ref`` still points at ``parent`` (git update-ref's compare-and-swap). The work tree,
        the index and every branch are left alone. The identity is fixed: a machine wrote it."""
        commit = self.commit_files(files, message, parent)
        self.git("update-ref", ref, commit, parent or "0" * 40)
        return commit

    def git_input(self, text: str, *args: str, identity: bool = False) -> str:
        env = dict(_ENV or _clean_env())
        if identity:
            for who in ("AUTHOR", "COMMITTER"):
                env[f"GIT_{who}_NAME"] = "incidents"
                env[f"GIT_{who}_EMAIL"] = "incidents@localhost"
        result = subprocess.run(
            ["git", *args],
            cwd=self.top,
            input=text,
            capture_output=True,
            env=env,
            encoding=_ENCODING,
            errors=_UNDECODABLE,
            check=False,
        )
        if result.returncode != 0:
            raise GitError(f"git {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def default_remote(self) -> str | None:
        """The remote the current branch pushes to, else origin, else the only one."""
        branch = self.branch()
        if branch:
            remote = self.git("config", f"branch.{branch}.remote", check=False).stdout.strip()
            if remote and remote != ".":
                return remote
        remotes = self.git("remote", check=False).stdout.split()
        if "origin" in remotes:
            return "origin"
        return remotes[0] if len(remotes) == 1 else None

    def fetch_side_refs(self, remote: str, prefix: str) -> None:
        """Take the remote's refs under ``prefix`` as they are (the remote is the record)."""
        spec = f"+{prefix}*:{prefix}*"
        result = self.git("fetch", "--quiet", "--no-tags", remote, spec, check=False)
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()[-1:] or ["unknown error"]
            raise GitError(f"git fetch from {remote} failed: {detail[0]}")

    def push_leased(
        self, remote: str, updates: Sequence[tuple[str, str, str | None]], atomic: bool = False
    ) -> bool:
        """Push each (source, ref, expected) to ``remote``: source a commit or a local ref
        ("" deletes ``ref``), expected what ``ref`` must still be on the remote ("" for
        absent, None for a plain fast-forward). False if the remote's ref was not as
        expected (another run got there first); a GitError for any other failure. With
        ``atomic``, all or none."""
        args = ["push", "--porcelain", "--quiet"]
        if atomic:
            args.append("--atomic")
        for _, ref, expected in updates:
            if expected is not None:
                args.append(f"--force-with-lease={ref}:{expected}")
        args.append(remote)
        args += [f"{source}:{ref}" for source, ref, _ in updates]
        result = self.git(*args, check=False)
        if result.returncode == 0:
            return True
        text = (result.stdout + result.stderr).strip().splitlines()
        lost = ("stale info", "non-fast-forward", "fetch first", "atomic push failed")
        if any(line.startswith("!") and any(w in line for w in lost) for line in text):
            return False
        raise GitError(f"git push to {remote} failed: {text[-1] if text else 'unknown error'}")

    def commit_files(self, files: dict[str, str], message: str, parent: str | None) -> str:
        """A commit holding just ``files`` (on top of ``parent``), stored under no ref."""
        entries = []
        for path, text in sorted(files.items()):
            blob = self.git_input(text, "hash-object", "-w", "--stdin").strip()
            entries.append(f"100644 blob {blob}\t{path}\n")
        tree = self.git_input("".join(entries), "mktree").strip()
        args = ["commit-tree", tree]
        if parent:
            args += ["-p", parent]
        return self.git_input(message, *args, identity=True).strip()

    def push_side_refs(self, remote: str, refs: Sequence[str]) -> None:
        if not refs:
            return
        result = self.git(
            "push", "--porcelain", "--quiet", remote, *(f"{r}:{r}" for r in refs), check=False
        )
        if result.returncode != 0:
            text = (result.stdout + result.stderr).strip().splitlines()
            raise GitError(f"git push to {remote} failed: {text[-1] if text else 'unknown error'}")
