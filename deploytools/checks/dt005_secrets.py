"""DT005: committed .env files and secret-looking literals; hard-coded AWS endpoint URLs.

Secrets belong in SSM Parameter Store (read at deploy and run time), endpoints in Terraform
outputs. Literals are found by detect-secrets' plugins and heuristic filters (checks.secret_scan),
on the lines its prefilter flags; an assignment of a literal to a secret-sounding name that its
keyword list lacks (`*_TOKEN`, `access_key`) is reported too. Placeholders (EXAMPLE, `<...>`,
`${VAR}`) and names that hold a reference (`secret_arn`, `token_url`) are not secrets.

A line carrying detect-secrets' `pragma: allowlist secret` is skipped, and one carrying
`deploytools: ignore DT005 -- reason` (in any comment syntax) is waived and listed as such, which
is how test fixtures and documented examples opt out. A secret in documentation (Markdown,
reStructuredText, a docs/ folder) is a warning: it is usually an example, but one that looks
real is worth a look. Findings never repeat the secret: they show its first characters only.

Limits: "committed" is judged from the work tree and .gitignore files (no git call): an
ignored `.env` is taken to be a local file and not reported.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import re
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from deploytools.checks import secret_scan
from deploytools.checks.base import CheckContext, Finding, Severity, rule
from deploytools.checks.secret_scan import (
    NAME_WORDS,
    candidate_lines,
    filtered_out,
    secrets_in_line,
)

RULE = "DT005"
# detect-secrets' allowlist comment; `deploytools: ignore DT005` is a waiver (checks.waivers).
IGNORE = re.compile(r"pragma:\s*allowlist[ -]secret", re.IGNORECASE)
DOC_SUFFIXES = {".md", ".markdown", ".rst", ".adoc", ".txt", ".ipynb"}
DOC_FOLDERS = {"docs", "doc"}
ENV_TEMPLATES = {".env.example", ".env.sample", ".env.template"}
MAX_BYTES = 512 * 1024
LOCKFILES = {
    "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "poetry.lock", "Pipfile.lock",
    "Cargo.lock", "go.sum", "uv.lock", "composer.lock", "Gemfile.lock",
}  # fmt: skip
BINARY_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".gif", ".ico", ".webp", ".pdf", ".zip", ".gz", ".tgz", ".tar",
    ".whl", ".pyc", ".so", ".dylib", ".woff", ".woff2", ".ttf", ".eot", ".onnx", ".pt", ".bin",
    ".safetensors", ".parquet", ".pkl", ".npy", ".jar", ".class", ".exe", ".wasm",
}  # fmt: skip
CODE_SUFFIXES = {
    ".py", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".go", ".java", ".kt", ".rb", ".php",
    ".vue", ".svelte", ".cs", ".rs", ".sh", ".swift", ".scala",
}  # fmt: skip

# Names that hold a reference to a secret, not the secret itself.
REFERENCE_NAME = re.compile(
    r"(?i)(?:name|names|arn|path|url|uri|file|env|var|variable|param|parameter|id|header|type|"
    r"field|prefix|endpoint|length|len|ttl|expiry|expires)$"
)
PLACEHOLDER = re.compile(
    r"(?i)example|changeme|change-me|placeholder|dummy|your[-_ ]|xxxx|\*\*\*|redacted|<|>|"
    r"^\$|\$\{|\{\{|%\(|^https?://|^/|^\./"
)
ENV_REFERENCE = re.compile(r"^[A-Z][A-Z0-9_]*$")  # the name of a variable, not a value
GENERIC = re.compile(
    r"(?P<key>[A-Za-z0-9_.-]*" + NAME_WORDS + r"[A-Za-z0-9_.-]*)[\"']?\s*"
    r"(?::\s*[A-Za-z_][\w.\[\]]*\s*)?(?::=|=>|=|:)\s*"
    r"(?P<quote>[\"'])(?P<value>[^\"'\s]{12,})(?P=quote)",
    re.IGNORECASE,
)
ENDPOINTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "an API Gateway URL",
        re.compile(r"\b(?:https?://)?[a-z0-9]{6,}\.execute-api\.[a-z0-9-]+\.amazonaws\.com\S*"),
    ),
    ("a load balancer URL", re.compile(r"\b(?:https?://)?[A-Za-z0-9.-]+\.elb\.amazonaws\.com\S*")),
    (
        "a Lambda function URL",
        re.compile(r"\b(?:https?://)?[a-z0-9]+\.lambda-url\.[a-z0-9-]+\.on\.aws\S*"),
    ),
    (
        "an Amplify app URL",
        re.compile(r"\b(?:https?://)?(?:[A-Za-z0-9-]+\.)?d[a-z0-9]{6,}\.amplifyapp\.com\S*"),
    ),
]
MAYBE_ENDPOINT = re.compile(r"(?i)amazonaws\.com|\.on\.aws|amplifyapp\.com")
ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(?P<value>.*)$")
SECRET_NAME = re.compile(r"(?i)" + NAME_WORDS + r"|credential|private")


def preview(secret: str) -> str:
    """Enough to find the value, not enough to use it."""
    if "PRIVATE KEY" in secret:
        return secret
    return f"{secret[:4]}… ({len(secret)} characters)"


def is_env_file(name: str) -> bool:
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def _placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.search(value) or ENV_REFERENCE.match(value))


def _ignored(line: str) -> bool:
    return bool(IGNORE.search(line))


def _text(path: Path) -> str | None:
    """The file's text, read once; None for lock files, binaries and files over MAX_BYTES."""
    if path.name in LOCKFILES or path.suffix.lower() in BINARY_SUFFIXES:
        return None
    if path.name.endswith((".min.js", ".map")):
        return None
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES or b"\0" in data[:4096]:
        return None
    return data.decode("utf-8", errors="replace")


