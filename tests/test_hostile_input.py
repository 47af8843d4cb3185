"""Extreme and hostile input (issue 7): every bad document is refused with a message naming
the field or the position, cheaply, and never with a traceback."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mediation import case as case_module
from mediation import limits
from mediation.case import parse_case
from mediation.cli import app
from mediation.documents import parse_document
from mediation.errors import CaseError

MINIMAL_YAML = """\
id: hall
title: 社区活动大厅
stakeholders:
  - {id: yikang, name: 颐康, kind: social_organization}
  - {id: dancers, name: 广场舞队, kind: resident_group}
issues:
  - {id: hours, name: 大厅时段, kind: resource, amount: 40}
interests:
  - {stakeholder: yikang, issue: hours, value: 60}
  - {stakeholder: dancers, issue: hours, value: 40}
"""


def run(*args: str, stdin: bytes | None = None) -> Result:
    """The command line, which may exit with a code but never with a traceback."""
    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output + result.stderr
    return result


def refused(result: Result, *phrases: str) -> None:
    """Exit 2, nothing on standard output, every phrase on standard error."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


# --- bounded reads -------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_file_is_refused_after_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 3 << 20)
    refused(run("validate", "/dev/zero"), "larger than the limit of 3145728 bytes")


def test_file_at_the_limit_is_read_and_one_byte_more_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 4096
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", limit)
    padded = MINIMAL_YAML.encode()
    padded += b"#" * (limit - len(padded) - 1) + b"\n"
    path = tmp_path / "case.yaml"
    path.write_bytes(padded)
    assert run("validate", str(path)).exit_code == 0
    path.write_bytes(padded + b"\n")
    refused(run("validate", str(path)), "larger than the limit of 4096 bytes")
    refused(run("validate", "-", stdin=padded + b"\n"), "larger than the limit of 4096 bytes")


def test_endless_standard_input_is_refused_at_the_real_limit() -> None:
    script = Path(sys.executable).with_name("mediation")
    if not script.exists():
        pytest.skip("the mediation console script is not installed next to this Python")
    process = subprocess.Popen(
        [str(script), "validate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None

    def feed() -> None:  # a generator that never ends: the reader must stop on its own
        chunk = b"- " + b"x" * 65_534
        try:
            while True:
                process.stdin.write(chunk)  # type: ignore[union-attr]
        except (BrokenPipeError, OSError, ValueError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:  # not communicate(): it would close standard input, ending the stream
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.stderr is not None
    text = process.stderr.read().decode()
    assert process.returncode == 2, text
    assert f"larger than the limit of {limits.MAX_DOCUMENT_BYTES} bytes" in text
    assert "Traceback" not in text


# --- alias bombs ---------------------------------------------------------------------------


def _string_bomb(length: int = 900_000, repeats: int = 11_000) -> str:
    """About 1 MB of YAML whose aliases repeat one long string: 9.9 GB once written out."""
    refs = ", ".join(["*s"] * repeats)
    return MINIMAL_YAML + f"extensions:\n  seed: &s {'x' * length}\n  copies: [{refs}]\n"


def _text_of(value: object) -> int:
    """Characters of every key and string in ``value``, repeats included."""
    if isinstance(value, dict):
        return sum(len(k) + _text_of(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_text_of(v) for v in value)
    return len(value) if isinstance(value, str) else 0


@pytest.mark.parametrize("command", ["validate", "settle"])
def test_alias_bomb_of_one_long_string_is_refused_quickly(command: str) -> None:
    started = time.perf_counter()
    refused(
        run(command, "-", stdin=_string_bomb().encode()),
        f"the document expands to more than {limits.MAX_EXPANDED_TEXT} characters of text",
    )
    assert time.perf_counter() - started < 5


def test_expanded_text_limit_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = parse_document(MINIMAL_YAML)
    assert isinstance(doc, dict)
    shared = "x" * 1000
    doc["extensions"] = {"copies": [shared] * 50}  # one string, 50 uses
    limit = _text_of(doc)
    monkeypatch.setattr(case_module, "MAX_EXPANDED_TEXT", limit)
    assert parse_case(doc).extensions == {"copies": [shared] * 50}
    doc["extensions"]["copies"].append("y")
    with pytest.raises(CaseError, match=f"more than {limit} characters of text"):
        parse_case(doc)
