"""Jobs for the solve pool's tests: module-level functions, so that a worker can unpickle them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = [
    "WorkerFacts",
    "add",
    "crash",
    "echo",
    "fail",
    "hang_with_child",
    "kill_self",
    "leave_file",
    "pid_after",
    "settle_case",
    "sleep",
    "touch",
    "unreturnable_exception",
    "worker_facts",
]


def add(a: int, b: int) -> int:
    return a + b


def echo(value: bytes) -> bytes:
    return value


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def pid_after(seconds: float) -> int:
    """Hold a worker for ``seconds``; return which worker it was."""
    time.sleep(seconds)
    return os.getpid()


def touch(path: str) -> None:
    Path(path).touch()


def fail(message: str) -> None:
    raise LookupError(message)


class _NeedsTwoError(Exception):
    """An exception that pickles but cannot be rebuilt: its ``__init__`` wants two arguments."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} {second}")


def unreturnable_exception() -> None:
    raise _NeedsTwoError("red", "line")


def crash(code: int) -> None:
    os._exit(code)


def kill_self(signum: int) -> None:
    """End as a segfault or the kernel's OOM killer would end the worker."""
    os.kill(os.getpid(), signum)
    time.sleep(10)


WorkerFacts = dict[str, Any]


def worker_facts() -> WorkerFacts:
    """Where the job runs: its process, its group, its temporary directory, what is imported."""
    return {
        "pid": os.getpid(),
        "pgid": os.getpgrp(),
        "tmpdir": tempfile.gettempdir(),
        "TMPDIR": os.environ.get("TMPDIR"),
        "preloaded": "mediation.allocation.pipeline" in sys.modules,
    }


def leave_file() -> str:
    """Leave a file in the worker's temporary directory; return its path."""
    handle, path = tempfile.mkstemp(suffix=".mps")
    os.write(handle, b"case content")
    os.close(handle)
    return path


def hang_with_child(report: str) -> None:
    """Start ``sleep 60`` as CBC would be started, leave a file, write the pids, hang."""
    child = subprocess.Popen(["sleep", "60"])
    scratch = tempfile.mkdtemp(prefix="cbc-")
    Path(scratch, "model.mps").write_text("case content", encoding="utf-8")
    facts = {"worker": os.getpid(), "child": child.pid, "tmpdir": tempfile.gettempdir()}
    Path(report).write_text(json.dumps(facts), encoding="utf-8")
    time.sleep(60)


def settle_case(document: dict[str, Any], time_limit: float) -> dict[str, Any]:
    """Parse and settle a case document in the worker, as the service does."""
    import mediation

    case = mediation.parse_case(document)
    settlement = mediation.settle(case, time_limit=time_limit)
    return settlement.body()
