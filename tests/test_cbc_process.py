"""CBC runs as a subprocess: killed or failing, it leaves no process and no file behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import interest, make_case, party, resource

from mediation import settle
from mediation.allocation.model import build_model
from mediation.backends import CbcBackend, SolverOptions
from mediation.errors import SolverError
from mediation.reasons import SolverFailed

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to find CBC processes"
)


def write_market(path: Path, n: int, m: int) -> None:
    """Return a dense market CBC needs several seconds for (leximin at 600 x 120)."""
    rng = np.random.default_rng(7)
    document = {
        "id": "big",
        "title": "big",
        "stakeholders": [{"id": f"p{p}", "name": f"P{p}", "kind": "other"} for p in range(n)],
        "issues": [
            {"id": f"i{q}", "name": f"I{q}", "kind": "resource", "amount": 1.0} for q in range(m)
        ],
        "interests": [
            {"stakeholder": f"p{p}", "issue": f"i{q}", "value": float(rng.integers(1, 100))}
            for p in range(n)
            for q in range(m)
        ],
    }
    path.write_text(json.dumps(document), encoding="utf-8")


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in command:
            found.append(int(entry.name))
    return found


def wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_killing_a_cbc_settlement_leaves_nothing_behind(tmp_path: Path, how: int) -> None:
    case = tmp_path / "case.json"
    write_market(case, 600, 120)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    command = "from mediation.cli import main; main()"
    engine = subprocess.Popen(
        [sys.executable, "-c", command, "settle", str(case), "--solver", "cbc"],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # CBC is running once a process names a file in the scratch folder
        assert wait_for(lambda: processes_mentioning(str(scratch)), 60), "CBC never started"
        assert any(scratch.iterdir())
        engine.send_signal(how)
        code = engine.wait(timeout=10)
        assert code == (-signal.SIGKILL if how == signal.SIGKILL else 128 + signal.SIGTERM)
        assert wait_for(lambda: not processes_mentioning(str(scratch)), 5), "CBC outlived it"
        assert wait_for(lambda: not any(scratch.iterdir()), 5), list(scratch.iterdir())
    finally:
        if engine.poll() is None:
            engine.kill()
        for pid in processes_mentioning(str(scratch)):
            os.kill(pid, signal.SIGKILL)


def test_a_failing_cbc_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "cbc"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    cbc = CbcBackend(path=str(broken))
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    case = make_case(
        [party("a"), party("b")],
        [resource("g")],
        [interest("a", "g", 1), interest("b", "g", 2)],
        constraints=[
            {
                "name": "c",
                "terms": [{"stakeholder": "a", "issue": "g", "coef": 1}],
                "sense": "<=",
                "rhs": 0.9,
            }
        ],
    )
    result = settle(case, solver=cbc)
    assert result.status == "error"
    (failed,) = result.reasons
    assert isinstance(failed, SolverFailed)
    message = failed.message
    assert "CBC failed (exit code 3)" in message
    assert not any(scratch.iterdir())
    model = build_model(case)
    session = cbc.open(model.problem, model.variables, SolverOptions(solver="cbc"))
    with pytest.raises(SolverError, match="exit code 3"):
        session.solve()
    assert not any(scratch.iterdir())
