"""Hostile and malformed deploytools.yml files: exit 2, a located message, no traceback, fast.

The inputs are those that defeat a plain YAML loader: an alias bomb (it hangs), encodings,
control characters, tags, merge keys, complex keys, deep nesting and long numbers (each ends
in a traceback), and 120k unknown keys (megabytes of errors).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploytools.cli import main
from deploytools.config import load_config
from deploytools.errors import ConfigError
from tests.support.config_repo import MINIMAL_CONFIG, write_config_repo

VALID = MINIMAL_CONFIG
LOCATED = re.compile(r"^error: deploytools\.yml:\d+: \S")
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)
TAGS = "remove it (or use !!str, !!int, !!float, !!bool or !!null)"

HOSTILE: dict[str, tuple[bytes, str]] = {
    "alias bomb": (
        ALIAS_BOMB.encode(),
        "deploytools.yml:5: aliases expand to more than 10,000 values; use fewer aliases or "
        "write the values out",
    ),
    "UTF-16": (VALID.encode("utf-16"), "deploytools.yml:1: the file is UTF-16; save it as UTF-8"),
    "Latin-1": (
        (VALID + "# caf\xe9\n").encode("latin-1"),
        "deploytools.yml:14: not UTF-8 (byte 0xe9 at column 6); save the file as UTF-8",
    ),
    "binary": (
        bytes(range(256)) * 4,
        "deploytools.yml:2: not UTF-8 (byte 0x80 at column 118); save the file as UTF-8",
    ),
    "NUL": (
        VALID.replace("shop-{env}", "shop-\x00").encode(),
        "deploytools.yml:12: control character U+0000 at column 19; remove it (the file must "
        "be UTF-8 text)",
    ),
    "control character": (
        (VALID + "x: \x07\n").encode(),
        "deploytools.yml:14: control character U+0007 at column 4; remove it (the file must "
        "be UTF-8 text)",
    ),
    "python tag": (
        (VALID + "x: !!python/object:os.system {}\n").encode(),
        f"deploytools.yml:14: tag !!python/object:os.system is not allowed; {TAGS}",
    ),
    "binary tag": (
        (VALID + "x: !!binary '%%%'\n").encode(),
        f"deploytools.yml:14: tag !!binary is not allowed; {TAGS}",
    ),
    "bad tag value": (
        VALID.replace("    image: api\n", "    image: api\n    timeout: !!int abc\n").encode(),
        "deploytools.yml:14: 'abc' is not a valid !!int; quote it",
    ),
    "merge key": (
        (VALID + "base: &b {a: 1}\nother:\n  <<: *b\n").encode(),
        "deploytools.yml:16: merge keys (<<) are not supported; write the keys out or alias "
        "the whole value",
    ),
    "complex key": (
        (VALID + "? [a, b]\n: 1\n").encode(),
        "deploytools.yml:14: a key must be text, not a list or a mapping",
    ),
    "mapping as key": (
        (VALID + "{a: 1}: 2\n").encode(),
        "deploytools.yml:14: a key must be text, not a list or a mapping",
    ),
    "deep nesting": (
        (VALID + "x: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
        "deploytools.yml:14: nested deeper than 50 levels; flatten the structure",
    ),
    "5,000-digit number": (
        VALID.replace(
            "    image: api\n", "    image: api\n    timeout: " + "9" * 5000 + "\n"
        ).encode(),
        "deploytools.yml:14: a number of 5,000 characters is too long; quote it if it is text",
    ),
    "recursive alias": (
        (VALID + "x: &r [*r]\n").encode(),
        "deploytools.yml:14: alias *r refers to a value that contains it",
    ),
    "undefined alias": (
        (VALID + "x: *nope\n").encode(),
        "deploytools.yml:14: alias *nope is not defined; define &nope before it",
    ),
    "impossible date": (
        (VALID + "x: 2025-13-45\n").encode(),
        "deploytools.yml:14: '2025-13-45' is not a valid !!timestamp; quote it",
    ),
    "two documents": (
        (VALID + "---\nproject: x\n").encode(),
        "deploytools.yml:14: more than one YAML document; keep one (remove ---)",
    ),
    "10 MB file": (
        (VALID + "#" * (10 * 1024 * 1024) + "\n").encode(),
        "deploytools.yml:1: the file is 10.0 MiB; the limit is 1 MiB: keep settings in it and "
        "move data into the files it names",
    ),
    "nested placeholder": (
        VALID.replace("shop-{env}", '"{tf.{env}}"').encode(),
        "deploytools.yml:12: targets.api.cluster: malformed placeholder {tf.{env}}: "
        "placeholders cannot be nested",
    ),
}


# A hang guard, not a speed goal (bench/bench_config.py measures speed): an unguarded alias
# bomb or nesting runs for hours, so a minute tells the two apart on a loaded machine too.
HANG = 60


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_config_exits_2_with_exact_message(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, message = HOSTILE[case]
    started = time.monotonic()
    code = main(["--config", str(write_config_repo(tmp_path, data)), "plan", "--env", "dev"])
    captured = capsys.readouterr()
    assert time.monotonic() - started < HANG
    assert (code, captured.out, captured.err) == (2, "", f"error: {message}\n")


@pytest.mark.parametrize("case", ["alias bomb", "deep nesting", "5,000-digit number"])
def test_hostile_config_through_the_real_command(case: str, tmp_path: Path) -> None:
    """A subprocess, as a user runs it: no traceback reaches the terminal, memory stays small."""
    path = write_config_repo(tmp_path, HOSTILE[case][0])
    # VmHWM is this process's own peak; ru_maxrss would also count the forked pytest image
    # before exec (Linux keeps that high-water mark across execve).
    script = (
        "import re, sys\n"
        "from deploytools.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "status = open('/proc/self/status').read()\n"
        "peak = re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)\n"
        "print(f'peak_kib={peak}', file=sys.stderr)\n"
        "raise SystemExit(code)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script, "--config", str(path), "plan", "--env", "dev"],
        capture_output=True,
        text=True,
        timeout=HANG * 2,
    )
    assert time.monotonic() - started < HANG
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert LOCATED.match(done.stderr)
    peak_kib = int(done.stderr.rsplit("peak_kib=", 1)[1])
    assert peak_kib < 300 * 1024


def test_check_reports_the_alias_bomb_as_dt000(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", str(write_config_repo(tmp_path, ALIAS_BOMB.encode())), "check"])
    out = capsys.readouterr().out
    assert code == 3
    assert "deploytools.yml:5: DT000 error: aliases expand to more than 10,000 values" in out


def test_many_unknown_keys_print_the_first_twenty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = "".join(f"k{i}: 1\n" for i in range(5000))
    path = write_config_repo(tmp_path, (VALID + extra).encode())
    code = main(["--config", str(path), "plan", "--env", "dev"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2
    assert len(lines) == 21
    assert lines[0].startswith("error: deploytools.yml:14: k0: unknown key 'k0'; allowed: ")
    assert lines[-1] == "error: deploytools.yml:34: ... and 4,980 more problems"


SCALARS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["&a x", "*a", "!!binary x", "<<", "? x", "{", "[", "'", '"', "%TAG", "---"]),
    st.integers().map(str),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=SCALARS,
    value=SCALARS,
    indent=st.integers(min_value=0, max_value=6),
    noise=st.binary(max_size=40),
)
def test_generated_configs_load_or_fail_located(
    tmp_path: Path, key: str, value: str, indent: int, noise: bytes
) -> None:
    """Whatever is appended to a valid config, loading ends in a model or in located errors."""
    text = VALID.encode() + (" " * indent + f"{key}: {value}\n").encode("utf-8", "replace")
    path = write_config_repo(tmp_path, text + noise)
    started = time.monotonic()
    try:
        load_config(path)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert re.match(r"^deploytools\.yml:\d+: \S", problem), problem
    assert time.monotonic() - started < HANG
