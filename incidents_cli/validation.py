"""Checking records against the shipped JSON Schemas; the one module that imports jsonschema."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from incidents_cli.findings import Finding
from incidents_cli.repository import Record
from incidents_cli.resources import data_dir
from incidents_cli.timeutil import TimeFormatError, parse_time
from incidents_cli.yamlio import Document, dotted


@cache
def schema(kind: str) -> dict[str, Any]:
    with (data_dir("schemas") / f"{kind}.schema.json").open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(kind))


def schema_findings(record: Record) -> list[Finding]:
    """Every schema problem of one parsed record, each with its place."""
    if record.doc is None:
        return []
    errors = _validator(record.kind).iter_errors(record.doc.data)
    return list(_findings(record.doc, errors))


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
    validator, value, instance = error.validator, error.validator_value, error.instance
    if validator == "enum":
        return f"{instance!r} is not one of: {', '.join(str(v) for v in value)}"
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
        return f"{instance!r} does not have the expected form (pattern {value})"
    if validator == "minLength" and value == 1:
        return "must not be empty"
    if validator == "uniqueItems":
        return "has duplicate entries"
    return str(error.message)


def metaschema_problems(kind: str) -> list[str]:
    """Problems of a shipped schema against the 2020-12 meta-schema (used by the tests)."""
    from jsonschema import Draft202012Validator

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    return [e.message for e in meta.iter_errors(schema(kind))]