def _gitignored(ctx: CheckContext, path: Path) -> bool:
    """A small .gitignore reader: basename and anchored patterns, negation, last match wins."""
    root = ctx.root.resolve()
    target = path.resolve()
    ignored = False
    folders = [root, *(p for p in reversed(target.parents) if p != root and root in p.parents)]
    for folder in folders:
        gitignore = folder / ".gitignore"
        if not gitignore.is_file():
            continue
        relative = target.relative_to(folder).as_posix()
        for raw in ctx.read(gitignore).splitlines():
            pattern = raw.strip()
            if not pattern or pattern.startswith("#"):
                continue
            negated = pattern.startswith("!")
            pattern = pattern.lstrip("!").rstrip("/")
            if "/" in pattern.lstrip("/"):
                hit = fnmatch.fnmatch(relative, pattern.lstrip("/"))
            else:
                parts = relative.split("/")
                hit = any(fnmatch.fnmatch(part, pattern.lstrip("/")) for part in parts)
            if hit:
                ignored = not negated
    return ignored


def _env_file(ctx: CheckContext, path: Path, ssm_hint: str) -> Iterator[Finding]:
    rel = ctx.rel(path)
    lines = ctx.read(path).splitlines()
    if path.name in ENV_TEMPLATES:
        for number, line in enumerate(lines, start=1):
            match = ENV_LINE.match(line)
            if not match or _ignored(line):
                continue
            value = match["value"].split(" #", 1)[0].strip().strip("\"'")
            if value and SECRET_NAME.search(match["key"]) and not _placeholder(value):
                yield Finding(
                    rel, number, RULE,
                    f"{path.name} gives {match['key']} a value ({preview(value)}); "
                    "templates keep secret values empty",
                    fix=f"Leave the value empty ({match['key']}=) and keep the real one in "
                    f"SSM Parameter Store{ssm_hint}.",
                )  # fmt: skip
        return
    if _gitignored(ctx, path) or (lines and _ignored(lines[0])):
        return
    names = [m["key"] for m in map(ENV_LINE.match, lines) if m]
    listed = f" ({', '.join(names[:5])}{', …' if len(names) > 5 else ''})" if names else ""
    yield Finding(
        rel, 1, RULE,
        f"committed env file {path.name}{listed}: secrets in the repository reach every clone",
        fix=f"git rm --cached {rel}, add it to .gitignore, rotate what it held, and put the values "
        f"in SSM Parameter Store{ssm_hint} (deploytools secrets exec/export reads them); keep "
        "a .env.example with empty values for documentation.",
    )  # fmt: skip


def is_documentation(rel: str) -> bool:
    folders = rel.lower().split("/")[:-1]
    return Path(rel).suffix.lower() in DOC_SUFFIXES or bool(DOC_FOLDERS.intersection(folders))


def _literals(ctx: CheckContext, path: Path, text: str, ssm_hint: str) -> Iterator[Finding]:
    numbers = candidate_lines(text)
    if not numbers:
        return  # the prefilter spares detect-secrets most files
    rel = ctx.rel(path)
    scanned = f"{rel}\0{text}"
    if ctx.cache.is_clean(_scanner(), scanned):
        return  # an earlier run's scan of this very file found nothing
    found_any = False
    for finding in _scan(rel, text, numbers, ssm_hint):
        found_any = True
        yield finding
    if not found_any:
        ctx.cache.mark_clean(_scanner(), scanned)


