"""Safe reading and round-trip writing of YAML records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents_cli.core.errors import InputFileError
from incidents_cli.store import yamlio


def test_places_are_one_based_lines_and_columns() -> None:
    doc = yamlio.parse("a: 1\nb:\n  c: [x, y]\n", "f.yaml")
    assert doc.data == {"a": 1, "b": {"c": ["x", "y"]}}
    assert doc.locate(["a"]) == (1, 1)
    assert doc.locate(["b", "c"]) == (3, 3)
    assert doc.locate(["b", "c", 1]) == (3, 10)
    assert doc.locate(["b", "missing", 3]) == (2, 1)


def test_times_stay_text() -> None:
    doc = yamlio.parse("at: 2026-03-01T10:00:00Z\nday: 2026-03-01\n", "f.yaml")
    assert doc.data == {"at": "2026-03-01T10:00:00Z", "day": "2026-03-01"}


def test_duplicate_key_is_reported_with_both_lines() -> None:
    doc = yamlio.parse("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [(p.line, p.field) for p in doc.problems] == [(3, "a")]
    assert "first on line 1" in doc.problems[0].detail


def test_alias_bomb_is_refused_before_expansion() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    with pytest.raises(InputFileError) as caught:
        yamlio.parse(bomb, "bomb.yaml")
    assert caught.value.line == 1
    assert "anchor 'a' is not allowed" in caught.value.message


def test_custom_tags_are_refused() -> None:
    with pytest.raises(InputFileError, match="tag"):
        yamlio.parse("a: !!python/object:os.system x\n", "f.yaml")


def test_syntax_error_has_its_place() -> None:
    with pytest.raises(InputFileError) as caught:
        yamlio.parse("a: [1, 2\nb: 3\n", "f.yaml")
    assert caught.value.line == 2
    assert "YAML syntax error" in caught.value.message


def test_empty_and_multi_document_files() -> None:
    with pytest.raises(InputFileError, match="empty"):
        yamlio.parse("# nothing\n", "f.yaml")
    with pytest.raises(InputFileError, match="YAML syntax error"):
        yamlio.parse("a: 1\n---\nb: 2\n", "f.yaml")


def test_non_utf8_and_oversized_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InputFileError) as caught:
        yamlio.read_text(bad, "bad.yaml")
    assert (caught.value.line, caught.value.column) == (2, 7)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * yamlio.MAX_FILE_BYTES + b"\n")
    with pytest.raises(InputFileError, match="byte limit"):
        yamlio.read_text(big, "big.yaml")


def test_a_file_that_grows_past_the_limit_while_it_is_read_is_refused(tmp_path: Path) -> None:
    # A pipe measures 0 bytes and then gives more: read_bytes reads on to the end, as for a
    # file that grew since it was measured, and must still hold the limit.
    import contextlib
    import os
    import threading

    pipe = tmp_path / "growing.yaml"
    os.mkfifo(pipe)

    def grow() -> None:
        with contextlib.suppress(BrokenPipeError), pipe.open("wb") as writer:  # reader stops
            writer.write(b"a: " + b"x" * yamlio.MAX_FILE_BYTES * 2 + b"\n")

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        with pytest.raises(InputFileError, match="byte limit"):
            yamlio.read_bytes(pipe, "growing.yaml")
    finally:
        writer.join(timeout=10)


def test_front_matter_lines_count_from_the_file_start() -> None:
    doc, body, body_line = yamlio.parse_front_matter(
        "---\ntitle: x\nowner: y\n---\n# Body\n", "r.md"
    )
    assert doc.data == {"title": "x", "owner": "y"}
    assert doc.locate(["owner"]) == (3, 1)
    assert body == "# Body\n" and body_line == 5


def test_rewrite_keeps_comments_order_and_untouched_values() -> None:
    original = (
        "# The big one\n"
        "id: INC-0001\n"
        "title: DB down  # customers noticed first\n"
        "detected_at: 2026-03-01T10:00:00Z\n"
        "phase: detected\n"
        "timeline:\n"
        "  - at: 2026-03-01T10:00:00Z  # from the pager\n"
        "    text: declared\n"
    )
    new = yamlio.parse(original, "f.yaml").data
    new["phase"] = "acknowledged"
    new["timeline"].append({"at": "2026-03-01T10:05:00Z", "text": "ack"})
    new["acknowledged_at"] = "2026-03-01T10:05:00Z"
    text = yamlio.rewrite(original, new)
    assert text.startswith(
        "# The big one\nid: INC-0001\ntitle: DB down  # customers noticed first\n"
    )
    assert "detected_at: 2026-03-01T10:00:00Z\n" in text
    assert "# from the pager" in text
    assert yamlio.parse(text, "f.yaml").data == new


_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _values, min_size=1, max_size=6))
def test_dump_then_parse_gives_the_same_data(data: dict[str, Any]) -> None:
    assert yamlio.parse(yamlio.dump(data), "f.yaml").data == data


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(_keys, _values, min_size=1, max_size=6),
    st.dictionaries(_keys, _values, min_size=1, max_size=6),
)
def test_rewrite_gives_exactly_the_new_data(old: dict[str, Any], new: dict[str, Any]) -> None:
    text = yamlio.rewrite(yamlio.dump(old), new)
    assert yamlio.parse(text, "f.yaml").data == new


def test_write_atomic_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.yaml"
    yamlio.write_atomic(target, "a: 1\n")
    yamlio.write_atomic(target, "a: 2\n")
    assert target.read_text() == "a: 2\n"
    assert [p.name for p in target.parent.iterdir()] == ["a.yaml"]


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(_keys, _values, min_size=1, max_size=6),
    st.dictionaries(_keys, _values, min_size=1, max_size=6),
)
def test_rewrite_of_a_file_in_the_layout_is_the_layout_of_the_new_data(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    # Keys in both, some values kept: what a transition does to a record the tool wrote.
    new = {**{k: v for k, v in old.items() if len(k) % 2}, **new}
    assert yamlio.rewrite(yamlio.dump(old), new) == yamlio.dump(new)


def test_rewrite_leaves_the_lines_of_unchanged_fields_as_a_person_wrote_them() -> None:
    original = (
        "id: INC-0001\n"
        "title: 'DB down'  # customers noticed first\n"
        "phase: detected\n"
        "components: [api, web]\n"
    )
    new = {**yamlio.parse(original, "f.yaml").data, "phase": "acknowledged"}
    new["acknowledged_at"] = "2026-03-01T10:05:00Z"
    assert yamlio.rewrite(original, new) == (
        "id: INC-0001\n"
        "title: 'DB down'  # customers noticed first\n"
        "phase: acknowledged\n"
        "components: [api, web]\n"
        "acknowledged_at: '2026-03-01T10:05:00Z'\n"
    )


def test_pyyamls_pure_python_reader_still_refuses_what_is_not_printable() -> None:
    """PyYAML's pure-Python reader, used where libyaml is missing, refuses control characters."""
    import yaml

    from incidents_cli.store import yamlio

    assert yamlio._pyyaml().scalar is yaml.ScalarNode  # the PyYAML that parse reads with
    with pytest.raises(yaml.reader.ReaderError):
        yaml.load("title: bell\x07\n", Loader=yaml.SafeLoader)
    assert yaml.load("title: café\n", Loader=yaml.SafeLoader) == {"title": "café"}


@pytest.mark.parametrize(
    ("old", "place"),
    [("id: INC-0001\ntitle: [half typed\n", "f.yaml:3:1:"), ("a: 1\na: 2\n", "f.yaml:2:1:")],
    ids=["scanner", "duplicate-key"],
)
def test_rewrite_of_a_text_that_is_not_yaml_is_an_input_error_at_its_place(
    old: str, place: str
) -> None:
    """ruamel's own errors (a half-typed save read back by a transition) are said as the
    file's, never a traceback of ruamel's lines."""
    with pytest.raises(InputFileError) as raised:
        yamlio.rewrite(old, {"id": "INC-0001", "title": "x"}, "f.yaml")
    assert raised.value.message.startswith(place), raised.value.message
    assert "\n" not in raised.value.message
