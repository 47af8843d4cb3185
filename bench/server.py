"""A real ``mediation serve`` process on loopback, for the service's benchmarks and tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["LiveServer", "free_port", "mediation_command", "start_server"]


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def mediation_command() -> str:
    """Return the ``mediation`` console script of this interpreter's environment."""
    return str(Path(sys.executable).with_name("mediation"))


@dataclass
class LiveServer:
    """A ``mediation serve`` process, in a session of its own, and where to reach it."""

    process: subprocess.Popen[bytes]
    base_url: str
    env: dict[str, str]
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Stop the server (``SIGKILL`` to crash it) and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def start_server(
    data_dir: Path, *, env: dict[str, str] | None = None, timeout: float = 60.0
) -> LiveServer:
    """Start ``mediation serve`` on a free loopback port and wait until ``/readyz`` answers.

    ``env`` adds ``MEDIATION_*`` settings; the data folder is ``data_dir``, where the
    server's log (``server-<port>.log``) goes too.

    Raises
    ------
    RuntimeError
        The server exited, or was not ready within ``timeout`` seconds (it is killed then);
        the message ends with its log.
    """
    port = free_port()
    full_env = {**os.environ, "MEDIATION_DATA_DIR": str(data_dir), **(env or {})}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"server-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [mediation_command(), "serve", "--port", str(port)],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", full_env, log)
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"the server did not get ready: {log.read_text(errors='replace')[-2000:]}")
