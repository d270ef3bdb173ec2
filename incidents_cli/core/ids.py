"""Incident ids as people remember them: ``12``, ``inc-12``, ``INC-0012`` all mean INC-0012.

Pure: the typed text, the repository's id prefix and the ids that exist go in; the id on
disk (or the canonical form of a new one) comes out, and for an id that does not exist the
closest open ones (difflib's similarity, ties broken by how near the numbers are).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[0-9]+$")
"""An incident id, as incident.schema.json has it (the file name without .yaml)."""

MIN_DIGITS = 4
"""New ids are numbered with at least this many digits (INC-0001): see lifecycle.next_id."""

_TYPED = re.compile(r"^#?(?:([A-Za-z][A-Za-z0-9]*?)[-_ ]?)?(\d+)$")
SUGGESTIONS = 3
_CUTOFF = 0.6


class IdInputError(ValueError):
    """Text that cannot be an incident id."""


def split_id(text: str) -> tuple[str | None, int]:
    """The prefix (None if only a number was typed) and the number of a typed id."""
    match = _TYPED.match(text.strip())
    if not match:
        raise IdInputError(
            f"{text.strip()!r} is not an incident id; write it like 12, inc-12 or INC-0012"
        )
    return match.group(1), int(match.group(2))


def canonical_id(text: str, prefix: str) -> str:
    """The id in the form the repository writes new ids: ``inc-12`` -> ``INC-0012``."""
    typed_prefix, number = split_id(text)
    if typed_prefix is None or typed_prefix.casefold() == prefix.casefold():
        typed_prefix = prefix
    else:
        typed_prefix = typed_prefix.upper()
    return f"{typed_prefix}-{number:0{MIN_DIGITS}d}"


def _key(incident_id: str) -> tuple[str, int] | None:
    try:
        prefix, number = split_id(incident_id)
    except IdInputError:
        return None
    return (prefix or "").casefold(), number


def resolve_id(text: str, prefix: str, known: Iterable[str]) -> str:
    """The existing id that ``text`` means, else its canonical form (which does not exist).

    An exact match wins; then the same prefix (any case) and the same number, whatever the
    zero padding (a hand-written INC-12 is found by ``12``).
    """
    typed = text.strip()
    canonical = canonical_id(typed, prefix)
    wanted = _key(canonical)
    ids = known if isinstance(known, (set, frozenset, dict)) else set(known)
    for exact in (typed, canonical):
        if exact in ids:
            return exact
    matches = [incident_id for incident_id in ids if _key(incident_id) == wanted]
    return matches[0] if len(matches) == 1 else canonical


def closest_ids(wanted: str, candidates: Sequence[str], limit: int = SUGGESTIONS) -> list[str]:
    """The candidates most like ``wanted`` (a canonical id), best first.

    Similar spelling first (difflib), then nearer numbers; if nothing is similar enough,
    the numerically nearest with the same prefix, so a responder always gets somewhere.
    """
    key = _key(wanted)
    number = key[1] if key else 0

    def distance(candidate: str) -> int:
        other = _key(candidate)
        if other is None or key is None or other[0] != key[0]:
            return 1 << 62
        return abs(other[1] - number)

    import difflib  # only for an id that does not exist: every transition parses one

    scored = []
    for candidate in candidates:
        ratio = difflib.SequenceMatcher(None, wanted.casefold(), candidate.casefold()).ratio()
        scored.append((-round(ratio, 2), distance(candidate), candidate))
    similar = sorted(s for s in scored if -s[0] >= _CUTOFF)
    if similar:
        return [c for _, _, c in similar[:limit]]
    same_prefix = sorted((d, c) for _, d, c in scored if d < 1 << 62)
    return [c for _, c in same_prefix[:limit]]


def unknown_id_message(wanted: str, open_ids: Sequence[str], detail: str = "") -> str:
    """One line for an id that does not exist, naming the closest open ones."""
    head = f"no incident {wanted}" + (f" ({detail})" if detail else "")
    near = closest_ids(wanted, open_ids)
    if near:
        return f"{head}; the closest open ones: {', '.join(near)}"
    return f"{head}; no incident is open (see `incidents list --all`)"
