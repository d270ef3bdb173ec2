"""Hold the fast YAML path to exactly the records of the PyYAML path, and time both.

    python benchmarks/yaml_differential.py [PATH ...] [--examples N] [--speed]

``incidents_cli.store.yamlio.parse_unplaced`` reads a text with yaml-rs (a Rust YAML 1.2
parser) when a scan shows the text free of everything where YAML 1.2 and PyYAML's YAML 1.1
could differ, and with ``parse`` (PyYAML's C loader and our own tree building) otherwise.
This script compares the two on every record file under each PATH (a repository, a folder
of examples, a file; Markdown files by their front matter) and on ``--examples`` YAML
documents made by hypothesis from the spellings where the two parsers differ, and fails if
any data, type, key order or error differs. With no PATH it reads the repository's own
examples and shipped runbooks. ``--speed`` also times, per PATH, PyYAML's C loader alone
(issue #20's floor), ``parse``, the scan, ``parse_unplaced``, and every other fast YAML
library that is installed, in CPU seconds.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from incidents_cli.core.errors import InputFileError
from incidents_cli.store import yamlio

HERE = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = [HERE / "tests" / "examples", HERE / "runbooks", HERE / "tests" / "data"]
SUFFIXES = (".yaml", ".yml", ".md")


# --- what "the same record" means ----------------------------------------------------------


def identical(a: Any, b: Any) -> bool:
    """Equal data of equal types, mappings in the same order (True is not 1, 1 is not 1.0,
    and NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and repr(a) == repr(b))
    return bool(a == b)


Outcome = tuple[str, Any]


def outcome(read: Callable[[str, str, int], Any], text: str, line_offset: int) -> Outcome:
    """What a reader makes of a text: its data and problems, or its error."""
    try:
        doc = read(text, "f.yaml", line_offset)
    except InputFileError as exc:
        return ("error", str(exc))
    except Exception as exc:  # a bug of either reader: a difference to show, not a stop
        return ("crash", repr(exc))
    return ("data", (doc.data, [str(p) for p in doc.problems]))


def same(a: Outcome, b: Outcome) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return bool(a[1] == b[1])
    return identical(a[1][0], b[1][0]) and a[1][1] == b[1][1]


class Tally:
    def __init__(self) -> None:
        self.texts = 0
        self.fast = 0
        self.differences: list[str] = []

    def check(self, text: str, where: str, line_offset: int = 0) -> None:
        self.texts += 1
        if yamlio.fast_reads(text):
            self.fast += 1
        slow = outcome(yamlio.parse, text, line_offset)
        fast = outcome(yamlio.parse_unplaced, text, line_offset)
        if not same(slow, fast):
            self.differences.append(f"{where}: parse {slow!r}\n  parse_unplaced {fast!r}")

    def line(self, name: str) -> str:
        return (
            f"{name}: {self.texts} texts, {self.fast} on the fast path, "
            f"{len(self.differences)} differences"
        )


# --- the corpus: record files --------------------------------------------------------------


