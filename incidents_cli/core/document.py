"""A parsed record document: its data and the place (line, column) of every field.

Pure data, so the rules and the schema checks can name places without importing the YAML
libraries; store/yamlio.py builds these from files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from incidents_cli.core.errors import InputFileError

FieldPath = tuple[str | int, ...]


class PlainData:
    """What the record types take of a dataclass: equality of all their attributes, and a
    repr that names them. Plain classes, because a dataclass is made at import by
    generating and compiling code (and the first one loads the ``dataclasses`` module),
    which every command's start-up paid for these three."""

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass is

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__qualname__}({shown})"


class Document(PlainData):
    """A parsed YAML document with the line and column (1-based) of every field."""

    def __init__(
        self,
        path: str,
        data: Any,
        places: dict[FieldPath, tuple[int, int]] | None = None,
        line_offset: int = 0,
        problems: list[InputFileError] | None = None,
    ) -> None:
        self.path = path
        self.data = data
        self.places: dict[FieldPath, tuple[int, int]] = {} if places is None else places
        self.line_offset = line_offset
        self.problems: list[InputFileError] = [] if problems is None else problems
        """Problems found while reading that did not stop it (duplicate keys)."""

    def locate(self, where: Sequence[str | int]) -> tuple[int, int]:
        """The place of a field, or of its nearest parent that exists."""
        key = tuple(where)
        while key:
            if key in self.places:
                line, column = self.places[key]
                return line + self.line_offset, column
            key = key[:-1]
        line, column = self.places.get((), (1, 1))
        return line + self.line_offset, column


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty one: for reading records that may be broken."""
    return value if isinstance(value, dict) else {}


def dotted(where: Sequence[str | int]) -> str:
    """``updates[2].message``: how a field is named in messages."""
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"
