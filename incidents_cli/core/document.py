"""A parsed record document: its data and the place (line, column) of every field.

Pure data, so the rules and the schema checks can name places without importing the YAML
libraries; store/yamlio.py builds these from files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from incidents_cli.core.errors import InputFileError

FieldPath = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed YAML document with the line and column (1-based) of every field."""

    path: str
    data: Any
    places: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    line_offset: int = 0
    problems: list[InputFileError] = field(default_factory=list)
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
