"""Safe YAML reading with line numbers, round-trip rewriting, and atomic writes.

The one module that imports the YAML libraries: PyYAML's C loader for fast, safe reading
(with the place of every value, for error messages), and ruamel.yaml only to rewrite a file
a person may have edited, keeping their comments and key order.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from incidents_cli.core.document import Document, FieldPath, dotted
from incidents_cli.core.errors import InputFileError

if TYPE_CHECKING:
    import yaml

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Records are small; anything bigger is a mistake (or an attack on CI)."""


_STR = "tag:yaml.org,2002:str"


class _PyYAML(NamedTuple):
    """What ``parse`` uses of PyYAML. Imported on first use, not with this module: a
    command that reads its records with yaml-rs (a rebuild of the site after one change)
    never needs PyYAML, whose import compiles a dozen regular expressions."""

    loader: type[Any]
    scalar: type[yaml.ScalarNode]
    sequence: type[yaml.SequenceNode]
    mapping: type[yaml.MappingNode]
    converters: dict[str, Callable[[yaml.ScalarNode], Any]]


@functools.cache
def _pyyaml() -> _PyYAML:
    import yaml

    try:
        loader: type[Any] = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - PyYAML built without libyaml
        loader = yaml.SafeLoader
    scalars = yaml.constructor.SafeConstructor()
    converters: dict[str, Callable[[yaml.ScalarNode], Any]] = {
        "tag:yaml.org,2002:null": lambda node: None,
        "tag:yaml.org,2002:bool": scalars.construct_yaml_bool,
        "tag:yaml.org,2002:int": scalars.construct_yaml_int,
        "tag:yaml.org,2002:float": scalars.construct_yaml_float,
        # Times stay text: the schema and the rules check them (offset required).
        "tag:yaml.org,2002:timestamp": lambda node: node.value,
    }
    return _PyYAML(loader, yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode, converters)


SYMLINK_MESSAGE = "is a symlink; records must be regular files in the repository"


def read_text(path: Path | str, display: str) -> str:
    """Read a record file as UTF-8, refusing symlinks, huge and non-UTF-8 files with a clear
    error."""
    return decode(read_bytes(path, display), display)


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = os.O_RDONLY | _NO_FOLLOW | getattr(os, "O_BINARY", 0)


def read_bytes(path: Path | str, display: str) -> bytes:
    """A record file's bytes, refusing symlinks and huge files with a clear error. One open
    that refuses a link (where the system has O_NOFOLLOW) and one read: a bulk read opens
    thousands of files, and a check before each would cost more than the reads (``path``
    may be a plain string: so may a bulk read's thousands of paths)."""
    # a link could point anywhere, and change behind git's back
    if not _NO_FOLLOW and Path(path).is_symlink():  # pragma: no cover - no O_NOFOLLOW (Windows)
        raise InputFileError(display, 1, 1, SYMLINK_MESSAGE)
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP and Path(path).is_symlink():
            raise InputFileError(display, 1, 1, SYMLINK_MESSAGE) from None
        raise InputFileError(display, 1, 1, f"cannot read file: {exc.strerror}") from None
    try:
        size = os.fstat(descriptor).st_size
        if size <= MAX_FILE_BYTES:
            data = os.read(descriptor, size + 1)
            if len(data) != size:  # it changed since, or it is not a regular file: to the end
                chunks = [data]
                while chunks[-1] and len(data) <= MAX_FILE_BYTES:
                    chunks.append(os.read(descriptor, MAX_FILE_BYTES + 1 - len(data)))
                    data = b"".join(chunks)
            size = len(data)
        if size > MAX_FILE_BYTES:  # as measured, or grown past the limit while read
            raise InputFileError(
                display,
                1,
                1,
                f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit for records",
            )
    except OSError as exc:
        raise InputFileError(display, 1, 1, f"cannot read file: {exc.strerror}") from None
    finally:
        os.close(descriptor)
    return data


