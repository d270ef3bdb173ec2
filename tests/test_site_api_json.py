"""The API's JSON (site/build.py _json): made by orjson where it is installed, it is to the
byte what Python's json.dumps(indent=2, ensure_ascii=False) writes, whatever the data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from incidents_cli.site.build import _dumps, _dumps_fast, _json

from .conftest import run_cli

TEXT = st.text(st.characters(blacklist_categories=("Cs",)))  # any character but surrogates
LEAVES = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | TEXT
VALUES = st.recursive(
    LEAVES, lambda inner: st.lists(inner) | st.dictionaries(TEXT, inner), max_leaves=40
)


@given(VALUES)
def test_the_fast_encoder_writes_pythons_bytes(data: Any) -> None:
    assert _dumps_fast(data) == _dumps(data)
    assert json.loads(_json(data)) == data


def test_what_the_fast_encoder_refuses_is_written_by_python_or_refused_as_before() -> None:
    for data in ({"big": 2**70}, {1: "an int key"}):
        assert _dumps_fast(data) == _dumps(data)
    for text in ("\ud800", {"title": "lone \udfff"}):
        try:
            _dumps(text)
        except UnicodeEncodeError:
            pass
        else:  # pragma: no cover
            raise AssertionError("Python's encoder wrote a lone surrogate as UTF-8")
        try:
            _dumps_fast(text)
        except UnicodeEncodeError:
            continue
        raise AssertionError("the fast encoder wrote a lone surrogate")  # pragma: no cover


def test_html_characters_are_escaped_and_the_document_ends_with_a_line_break() -> None:
    text = _json({"name": "<b>R&D</b> é", "list": [], "map": {}})
    assert text == (
        b'{\n  "name": "\\u003cb\\u003eR\\u0026D\\u003c/b\\u003e \xc3\xa9",\n'
        b'  "list": [],\n  "map": {}\n}\n'
    )


def test_the_api_holds_no_floats_whose_digits_the_two_encoders_write_apart(
    tmp_path: Path,
) -> None:
    # orjson writes 2e-07 as 2e-7: the API gives times as text and counts as integers, so
    # a site is the same bytes with orjson or without it (a platform without its wheel).
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    documents = sorted((demo / "_site" / "api" / "v2").rglob("*.json"))
    assert len(documents) == 8

    def no_float(text: str) -> float:
        raise AssertionError(f"a float in the API: {text}")

    for document in documents:
        data = json.loads(document.read_bytes(), parse_float=no_float)
        assert _json(data) == document.read_bytes()
