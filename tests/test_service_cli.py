"""The service's commands: ``mediation keys``, ``mediation db upgrade``, ``mediation serve``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from service_support import case_json, start_server
from typer.testing import CliRunner

from mediation.cli import app

runner = CliRunner()


def _env(tmp_path: Path) -> dict[str, str]:
    return {"MEDIATION_DATA_DIR": str(tmp_path), "MEDIATION_DATABASE_URL": ""}


def test_keys_are_created_once_listed_without_the_key_and_revoked(tmp_path: Path) -> None:
    env = _env(tmp_path)
    made = runner.invoke(
        app, ["keys", "create", "--tenant", "街道办", "--label", "portal"], env=env
    )
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[0]
    assert key.startswith("mk_")
    listed = runner.invoke(app, ["keys", "list"], env=env)
    assert listed.exit_code == 0
    key_id = key.split("_")[1]
    assert key_id in listed.stdout
    assert "街道办" in listed.stdout
    assert "portal" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout  # never the secret
    revoked = runner.invoke(app, ["keys", "revoke", key_id], env=env)
    assert revoked.exit_code == 0
    assert "revoked" in revoked.stdout
    listed = runner.invoke(app, ["keys", "list", "--tenant", "街道办"], env=env)
    assert listed.stdout.strip().split("\t")[-1] != "-"
    unknown = runner.invoke(app, ["keys", "revoke", "nope"], env=env)
    assert unknown.exit_code == 2
    assert "no key 'nope'" in unknown.output


def test_db_upgrade_migrates_and_reports_the_revision(tmp_path: Path) -> None:
    done = runner.invoke(app, ["db", "upgrade"], env=_env(tmp_path))
    assert done.exit_code == 0, done.output
    assert "at revision" in done.stdout
    assert (tmp_path / "mediation.db").exists()


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    env = {
        **_env(tmp_path),
        "MEDIATION_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    }
    failed = runner.invoke(app, ["db", "upgrade"], env=env)
    assert failed.exit_code == 2
    assert "cannot open the database" in failed.output
    assert "Traceback" not in failed.output


def test_a_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    failed = runner.invoke(
        app, ["db", "upgrade"], env={**_env(tmp_path), "MEDIATION_WORKERS": "lots"}
    )
    assert failed.exit_code == 2
    assert "setting workers" in failed.output


def test_serve_serves_a_bundled_case_and_warns_without_keys(tmp_path: Path) -> None:
    server = start_server(
        tmp_path, env={"MEDIATION_ALLOW_ANONYMOUS": "true", "MEDIATION_WORKERS": "1"}
    )
    try:
        response = httpx.post(
            f"{server.base_url}/v1/settle",
            content=case_json("community-hall-dispute"),
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "optimal"
    finally:
        server.stop()
    log = server.log.read_text(encoding="utf-8")
    assert "WITHOUT API keys" in log
    assert '"level": "warning"' in log
    assert "社区" not in log  # the case's content never reaches the log


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_serve_stops_its_solver_processes_on_sigterm(tmp_path: Path) -> None:
    server = start_server(
        tmp_path, env={"MEDIATION_ALLOW_ANONYMOUS": "true", "MEDIATION_WORKERS": "2"}
    )
    group = os.getpgid(server.process.pid)
    server.stop(signal.SIGTERM)
    # uvicorn re-raises the signal once it has shut down: exit 128 + SIGTERM
    assert server.process.returncode in (0, 128 + signal.SIGTERM)
    assert "service stopped" in server.log.read_text(encoding="utf-8")
    # the fork server and multiprocessing's resource tracker notice their parent's end and
    # exit within a moment; an exited process left unreaped (a zombie) runs nothing
    ends = time.monotonic() + 10
    while (alive := _running_in_group(group)) and time.monotonic() < ends:
        time.sleep(0.2)
    assert alive == []


def _running_in_group(group: int) -> list[int]:
    found = subprocess.run(
        ["ps", "-o", "pid=,stat=", "-g", str(group)], capture_output=True, text=True, check=False
    )
    rows = (line.split() for line in found.stdout.splitlines() if line.strip())
    return [int(pid) for pid, stat in rows if not stat.startswith("Z")]
