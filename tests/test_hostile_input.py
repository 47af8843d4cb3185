"""Extreme and hostile input (issue 7): every bad document is refused with a message naming
the field or the position, cheaply, and never with a traceback."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mediation import limits
from mediation.cli import app

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
