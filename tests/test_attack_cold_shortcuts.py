"""Attacks on two shortcuts of cold2k (8119a36, 4c73154), as a hostile incident author.

1. site/render.py's ``markdown`` renders a text it judges plain without the parser: its
   output must be byte-identical to markdown-it's (commonmark, raw HTML off, images off) for
   every text, and nothing a person types may inject markup.
2. core/timeutil.parse_time is cached, and store/schemas._clean finds time-shaped strings in
   one regex scan over the joined strings: both must answer as the code at 44308d0 did.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import git
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from incidents_cli.core.timeutil import TimeFormatError, parse_time
from incidents_cli.site.render import markdown
from incidents_cli.store import schemas

from .conftest import run_cli

# --- 1. Markdown: the plain path against markdown-it itself ------------------------------


@cache
def _reference() -> Any:
    """markdown-it made here, with the options render.py promises (not render's own)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    return md


_PLAIN_CHARS = list("abcXYZ0123456789 ,.;:'()?!%/-")
_SPECIAL = [
    *"<>&\"'\\#>-+*=_`~|[]\t\n\r\x00\x0b\x0c\u00a0\u2028\u3000",
    "&amp;",
    "&#x27;",
    "&copy;",
    "&#0;",
    "    ",
    "  \n",
    "\\\n",
    "\r\n",
    "1.",
    "1)",
    "12345678901.",
    "```",
    "~~~",
    "<http://a.b>",
    "http://x.y",
    "www.x.y",
    "(c)",
    "--",
    "---",
    "===",
    "[a]: /u",
    "**",
    "__",
    "\u0663",  # Arabic-Indic three
    "\uff15",  # fullwidth five
]
# Mostly the characters the plain path accepts, with the syntax people type mixed in.
_texts = st.lists(
    st.one_of(
        st.sampled_from(_PLAIN_CHARS), st.sampled_from(_PLAIN_CHARS), st.sampled_from(_SPECIAL)
    ),
    max_size=24,
).map("".join)
_indent = st.text(alphabet=" ", max_size=6)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_indent, _texts, _indent)
@example("    ", "5xx errors in the API", "")
def test_markdown_is_byte_identical_to_markdown_it_for_every_text(
    before: str, text: str, after: str
) -> None:
    whole = before + text + after
    assert str(markdown(whole)) == _reference().render(whole)


@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_indent, _texts, _indent)
def test_markdown_matches_markdown_it_where_a_line_is_not_indented_four(
    before: str, text: str, after: str
) -> None:
    """What held: everything but the indented line (the failing test above)."""
    whole = before + text + after
    if re.match(r" {4}", whole):
        whole = whole.lstrip(" ")
    assert str(markdown(whole)) == _reference().render(whole)


@pytest.mark.parametrize(
    "text",
    [
        "    5xx errors in the API",  # at 44308d0 the parser rendered it (a code block)
        "     503 from the load balancer",
        "    Sign-in is slow",  # the letter path: the same shortcut, older
        "        Fixed",
    ],
)
def test_an_indented_line_is_the_code_block_markdown_it_makes(text: str) -> None:
    assert str(markdown(text)) == _reference().render(text)
    assert str(markdown(text)).startswith("<pre><code>")


def _write_indented_update(repo: Path, message: str) -> None:
    assert (
        run_cli("declare", "API errors", "--severity", "high", "--component", "api", cwd=repo).code
        == 0
    )
    update = ("update", "INC-0001", "--status", "investigating", "--message", "PLACEHOLDER")
    assert run_cli(*update, cwd=repo).code == 0
    record = repo / "incidents" / "INC-0001.yaml"
    text = record.read_text(encoding="utf-8")
    assert "    message: PLACEHOLDER\n" in text
    record.write_text(text.replace("PLACEHOLDER", repr(message)), encoding="utf-8")
    g = git.Repo(repo)
    g.git.add("-A")
    g.index.commit("An update written by hand, indented")


