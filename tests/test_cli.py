"""The command line: `mediation settle`, `validate` and `graph`: output and exit codes."""

from __future__ import annotations

import importlib
import json
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
import typer
from backends import ScriptedBackend, raises
from conftest import CASES_DIR, load, settle_checked
from typer.testing import CliRunner, Result

from mediation.backends import BACKENDS
from mediation.cli import app
from mediation.errors import GraphError, SolverError
from mediation.rendering import graph_tables
from mediation.settlement import Settlement
from mediation.validator import validate_settlement

HALL = str(CASES_DIR / "community-hall-dispute.yaml")
RED_LINES = str(CASES_DIR / "infeasible-red-lines.yaml")
TWO_PARTY = str(CASES_DIR / "two-party-adjusted-winner.yaml")


def run(*args: str, stdin: bytes | None = None) -> Result:
    """Run the command line; wide enough that rich does not wrap the lines."""
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, list(args), input=stdin)
    if result.exception is not None:  # an exit code is fine, a traceback is not
        assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output + result.stderr
    return result


def settlement_of(result: Result, stem: str) -> Settlement:
    """Return the printed settlement, held to the validator against the bundled case ``stem``."""
    settlement = Settlement.model_validate_json(result.stdout)
    problems = validate_settlement(load(stem), settlement)
    assert problems == [], problems
    return settlement


def refused(result: Result, *phrases: str) -> None:
    """Exit 2, nothing on standard output, the reasons on standard error."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    for phrase in phrases:
        assert phrase in result.stderr


# --- settle ----------------------------------------------------------------------------------


def test_settle_prints_the_tables() -> None:
    result = run("settle", HALL)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "The Hepingli community activity hall dispute — rule: leximin (normalized gains)" in text
    assert "status: optimal" in text
    for heading in ("Allocation", "Parties", "Fairness", "Why"):
        assert heading in text
    assert "Xiyanghong Elderly-care Centre" in text
    assert "Round 1:" in text
    assert result.stderr == ""


@pytest.mark.parametrize("path", sorted(CASES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_settle_json_is_a_settlement(path: Path) -> None:
    result = run("settle", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    settlement = settlement_of(result, path.stem)
    case = load(path.stem)
    assert settlement.case_id == case.id
    library = settle_checked(case)
    assert settlement.status == library.status
    assert settlement.provenance.input_sha256 == library.provenance.input_sha256
    assert settlement.shares.keys() == library.shares.keys()
    for issue, row in library.shares.items():
        assert settlement.shares[issue] == pytest.approx(row)


def test_settle_in_chinese() -> None:
    result = run("settle", HALL, "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert (
        "和平里社区活动大厅使用纠纷 —— 规则：字典序最大最小公平（归一化收益），状态：最优" in text
    )
    for heading in ("分配方案", "各方结果", "公平性", "理由"):
        assert heading in text
    assert "夕阳红养老服务中心" in text
    assert "第1轮" in text
    assert "第1层" not in text
    assert "Xiyanghong" not in text


def test_settle_an_infeasible_case_prints_its_diagnosis() -> None:
    result = run("settle", RED_LINES)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "status: infeasible" in text
    assert "No allocation meets every red line." in text
    assert "Conflict 1:" in text
    assert "Conflict 2:" in text
    assert "Smallest joint concessions:" in text
    as_json = run("settle", RED_LINES, "--format", "json")
    assert as_json.exit_code == 0
    settlement = settlement_of(as_json, "infeasible-red-lines")
    assert settlement.status == "infeasible"
    assert settlement.diagnosis is not None
    assert len(settlement.diagnosis.conflicts) == 2


def test_settle_with_overrides() -> None:
    result = run(
        "settle",
        HALL,
        "--rule",
        "nash",
        "--scale",
        "raw",
        "--no-individually-rational",
        "--proportional",
        "--solver",
        "cbc",
        "--time-limit",
        "30",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    settlement = settlement_of(result, "community-hall-dispute")
    assert settlement.rule == "nash"
    assert settlement.scale == "normalized"  # Nash always compares normalized gains
    assert settlement.provenance.policy["individually_rational"] is False
    assert settlement.provenance.policy["proportional"] is True
    assert settlement.provenance.solver.name == "cbc"


def test_settle_claims_with_a_method() -> None:
    path = str(CASES_DIR / "budget-claims-rationing.yaml")
    result = run("settle", path, "--method", "proportional", "--format", "json")
    assert result.exit_code == 0, result.stderr
    settlement = settlement_of(result, "budget-claims-rationing")
    assert settlement.amounts["venture-fund"]["anyang"] == pytest.approx(1_000_000 * 40 / 140)


def test_settle_reads_standard_input() -> None:
    result = run("settle", "-", "--format", "json", stdin=Path(TWO_PARTY).read_bytes())
    assert result.exit_code == 0, result.stderr
    assert settlement_of(result, "two-party-adjusted-winner").rule == "adjusted_winner"


def test_settle_refuses_an_unknown_rule() -> None:
    refused(run("settle", HALL, "--rule", "dictator"), "policy.rule: must be one of")


def test_settle_refuses_adjusted_winner_on_five_parties() -> None:
    refused(
        run("settle", HALL, "--rule", "adjusted_winner"),
        "Adjusted Winner is for two parties, the case has 5",
    )


def test_settle_refuses_adjusted_winner_on_three_parties(tmp_path: Path) -> None:
    three = tmp_path / "three.yaml"
    three.write_text(
        """
