"""`mediation sweep`: results files, resuming, executors, the summary, and refusals (exit 2)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import CASES_DIR
from typer.testing import CliRunner, Result

import mediation.allocation.pipeline
from mediation.case import load_case
from mediation.cli import app
from mediation.cli.sweep_files import ResultsFile
from mediation.sweep import SweepSummary, iter_rows, load_sweep, plan_sweep, run_sweep

HALL = str(CASES_DIR / "community-hall-dispute.yaml")
PPP = str(CASES_DIR / "ppp-risk-sharing.yaml")

#: Twelve scenarios of the hall case, some infeasible (the dancers' capacity of 2,000).
HALL_SWEEP = """\
sweep_version: "1.0"
seed: 5
samples: 3
parameters:
  - path: issues.noise-risk.amount
    distribution: {kind: triangular, low: 10000, mode: 20000, high: 40000}
  - path: issues.noise-risk.probability
    distribution: {kind: uniform, low: 0.2, high: 0.6}
  - path: stakeholders.guangchangwu.risk_capacity
    grid: [2000, 8000]
  - path: pins.noise-risk.wuye
    grid: [0.2, 0.4]
"""


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the command line; wide enough that rich does not wrap the lines."""
    result = CliRunner(env={"COLUMNS": "250", **(env or {})}).invoke(app, list(args))
    if result.exception is not None:  # an exit code is fine, a traceback is not
        assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output + result.stderr
    return result


@pytest.fixture
def hall_sweep(tmp_path: Path) -> str:
    path = tmp_path / "hall.sweep.yaml"
    path.write_text(HALL_SWEEP, encoding="utf-8")
    return str(path)


def plan_of(sweep_path: str, case_path: str = HALL) -> Any:
    case = load_case(Path(case_path).read_text(encoding="utf-8"))
    return plan_sweep(case, load_sweep(Path(sweep_path).read_text(encoding="utf-8")))


