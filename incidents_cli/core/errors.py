"""The one error family: every expected failure carries its message and exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 3

# Set (by the test suite) to let an unexpected error propagate instead of becoming exit 3.
RAISE_BUGS_ENV = "INCIDENTS_RAISE_BUGS"


def bugs_raise() -> bool:
    """Whether an unexpected error must fail loudly (``INCIDENTS_RAISE_BUGS``, set under
    tests): also where a fallback (a cache miss, a full build) would hide it from users."""
    import os

    return bool(os.environ.get(RAISE_BUGS_ENV))


class IncidentsError(Exception):
    """An expected failure: one line for a person, and the exit code to leave with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class RefusedError(IncidentsError):
    """Input or a transition that the rules refuse; nothing was changed."""


class InputFileError(IncidentsError):
    """A file that cannot be read as a record: not UTF-8, too big, bad YAML, ..."""

    def __init__(
        self, path: str, line: int, column: int, message: str, field: str = "(file)"
    ) -> None:
        super().__init__(f"{path}:{line}:{column}: {field}: {message}")
        self.path = path
        self.line = line
        self.column = column
        self.field = field
        self.detail = message


class GitError(IncidentsError):
    """A git command failed for a reason outside this program (a hook or filter of the
    person's, the network, permissions, a full disk); the message is git's own words.
    Exit 2, not 3: exit 3 is kept for bugs in our code."""


class InternalError(IncidentsError):
    """One of our own checks caught a bug before it could do harm (a transition that made
    an invalid record, say); nothing was written. Exit 3, as every bug."""

    exit_code = EXIT_UNEXPECTED


class SetupError(IncidentsError):
    """Not in an incident repository, git missing, and other things to fix first."""
