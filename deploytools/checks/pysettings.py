"""Environment reads through pydantic-settings: each field of a `BaseSettings` model is one.

A field's variable is its `alias` or `validation_alias` when one is a literal, else
`env_prefix` + the field's name; names are matched without regard to case unless the model
says `case_sensitive=True` (pydantic-settings' own default). A field with a default (a value,
`Field(default=...)` or `default_factory`) still lets the app start, so its read has a default.
Subclasses of a settings model defined in the same module inherit its prefix.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

BASES = {"BaseSettings"}
SETTINGS_MODULES = {"pydantic_settings", "pydantic"}  # pydantic 1 had BaseSettings itself
CONFIG_CALLS = {"SettingsConfigDict", "ConfigDict", "dict"}


@dataclass(frozen=True)
class SettingsRead:
    name: str  # the variable, upper-cased unless the model is case-sensitive
    line: int
    how: str  # e.g. Settings.bucket_name (pydantic-settings)
    has_default: bool
    case_sensitive: bool


@dataclass(frozen=True)
class _Options:
    prefix: str = ""
    case_sensitive: bool = False


def settings_reads(tree: ast.AST) -> list[SettingsRead]:
    """The variables every BaseSettings model in the module reads, in source order."""
    bases = _base_names(tree)
    if not bases:
        return []
    models: dict[str, _Options] = {}
    found: list[SettingsRead] = []
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    for node in sorted(classes, key=lambda c: c.lineno):
        parents = [_name(b) for b in node.bases]
        inherited = next((models[p] for p in parents if p in models), None)
        if inherited is None and not any(p in bases for p in parents):
            continue
        options = _options(node, inherited or _Options())
        models[node.name] = options
        found.extend(_fields(node, options))
    return found


def _base_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in SETTINGS_MODULES:
            names |= {a.asname or a.name for a in node.names if a.name in BASES}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name in SETTINGS_MODULES}
    return names | {f"{m}.{b}" for m in modules for b in BASES}


def _name(node: ast.AST) -> str:
    return ast.unparse(node)


def _literal(node: ast.AST | None) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _options(node: ast.ClassDef, inherited: _Options) -> _Options:
    prefix, sensitive = inherited.prefix, inherited.case_sensitive
    for item in node.body:
        keywords: dict[str, object] = {}
        if isinstance(item, ast.Assign) and any(_name(t) == "model_config" for t in item.targets):
            call = item.value
            if isinstance(call, ast.Call) and _name(call.func) in CONFIG_CALLS:
                keywords = {k.arg: _literal(k.value) for k in call.keywords if k.arg}
        elif isinstance(item, ast.ClassDef) and item.name == "Config":  # pydantic 1
            for inner in item.body:
                if isinstance(inner, ast.Assign) and len(inner.targets) == 1:
                    keywords[_name(inner.targets[0])] = _literal(inner.value)
        if isinstance(keywords.get("env_prefix"), str):
            prefix = str(keywords["env_prefix"])
        if isinstance(keywords.get("case_sensitive"), bool):
            sensitive = bool(keywords["case_sensitive"])
    return _Options(prefix, sensitive)


def _fields(node: ast.ClassDef, options: _Options) -> list[SettingsRead]:
    found = []
    for item in node.body:
        if not isinstance(item, ast.AnnAssign) or not isinstance(item.target, ast.Name):
            continue
        field = item.target.id
        if field.startswith("_") or field == "model_config" or "ClassVar" in _name(item.annotation):
            continue
        alias, has_default = _field_call(item.value)
        name = alias or options.prefix + field
        name = name if options.case_sensitive else name.upper()
        how = f"{node.name}.{field} (pydantic-settings)"
        found.append(SettingsRead(name, item.lineno, how, has_default, options.case_sensitive))
    return found


def _alias(node: ast.expr | None) -> str | None:
    """A literal alias, or the first of `AliasChoices("A", "B")` (the one documented first)."""
    if isinstance(node, ast.Call) and _name(node.func).endswith("AliasChoices") and node.args:
        node = node.args[0]
    literal = _literal(node)
    return literal if isinstance(literal, str) else None


def _field_call(value: ast.expr | None) -> tuple[str | None, bool]:
    """(the literal alias, whether there is a default) of a field's right-hand side."""
    if value is None:
        return None, False
    if not (isinstance(value, ast.Call) and _name(value.func) in ("Field", "pydantic.Field")):
        return None, True
    keywords = {k.arg: k.value for k in value.keywords if k.arg}
    alias = None
    for key in ("validation_alias", "alias", "env"):
        literal = _alias(keywords.get(key))
        if literal is not None:
            alias = literal
            break
    default = value.args[0] if value.args else keywords.get("default")
    required = default is None or (isinstance(default, ast.Constant) and default.value is ...)
    return alias, not required or "default_factory" in keywords
