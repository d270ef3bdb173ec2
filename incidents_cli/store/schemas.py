"""Checking records against the shipped JSON Schemas: the one module that imports jsonschema.

Most records are valid, so each is first checked by a validator that fastjsonschema compiles
from the same schema (about ten times faster); only a record it rejects goes through
jsonschema, which gives every error with its path and a message for people.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from incidents_cli.core.document import Document, dotted
from incidents_cli.core.findings import Finding
from incidents_cli.core.records import RecordFile
from incidents_cli.core.timeutil import TimeFormatError, parse_time
from incidents_cli.store.resources import data_dir, user_cache_dir


@cache
def schema(kind: str) -> dict[str, Any]:
    import json

    with (data_dir("schemas") / f"{kind}.schema.json").open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


STALE_VALIDATOR_SECONDS = 7 * 24 * 3600.0
"""Another build's compiled validator is removed once written this long ago."""


@cache
def _fast(kind: str) -> Any:
    """The compiled validator, kept as marshalled bytecode in the user's cache.

    Bytecode rather than a module to import: Python would recompile the generated source on
    every run wherever it may not write ``__pycache__`` (PYTHONDONTWRITEBYTECODE, read-only
    folders), and that alone costs more than the rest of a transition's checks.
    """
    import marshal
    import os
    import sys
    import time
    import types

    cache_tag = sys.implementation.cache_tag
    # code_digest covers the schemas and this module (its rewrites and options): a
    # validator compiled by another build is never run by this one
    from incidents_cli.store.resources import code_digest

    key = f"{code_digest()}.{cache_tag}"
    folder = user_cache_dir() / "validators"
    cached = folder / f"{kind}_{key}.bin"
    try:
        code = marshal.loads(cached.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        code = None
    if not isinstance(code, types.CodeType):  # none yet, or damaged
        import fastjsonschema

        source = (
            fastjsonschema.compile_to_code(_without_const(schema(kind)), detailed_exceptions=False)
            .replace(_GENERATED_IMPORT, _LOCAL_EXCEPTIONS, 1)
            .replace(_DECIMAL_IMPORT, _NO_DECIMAL, 1)
            .replace(_NAMES, "")
        )
        code = compile(source, f"<{kind} validator>", "exec")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(code))
            tmp.replace(cached)
            # Earlier builds' validators go once unused for a while, not at once: another
            # install on this machine (pipx beside a project's venv) still reads its own.
            unused = time.time() - STALE_VALIDATOR_SECONDS
            for stale in folder.glob(f"{kind}_*"):
                other = stale != cached and stale.name.endswith((".py", f".{cache_tag}.bin"))
                if other and stale.stat().st_mtime < unused:
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # no usable cache folder: compiled again next time, only slower
    namespace: dict[str, Any] = {"__name__": f"_incidents_validator_{kind}"}
    exec(code, namespace)
    return namespace[_entry_point(namespace)]


# The generated module imports fastjsonschema only for its exception classes; local copies
# spare every command that validates one record the library's import time.
_GENERATED_IMPORT = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException"
_LOCAL_EXCEPTIONS = (
    "class JsonSchemaValueException(ValueError):\n"
    "    def __init__(self, message, value=None, name=None, definition=None, rule=None):\n"
    "        super().__init__(message)\n"
    "        self.message, self.value, self.name = message, value, name\n"
    "        self.definition, self.rule = definition, rule\n"
    "class JsonSchemaValuesException(JsonSchemaValueException):\n"
    "    def __init__(self, message, errors=None, **kwargs):\n"
    "        super().__init__(message, **kwargs)\n"
    "        self.errors = errors\n"
)


# It imports decimal only for isinstance checks of numbers; parsed YAML holds no Decimal.
_DECIMAL_IMPORT = "from decimal import Decimal"
_NO_DECIMAL = "class Decimal:\n    pass\n"


# It names the field of every value it checks, formatting the name from all its local
# variables before each call, also when nothing is wrong; only whether it raises is used here.
_NAMES = ".format(**locals())"

# Nor the details of an error (its rule, its schema, its value): without them the code is
# a third as long, compiled in a third of the time (a CI runner compiles every validator
# once per build).
_OPTIONS = "detailed_exceptions=False"

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def _without_const(node: Any) -> Any:
    """The schema with each ``const: X`` written ``enum: [X]`` (fastjsonschema checks both
    alike, and without detailed exceptions it fails to generate the code of a const; no
    shipped schema gives both at one place)."""
    if isinstance(node, list):
        return [_without_const(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "const":
            out["enum"] = [value]
        elif key in ("enum", "default", "examples"):  # values, not schemas
            out[key] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _without_const(item) for name, item in value.items()}
        else:
            out[key] = _without_const(value)
    return out


def _entry_point(namespace: dict[str, Any]) -> str:
    names = [n for n in namespace if n.startswith("validate_") and "schema_json" in n]
    return min(names, key=len)


def is_valid(kind: str, data: Any) -> bool:
    """The quick answer: does ``data`` follow the schema of ``kind`` (and hold only real
    times and no control characters)?"""
    return _fast_valid(kind, data) and _values_ok(kind, data)


def prepare_validators(kinds: Iterable[str]) -> None:
    """Load (or compile) the validators of these kinds now."""
    for kind in kinds:
        _fast(kind)


def _fast_valid(kind: str, data: Any) -> bool:
    validator = _fast(kind)
    try:
        validator(data)
    except Exception as exc:  # the generated module raises its own copy of the error class
        if type(exc).__name__ == "JsonSchemaValueException":
            return False
        raise
    return True


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator, validators

    # A schema's `$` ends the text, as in the ECMA-262 regular expressions JSON Schema names
    # and in the compiled validator; Python's own `$` also matches before a final newline.
    checker = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]
    return checker(schema(kind))


