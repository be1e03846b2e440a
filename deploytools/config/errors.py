"""Pydantic's validation errors, turned into 'file:line: key.path: what is wrong and allowed'."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from deploytools.config.model import json_schema
from deploytools.config.yamlpos import KeyPath, Located

TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


MAX_PRINTED = 20  # a file of 100,000 unknown keys needs its first errors, not megabytes


def capped(problems: list[str]) -> list[str]:
    """The first MAX_PRINTED problems and one line that counts the rest, at the first's line."""
    if len(problems) <= MAX_PRINTED:
        return problems
    rest = len(problems) - MAX_PRINTED
    where = problems[MAX_PRINTED].split(": ", 1)[0]
    return [*problems[:MAX_PRINTED], f"{where}: ... and {rest:,} more problems"]


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def describe(errors: ValidationError, located: Located, file: str) -> list[str]:
    schema = json_schema()
    problems: list[tuple[int, str]] = []
    seen: set[KeyPath] = set()
    for error in errors.errors():
        path = _data_path(error["loc"], located.data, error["type"])
        if path in seen:  # one line per key, even when several union branches complain
            continue
        seen.add(path)
        key_path, message = _message(error, path, located.data, schema)
        line = located.line(key_path)
        problems.append((line, f"{file}:{line}: {dotted(key_path)}: {message}"))
    return [text for _, text in sorted(problems, key=lambda p: p[0])]


def _data_path(loc: tuple[int | str, ...], data: Any, kind: str) -> KeyPath:
    """Drop the union-branch names pydantic inserts into `loc`, keeping real keys and indexes."""
    path: list[str | int] = []
    cursor = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        found, value = child(cursor, part)
        if found:
            path.append(part)
            cursor = value
        elif last and isinstance(cursor, dict) and kind == "missing":
            path.append(part)
    return tuple(path)


def child(cursor: Any, part: int | str) -> tuple[bool, Any]:
    if isinstance(cursor, dict) and part in cursor:
        return True, cursor[part]
    if isinstance(cursor, list) and isinstance(part, int) and 0 <= part < len(cursor):
        return True, cursor[part]
    return False, None


def _message(
    error: ErrorDetails, path: KeyPath, data: Any, schema: dict[str, Any]
) -> tuple[KeyPath, str]:
    kind = error["type"]
    ctx = error.get("ctx", {})
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = sorted(_node_at(schema, path[:-1], data).get("properties", {}))
        return path, f"unknown key '{path[-1]}'; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return path[:-1], f"missing required key '{path[-1]}'"
    if kind == "union_tag_invalid":
        tags = _unquote(ctx.get("expected_tags", ""))
        return (*path, "type"), f"'{ctx.get('tag')}' is not a target type; allowed: {tags}"
    if kind == "union_tag_not_found":
        return path, "missing required key 'type'; allowed: ecs, lambda, eks, batch"
    if kind == "literal_error":
        return path, f"{value!r} is not allowed; allowed: {_unquote(ctx.get('expected', ''))}"
    if kind == "string_pattern_mismatch":
        return path, f"{value!r} must match the pattern {ctx.get('pattern')}"
    if kind in TYPE_NAMES:
        return path, f"expected {TYPE_NAMES[kind]}, got {_kind_of(value)}"
    if kind == "too_short":
        return path, "needs at least one entry"
    if kind == "value_error":
        return path, str(ctx.get("error", error["msg"]))
    return path, error["msg"][0].lower() + error["msg"][1:]


def _unquote(text: str) -> str:
    return text.replace("'", "").replace(" or ", ", ")


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"


def _node_at(schema: dict[str, Any], path: KeyPath, data: Any) -> dict[str, Any]:
    """The JSON Schema node that describes the value at `path` of `data`."""
    defs = schema.get("$defs", {})
    node: dict[str, Any] = schema
    cursor = data
    for part in path:
        node = _resolve(node, defs, cursor)
        if isinstance(part, int):
            node = node.get("items", {})
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        else:
            node = _value_schema(node)
        cursor = child(cursor, part)[1]
    return _resolve(node, defs, cursor)


def _value_schema(node: dict[str, Any]) -> dict[str, Any]:
    """The schema of a mapping's values: additionalProperties or its one patternProperties."""
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return extra
    patterns = list(node.get("patternProperties", {}).values())
    return patterns[0] if patterns else {}


def _resolve(node: dict[str, Any], defs: dict[str, Any], value: Any) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        elif "oneOf" in node or "anyOf" in node:
            options = node.get("oneOf") or node.get("anyOf") or []
            mapping = node.get("discriminator", {}).get("mapping", {})
            tag = value.get("type") if isinstance(value, dict) else None
            if tag in mapping:
                node = {"$ref": mapping[tag]}
            else:
                objects = [o for o in options if o.get("type") != "null"]
                node = objects[0] if objects else {}
        else:
            return node
