"""Words for people in the command line's output: counts with the right plural, and the
overall status of the site in the words a person reads (not the API's indicator codes)."""

from __future__ import annotations

STATUS_WORDS = {
    "none": "operational",
    "maintenance": "under maintenance",
    "minor": "minor outage",
    "major": "partial outage",
    "critical": "major outage",
}
"""The Statuspage indicator of the whole site -> what `site build` says about it."""


def count(number: int, word: str, plural: str | None = None) -> str:
    """``1 file``, ``22 files``, ``0 public incidents``."""
    return f"{number} {word if number == 1 else plural or word + 's'}"


def status_words(indicator: str) -> str:
    return STATUS_WORDS.get(indicator, indicator)