id: three
title: 三方
stakeholders:
  - {id: a, name: 甲, kind: government}
  - {id: b, name: 乙, kind: social_organization}
  - {id: c, name: 丙, kind: resident_group}
issues: [{id: g, name: 经费, kind: resource, amount: 10}]
interests:
  - {stakeholder: a, issue: g, value: 100}
  - {stakeholder: b, issue: g, value: 100}
  - {stakeholder: c, issue: g, value: 100}
policy: {rule: adjusted_winner}
""",
        encoding="utf-8",
    )
    refused(run("settle", str(three)), "Adjusted Winner is for two parties, the case has 3")
    refused(run("validate", str(three)), "Adjusted Winner is for two parties, the case has 3")
    assert run("settle", str(three), "--rule", "leximin").exit_code == 0


def test_settle_refuses_an_unknown_claims_method() -> None:
    refused(run("settle", HALL, "--method", "lottery"), "policy.method: must be one of")


def test_settle_refuses_a_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.yaml")
    refused(run("settle", missing), f"{missing}: no such file")


def test_settle_refuses_a_directory() -> None:
    refused(run("settle", str(CASES_DIR)), "is a directory")


def test_settle_refuses_an_invalid_case(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: x\nstakeholders: []\nissues: []\n", encoding="utf-8")
    refused(run("settle", str(bad)), "stakeholders", "issues")


def test_settle_refuses_a_time_limit_of_zero() -> None:
    result = run("settle", HALL, "--time-limit", "0")
    assert result.exit_code == 2
    assert "time-limit" in result.stderr


def test_settle_exits_1_when_the_solver_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # the command line chooses backends by name: the registry's "highs" is a failing one here
    failing = ScriptedBackend(raises(SolverError("HiGHS failed: Solve error")))
    monkeypatch.setitem(BACKENDS, "highs", failing)
    result = run("settle", HALL)
    assert result.exit_code == 1
    assert "The solver failed: HiGHS failed: Solve error" in result.stdout
    as_json = run("settle", HALL, "--format", "json")
    assert as_json.exit_code == 1
    assert settlement_of(as_json, "community-hall-dispute").status == "error"


# --- validate --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CASES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_validate_accepts_every_bundled_case(path: Path) -> None:
    result = run("validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"valid case '{load(path.stem).id}'" in result.stdout


def test_validate_rejects_a_broken_case(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path(TWO_PARTY).read_text(encoding="utf-8").replace("value: 35", "value: -35"),
        encoding="utf-8",
    )
    refused(run("validate", str(bad)), "must be at least 0")


def test_validate_rejects_a_policy_that_cannot_apply(tmp_path: Path) -> None:
    # the hall case is valid, but not for Adjusted Winner
    text = Path(HALL).read_text(encoding="utf-8").replace("rule: leximin", "rule: adjusted_winner")
    case = tmp_path / "hall-aw.yaml"
    case.write_text(text, encoding="utf-8")
    refused(run("validate", str(case)), "Adjusted Winner is for two parties")


def test_validate_rejects_a_missing_file(tmp_path: Path) -> None:
    refused(run("validate", str(tmp_path / "none.json")), "no such file")


# --- graph -----------------------------------------------------------------------------------


def test_graph_json() -> None:
    result = run("graph", HALL, "--format", "json")
    assert result.exit_code == 0, result.stderr
    analysis = json.loads(result.stdout)
    assert set(analysis) >= {"case", "contested", "coalitions", "power", "brokers"}


def test_graph_refuses_a_missing_file(tmp_path: Path) -> None:
    refused(run("graph", str(tmp_path / "none.yaml")), "no such file")


def test_graph_turns_a_graph_error_into_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: object, **kwargs: object) -> str:
        raise GraphError("not a case's graph: relation edge 'a' → 'b' needs a kind")

    monkeypatch.setattr(graph_tables, "graph_command_output", failing)
    refused(run("graph", HALL), HALL, "relation edge 'a' → 'b' needs a kind")


# --- commands come from an entry-point group ----------------------------------------------


def test_help_lists_the_commands_in_order() -> None:
    result = run("--help")
    assert result.exit_code == 0
    at = [result.stdout.index(f"\n  {name} ") for name in ("validate", "schema", "settle", "graph")]
    assert at == sorted(at)


def greet(name: str) -> None:
    """Greet someone: the command of a package that extends the command line."""
    typer.echo(f"hello {name}")


def test_a_package_adds_a_command_through_the_entry_point_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # mediation.cli.app is the typer app; its module is reached by its full name
    module = importlib.import_module("mediation.cli.app")
    plugin = EntryPoint("hello", f"{__name__}:greet", module.COMMANDS)
    installed = list(entry_points(group=module.COMMANDS))
    monkeypatch.setattr(module, "entry_points", lambda group: [plugin, *installed])
    extended = typer.Typer(add_completion=False)
    module.add_commands(extended)
    assert [c.name for c in extended.registered_commands] == [
        "validate",
        "schema",
        "settle",
        "evaluate",
        "compare",
        "sweep",
        "graph",
        "hello",
        "serve",  # the service's commands are the package's own entry points
    ]
    assert [g.name for g in extended.registered_groups] == ["db", "keys"]
    result = CliRunner().invoke(extended, ["hello", "world"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello world\n"
