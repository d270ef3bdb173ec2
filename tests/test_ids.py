"""Incident ids as people remember them (the pure part; commands are tested through the CLI)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents_cli.core.ids import (
    ID_PATTERN,
    IdInputError,
    canonical_id,
    closest_ids,
    resolve_id,
    unknown_id_message,
)


@pytest.mark.parametrize(
    ("typed", "prefix", "expected"),
    [
        ("12", "INC", "INC-0012"),
        ("inc-12", "INC", "INC-0012"),
        ("INC-0012", "INC", "INC-0012"),
        ("Inc-012", "INC", "INC-0012"),
        ("inc12", "INC", "INC-0012"),
        ("#12", "INC", "INC-0012"),
        (" 12 ", "INC", "INC-0012"),
        ("0012", "INC", "INC-0012"),
        ("12345", "INC", "INC-12345"),
        ("7", "OPS", "OPS-0007"),
        ("ops-7", "OPS", "OPS-0007"),
        ("inc-7", "OPS", "INC-0007"),  # another prefix is kept (an older one, say)
        ("sev1-3", "SEV1", "SEV1-0003"),
        ("3", "Sec", "Sec-0003"),
    ],
)
def test_every_way_of_typing_an_id_gives_the_written_form(
    typed: str, prefix: str, expected: str
) -> None:
    assert canonical_id(typed, prefix) == expected
    assert ID_PATTERN.match(expected)


@pytest.mark.parametrize("typed", ["", "inc-", "INC-12a", "twelve", "-12", "12-INC", "INC--12"])
def test_text_that_is_no_id_is_refused_with_examples(typed: str) -> None:
    with pytest.raises(IdInputError, match="write it like 12, inc-12 or INC-0012"):
        canonical_id(typed, "INC")


def test_an_existing_id_is_found_whatever_its_padding() -> None:
    known = ["INC-0001", "INC-12", "INC-0100", "OPS-0003"]
    assert resolve_id("12", "INC", known) == "INC-12"  # written by hand without padding
    assert resolve_id("inc-0012", "INC", known) == "INC-12"
    assert resolve_id("1", "INC", known) == "INC-0001"
    assert resolve_id("ops-3", "INC", known) == "OPS-0003"
    assert resolve_id("100", "INC", known) == "INC-0100"
    assert resolve_id("7", "INC", known) == "INC-0007"  # does not exist: the canonical form


def test_an_exact_match_wins_over_a_differently_padded_twin() -> None:
    assert resolve_id("INC-12", "INC", ["INC-0012", "INC-12"]) == "INC-12"
    assert resolve_id("12", "INC", ["INC-0012", "INC-12"]) == "INC-0012"


@given(number=st.integers(0, 10**6), prefix=st.from_regex(r"[A-Za-z][A-Za-z]{0,5}", fullmatch=True))
def test_the_written_form_of_a_number_resolves_to_itself(number: int, prefix: str) -> None:
    written = f"{prefix}-{number:04d}"
    for typed in (str(number), f"{prefix.lower()}-{number}", written):
        assert resolve_id(typed, prefix, [written]) == written


def test_the_closest_open_ids_are_similar_and_near() -> None:
    open_ids = ["INC-0011", "INC-0013", "INC-0120", "INC-0021", "INC-0500"]
    assert closest_ids("INC-0012", open_ids) == ["INC-0011", "INC-0013", "INC-0021"]
    assert closest_ids("INC-0012", []) == []
    # a prefix typo still finds the same number first
    assert closest_ids("INX-0012", ["INC-0012", "INC-0400"])[0] == "INC-0012"


def test_far_ids_still_suggest_the_nearest_with_the_same_prefix() -> None:
    assert closest_ids("INC-98765", ["INC-0001", "INC-0002"]) == ["INC-0002", "INC-0001"]


def test_the_unknown_id_message_names_the_closest_open_ones() -> None:
    assert unknown_id_message("INC-0012", ["INC-0011", "INC-0013"]) == (
        "no incident INC-0012; the closest open ones: INC-0011, INC-0013"
    )
    assert unknown_id_message("INC-0012", [], "incidents/INC-0012.yaml does not exist") == (
        "no incident INC-0012 (incidents/INC-0012.yaml does not exist); "
        "no incident is open (see `incidents list --all`)"
    )
