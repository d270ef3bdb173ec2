"""Which bidi controls a record may hold: isolates in pairs, never overrides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents_cli.core.text import control_character, escape_for_terminal

HEBREW = "\u05dc\u05e7\u05d5\u05d7\u05d5\u05ea"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"for \u2068{HEBREW}\u2069 customers", None),  # FSI ... PDI, as chat clients paste
        (f"\u2067\u2066{HEBREW}\u2069\u2069", None),  # nested
        (f"for \u2068{HEBREW} customers", "\\u2068"),  # left open
        (f"for {HEBREW}\u2069 customers", "\\u2069"),  # closed, never opened
        (f"\u2068{HEBREW}\n\u2069", "\\u2068"),  # a line ends every isolate in it
        ("Pay\u202etnemyap\u202c down", "\\u202e"),  # an override, balanced or not
        ("caf\udce9", "\\udce9"),  # a byte that was not UTF-8
    ],
)
def test_isolates_pair_up_and_overrides_are_never_text(text: str, found: str | None) -> None:
    assert control_character(text) == found


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=40))
def test_text_without_bidi_controls_is_judged_as_before(text: str) -> None:
    plain = "".join(c for c in text if not ("\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069"))
    assert control_character(plain) is None
    assert escape_for_terminal(plain) == plain
