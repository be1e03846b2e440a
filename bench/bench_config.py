"""Loading deploytools.yml: time and peak memory of what the loader refuses and accepts.

- a 10 MB config: refused by the size limit (1 MiB) after reading at most the limit;
- a large-but-allowed config (just under the limit, thousands of targets' worth of keys);
- a "billion laughs" alias bomb (9 levels, 9^9 values if expanded): refused after counting
  aliases, before expanding them;
- a small valid config, for scale.

Each case runs in this process through `load_config`; memory is tracemalloc's peak of the
allocations the load itself makes. Prints; asserts nothing. Targets: refusals well under a
second and a few MB.

    python bench/bench_config.py            # the sizes above
    python bench/bench_config.py --tiny     # small sizes, to prove it runs
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from deploytools.config import load_config
from deploytools.config.loader import MAX_CONFIG_BYTES
from deploytools.errors import ConfigError

HEADER = """\
project: shop
region: us-east-1
environments:
  dev:
    account_id: "123456789012"
"""


def alias_bomb(levels: int) -> str:
    names = [chr(ord("a") + i) for i in range(levels + 1)]
    lines = [f'{names[0]}: &{names[0]} ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def large_config(size: int) -> str:
    """A valid config of about `size` bytes: one target's plain environment, many keys."""
    body = [HEADER, "targets:\n  job:\n    type: batch\n    image: api\n    environment:\n"]
    written = sum(len(part) for part in body)
    index = 0
    while written < size:
        line = f"      VARIABLE_{index:07d}: value-{index}\n"
        body.append(line)
        written += len(line)
        index += 1
    body.append("images:\n  api: {}\n")
    return "".join(body)


def measure(name: str, path: Path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        load_config(path)
        outcome = "loaded"
    except ConfigError as exc:
        outcome = f"refused: {exc.problems[0][:90]}"
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = path.stat().st_size
    print(
        f"{name}: {size / 1024:,.1f} KiB, {elapsed * 1000:,.1f} ms, "
        f"peak {peak / 1024 / 1024:,.2f} MiB, {outcome}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="small sizes, to prove it runs")
    args = parser.parse_args()
    too_big = 64 * 1024 + MAX_CONFIG_BYTES if args.tiny else 10 * 1024 * 1024
    allowed = 64 * 1024 if args.tiny else MAX_CONFIG_BYTES - 64 * 1024
    cases: dict[str, Callable[[], str]] = {
        "small valid config": lambda: HEADER + "images:\n  api: {}\n",
        "large config under the limit": lambda: large_config(allowed),
        "config over the size limit": lambda: HEADER + "#" * too_big + "\n",
        "alias bomb (9 levels of 9 aliases)": lambda: alias_bomb(9),
    }
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "Dockerfile").write_text("FROM scratch\n")
        for name, text in cases.items():
            path = root / "deploytools.yml"
            path.write_text(text())
            measure(name, path)


if __name__ == "__main__":
    main()
