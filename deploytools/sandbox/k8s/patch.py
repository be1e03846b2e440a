"""The three patch formats the Kubernetes API double accepts besides apply: JSON merge patch
(RFC 7386), a strategic merge patch reduced to what deploytools sends, and JSON patch (RFC 6902).
"""

from __future__ import annotations

import copy
from typing import Any

# Keys by which Kubernetes merges lists of objects in a strategic merge patch (the subset
# that containers, env, volumes and ports use).
MERGE_KEYS = ("name", "containerPort", "port", "mountPath")


class PatchError(ValueError):
    """The patch does not apply; the API answers 422 with this message."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, everything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Like a merge patch, but lists of objects merge item by item on their merge key."""
    if isinstance(patch, dict) and isinstance(target, dict):
        result = dict(target)
        for key, value in patch.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = strategic_merge_patch(result.get(key), value)
        return result
    if isinstance(patch, list) and isinstance(target, list):
        key = _merge_key(target, patch)
        if key is None:
            return copy.deepcopy(patch)
        merged = [copy.deepcopy(item) for item in target]
        for item in patch:
            for index, existing in enumerate(merged):
                if existing.get(key) == item.get(key):
                    merged[index] = strategic_merge_patch(existing, item)
                    break
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 add, replace, remove and test."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    document = copy.deepcopy(target)
    for operation in operations:
        op, path = operation.get("op"), operation.get("path", "")
        parent, last = _resolve(document, path)
        if op in ("add", "replace"):
            value = copy.deepcopy(operation.get("value"))
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                if op == "add":
                    parent.insert(index, value)
                else:
                    parent[index] = value
            elif op == "replace" and last not in parent:
                raise PatchError(f"replace: {path} does not exist")
            else:
                parent[last] = value
        elif op == "remove":
            try:
                del parent[int(last) if isinstance(parent, list) else last]
            except (KeyError, IndexError) as exc:
                raise PatchError(f"remove: {path} does not exist") from exc
        elif op == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != operation.get("value"):
                raise PatchError(f"test: {path} differs")
        else:
            raise PatchError(f"unsupported JSON patch operation {op!r}")
    return document


def _resolve(document: Any, pointer: str) -> tuple[Any, str]:
    if not pointer.startswith("/"):
        raise PatchError(f"{pointer!r} is not a JSON pointer")
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
    node = document
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError) as exc:
            raise PatchError(f"{pointer} does not exist") from exc
    return node, parts[-1]


def _merge_key(target: list[Any], patch: list[Any]) -> str | None:
    items = [*target, *patch]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in MERGE_KEYS:
        if all(key in item for item in items):
            return key
    return None