def test_an_indented_update_is_published_as_markdown_it_renders_it(
    repo: Path, tmp_path: Path
) -> None:
    message = "    5xx errors in the API"
    _write_indented_update(repo, message)
    assert run_cli("validate", cwd=repo).code == 0  # a valid record: it is published
    out = tmp_path / "site"
    result = run_cli("site", "build", "--out", str(out), cwd=repo)
    assert result.code == 0, result.err
    expected = _reference().render(message)  # <pre><code>5xx errors in the API\n</code></pre>
    for page in ("incidents/INC-0001.html", "index.html"):
        shown = (out / page).read_text(encoding="utf-8")
        assert "5xx errors in the API" in shown, page
        assert expected in shown, page
    atom = (out / "history.atom").read_text(encoding="utf-8")
    assert "&lt;pre&gt;&lt;code&gt;5xx errors in the API" in atom


_ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:x">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "[a]: javascript:alert(1)\n\n[a]",
    "[x](vbscript:x)",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](file:///etc/passwd)",
    "![x](http://evil/x.png)",
    '[x](http://a "t" onmouseover=alert(1)")',
    "    <script>alert(1)</script>",
    "Sign-in <b>slow</b>",
    "5xx <b>errors</b>",
]


@pytest.mark.parametrize("text", _ATTACKS)
def test_nothing_typed_injects_markup(text: str) -> None:
    html = str(markdown(text))
    assert html == _reference().render(text)
    assert not re.search(r"<(script|img|b>)", html)
    assert not re.search(r"href=\"(javascript|vbscript|data|file):", html, re.IGNORECASE)


@settings(max_examples=3000, deadline=None)
@given(_texts)
def test_markdown_output_never_holds_a_tag_the_text_typed(text: str) -> None:
    html = str(markdown(text))
    # every tag comes from markdown-it's own small set, with only its own attributes
    for tag in re.findall(r"<([a-z0-9]+)([^>]*)>", html):
        assert tag[0] in {
            "p",
            "br",
            "em",
            "strong",
            "code",
            "pre",
            "a",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "ul",
            "ol",
            "li",
            "blockquote",
        }, html
        assert re.fullmatch(r'( (href|start|class|title)="[^"<>]*")*( /)?', tag[1]), html


# --- 2. Times: the cached parse_time and the one-scan _clean, against 44308d0 -------------

# Copied from 44308d0:incidents_cli/core/timeutil.py (before the lru_cache).
_RFC3339 = r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
TIME_HINT = "write it like 2026-03-01T14:05:00Z or 2026-03-01T15:05:00+01:00"
EARLIEST_YEAR = 1970
LATEST_YEAR = 2999
TIME_SHAPE = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}"


def _old_in_range(value: datetime, text: str) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise TimeFormatError(f"{text!r} is out of range (years {EARLIEST_YEAR} to {LATEST_YEAR})")
    return value


def old_parse_time(text: str) -> datetime:
    if len(text) == 20 and text[19] == "Z" and text[10] == "T" and text[:4].isdigit():
        try:
            return _old_in_range(datetime.fromisoformat(text), text)
        except ValueError:
            pass
    match = re.match(_RFC3339, text.strip())
    if not match:
        raise TimeFormatError(f"{text!r} is not an RFC 3339 time; {TIME_HINT}")
    if match.group(8) is None:
        raise TimeFormatError(f"{text!r} has no UTC offset; {TIME_HINT}")
    normalized = text.strip().replace("z", "Z").replace("t", "T").replace(" ", "T")
    try:
        value = datetime.fromisoformat(normalized)
    except ValueError as exc:
        raise TimeFormatError(f"{text!r} is not a valid time: {exc}") from None
    _old_in_range(value, text)
    return _old_in_range(value.astimezone(UTC), text)


# Copied from 44308d0:incidents_cli/store/schemas.py
def old_clean(data: Any, *, keys: bool) -> bool:
    from incidents_cli.core.text import control_character

    values: list[str] = []
    names: list[str] = []
    schemas._gather(data, values, names)
    if control_character("".join(values)):
        return False
    if keys and control_character("".join(names), one_line=True):
        return False
    shape = re.compile(TIME_SHAPE)
    for value in values:
        if shape.match(value):
            try:
                old_parse_time(value)
            except TimeFormatError:
                return False
    return True


