"""Write the Inputs/Outputs tables of each module README from its variables.tf and outputs.tf.

    python3 terraform/gen_docs.py          # rewrite the tables between the markers
    python3 terraform/gen_docs.py --check  # exit 1 if a README is out of date

Only the text between <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> is generated.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
ROOT = Path(__file__).resolve().parent


def _blocks(text: str, kind: str) -> list[tuple[str, str]]:
    """Return (name, body) of every top-level `kind "name" { ... }` block."""
    found = []
    for match in re.finditer(rf'^{kind} "([^"]+)" \{{', text, re.MULTILINE):
        depth, i = 1, match.end()
        in_string = False
        while depth:
            ch = text[i]
            if in_string:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            i += 1
        found.append((match.group(1), text[match.end() : i - 1]))
    return found


def _attribute(body: str, name: str) -> str | None:
    """Return the source text of a top-level attribute of a block body."""
    match = re.search(rf"^  {name}\s*=\s*", body, re.MULTILINE)
    if not match:
        return None
    i, depth, in_string = match.end(), 0, False
    start = i
    while i < len(body):
        ch = body[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "\n" and depth == 0:
            break
        i += 1
    return body[start:i].strip()


def _description(body: str) -> str:
    raw = _attribute(body, "description") or '""'
    return raw[1:-1].replace('\\"', '"').replace("$${", "${").replace("|", "\\|")


def _code(text: str) -> str:
    """Flatten a multi-line expression to one line, separating object attributes with commas."""
    parts: list[str] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"\s+#.*$", "", line)
        if parts and parts[-1][-1] not in "{([," and line[0] not in "})]":
            parts[-1] += ","
        parts.append(line)
    flat = re.sub(r"\s+", " ", " ".join(parts))
    flat = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", flat))
    return "`" + flat.replace("|", "\\|") + "`"


def tables(module: Path) -> str:
    variables = _blocks((module / "variables.tf").read_text(), "variable")
    outputs = _blocks((module / "outputs.tf").read_text(), "output")
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
    for name, body in variables:
        default = _attribute(body, "default")
        type_ = _attribute(body, "type") or "any"
        lines.append(
            f"| `{name}` | {_description(body)} | {_code(type_)} | "
            f"{_code(default) if default is not None else 'n/a'} | {'no' if default is not None else 'yes'} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    lines += [f"| `{name}` | {_description(body)} |" for name, body in outputs]
    return "\n".join(lines)


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for module in sorted((ROOT / "modules").iterdir()):
        readme = module / "README.md"
        if not readme.exists():
            stale.append(f"{readme}: missing")
            continue
        text = readme.read_text()
        if BEGIN not in text or END not in text:
            stale.append(f"{readme}: no {BEGIN} / {END} markers")
            continue
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        new = f"{head}{BEGIN}\n{tables(module)}\n{END}{tail}"
        if new != text:
            if check:
                stale.append(f"{readme}: out of date")
            else:
                readme.write_text(new)
    for line in stale:
        print(line, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