_UNESCAPED_DOLLAR = r"(?<!\\)\$"


@cache
def _ecma_pattern(pattern: str) -> Any:
    """``pattern`` with every unescaped `$` made `\\Z`: the rewrite fastjsonschema makes."""
    import re

    return re.compile(re.sub(_UNESCAPED_DOLLAR, r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, _schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _ecma_pattern(pattern).search(instance):
        from jsonschema.exceptions import ValidationError

        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def schema_findings(record: RecordFile) -> list[Finding]:
    """Every schema problem of one parsed record, each with its place; also times that are
    not real or out of range, and control characters (what a pattern cannot say)."""
    if record.doc is None or record.known_valid:
        return []
    if _fast_valid(record.kind, record.doc.data):
        return list(_value_findings(record.kind, record.doc))
    errors = _validator(record.kind).iter_errors(record.doc.data)
    findings = list(_findings(record.doc, errors)) + list(_value_findings(record.kind, record.doc))
    if not findings:  # the two validators disagree: the record is not published (fail closed)
        findings.append(_at(record.doc, [], [], _UNPLACED))
    return findings


_UNPLACED = "does not follow its schema (a check refused it without naming the field)"


def _value_findings(kind: str, doc: Document) -> Iterator[Finding]:
    from incidents_cli.core.text import control_characters_in

    if _clean(kind, doc.data, keys=True):  # the usual case, found without a place for each
        return
    for where, character in control_characters_in(doc.data):
        yield _at(
            doc,
            list(where),
            list(where),
            f"control character {character} is not allowed (it breaks feeds and terminals)",
        )
    for where, problem in _bad_dated(kind, doc.data):
        yield _at(doc, list(where), list(where), problem)


def _values_ok(kind: str, data: Any) -> bool:
    return _clean(kind, data, keys=False)


def _clean(kind: str, data: Any, *, keys: bool) -> bool:
    """Whether no string of ``data`` (nor, with ``keys``, a key) holds a control character
    and every value the schema of ``kind`` says is a time or a date is a real one in range:
    every string gathered in one walk and searched at once (a character class matches in
    the joined text exactly where it matches in one of the strings). Free text that merely
    looks like a time or a date (a title '1969-07-20') is free text: only when one such
    string is not a real time or date in range are the schema's time and date fields
    walked, to see whether one of them is it."""
    import re

    from incidents_cli.core.text import control_character
    from incidents_cli.core.timeutil import DATE_SHAPE, TIME_SHAPE, parse_date

    values: list[str] = []
    names: list[str] = []
    _gather(data, values, names)
    if control_character("".join(values)):
        return False
    if keys and control_character("".join(names), one_line=True):
        return False
    # No string holds a NUL now: joined by NULs, each string shaped like a time (at least
    # 16 characters) or a date (exactly 10) is a match.
    day = DATE_SHAPE.removeprefix("^").removesuffix("\\Z")
    times = re.compile(f"\0({TIME_SHAPE.removeprefix('^')}[^\0]*|{day}(?=\0))")
    for value in times.findall("\0" + "\0".join(values) + "\0"):
        try:
            parse_date(value) if len(value) == 10 else parse_time(value)
        except TimeFormatError:
            return next(iter(_bad_dated(kind, data)), None) is None
    return True


class _Dated:
    """Where a schema's times and dates are: ``mark`` ("time", "date", or both, "either")
    for the value here, ``fields`` for named properties, ``any`` for an array's items and
    a map's other values."""

    __slots__ = ("any", "fields", "mark")

    def __init__(self) -> None:
        self.mark = ""
        self.fields: dict[str, _Dated] = {}
        self.any: _Dated | None = None


# A pattern that asks for a date (ending there) or a time (a T or a space next).
_DATED_PATTERN = r"\^(?:\\d|\[0-9\])\{4\}-(?:\\d|\[0-9\])\{2\}-(?:\\d|\[0-9\])\{2\}(\$|\[Tt )"


@cache
def _dated(kind: str) -> _Dated:
    """The places the schema of ``kind`` marks as a time (``format: date-time``, or a
    time's pattern) or a date (``format: date``, or a date's pattern)."""
    root = schema(kind)
    top = _Dated()
    _mark_dated(root, root, top, ())
    return top


def _mark_dated(node: Any, root: dict[str, Any], here: _Dated, refs: tuple[str, ...]) -> None:
    import re

    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in refs:
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        _mark_dated(target, root, here, (*refs, ref))
    pattern = node.get("pattern")
    shape = re.match(_DATED_PATTERN, pattern) if isinstance(pattern, str) else None
    is_time = node.get("format") == "date-time" or (shape is not None and shape[1] != "$")
    is_date = node.get("format") == "date" or (shape is not None and shape[1] == "$")
    for mark, yes in (("time", is_time), ("date", is_date)):
        if yes:
            here.mark = mark if here.mark in ("", mark) else "either"
    for name, sub in (node.get("properties") or {}).items():
        _mark_dated(sub, root, here.fields.setdefault(name, _Dated()), refs)
    others = [*(node.get("patternProperties") or {}).values(), node.get("additionalProperties")]
    for sub in [*others, node.get("items")]:
        if isinstance(sub, dict):
            here.any = here.any or _Dated()
            _mark_dated(sub, root, here.any, refs)
    for word in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(word) or []:
            _mark_dated(sub, root, here, refs)
    for word in ("if", "then", "else", "not"):
        _mark_dated(node.get(word), root, here, refs)


def _bad_dated(kind: str, data: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each value at a place the schema says is a time or a date, shaped like one (else its
    pattern says what is wrong), that is not a real one in range: its place and why."""
    import re

    from incidents_cli.core.timeutil import DATE_SHAPE, TIME_SHAPE, parse_date

    stack: list[tuple[Any, _Dated, tuple[str | int, ...]]] = [(data, _dated(kind), ())]
    while stack:
        value, here, where = stack.pop()
        if isinstance(value, str) and here.mark:
            as_date = here.mark != "time" and re.match(DATE_SHAPE, value)
            as_time = here.mark != "date" and re.match(TIME_SHAPE, value)
            try:
                parse_date(value) if as_date else parse_time(value) if as_time else None
            except TimeFormatError as exc:
                yield where, str(exc)
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                sub = (here.fields.get(key) if isinstance(key, str) else None) or here.any
                if sub is not None:
                    stack.append((item, sub, (*where, key)))
        elif isinstance(value, list) and here.any is not None:
            items = here.any
            stack.extend((item, items, (*where, i)) for i, item in reversed(list(enumerate(value))))


def _gather(value: Any, values: list[str], keys: list[str]) -> None:
    if isinstance(value, str):
        values.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                keys.append(key)
            _gather(item, values, keys)
    elif isinstance(value, list):
        for item in value:
            _gather(item, values, keys)


def _findings(doc: Document, errors: Iterable[Any]) -> Iterator[Finding]:
    for error in errors:
        where = list(error.absolute_path)
        if error.validator in ("anyOf", "oneOf") and error.context:
            from jsonschema.exceptions import best_match

            error = best_match(error.context)
            where = list(error.absolute_path)
        validator = error.validator
        instance = error.instance
        if validator == "required":
            missing = [name for name in error.validator_value if name not in instance]
            for name in missing:
                yield _at(doc, where, [*where, name], "missing required field")
            continue
        if validator == "additionalProperties" and isinstance(instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for name in instance:
                if name not in allowed:
                    import difflib

                    hint = difflib.get_close_matches(str(name), allowed, n=1)
                    message = "unknown field" + (f"; did you mean '{hint[0]}'?" if hint else "")
                    yield _at(doc, [*where, name], [*where, name], message)
            continue
        yield _at(doc, where, where, _message(error))


def _at(doc: Document, place: list[Any], field: list[Any], message: str) -> Finding:
    line, column = doc.locate(place)
    return Finding(doc.path, line, column, dotted(field), message)


_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "list",
    dict: "mapping",
    type(None): "nothing (null)",
}


def _message(error: Any) -> str:
    from incidents_cli.core.text import shorten

    validator, value, instance = error.validator, error.validator_value, error.instance
    if validator == "enum":
        return f"{shorten(repr(instance))} is not one of: {', '.join(str(v) for v in value)}"
    if validator == "type":
        wanted = " or ".join(value) if isinstance(value, list) else value
        got = _TYPE_NAMES.get(type(instance), type(instance).__name__)
        return f"expected {wanted}, got {got}"
    if validator == "pattern" and error.schema.get("format") == "date-time":
        try:
            parse_time(str(instance))
        except TimeFormatError as exc:
            return str(exc)
    if validator == "pattern":
        return f"{shorten(repr(instance))} does not have the expected form (pattern {value})"
    if validator == "minLength" and value == 1:
        return "must not be empty"
    if validator == "uniqueItems":
        return "has duplicate entries"
    if validator == "maxLength" and isinstance(instance, str):
        return f"is {len(instance)} characters long, over the limit of {value}"
    return shorten(str(error.message), 200)


def metaschema_problems(kind: str) -> list[str]:
    """Problems of a shipped schema against the 2020-12 meta-schema (used by the tests)."""
    from jsonschema import Draft202012Validator

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    return [e.message for e in meta.iter_errors(schema(kind))]