def record_texts(path: Path) -> Iterator[tuple[str, str, int]]:
    """(text, where, line offset) of every record file under a path (front matter of
    Markdown files; a file without front matter is left out)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if file.suffix not in SUFFIXES or ".git" in file.parts:
            continue
        try:
            text = file.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if file.suffix == ".md":
            try:
                front, _, _ = yamlio.split_front_matter(text, str(file))
            except InputFileError:
                continue
            yield front, str(file), 1
        else:
            yield text, str(file), 0


# --- the corpus: YAML made by hypothesis ---------------------------------------------------

# Plain spellings where YAML 1.1 (PyYAML) and YAML 1.2 (yaml-rs) differ, or agree, or that
# are not plain scalars at all, and characters that matter to either.
TRICKY = [
    *[
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "y",
        "Y",
        "n",
        "N",
    ],
    *[
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "tRue",
        "null",
        "Null",
        "NULL",
        "~",
        "none",
        "None",
    ],
    *[
        "0",
        "-0",
        "+0",
        "00",
        "012",
        "-012",
        "08",
        "09",
        "0o12",
        "0O12",
        "0x1F",
        "0X1f",
        "-0x1F",
        "0x_1F",
        "0b101",
        "+0b11",
        "0b",
    ],
    *["1", "12", "+12", "-12", "1_000", "1__0", "9223372036854775808", "-9223372036854775809"],
    *["1:30", "-1:30", "190:20:30.15", "10:42:38", "09:42:38", "1:60"],
    *[
        "1.0",
        "-1.0",
        "0.5",
        ".5",
        "+.5",
        "-.5",
        "1.",
        "0.",
        "3.14",
        "09.5",
        "1_000.5",
        "100_.5",
        "._5",
        "-0.0",
        "1.10",
    ],
    *["1e3", "1E3", "1e-3", "1.5e+3", "1.5E+3", "1.5E3", "6.8523015e+5", "1.0e+0"],
    *[
        ".inf",
        "-.inf",
        "+.inf",
        ".Inf",
        "-.INF",
        ".nan",
        ".NaN",
        ".NAN",
        "NaN",
        "nan",
        "INF",
        "inf",
    ],
    *["2021-11-02", "2021-11-02T09:42:38Z", "2021-11-02t09:42:38z", "2021-11-02T09:42:38"],
    *["2021-11-02T09:42:38.5+01:00", "2021-11-02T09:42:38+0100", "2021-1-2", "2021-13-45"],
    "2021-11-02 09:42:38 +1",
    *[
        "=",
        "<<",
        "-",
        "--",
        "---",
        "...",
        "?",
        ":",
        ":x",
        "x:",
        "#",
        "a#b",
        "@x",
        "`x",
        "%x",
        "!x",
        "!!str",
        "&x",
        "*x",
        "|",
        ">",
        "|-",
        ">+",
        "|2",
    ],
    *[
        "[a]",
        "[]",
        "{}",
        "{a:",
        "1}",
        "[1,",
        "yes]",
        "]",
        "}",
        ",",
        "'x",
        "'x'",
        '"x"',
        'x"',
        "é",
        "ü",
        "☃",
        "𝄞",
    ],
    *[
        "a",
        "b",
        "c",
        "INC-0001",
        "high",
        "resolved",
        "web-api",
        "x_y",
        "x.y",
        "a/b",
        "http://x.example/y?z=1",
    ],
    "hello world",
    "a: b",
    "a - b",
    "a # b",
    "Why? Because",
    " leading",
    "trailing ",
    "",
    "\t",
    "tab\there",
    "\u00a0",
    "\u2028",
    "\u2029",
    "\x85",
    "\ufeff",
    "\x7f",
    "\x01",
    "back\\slash",
    "1" * 4400,
    "1" * 19,
    "0." + "1" * 20,
]

KEYS = [
    *["a", "b", "id", "at", "status", "x_y", "é"],
    "1",
    "true",
    "yes",
    "null",
    "~",
    "<<",
    "=",
    "012",
]


def _single_quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _double_quoted(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + out.replace("\t", "\\t") + '"'


@st.composite
def scalar_text(draw: st.DrawFn) -> str:
    """A scalar as it may be written: plain, quoted, with a comment, over lines."""
    value = draw(st.sampled_from(TRICKY) | st.text(st.sampled_from("ab 0:1-.#'\"\\\n"), max_size=6))
    style = draw(st.sampled_from(["plain", "plain", "plain", "single", "double", "comment"]))
    if style == "single":
        return _single_quoted(value)
    if style == "double":
        return _double_quoted(value)
    if style == "comment":
        return value + draw(st.sampled_from([" # c", " #c", "#c", "  # yes", " ", "  "]))
    return value


@st.composite
def block_scalar(draw: st.DrawFn, indent: int) -> str:
    header = draw(st.sampled_from(["|", ">", "|-", ">-", "|+", ">+", "|2", ">1-"]))
    pad = " " * (indent + draw(st.integers(1, 3)))
    lines = draw(st.lists(st.sampled_from(["x", "yes", " y", "", "  z", "012", "a b"]), max_size=4))
    return header + "".join("\n" + (pad + line if line else "") for line in lines)


@st.composite
def node(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> tuple[str, bool]:
    """(text, whether it is a block collection that must start on a new line)."""
    kinds = ["scalar", "scalar", "block"]
    if depth < 4:
        kinds += ["map", "seq", "flow"]
    kind = draw(st.sampled_from(kinds))
    if kind == "scalar":
        return draw(scalar_text()), False
    if kind == "block":
        return draw(block_scalar(indent)), False
    if kind == "flow":
        items = draw(st.lists(st.sampled_from(TRICKY[:60]), max_size=3))
        if draw(st.booleans()):
            return "[" + ", ".join(items) + "]", False
        return "{" + ", ".join(f"k{i}: {v}" for i, v in enumerate(items)) + "}", False
    step = draw(st.integers(1, 4))
    pad = " " * indent
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        child_indent = indent + step
        child, block = draw(node(child_indent, depth + 1))
        gap = draw(st.sampled_from([" ", " ", "  "]))
        if kind == "map":
            key = draw(st.sampled_from(KEYS) | scalar_text())
            head = f"{pad}{key}:"
        else:
            head = f"{pad}-"
            if draw(st.booleans()) and not block:
                child_indent = indent + 2
        if block:
            lines.append(f"{head}\n{child}")
        elif child.startswith(("|", ">")) or "\n" not in child:
            lines.append(f"{head}{gap}{child}")
        else:
            lines.append(f"{head}{gap}{child}")
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", f"{pad}# note", f"{pad}  more words"])))
    return "\n".join(lines) or f"{pad}{{}}", kind in ("map", "seq") and bool(lines)


@st.composite
def yaml_documents(draw: st.DrawFn) -> str:
    text, _ = draw(node())
    text += draw(st.sampled_from(["\n", "\n", "", "\n\n", "\n...\n", "\n---\nb: 1\n"]))
    prefix = draw(st.sampled_from(["", "", "", "# yaml-language-server: $schema=x\n", "---\n"]))
    text = prefix + text
    if draw(st.integers(0, 9)) == 0:
        text = text.replace("\n", "\r\n")
    return text


@st.composite
def mutated_records(draw: st.DrawFn, texts: list[str]) -> str:
    """A real record with a few characters put in, taken out or changed."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(TRICKY) | st.sampled_from(list(" \n:-#'\"[]{},&*!|>?%\t")))
        if edit == "insert":
            text = text[:at] + piece + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        else:
            end = text.find("\n", at)
            text = text[:at] + piece + (text[end:] if end >= 0 else "")
    return text