def _answer(parse: Any, text: str) -> tuple[str, Any]:
    try:
        value = parse(text)
    except TimeFormatError as exc:
        return "refused", str(exc)
    except Exception as exc:  # a crash must be the same crash
        return "crash", type(exc).__name__
    assert type(value) is datetime
    return "time", (value, value.tzinfo, value.utcoffset(), value.isoformat())


_digits = st.sampled_from(list("0123456789") * 4 + ["\u0663", "\uff15", "\u0e53", "\u00b2"])
_time_parts = st.tuples(
    st.sampled_from(
        ["2026", "1970", "1969", "2999", "3000", "0001", "9999", "\u0662\u0660\u0662\u0666"]
    ),
    st.sampled_from(["01", "02", "12", "13", "00", "\uff10\uff11"]),
    st.sampled_from(["01", "28", "29", "30", "31", "00", "32"]),
    st.sampled_from(["T", "t", " ", "_", "  "]),
    st.sampled_from(["00", "23", "24", "\u0661\u0660"]),
    st.sampled_from(["00", "59", "60"]),
    st.sampled_from(["00", "59", "60", "61"]),
    st.one_of(
        st.just(""), st.text(alphabet=_digits, min_size=0, max_size=12).map(lambda d: "." + d)
    ),
    st.sampled_from(
        [
            "Z",
            "z",
            "",
            "+00:00",
            "-00:00",
            "+24:00",
            "+23:59",
            "-23:59",
            "+05:30",
            "+05:30:15",
            "+0530",
            "+05",
            "UTC",
            "+05:30.5",
            "Zz",
        ]
    ),
    st.sampled_from(["", " ", "\n", "\t", "\u00a0", "\u2028", "  "]),
    st.sampled_from(["", " ", "\n", "\t", "\u00a0", "x"]),
)


def _joined(p: tuple[str, ...]) -> str:
    year, month, day, sep, hour, minute, second, fraction, offset, lead, tail = p
    return f"{lead}{year}-{month}-{day}{sep}{hour}:{minute}:{second}{fraction}{offset}{tail}"


_times = st.one_of(
    _time_parts.map(_joined),
    st.text(max_size=30),
    st.text(alphabet="0123456789-:TtZz+. ", max_size=40),
)


@settings(max_examples=6000, deadline=None)
@given(_times)
@example("2026-03-01T10:00:00Z")
@example("2026-03-01T10:00:00.123456789+05:30")
@example("2026-12-31T23:59:60Z")
@example(" 2026-03-01t10:00:00z ")
@example("2026-03-01T10:00:00" + "0" * 5000 + "Z")
def test_cached_parse_time_answers_as_the_old_one_every_time(text: str) -> None:
    old = _answer(old_parse_time, text)
    assert _answer(parse_time, text) == old
    assert _answer(parse_time, text) == old  # the cache's answer: the same
    assert _answer(parse_time, str(text)) == old


def test_a_cached_time_cannot_be_changed_by_the_caller() -> None:
    first = parse_time("2026-03-01T15:05:00+05:30")
    with pytest.raises((AttributeError, TypeError)):
        first.tzinfo = None  # type: ignore[misc]
    changed = first.replace(tzinfo=None)
    assert changed is not first
    again = parse_time("2026-03-01T15:05:00+05:30")
    assert again == datetime(2026, 3, 1, 9, 35, tzinfo=UTC)
    assert again.tzinfo is UTC


_leaf = st.one_of(_times, st.integers(), st.booleans(), st.none())
_records = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_times, st.text(max_size=5)), inner, max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records, st.booleans())
def test_one_scan_clean_answers_as_the_old_loop(data: Any, keys: bool) -> None:
    """The one scan answers as the old loop over every string, but for a string merely
    shaped like a time: since fix8a that is checked only where the schema says a field is
    a time or a date, so what the old loop passed the scan passes, and where no string is
    shaped like a time or a date the two answer the same."""
    new = schemas._clean("incident", data, keys=keys)
    old = old_clean(data, keys=keys)
    assert new or not old
    values: list[str] = []
    names: list[str] = []
    schemas._gather(data, values, names)
    shaped = re.compile(f"{TIME_SHAPE}|[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}")
    if not any(shaped.search(text) for text in values + names):
        assert new == old
