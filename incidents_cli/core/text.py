"""Text people type, checked on the way in and made harmless on the way out.

Control characters have no place in an incident: a newline in an actor name forges commit
trailers, an escape sequence in a title repaints a responder's terminal, and a C0 character
makes XML (feeds, badges) not well-formed. They are refused where the tool writes text,
reported where a record holds them, and escaped or dropped wherever text is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

# C0 controls and DEL and C1 controls (tab and newline are allowed in multi-line text only);
# the bidi embeddings and overrides, which make text read in another order than it is stored
# (a title shown backwards: the Trojan Source trick); and lone surrogates, which are not
# text at all (an argument from a terminal that is not UTF-8) and which no file can hold.
# The bidi isolates are allowed in balanced pairs within a line: that is how UAX #9 embeds
# right-to-left text, and what chat clients paste; an isolate left open or closed twice
# reorders what follows it, so it counts as a control character (``_unbalanced_isolate``).
_OVERRIDES_AND_SURROGATES = "\u202a-\u202e\ud800-\udfff"
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_OVERRIDES_AND_SURROGATES}]")
_CONTROL_ONE_LINE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_OVERRIDES_AND_SURROGATES}]")
# the isolates, and UAX #9's paragraph separators (class B), each of which ends every
# isolate open before it
_ISOLATES = re.compile("[\u2066-\u2069\n\r\x1c-\x1e\x85\u2029]")
_OPENERS = "\u2066\u2067\u2068"  # LRI, RLI, FSI; PDI (U+2069) closes the latest
_ANY_ISOLATE = re.compile("[\u2066-\u2069]")


def _written(character: str) -> str:
    """A character as people write it: ``\\x1b``, ``\\u202e``."""
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unfit_character(found: str) -> str:
    """What ``control_character`` found, named for a person."""
    if 0xD800 <= int(found[2:], 16) <= 0xDFFF:
        return f"{found} (text that is not UTF-8: from a terminal or file in another encoding?)"
    return f"control character {found}"


def control_character(text: str, *, one_line: bool = False) -> str | None:
    """The first control character of ``text`` as people write it (``\\x1b``), or None."""
    found = (_CONTROL_ONE_LINE if one_line else _CONTROL).search(text)
    return _written(found.group()) if found else _unbalanced_isolate(text)


def _unbalanced_isolate(text: str) -> str | None:
    """The first bidi isolate of ``text`` left open at the end of its line, or closed
    without being opened, as people write it; None when they all pair up."""
    unpaired = _unpaired_isolates(text)
    return _written(text[unpaired[0]]) if unpaired else None


def _unpaired_isolates(text: str) -> list[int]:
    """Where ``text`` holds a bidi isolate that does not pair up within its line, in
    order: an opener left open, a closer with nothing open."""
    if not _ANY_ISOLATE.search(text):
        return []
    unpaired: list[int] = []
    open_at: list[int] = []
    for found in _ISOLATES.finditer(text):
        character = found.group()
        if character in _OPENERS:
            open_at.append(found.start())
        elif character == "\u2069":
            if open_at:
                open_at.pop()
            else:
                unpaired.append(found.start())
        else:  # a line ends: so does every isolate in it
            unpaired += open_at
            open_at = []
    return sorted(unpaired + open_at)


def _unpaired_isolates_as(text: str, shown: Callable[[str], str]) -> str:
    """``text`` with each bidi isolate that does not pair up replaced by ``shown`` of it."""
    unpaired = set(_unpaired_isolates(text))
    if not unpaired:
        return text
    return "".join(shown(c) if i in unpaired else c for i, c in enumerate(text))


def _without_unpaired_isolates(text: str) -> str:
    return _unpaired_isolates_as(text, lambda _: "")


def first_line(text: str) -> str:
    """The first line of ``text`` as str.splitlines cuts it (a commit subject), with an
    isolate the cut leaves open left out."""
    lines = text.splitlines()
    return _without_unpaired_isolates(lines[0]) if lines else ""


def clip(text: str, limit: int, mark: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``mark`` when cut; an
    isolate the cut leaves open is left out (it would reorder what follows it, and no record
    may hold one)."""
    if len(text) <= limit:
        return text
    return _without_unpaired_isolates(text[: limit - len(mark)]) + mark


def control_characters_of(text: str) -> list[str]:
    """Every control character of ``text`` (multi-line), in order, then its first bidi
    isolate that does not pair up: two texts with the same are as safe as each other."""
    found: list[str] = _CONTROL.findall(text)
    unbalanced = _unbalanced_isolate(text)
    return found if unbalanced is None else [*found, unbalanced]


def control_characters_in(
    value: Any, where: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in ``value`` (a parsed record) that holds a control character: its
    place and the character. Keys are checked too."""
    if isinstance(value, str):
        found = control_character(value)
        if found:
            yield where, found
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and control_character(key, one_line=True):
                yield (*where, key), control_character(key, one_line=True) or ""
            yield from control_characters_in(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from control_characters_in(item, (*where, index))


def without_control_characters(text: str) -> str:
    """``text`` with every control character but newline and tab left out, and any lone
    surrogate (text that was never valid Unicode, which no file can hold): for text taken
    from elsewhere (a comment on an issue) into a record; and any bidi isolate that does not
    pair up."""
    return _without_unpaired_isolates(_CONTROL.sub("", text))


def escape_for_terminal(text: str) -> str:
    """``text`` with every control character but newline and tab written out (``\\x1b``),
    so printing it cannot move the cursor, retitle the window or hide what follows; and
    every bidi isolate that does not pair up, which would reorder what follows."""
    return _unpaired_isolates_as(_CONTROL.sub(lambda m: _written(m.group()), text), _written)


def escape_json_for_terminal(text: str) -> str:
    """JSON text whose C1 controls, DEL and bidi embeddings and overrides are written as
    escapes (json already escapes C0)."""
    return re.sub("[\x7f-\x9f\u202a-\u202e]", lambda m: f"\\u{ord(m.group()):04x}", text)


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _not_xml().sub("", text)


@cache
def _not_xml() -> re.Pattern[str]:
    """What XML 1.0 cannot hold at all (C1 controls are allowed there, but discouraged).
    Compiled on first use: only the site needs it, and its ranges beyond Latin-1 make it
    the slowest of these patterns to compile."""
    return re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def shorten(text: str, limit: int = 60) -> str:
    """A long value quoted in a message: its start and its length."""
    return text if len(text) <= limit else f"{clip(text, limit)} ({len(text)} characters)"