def raw_texts() -> st.SearchStrategy[str]:
    """Short texts of the characters that matter to YAML (for what one parser refuses and
    the other reads), and long keys (over YAML's 1024 characters of an implicit key)."""
    return st.text(st.sampled_from(" \n-:#'\"ab01?[]{},.|>_~"), max_size=40) | st.builds(
        lambda n, tail: "k" * n + tail,
        st.integers(1000, 1100),
        st.sampled_from([": x\n", ":\n  a: 1\n", ": 'x'\n"]),
    )


def run_hypothesis(examples: int, seeds: list[str], tally: Tally) -> None:
    from hypothesis import HealthCheck, given, settings

    checks = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    strategy = yaml_documents() | raw_texts()
    if seeds:
        strategy = strategy | mutated_records(seeds)

    @checks
    @given(strategy)
    def compare(text: str) -> None:
        tally.check(text, f"hypothesis {text!r}")

    compare()


# --- speed ---------------------------------------------------------------------------------


def _other_libraries() -> list[tuple[str, Callable[[str], Any]]]:
    """The fast YAML libraries this evaluation looked at, where installed."""
    out: list[tuple[str, Callable[[str], Any]]] = []
    for name, module, function in (
        ("yaml-rs loads (parse_datetime=False)", "yaml_rs", "loads"),
        ("ryaml loads", "ryaml", "loads"),
        ("fastyaml-rs safe_load", "fast_yaml", "safe_load"),
        ("pyyaml-rs safe_load", "pyyaml_rs", "safe_load"),
        ("libfyaml loads", "libfyaml", "loads"),
        ("rapidyaml parse_in_arena (no Python objects)", "ryml", "parse_in_arena"),
    ):
        try:
            loaded = getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError):
            continue
        if module == "yaml_rs":
            out.append((name, functools.partial(loaded, parse_datetime=False)))
        elif module == "ryml":
            out.append((name, lambda text, f=loaded: f(text.encode())))  # type: ignore[misc]
        else:
            out.append((name, loaded))
    return out


def speed(path: Path) -> list[str]:
    """CPU seconds of each way to read the incidents and postmortem front matter of a
    repository (as the floor of issue #20 reads them)."""
    import yaml

    texts = [text for text, _, _ in record_texts(path / "incidents")]
    texts += [text for text, _, _ in record_texts(path / "postmortems")]
    ways: list[tuple[str, Callable[[str], Any]]] = [
        ("PyYAML CSafeLoader load (the floor)", lambda t: yaml.load(t, Loader=yaml.CSafeLoader)),
        ("yamlio.parse (today: places and checks)", lambda t: yamlio.parse(t, "f")),
        ("yamlio.fast_reads (the scan alone)", yamlio.fast_reads),
        (
            "yamlio.parse_unplaced (scan + yaml-rs or parse)",
            lambda t: yamlio.parse_unplaced(t, "f"),
        ),
        *_other_libraries(),
    ]
    out = [f"{path}: {len(texts)} texts, {sum(map(yamlio.fast_reads, texts))} on the fast path"]
    floor = 0.0
    for name, read in ways:
        gc.collect()
        gc.disable()
        start = time.process_time()
        try:
            for text in texts:
                read(text)
        except Exception as exc:  # another library's refusal is a result, not a crash
            out.append(f"  {name}: failed ({type(exc).__name__})")
            continue
        finally:
            gc.enable()
        spent = time.process_time() - start
        floor = floor or spent
        out.append(f"  {name}: {spent:.2f} s cpu ({spent / floor:.2f}x floor)")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--examples", type=int, default=2000, help="hypothesis documents")
    parser.add_argument("--speed", action="store_true", help="time the readers per PATH")
    args = parser.parse_args()
    if not yamlio.fast_path_available():
        print("yaml-rs is not installed: parse_unplaced is parse, nothing to compare")
        return 1
    paths: list[Path] = args.paths or DEFAULT_PATHS
    seeds: list[str] = []
    failed = False
    for path in paths:
        tally = Tally()
        for text, where, offset in record_texts(path):
            tally.check(text, where, offset)
            if len(seeds) < 200:
                seeds.append(text)
        print(tally.line(str(path)))
        for difference in tally.differences[:20]:
            print("  " + difference)
        failed = failed or bool(tally.differences)
        if args.speed and (path / "incidents").is_dir():
            print("\n".join(speed(path)))
    if args.examples:
        tally = Tally()
        run_hypothesis(args.examples, seeds, tally)
        print(tally.line(f"hypothesis ({args.examples} documents)"))
        for difference in tally.differences[:20]:
            print("  " + difference)
        failed = failed or bool(tally.differences)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