@functools.cache
def _scanner() -> str:
    """The scan's revision: a clean mark from another detect-secrets or rule code is not one."""
    digest = hashlib.sha256(metadata.version("detect-secrets").encode())
    for module in (__file__, secret_scan.__file__):
        digest.update(Path(module).read_bytes())
    return "dt005-" + digest.hexdigest()[:16]


def _scan(rel: str, text: str, numbers: list[int], ssm_hint: str) -> Iterator[Finding]:
    in_docs = is_documentation(rel)
    lines = text.split("\n")
    for number in numbers:
        line = lines[number - 1].rstrip("\r")
        if _ignored(line):
            continue
        found = _secret_in(rel, line, number)
        if found and in_docs:
            yield Finding(
                rel, number, RULE, f"{found} in documentation",
                fix="If it is an example, make it one (EXAMPLE, xxxx, <your-token>) or add "
                "`pragma: allowlist secret`; if it is real, remove and rotate it.",
                severity=Severity.WARNING,
            )  # fmt: skip
        elif found:
            yield Finding(
                rel, number, RULE, found,
                fix=f"Remove it, rotate it (it stays in git history), and keep it in SSM Parameter "
                f"Store{ssm_hint}; read it from the environment at run time.",
            )  # fmt: skip


def _secret_in(rel: str, line: str, number: int) -> str | None:
    """What secret the line holds, shown redacted; None if it holds none."""
    for secret in secrets_in_line(rel, line, number):
        if PLACEHOLDER.search(secret.value) or "EXAMPLE" in secret.value:
            continue
        if not secret.general:
            return f"{secret.kind} is written in the file ({preview(secret.value)})"
        if ENV_REFERENCE.match(secret.value) or (
            secret.name and REFERENCE_NAME.search(secret.name.rstrip("_-."))
        ):
            continue
        if secret.name:
            return f"{secret.name} is set to a literal secret ({preview(secret.value)})"
        return f"{secret.kind} is written in the file ({preview(secret.value)})"
    for match in GENERIC.finditer(line):
        key, value = match["key"], match["value"]
        if REFERENCE_NAME.search(key.rstrip("_-.")) or _placeholder(value):
            continue
        if filtered_out(value, line):
            continue
        return f"{key} is set to a literal secret ({preview(value)})"
    return None


def _endpoints(ctx: CheckContext, path: Path, text: str) -> Iterator[Finding]:
    if not MAYBE_ENDPOINT.search(text):
        return
    rel = ctx.rel(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if _ignored(line):
            continue
        for what, pattern in ENDPOINTS:
            match = pattern.search(line)
            if match:
                url = match.group(0).rstrip("\"'`),;")
                yield Finding(
                    rel, number, RULE,
                    f"{what} is hard-coded ({url}); it changes whenever Terraform recreates it",
                    fix="Output it from Terraform and pass it in as an environment variable "
                    "(e.g. environment: {API_URL: '{tf.api_url}'} on the target, or "
                    "frontend.amplify.environment NEXT_PUBLIC_API_URL: '{tf.api_url}').",
                )  # fmt: skip
                break


def _terraform_dir(ctx: CheckContext) -> str | None:
    if ctx.config is None or ctx.config.model.terraform is None:
        return None
    return ctx.config.model.terraform.dir


@rule(
    RULE,
    "committed secret, .env file, or hard-coded endpoint",
    description="A committed .env file or secret-looking literal (AWS keys, GitHub/Slack tokens, "
    "private keys, password/token assignments), or an AWS endpoint URL hard-coded in app code "
    "when Terraform could output it. Opt out per line with `deploytools: ignore DT005 -- "
    "reason` or `pragma: allowlist secret`; in documentation, findings are warnings.",
)
def secrets_and_endpoints(ctx: CheckContext) -> Iterator[Finding]:
    ssm_path = ctx.config.model.secrets.ssm_path if ctx.config and ctx.config.model.secrets else ""
    ssm_hint = f" under {ssm_path}" if ssm_path else ""
    terraform = _terraform_dir(ctx)
    terraform_root = terraform.split("{", 1)[0].rstrip("/") if terraform else None
    for path in ctx.all_files:
        if is_env_file(path.name):
            yield from _env_file(ctx, path, ssm_hint)
            continue
        text = _text(path)
        if text is None:
            continue
        yield from _literals(ctx, path, text, ssm_hint)
        rel = ctx.rel(path)
        in_terraform = bool(terraform_root) and rel.startswith(f"{terraform_root}/")
        if terraform and path.suffix in CODE_SUFFIXES and not in_terraform:
            yield from _endpoints(ctx, path, text)