def decode(raw: bytes, display: str) -> str:
    """A record file's bytes as text, refusing huge and non-UTF-8 files with a clear error."""
    if len(raw) > MAX_FILE_BYTES:
        raise InputFileError(
            display,
            1,
            1,
            f"file is {len(raw)} bytes, over the {MAX_FILE_BYTES} byte limit for records",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputFileError(
            display,
            line,
            column,
            f"file is not UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
        ) from None


def parse(text: str, display: str, line_offset: int = 0) -> Document:
    """Parse one YAML document safely: no aliases, no duplicate keys, no custom tags."""
    import yaml

    lib = _pyyaml()
    if "&" in text or "*" in text:
        _refuse_anchors(text, display, line_offset)
    try:
        root = yaml.compose(text, Loader=lib.loader)
    except RecursionError:
        raise InputFileError(
            display, 1 + line_offset, 1, f"nested deeper than {MAX_DEPTH} levels"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputFileError(
            display, line + line_offset, column, f"YAML syntax error: {problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise InputFileError(display, 1 + line_offset, 1, f"YAML error: {exc}") from None
    if root is None:
        raise InputFileError(display, 1 + line_offset, 1, "file is empty")
    doc = Document(display, None, {}, line_offset)
    doc.data = _build(root, (), doc, lib)
    return doc


# --- the fast path for bulk reads ----------------------------------------------------------
#
# yaml-rs (a Rust YAML 1.2 parser) builds the data of a record several times faster than
# PyYAML's compose plus `_build`, but it reads YAML 1.2 where we read YAML 1.1 as PyYAML
# does: `yes`, `012`, `1_000`, `1:30`, `1e3`, `0o12`, keys like `1:` or `true:`, a BOM,
# U+2028, tabs and CRLF all come out differently. So it reads only a text that a scan shows
# free of everything where the two could differ (`_FastPath.allows`); any other text, and any
# text yaml-rs refuses, is read by `parse`. benchmarks/yaml_differential.py holds the two
# to the same records on the examples, generated repositories and hypothesis' YAML.
#
# The scan is patterns searched in "\n" + text, one scan each (one pattern of alternatives
# is several times slower); any match sends the text to `parse`. A plain scalar that
# either parser could read as other than text starts with a sign, a dot, an underscore or
# a digit (numbers, times, .inf), is `~`, `=` or `<<`, or is a word that YAML 1.1 or 1.2
# reads as a bool or null (here in any case: wider than either).
_NUM = r"(?:[-+]?[._0-9]|[-+]?\.[iInN]|[~=]|<<)"
_WORD = (
    r"(?:[yY](?:[eE][sS])?|[nN][oO]?|[tT][rR][uU][eE]|[fF][aA][lL][sS][eE]|[oO](?:[nN]|[fF][fF])"
    r"|[nN](?:[uU][lL][lL]|[oO][nN][eE]))"
)
_VALUE_END = r"[ ]*(?:\#.*)?$"
_KEY_END = r"[ ]*:(?:[ ]|$)"
# Plain values both read alike: decimal integers and decimals without leading zeros (of at
# most 18 digits: Python refuses to read an int of over 4,300), the
# YAML 1.2 spellings of bool and null, ISO dates and times (`parse` keeps times as text).
_AGREED_NUM = (
    r"(?:[-+]?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,17})?|~"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?)"
)
_AGREED_WORD = r"(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)"
# A special plain key, or a special plain value that is not agreed (no key agrees: `parse`
# keeps every key as text).
_SPECIAL_NUM = (
    rf"(?=[-+._0-9~=<])(?:{_NUM}\S*?{_KEY_END}"
    rf"|(?!{_AGREED_NUM}{_VALUE_END}){_NUM}\S*{_VALUE_END})"
)
_SPECIAL_WORD = rf"(?=[yYnNtTfFoO])(?!{_AGREED_WORD}{_VALUE_END}){_WORD}(?=[ ]*(?:\#|:[ ]|:$|$))"
_TOKEN = rf"(?:[?:](?:[ ]|$)|{_SPECIAL_NUM}|{_SPECIAL_WORD})"
"""What must not start a token: a complex or empty key, or a special plain scalar."""
# Anchors, aliases and tags (refused or checked by `parse`), block scalars (YAML 1.1 and
# 1.2 keep different line breaks of an empty one, or of one that ends the text), and flow
# collections other than one line of words and quoted text (`components: [api, web]`).
_FLOW_ITEM = rf"(?:(?!{_WORD}[ ]*[,:\]}}])[A-Za-z][A-Za-z0-9_./@-]*|'[^'\n]*'|\"[^\"\n]*\")"
_FLOW_PAIR = rf"{_FLOW_ITEM}:[ ]+{_FLOW_ITEM}"
_NOT_FAST_PATTERNS = (
    # more than one document, directives; deep nesting (more than MAX_DEPTH levels need at
    # least 16 columns of indentation); a token at the start of a line
    rf"\n(?:---|\.\.\.|%|[ ?-]{{16}}|[ ]*+{_TOKEN})",
    # a token after a key, after a dash; a value right after a quoted key's colon (which
    # YAML 1.2 allows in flow collections: `"a":012`)
    rf":[ ]++{_TOKEN}",
    rf"-[ ]++{_TOKEN}",
    r"['\"]:(?![ \n])",
    # indicators
    r"[&*!|>\[\]{}](?<=[\s:,].)"
    rf"(?!(?<=\[)[ ]*(?:{_FLOW_ITEM}(?:[ ]*,[ ]*{_FLOW_ITEM})*)?[ ]*\]{_VALUE_END})"
    rf"(?!(?<=\{{)[ ]*(?:{_FLOW_PAIR}(?:[ ]*,[ ]*{_FLOW_PAIR})*)?[ ]*\}}{_VALUE_END})",
    # characters PyYAML refuses or reads as a line break (tab, CR, NEL, BOM, U+2028 and
    # U+2029, control characters), and the backslash of escapes
    r"[^\n\x20-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
    r"\U00010000-\U0010ffff]",
)
_NOT_FAST_ASCII = bytes([*range(10), *range(11, 32), 0x5C, 0x7F])
"""The characters of the last pattern that are ASCII, for a faster test of ASCII text."""


_LINE, _AFTER_KEY, _AFTER_DASH, _ADJACENT, _INDICATOR, _CHAR = range(len(_NOT_FAST_PATTERNS))


class _FastPath:
    """yaml-rs's reader and the scan's patterns, each compiled when first used (or all at
    once by ``compile_all``): a text of plain ASCII without indicators needs three of
    them, and the one of characters alone takes longer to compile than the rest."""

    def __init__(self, loads: Callable[..., Any]) -> None:
        self.loads = loads
        self.compiled: list[re.Pattern[str] | None] = [None] * len(_NOT_FAST_PATTERNS)

    def pattern(self, index: int) -> re.Pattern[str]:
        found = self.compiled[index]
        if found is None:
            found = self.compiled[index] = re.compile(_NOT_FAST_PATTERNS[index], re.MULTILINE)
        return found

    def compile_all(self) -> None:
        for index in range(len(_NOT_FAST_PATTERNS)):
            self.pattern(index)

    def allows(self, text: str) -> bool:
        """Whether the text is free of everything where yaml-rs and ``parse`` could differ.
        (Shaped for speed: tests of single characters first, each pattern one scan.)"""
        pattern = self.pattern
        if text.isascii():
            if len(text.encode().translate(None, _NOT_FAST_ASCII)) != len(text):
                return False
        elif pattern(_CHAR).search(text):
            return False
        text = "\n" + text
        if any(c in text for c in "&*!|>[]{}") and pattern(_INDICATOR).search(text):
            return False
        if ("':" in text or '":' in text) and pattern(_ADJACENT).search(text):
            return False
        return not (
            pattern(_LINE).search(text)
            or pattern(_AFTER_KEY).search(text)
            or pattern(_AFTER_DASH).search(text)
        )


@functools.cache
def _fast_path() -> _FastPath | None:
    """yaml-rs and the scan, or None where yaml-rs has no wheel (then PyYAML reads all).
    Made on first use: importing and compiling them would slow every transition's start."""
    try:
        import yaml_rs
    except ImportError:  # pragma: no cover - a platform without its wheel
        return None
    return _FastPath(functools.partial(yaml_rs.loads, parse_datetime=False))


def fast_path_available() -> bool:
    """Whether yaml-rs is installed (it is a dependency wherever it has a wheel); its scan
    is compiled whole here, so that a bulk read's workers forked after share it."""
    fast = _fast_path()
    if fast is None:
        return False
    fast.compile_all()
    return True


def fast_reads(text: str) -> bool:
    """Whether ``parse_unplaced`` may read this text with yaml-rs."""
    fast = _fast_path()
    return fast is not None and fast.allows(text)


def parse_unplaced(text: str, display: str, line_offset: int = 0) -> Document:
    """``parse`` for a reader that needs the data only, not the place of each field (the
    bulk read of incidents): the same data and problems, or the same error, often faster.
    Its Document has no places when yaml-rs read it; ``parse`` the text again for them."""
    fast = _fast_path()
    if fast is not None and fast.allows(text):
        try:
            data = fast.loads(text)
        except Exception:  # whatever yaml-rs refuses, `parse` reads or says where and why
            data = None
        if data is not None:
            return Document(display, data, {}, line_offset)
    return parse(text, display, line_offset)


def load(path: Path, display: str) -> Document:
    """Read and parse a YAML file; any problem at all is an error."""
    doc = parse(read_text(path, display), display)
    if doc.problems:
        raise doc.problems[0]
    return doc


def _refuse_anchors(text: str, display: str, line_offset: int) -> None:
    import yaml

    try:
        for event in yaml.parse(text, Loader=_pyyaml().loader):
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                mark = event.start_mark
                assert mark is not None
                kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
                raise InputFileError(
                    display,
                    mark.line + 1 + line_offset,
                    mark.column + 1,
                    f"YAML {kind} '{anchor}' is not allowed in records; write the value out",
                )
    except yaml.YAMLError:  # a control character is a ReaderError, not a MarkedYAMLError
        return  # the syntax error is reported by compose, with its place


def _place(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


MAX_DEPTH = 32  # no record needs more; deeper input would only exhaust the stack
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


def _build(node: yaml.Node, where: FieldPath, doc: Document, lib: _PyYAML) -> Any:
    doc.places.setdefault(where, _place(node))
    if len(where) > MAX_DEPTH:
        line, column = _place(node)
        raise InputFileError(
            doc.path,
            line + doc.line_offset,
            column,
            f"nested deeper than {MAX_DEPTH} levels; records are never shaped like that",
            field=dotted(where[:MAX_DEPTH]),
        )
    if not isinstance(node, lib.scalar) and node.tag not in (_SEQ, _MAP):
        line, column = _place(node)
        raise InputFileError(
            doc.path,
            line + doc.line_offset,
            column,
            f"YAML tag {node.tag} is not allowed in records",
            field=dotted(where),
        )
    if isinstance(node, lib.scalar):
        if node.tag == _STR:
            return node.value
        convert = lib.converters.get(node.tag)
        if convert is None:
            line, column = _place(node)
            raise InputFileError(
                doc.path,
                line + doc.line_offset,
                column,
                f"YAML tag {node.tag} is not allowed in records",
                field=dotted(where),
            )
        try:
            return convert(node)
        except ValueError:  # Python's limit on the digits of an int read from text
            line, column = _place(node)
            raise InputFileError(
                doc.path,
                line + doc.line_offset,
                column,
                "number has too many digits; write it as text if it is an id",
                field=dotted(where),
            ) from None
    if isinstance(node, lib.sequence):
        return [_build(item, (*where, i), doc, lib) for i, item in enumerate(node.value)]
    if isinstance(node, lib.mapping):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line, column = _place(key_node)
            if not isinstance(key_node, lib.scalar) or key_node.tag == "tag:yaml.org,2002:merge":
                raise InputFileError(
                    doc.path,
                    line + doc.line_offset,
                    column,
                    "only plain keys are allowed in records",
                    field=dotted(where),
                )
            key = key_node.value
            if key in result:
                first_line = doc.places[(*where, key)][0] + doc.line_offset
                # Reported, and reading goes on so every other problem is found too.
                doc.problems.append(
                    InputFileError(
                        doc.path,
                        line + doc.line_offset,
                        column,
                        f"duplicate key (first on line {first_line}); "
                        "YAML would silently keep only the last one",
                        field=dotted((*where, key)),
                    )
                )
                continue
            doc.places[(*where, key)] = (line, column)
            result[key] = _build(value_node, (*where, key), doc, lib)
        return result
    raise InputFileError(doc.path, 1, 1, "unsupported YAML node")  # pragma: no cover


# --- front matter -----------------------------------------------------------------------


def split_front_matter(text: str, display: str) -> tuple[str, str, int]:
    """Split ``---\\nYAML\\n---\\nbody``; returns (yaml, body, line of the body's start)."""
    if not text.startswith("---\n") and not text.startswith("---\r\n"):
        raise InputFileError(display, 1, 1, "file must start with '---' and YAML front matter")
    lines = text.splitlines(keepends=True)
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise InputFileError(display, 1, 1, "front matter has no closing '---' line")


def parse_front_matter(
    text: str, display: str, *, places: bool = True
) -> tuple[Document, str, int]:
    """The front matter parsed (``places=False``: by ``parse_unplaced``), the body and the
    line the body starts on."""
    front, body, body_line = split_front_matter(text, display)
    parse_front = parse if places else parse_unplaced
    return parse_front(front, display, line_offset=1), body, body_line


# --- writing ------------------------------------------------------------------------------


def _round_trip() -> Any:
    from ruamel.yaml import YAML  # imported here: only commands that write need it

    rt = YAML(typ="rt")
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.preserve_quotes = True
    rt.allow_duplicate_keys = False
    return rt


@functools.cache
def _dumper() -> type[yaml.SafeDumper]:
    import yaml

    class Dumper(yaml.SafeDumper):
        """The project's layout: block style, list items indented under their key."""

        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

    return Dumper


def dump(data: Any) -> str:
    """A new YAML document for plain data, in the project's layout."""
    import yaml

    return yaml.dump(
        data,
        Dumper=_dumper(),
        sort_keys=False,
        allow_unicode=True,
        width=4096,
        default_flow_style=False,
    )


def rewrite(old_text: str, new_data: dict[str, Any], display: str = "") -> str:
    """The old document changed to equal ``new_data``, keeping comments and key order.

    A file still in the layout the tool writes is simply written anew; one a person has
    edited (comments, other quoting or order) goes through ruamel.yaml's round trip. An
    old text that is not YAML is an InputFileError at its place in ``display``.
    """
    fast = _rewrite_changed_keys(old_text, new_data)
    if fast is not None:
        return fast
    try:
        if dump(parse(old_text, "").data) == old_text:
            return dump(new_data)
    except InputFileError:
        pass
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    rt = _round_trip()
    try:
        tree = rt.load(old_text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputFileError(display, line, column, f"YAML syntax error: {problem}") from None
    except YAMLError as exc:
        raise InputFileError(display, 1, 1, f"YAML error: {exc}") from None
    if not isinstance(tree, dict):
        return dump(new_data)
    _merge_mapping(tree, new_data)
    out = io.StringIO()
    rt.dump(tree, out)
    return out.getvalue()


_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: |\n)")


def _rewrite_changed_keys(old_text: str, new_data: dict[str, Any]) -> str | None:
    """The rewrite of a transition without dumping the whole record: or None to do it the
    long way. A transition changes a few top-level keys of a record; the block of lines of
    each unchanged key is kept as it is, and only the changed keys are written anew (each
    as the project's layout writes it, where the old block was in that layout too), so a
    file in the layout gives exactly ``dump(new_data)``. Comment lines between keys, an
    unusual document or a result that does not read back as ``new_data`` take the long way.
    """
    if not old_text.endswith("\n"):
        return None
    blocks: dict[str, str] = {}
    current: str | None = None
    for line in old_text.splitlines(keepends=True):
        match = _TOP_KEY.match(line)
        if match is not None:
            current = match.group(1)
            if current in blocks:
                return None
            blocks[current] = line
        elif current is None or line.startswith(("#", "%", "---", "...")):
            return None
        else:
            blocks[current] += line
    try:
        old = parse(old_text, "")
        if old.problems or not isinstance(old.data, dict) or list(old.data) != list(blocks):
            return None
        parts = []
        for key, value in new_data.items():
            if key in old.data and _identical(old.data[key], value):
                parts.append(blocks[key])
                continue
            if key in old.data and blocks[key] != dump({key: old.data[key]}):
                return None  # a person's block (comments, quoting): keep it the long way
            parts.append(dump({key: value}))
        text = "".join(parts)
        back = parse(text, "")
    except InputFileError:
        return None
    return text if not back.problems and _identical(back.data, new_data) else None


def _identical(old: Any, new: Any) -> bool:
    """Equal data of equal types (True is not 1, and mappings in the same order)."""
    if type(old) is not type(new):
        return False
    if isinstance(old, dict):
        return list(old) == list(new) and all(_identical(old[k], new[k]) for k in old)
    if isinstance(old, list):
        return len(old) == len(new) and all(_identical(a, b) for a, b in zip(old, new, strict=True))
    return bool(old == new)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, date) and not isinstance(old, datetime) and isinstance(new, str):
        return old.isoformat() == new  # a date as written (an action item's due)
    if isinstance(old, datetime) and isinstance(new, str):
        from incidents_cli.core.timeutil import TimeFormatError, parse_time

        try:
            when = parse_time(new)
        except TimeFormatError:
            return False
        if old.tzinfo is None:  # ruamel gives naive UTC for times written with an offset
            from datetime import UTC

            old = old.replace(tzinfo=UTC)
        return bool(old == when)
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in new)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, str) or isinstance(new, str):
        return isinstance(old, str) and isinstance(new, str) and str(old) == new
    if isinstance(old, bool) != isinstance(new, bool):
        return False
    return bool(old == new)