def jsonl_rows(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "mediation_sweep" in json.loads(lines[0])
    return [json.loads(line) for line in lines[1:]]


def csv_rows(path: Path, plan: Any) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as file:
        assert file.readline().startswith("# mediation_sweep {")
        reader = csv.DictReader(file)
        kinds = plan.column_types
        return [{c: None if v == "" else kinds[c](v) for c, v in row.items()} for row in reader]


def parquet_rows(path: Path) -> list[dict[str, Any]]:
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(path)
    assert b"mediation_sweep" in (table.schema.metadata or {})
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


# --- refused before anything is solved -----------------------------------------------------


BAD = [
    (
        "unknown path",
        "  - {path: stakeholders.kangel.risk_capacity, grid: [1]}",
        "parameters[0].path: unknown stakeholder 'kangel'; did you mean 'kangle'?",
    ),
    (
        "distribution out of range",
        "  - {path: issues.cost-overrun.probability, "
        "distribution: {kind: uniform, low: 0.2, high: 1.5}}",
        "parameters[0].distribution.high: 1.5 is outside the valid range of "
        "issues.cost-overrun.probability, (0, 1]",
    ),
    (
        "pin with no interest",
        "  - {path: pins.cost-overrun.kangle, grid: [0.1]}",
        "parameters[0].path: kangle has no interest in 'cost-overrun'",
    ),
    (
        "pin above a red line",
        "  - {path: pins.demand-shortfall.kangle, grid: [0.2, 0.5]}",
        "parameters[0].grid[1]: the pin 0.5 is above kangle's own cap of 0.4 on 'demand-shortfall'",
    ),
    (
        "pins on one issue above 1",
        "  - {path: pins.force-majeure.minzhengju, grid: [0.5, 0.6]}\n"
        "  - {path: pins.force-majeure.baoxian, grid: [0.5]}",
        "parameters[1]: the pins on 'force-majeure' (1.1)",
    ),
]


@pytest.mark.parametrize(("what", "parameters", "says"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_sweep_is_refused_before_any_solving(
    what: str, parameters: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_solving(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing may be solved for a bad sweep")

    monkeypatch.setattr(mediation.allocation.pipeline, "settle", no_solving)
    sweep = tmp_path / "bad.sweep.yaml"
    sweep.write_text(f'sweep_version: "1.0"\nseed: 1\nparameters:\n{parameters}\n', "utf-8")
    out = tmp_path / "rows.jsonl"
    result = run("sweep", PPP, str(sweep), "-o", str(out), "--serial")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {sweep}: 1 problem in the sweep:")
    assert says in result.stderr
    assert not out.exists()
    result = run("sweep", PPP, str(sweep), "--format", "json", "--serial")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "sweep_error"
    assert says.split(": ", 1)[1] in error["problems"][0]["message"]
    assert error["problems"][0]["path"] == says.split(": ", 1)[0]


def test_unreadable_and_malformed_sweep_files_are_refused(tmp_path: Path) -> None:
    result = run("sweep", HALL, str(tmp_path / "none.yaml"))
    assert result.exit_code == 2
    assert "none.yaml: no such file" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("sweep_version: [\n", encoding="utf-8")
    result = run("sweep", HALL, str(broken), "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["problems"][0]["code"] == "malformed_yaml"


def test_conflicting_options_and_unknown_suffixes_are_refused(
    hall_sweep: str, tmp_path: Path
) -> None:
    result = run("sweep", HALL, hall_sweep, "--serial", "--workers", "2")
    assert result.exit_code == 2
    assert "--serial runs in this process" in result.stderr
    result = run("sweep", HALL, hall_sweep, "-o", str(tmp_path / "rows.xlsx"), "--serial")
    assert result.exit_code == 2
    assert "unknown results format '.xlsx'; use .jsonl, .csv or .parquet" in result.stderr


def test_a_results_file_that_cannot_be_written_is_refused(hall_sweep: str, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "rows.jsonl"
    result = run("sweep", HALL, hall_sweep, "-o", str(out), "--serial", "--format", "json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["message"] == f"{out}: cannot write (No such file or directory)"


def test_a_missing_extra_is_an_error_that_says_how_to_install_it(
    hall_sweep: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    result = run("sweep", HALL, hall_sweep, "-o", str(tmp_path / "rows.parquet"), "--serial")
    assert result.exit_code == 2
    assert "pip install 'mediation[sweep]'" in result.stderr
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = run("sweep", HALL, hall_sweep, "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2
    assert "--scheduler tcp://127.0.0.1:1 needs the sweep extra" in result.stderr


# --- results files -------------------------------------------------------------------------


def test_the_three_formats_hold_the_same_rows_as_the_library(
    hall_sweep: str, tmp_path: Path
) -> None:
    plan = plan_of(hall_sweep)
    expected = list(iter_rows(plan))
    found = {}
    for suffix in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"rows.{suffix}"
        result = run("sweep", HALL, hall_sweep, "-o", str(out), "--serial", "--format", "json")
        assert result.exit_code == 0, result.stderr
        found[suffix] = out
        assert not (tmp_path / f"rows.{suffix}.journal.jsonl").exists()
    assert jsonl_rows(found["jsonl"]) == expected
    assert csv_rows(found["csv"], plan) == expected
    assert parquet_rows(found["parquet"]) == expected
    assert {row["status"] for row in expected} == {"optimal", "infeasible"}


def test_an_existing_file_is_kept_unless_resumed_or_forced(hall_sweep: str, tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    out.write_text("precious\n", encoding="utf-8")
    result = run("sweep", HALL, hall_sweep, "-o", str(out), "--serial")
    assert result.exit_code == 2
    assert "exists: --resume continues it, --force starts it afresh" in result.stderr
    assert out.read_text(encoding="utf-8") == "precious\n"
    result = run("sweep", HALL, hall_sweep, "-o", str(out), "--serial", "--force")
    assert result.exit_code == 0
    assert len(jsonl_rows(out)) == 12


def interrupted_at(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    """Make the results file raise Ctrl-C's KeyboardInterrupt when it has ``rows`` rows."""
    write = ResultsFile.write

    def write_then_stop(self: ResultsFile, row: dict[str, Any]) -> None:
        if self.rows == rows:
            raise KeyboardInterrupt
        write(self, row)

    monkeypatch.setattr(ResultsFile, "write", write_then_stop)


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet"])
def test_an_interrupted_sweep_resumes_to_the_file_of_an_uninterrupted_run(
    suffix: str, hall_sweep: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = tmp_path / f"whole.{suffix}"
    assert run("sweep", HALL, hall_sweep, "-o", str(whole), "--serial").exit_code == 0
    out = tmp_path / f"rows.{suffix}"
    with monkeypatch.context() as patch:
        interrupted_at(patch, 5)
        result = run("sweep", HALL, hall_sweep, "-o", str(out), "--serial", "--batch-size", "2")
    assert result.exit_code == 130
    assert f"interrupted: 5 of 12 scenarios are in {out}; run again with --resume" in result.stderr
    read = {"jsonl": jsonl_rows, "parquet": parquet_rows}.get(suffix)
    kept = read(out) if read else csv_rows(out, plan_of(hall_sweep))
    assert [r["scenario"] for r in kept] == [0, 1, 2, 3, 4]  # a valid file of what was settled
    result = run(
        "sweep", HALL, hall_sweep, "-o", str(out), "--resume", "--format", "json", "--serial"
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["run"]["settled_now"] == 7
    assert out.read_bytes() == whole.read_bytes()
    assert not out.with_name(out.name + ".journal.jsonl").exists()
    plan = plan_of(hall_sweep)
    assert SweepSummary.model_validate(report["summary"]) == run_sweep(plan)


def test_a_line_cut_short_is_dropped_when_resuming(hall_sweep: str, tmp_path: Path) -> None:
    whole = tmp_path / "whole.jsonl"
    assert run("sweep", HALL, hall_sweep, "-o", str(whole), "--serial").exit_code == 0
    lines = whole.read_bytes().splitlines(keepends=True)
    out = tmp_path / "rows.jsonl"
    out.write_bytes(b"".join(lines[:4]) + lines[4][:40])  # killed while writing scenario 3
    result = run("sweep", HALL, hall_sweep, "-o", str(out), "--resume", "--serial")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == whole.read_bytes()


def test_a_file_of_another_sweep_is_not_resumed(hall_sweep: str, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    assert run("sweep", HALL, hall_sweep, "-o", str(out), "--serial").exit_code == 0
    before = out.read_bytes()
    other = tmp_path / "other.sweep.yaml"
    other.write_text(HALL_SWEEP.replace("seed: 5", "seed: 6"), encoding="utf-8")
    result = run("sweep", HALL, str(other), "-o", str(out), "--resume", "--serial")
    assert result.exit_code == 2
    assert "was made from another sweep file" in result.stderr
    assert out.read_bytes() == before


def test_ctrl_c_leaves_a_valid_file_that_resumes(hall_sweep: str, tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    sweep = tmp_path / "long.sweep.yaml"
    sweep.write_text(HALL_SWEEP.replace("samples: 3", "samples: 40"), encoding="utf-8")
    main = "from mediation.cli import main; main()"
    command = [sys.executable, "-c", main, "sweep", HALL, str(sweep), "-o", str(out)]
    process = subprocess.Popen(
        [*command, "--serial"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 4):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert "run again with --resume" in err
    kept = jsonl_rows(out)
    assert 3 <= len(kept) < 160
    assert [r["scenario"] for r in kept] == list(range(len(kept)))
    result = run(
        "sweep", HALL, str(sweep), "-o", str(out), "--resume", "--serial", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["run"]["settled_now"] == 160 - len(kept)
    assert jsonl_rows(out) == list(iter_rows(plan_of(str(sweep))))


# --- executors -----------------------------------------------------------------------------


def test_a_process_pool_and_a_dask_cluster_write_the_serial_rows(
    hall_sweep: str, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    serial = tmp_path / "serial.jsonl"
    assert run("sweep", HALL, hall_sweep, "-o", str(serial), "--serial").exit_code == 0
    pool = tmp_path / "pool.jsonl"
    result = run("sweep", HALL, hall_sweep, "-o", str(pool), "--workers", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["run"]["kind"] == "pool"
    assert pool.read_bytes() == serial.read_bytes()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        dask = tmp_path / "dask.jsonl"
        result = run(
            "sweep",
            HALL,
            hall_sweep,
            "-o",
            str(dask),
            "--batch-size",
            "3",
            "--format",
            "json",
            env={"MEDIATION_DASK_SCHEDULER": cluster.scheduler_address},
        )
    assert result.exit_code == 0, result.stderr
    run_info = json.loads(result.stdout)["run"]
    assert (run_info["kind"], run_info["workers"]) == ("dask", 2)
    assert dask.read_bytes() == serial.read_bytes()


# --- the summary ---------------------------------------------------------------------------


def test_the_summary_as_json_is_the_library_s(hall_sweep: str) -> None:
    result = run("sweep", HALL, hall_sweep, "--serial", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert SweepSummary.model_validate(report["summary"]) == run_sweep(plan_of(hall_sweep))
    assert report["run"]["output"] is None
    assert result.stderr == ""  # no progress bar with --format json


def test_the_summary_tables_in_english_and_chinese(hall_sweep: str) -> None:
    result = run("sweep", HALL, hall_sweep, "--serial", "--width", "120")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "The Hepingli community activity hall dispute — 12 scenarios:" in text
    for words in (
        "Per party, over the feasible scenarios",
        "Red lines the diagnoses blame",
        "Hepingli square-dance team: risk capacity",
        "Worst scenarios for each party",
        "12 scenarios settled in",
    ):
        assert words in text
    result = run("sweep", HALL, hall_sweep, "--serial", "--lang", "zh", "--width", "120")
    assert result.exit_code == 0
    text = result.stdout
    assert "和平里社区活动大厅使用纠纷 —— 12个情景：" in text
    for words in (
        "各方在可行情景中的结果",
        "诊断指出的红线",
        "和平里广场舞队：风险承受能力",
        "各方最不利的情景（收益最低）",
        "在本进程上求解了12个情景",
    ):
        assert words in text


def test_the_bundled_ppp_sweep_reports_its_robust_split_status(tmp_path: Path) -> None:
    sweep = str(CASES_DIR / "sweeps/ppp-risk-sharing.sweep.yaml")
    small = tmp_path / "small.sweep.yaml"
    small.write_text(
        Path(sweep).read_text(encoding="utf-8").replace("samples: 50", "samples: 2"), "utf-8"
    )
    result = run("sweep", PPP, str(small), "--serial", "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["scenarios"] == 12
    try:
        import mediation.allocation.robust  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        assert summary["robust"]["status"] == "unavailable"
    else:
        assert summary["robust"]["status"] == "computed"
        assert summary["robust"]["scenarios"] == 4  # 2 capacities × 2 samples; pins do not count
