"""A finding: one problem in one file, with its place. Reporters print lists of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from incidents_cli.core.errors import InputFileError


# A NamedTuple, not a frozen dataclass: cheaper to create at import (see benchmarks/, --help).
class Finding(NamedTuple):
    """Sorted by place, then message (tuple order)."""

    path: str
    line: int
    column: int
    field: str
    message: str
    level: str = "error"

    @classmethod
    def from_error(cls, error: InputFileError) -> Finding:
        """A file that could not be read, as one finding among the others."""
        return cls(error.path, error.line, error.column, error.field, error.detail)

    def text(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.field}: {self.message}"
        return text if self.level == "error" else f"{text} ({self.level})"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github_annotation(finding: Finding) -> str:
    """A GitHub Actions workflow command that puts the finding on its line of the diff."""
    props = ",".join(
        [
            f"file={_escape_property(finding.path)}",
            f"line={finding.line}",
            f"col={finding.column}",
            f"title={_escape_property(finding.field)}",
        ]
    )
    return f"::{finding.level} {props}::{_escape_data(finding.message)}"


def report_text(findings: Sequence[Finding]) -> str:
    return "".join(f"{f.text()}\n" for f in findings)


def report_json(findings: Sequence[Finding]) -> str:
    import json

    return json.dumps([f._asdict() for f in findings], indent=2) + "\n"


def report_github(findings: Sequence[Finding]) -> str:
    return "".join(f"{github_annotation(f)}\n" for f in findings)


REPORTER_BY_NAME: dict[str, Callable[[Sequence[Finding]], str]] = {
    "text": report_text,
    "json": report_json,
    "github": report_github,
}