def _merge_mapping(tree: Any, new: dict[str, Any]) -> None:
    for key in [k for k in tree if k not in new]:
        del tree[key]
    for key, value in new.items():
        if key in tree:
            _merge_value(tree, key, value)
        else:
            tree[key] = value


def _merge_value(parent: Any, key: Any, value: Any) -> None:
    old = parent[key]
    if _same(old, value):
        return
    if isinstance(old, dict) and isinstance(value, dict):
        _merge_mapping(old, value)
    elif isinstance(old, list) and isinstance(value, list):
        _merge_sequence(old, value)
    else:
        parent[key] = value


def _merge_sequence(tree: Any, new: list[Any]) -> None:
    while len(tree) > len(new):
        tree.pop()
    for index, value in enumerate(new):
        if index < len(tree):
            _merge_value(tree, index, value)
        else:
            tree.append(value)


def write_atomic(path: Path, text: str | bytes, *, sync: bool = True) -> None:
    """Write a file so that readers see the old or the new content, never a mix (text as
    UTF-8 with LF line ends; bytes as they are).

    ``sync``: flush it to the disk before it replaces the old file. A file that is committed
    right away can skip that: it is then exactly as durable as git makes the commit itself
    (git's own default is not to fsync, see core.fsync), and the flush costs a transition
    5 to 60 ms on a busy disk.
    """
    tmp = _written_beside(path, text, sync)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _written_beside(path: Path, text: str | bytes, sync: bool) -> Path:
    """A new file beside ``path`` holding ``text`` (with ``path``'s mode, if it exists),
    named so that the next transaction finds it if this process dies (store/transaction.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        if path.exists():
            tmp.chmod(path.stat().st_mode & 0o7777)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


ASIDE_SUFFIX = ".aside"
"""A file moved aside by ``replace_if_unchanged``: ``.NAME.PID.NS.aside`` beside it."""


def replace_if_unchanged(
    path: Path, expected: bytes | None, new: str | bytes | None, *, sync: bool = True
) -> bool:
    """Give ``path`` the content ``new`` (None: remove it), only if it still holds
    ``expected`` (None: only if there is no such file); False, and the file left as it is,
    when it does not: an edit a person saved meanwhile (by hand, in an editor) is never
    overwritten, and neither is a file they saved at that path while this ran.

    A compare-and-swap made of steps that never replace a file: the file is moved aside
    (rename), compared with ``expected``, and ``new`` is linked into its place (a link
    fails if a file exists there: one saved meanwhile is kept, and this refuses); a file
    that changed is linked back the same way (if a newer save took its place meanwhile,
    that one is kept: it is the person's latest). An editor that writes in place truncates
    the file when it opens it, so its save is seen too, unless it opened the file before
    and writes into it only after the comparison (a program that appends to a file it
    keeps open). A process killed with the file aside leaves ``.NAME.PID.NS.aside``:
    ``put_back_aside`` puts it back. The caller holds signals (Ctrl-C) meanwhile."""
    tmp = _written_beside(path, new, sync) if new is not None else None
    try:
        if expected is None:
            return _link_new(tmp, path) if tmp is not None else not os.path.lexists(path)
        aside = path.parent / f".{path.name}.{os.getpid()}.{time.monotonic_ns()}{ASIDE_SUFFIX}"
        try:
            path.rename(aside)
        except FileNotFoundError:  # removed meanwhile: that is the person's doing too
            return False
        if _holds(aside, expected):
            try:
                placed = tmp is None or _link_new(tmp, path)
            except BaseException:
                put_back_aside(aside, path)
                raise
            aside.unlink()  # it held ``expected``, which the caller has
            return placed
        put_back_aside(aside, path)
        return False
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def put_back_aside(aside: Path, path: Path) -> None:
    """A file moved aside, back at ``path``; if a file was saved there since, that newer
    save is kept (it is the person's latest) and the one aside is dropped."""
    _link_new(aside, path)
    aside.unlink(missing_ok=True)


def _holds(path: Path, expected: bytes) -> bool:
    """Whether the file at ``path`` (never a link followed) holds exactly ``expected``."""
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except OSError:
        return False  # a symlink, or unreadable: not what was read
    try:
        chunks = []
        left = len(expected) + 1  # one byte more tells a longer file
        while left > 0 and (chunk := os.read(descriptor, left)):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks) == expected
    except OSError:
        return False
    finally:
        os.close(descriptor)


# where a file system has no hard links, a rename is the closest (it replaces a file
# saved in the instant between the check and the rename)
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK}


def _link_new(source: Path, target: Path) -> bool:
    """``source``'s file also at ``target``, only if nothing is there: False if something is."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINKS or os.path.lexists(target):
            raise
        source.rename(target)
    return True


def file_names(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    """The names of a folder's record files, sorted (scandir: no stat call per file)."""
    try:
        with os.scandir(folder) as scan:
            return sorted(
                e.name
                for e in scan
                if e.name.endswith(suffixes) and not e.name.startswith(".") and e.is_file()
            )
    except (FileNotFoundError, NotADirectoryError):
        return []
