"""The command line as a contract for other systems, and terminal output that fits.

Problem codes, ``--format json`` on every command (its errors included), ``settle --lang``'s
sentences, ``graph --lang zh``, ``schema --settlement`` and its committed copy, tables at 80
columns and help at 80 columns.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import CASE_FILES, CASES_DIR, MINIMAL_YAML, ROOT, calm_case, load, settle_checked
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner, Result

from mediation.case import limits, load_case, parse_case
from mediation.cli import app
from mediation.errors import CaseError, GraphError, Problem
from mediation.graph import analyze

# the function, through the package: importing the module mediation.rendering.settlement_tables
# itself would make the package's name settlement_tables the module for later importers
from mediation.rendering import graph_tables, settlement_tables
from mediation.rendering.graph_tables import analysis_tables, graph_command_output
from mediation.rendering.layout import Fitted, number, number_column, text_column
from mediation.settlement import Settlement, settlement_json_schema

HALL = str(CASES_DIR / "community-hall-dispute.yaml")
RIVER = str(CASES_DIR / "river-cleanup-cogovernance.yaml")
BUNDLED = CASE_FILES
SETTLEMENT_SCHEMA = ROOT / "mediation" / "schema" / "settlement.schema.json"


#: Two problems of the shape and two across fields, all reported at once.
BROKEN = (
    MINIMAL_YAML.replace("amount: 40", "amount: 40, colour: red")
    .replace("value: 60", "value: -60")
    .replace("stakeholder: dancers", "stakeholder: dancer")
    .replace("kind: resident_group", "kind: residents")
)


def run(*args: str, stdin: bytes | None = None, columns: int = 250) -> Result:
    """Run the command line: an exit code is fine, a traceback is not."""
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(app, list(args), input=stdin)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output + result.stderr
    return result


def json_of(result: Result, exit_code: int = 0) -> Any:
    """Return the JSON a command printed on standard output, with nothing on standard error."""
    assert result.exit_code == exit_code, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def json_error(result: Result, kind: str) -> dict[str, Any]:
    """Return the error object of a command that failed on its input with ``--format json``."""
    data = json_of(result, exit_code=2)
    error: dict[str, Any] = data["error"]
    assert set(error) == {"kind", "exit_code", "case", "message", "problems"}
    assert error["kind"] == kind
    assert error["exit_code"] == 2
    for problem in error["problems"]:
        assert set(problem) == {"path", "code", "message"}
        assert re.fullmatch(r"[a-z][a-z0-9_]*", problem["code"]), problem
    return error


def codes(problems: list[dict[str, str]]) -> list[tuple[str, str]]:
    """Return the (path, code) pairs of problems given as JSON."""
    return [(p["path"], p["code"]) for p in problems]


def write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return str(path)


# --- problem codes -------------------------------------------------------------------------


def test_a_problem_made_without_a_code_has_the_default_one() -> None:
    problem = Problem("interests[0]", "is wrong")
    assert problem.code == "invalid"
    assert str(problem) == "interests[0]: is wrong"
    assert Problem("x", "y", "duplicate_id").code == "duplicate_id"


def problems_of(data: object) -> list[tuple[str, str]]:
    with pytest.raises(CaseError) as info:
        parse_case(data)
    return [(p.path, p.code) for p in info.value.problems]


def test_problems_of_the_shape_carry_pydantic_error_types() -> None:
    assert problems_of({"id": "x"}) == [
        ("title", "missing"),
        ("stakeholders", "missing"),
        ("issues", "missing"),
    ]
    with pytest.raises(CaseError) as info:
        load_case(BROKEN)
    found = [(p.path, p.code) for p in info.value.problems]
    assert ("stakeholders[1].kind", "literal_error") in found
    assert ("issues[0]", "extra_forbidden") in found
    assert ("interests[0].value", "greater_than_equal") in found
    assert ("interests[1].stakeholder", "unknown_stakeholder") in found
    assert problems_of([1]) == [("", "model_type")]


def test_cross_field_problems_have_codes_of_their_own() -> None:
    doc: dict[str, Any] = {
        "id": "x",
        "title": "x",
        "stakeholders": [
            {"id": "a", "name": "甲", "kind": "government"},
            {"id": "a", "name": "乙", "kind": "enterprise"},
            {"id": "b", "name": "丙", "kind": "enterprise"},
        ],
        "issues": [
            {"id": "g", "name": "经费", "kind": "resource", "amount": 1},
            {"id": "h", "name": "场地", "kind": "resource", "amount": 1, "probability": 0.5},
        ],
        "interests": [
            {"stakeholder": "a", "issue": "g", "value": 1, "min_share": 0.7},
            {"stakeholder": "b", "issue": "g", "value": 1, "min_share": 0.6},
            {"stakeholder": "b", "issue": "g", "value": 2},
            {"stakeholder": "a", "issue": "nowhere", "value": 1},
            {"stakeholder": "a", "issue": "h", "value": 1, "min_share": 0.5, "max_share": 0.2},
        ],
        "relations": [{"source": "a", "target": "a", "kind": "cooperates"}],
    }
    found = problems_of(doc)
    for expected in [
        ("stakeholders[1].id", "duplicate_id"),
        ("issues[0]", "floors_exceed_issue"),
        ("issues[1].probability", "not_applicable"),
        ("interests[2]", "duplicate_interest"),
        ("interests[3].issue", "unknown_issue"),
        ("interests[4].min_share", "floor_above_cap"),
        ("relations[0]", "self_relation"),
    ]:
        assert expected in found, found
    assert "invalid" not in {code for _, code in found}


@pytest.mark.parametrize(
    ("text", "fmt", "code"),
    [
        ("a: [1\n", "yaml", "malformed_yaml"),
        ("{", "json", "malformed_json"),
        ("id: x\nid: y\n", "yaml", "duplicate_key"),
        ('{"id": "x", "id": "y"}', "json", "duplicate_key"),
        ('{"id": NaN}', "json", "finite_number"),
        ("id: !!python/object:os.system x\n", "yaml", "tag_not_allowed"),
        ("a: *nowhere\n", "yaml", "unknown_alias"),
    ],
)
def test_documents_that_cannot_be_read_say_why_in_a_code(text: str, fmt: str, code: str) -> None:
    with pytest.raises(CaseError) as info:
        load_case(text, format="json" if fmt == "json" else "yaml")
    assert [p.code for p in info.value.problems] == [code]


def test_a_document_that_is_not_utf8_or_too_large_has_a_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(CaseError) as info:
        load_case(b"id: \xff\n")
    assert [p.code for p in info.value.problems] == ["not_utf8"]
    monkeypatch.setattr("mediation.case.documents.MAX_DOCUMENT_BYTES", 10)
    with pytest.raises(CaseError) as info:
        load_case(MINIMAL_YAML)
    assert [p.code for p in info.value.problems] == ["too_large"]


# --- validate --format json ----------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_validate_json_describes_a_valid_case(path: Path) -> None:
    data = json_of(run("validate", str(path), "--format", "json"))
    case = load(path.stem)
    assert data == {
        "valid": True,
        "case": str(path),
        "id": case.id,
        "stakeholders": len(case.stakeholders),
        "issues": len(case.issues),
        "interests": len(case.interests),
        "relations": len(case.relations),
    }


def test_validate_json_lists_every_problem_with_its_path_and_code(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    data = json_of(run("validate", path, "--format", "json"), exit_code=2)
    assert data["valid"] is False
    assert data["case"] == path
    assert codes(data["problems"]) == [
        ("stakeholders[1].kind", "literal_error"),
        ("issues[0]", "extra_forbidden"),
        ("interests[0].value", "greater_than_equal"),
        ("interests[1].stakeholder", "unknown_stakeholder"),
    ]
    assert "did you mean 'dancers'?" in data["problems"][3]["message"]
    error = json_error(run("validate", path, "--format", "json"), "case_error")
    assert error["problems"] == data["problems"]
    assert error["message"].startswith(f"{path}: 4 problems in the case:")


def test_validate_json_reports_a_policy_that_cannot_apply(tmp_path: Path) -> None:
    text = Path(HALL).read_text(encoding="utf-8").replace("rule: leximin", "rule: adjusted_winner")
    path = write(tmp_path, "hall-aw.yaml", text)
    result = run("validate", path, "--format", "json")
    error = json_error(result, "policy_error")
    assert json.loads(result.stdout)["valid"] is False
    assert "Adjusted Winner is for two parties" in error["problems"][0]["message"]


def test_validate_text_mode_is_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    result = run("validate", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: 4 problems in the case:\n")


# --- files that cannot be read, in json mode -----------------------------------------------


UNREADABLE = [
    ("missing", None, "not_found"),
    ("directory", None, "is_a_directory"),
    ("malformed.yaml", "a: [1\n", "malformed_yaml"),
    ("latin1.yaml", b"id: caf\xe9\n", "not_utf8"),
    ("malformed.json", "{", "malformed_json"),
]


@pytest.mark.parametrize("command", ["validate", "settle", "graph"])
@pytest.mark.parametrize(("name", "data", "code"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_an_unreadable_file_is_a_json_read_error(
    tmp_path: Path, command: str, name: str, data: str | bytes | None, code: str
) -> None:
    if name == "directory":
        path = str(tmp_path)
    elif data is None:
        path = str(tmp_path / "nowhere.yaml")
    else:
        path = write(tmp_path, name, data)
    error = json_error(run(command, path, "--format", "json"), "read_error")
    assert error["case"] == path
    assert codes(error["problems"]) == [("", code)]
    assert error["message"].startswith(f"{path}: ")
    text = run(command, path)  # text mode: the same message on standard error
    assert text.exit_code == 2
    assert text.stdout == ""
    assert text.stderr == f"error: {error['message']}\n"


@pytest.mark.parametrize("command", ["validate", "settle", "graph"])
def test_a_file_over_the_size_limit_is_a_json_read_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 64)
    path = write(tmp_path, "big.yaml", MINIMAL_YAML)
    error = json_error(run(command, path, "--format", "json"), "read_error")
    assert codes(error["problems"]) == [("", "too_large")]
    piped = json_error(
        run(command, "-", "--format", "json", stdin=MINIMAL_YAML.encode()), "read_error"
    )
    assert piped["case"] == "-"


# --- settle --format json ------------------------------------------------------------------


def test_settle_json_has_the_documented_keys_and_no_sentences_without_lang() -> None:
    data = json_of(run("settle", HALL, "--format", "json"))
    assert set(data) == set(Settlement.model_fields)
    assert {"status", "shares", "amounts", "parties", "fairness", "reasons"} <= set(data)
    assert data["explanation"] is None  # kept as null: the key set does not depend on --lang
    Settlement.model_validate(data)


def test_settle_json_with_lang_zh_carries_chinese_sentences() -> None:
    data = json_of(run("settle", HALL, "--format", "json", "--lang", "zh"))
    settlement = Settlement.model_validate(data)
    assert settlement.explanation is not None
    assert settlement.explanation.lang == "zh"
    sentences = settlement.explanation.sentences
    assert sentences
    assert all(re.search(r"[\u4e00-\u9fff]", s) for s in sentences)
    assert any("夕阳红养老服务中心" in s for s in sentences)
    assert sentences[0].startswith("第1轮")
    # the sentences are the rendering of the typed reasons, which stay as they are
    plain = json_of(run("settle", HALL, "--format", "json"))
    assert data["reasons"] == plain["reasons"]


def test_settle_json_with_lang_en_carries_english_sentences() -> None:
    data = json_of(run("settle", HALL, "--format", "json", "--lang", "en"))
    explanation = data["explanation"]
    assert explanation["lang"] == "en"
    assert explanation["sentences"][0].startswith("Round 1:")
    assert any("Xiyanghong Elderly-care Centre" in s for s in explanation["sentences"])


def test_settle_json_of_an_invalid_case_lists_its_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    error = json_error(run("settle", path, "--format", "json"), "case_error")
    assert ("interests[1].stakeholder", "unknown_stakeholder") in codes(error["problems"])
    assert len(error["problems"]) == 4


def test_settle_json_reports_a_policy_error_on_stdout() -> None:
    result = run("settle", HALL, "--rule", "adjusted_winner", "--format", "json")
    error = json_error(result, "policy_error")
    assert error["problems"][0]["path"] == "stakeholders"
    assert "the case has 5" in error["message"]


def test_settle_json_reports_an_unknown_rule_with_its_path() -> None:
    error = json_error(run("settle", HALL, "--rule", "dictator", "--format", "json"), "case_error")
    assert codes(error["problems"]) == [("policy.rule", "literal_error")]


# --- graph --format json -------------------------------------------------------------------


def test_graph_json_is_the_analysis_unchanged() -> None:
    data = json_of(run("graph", RIVER, "--format", "json"))
    assert {"case", "contested", "coalitions", "power", "brokers", "missing_dialogue"} <= set(data)
    zh = json_of(run("graph", RIVER, "--format", "json", "--lang", "zh"))
    assert zh == data  # data, the same in every language


def test_graph_json_reports_a_graph_error_on_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: object, **kwargs: object) -> str:
        raise GraphError("not a case's graph")

    monkeypatch.setattr(graph_tables, "graph_command_output", failing)
    error = json_error(run("graph", HALL, "--format", "json"), "graph_error")
    assert error["message"] == f"{HALL}: not a case's graph"
    assert error["problems"] == []


def test_graph_json_of_an_invalid_case_lists_its_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    error = json_error(run("graph", path, "--format", "json"), "case_error")
    assert len(error["problems"]) == 4


# --- schema --------------------------------------------------------------------------------


def test_schema_prints_the_case_schema_by_default() -> None:
    data = json_of(run("schema"))
    assert data["$id"].endswith("case.schema.json")


def test_schema_settlement_prints_the_committed_settlement_schema() -> None:
    data = json_of(run("schema", "--settlement"))
    assert data == settlement_json_schema()
    assert data == json.loads(SETTLEMENT_SCHEMA.read_text(encoding="utf-8"))
    assert data["$id"].endswith("settlement.schema.json")


def test_committed_settlement_schema_matches_the_model() -> None:
    committed = json.loads(SETTLEMENT_SCHEMA.read_text(encoding="utf-8"))
    assert committed == settlement_json_schema(), (
        "mediation/schema/settlement.schema.json is out of date; regenerate it with "
        "`mediation schema --settlement > mediation/schema/settlement.schema.json`"
    )


@pytest.mark.parametrize("contract", ["evaluation", "comparison"])
def test_committed_result_schemas_match_their_models(contract: str) -> None:
    from mediation.comparison import comparison_json_schema
    from mediation.evaluation import evaluation_json_schema

    made = {"evaluation": evaluation_json_schema, "comparison": comparison_json_schema}[contract]
    path = ROOT / "mediation" / "schema" / f"{contract}.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == made(), (
        f"{path.name} is out of date; regenerate it with "
        f"`mediation schema --{contract} > mediation/schema/{contract}.schema.json`"
    )
    assert json_of(run("schema", f"--{contract}")) == made()


def test_the_wheel_ships_every_json_file_of_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["mediation"]
    package = ROOT / "mediation"
    files = [p.relative_to(package).as_posix() for p in package.rglob("*.json")]
    assert "schema/settlement.schema.json" in files
    for name in files:
        assert any(fnmatch(name, g) for g in globs), f"{name} is not in package-data"


# --- graph --lang --------------------------------------------------------------------------

ENGLISH_HEADINGS = [
    "Contested issues",
    "Coalitions",
    "Conflicts",
    "Power and centrality",
    "Dual supervision",
    "Funding dependence",
    "Brokers",
    "Missing dialogue channels",
]
CHINESE_HEADINGS = [
    "争议议题",
    "利益联盟",
    "冲突关系",
    "权力与中心性",
    "双重监管",
    "资金依赖",
    "居间协调方",
    "缺少对话渠道的冲突",
]


def test_graph_in_chinese_has_chinese_headings_and_no_english_one() -> None:
    result = run("graph", RIVER, "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    for heading in CHINESE_HEADINGS:
        assert heading in text
    for heading in ENGLISH_HEADINGS:
        assert heading not in text
    for english in ("Party", "Kind", "Strength", "none —", "modularity", " vs ", "enterprise"):
        assert english not in text
    assert text.startswith("清溪河综合治理共商共治方案（river-cleanup-cogovernance）")
    assert "模块度 0.058" in text
    assert "青石造纸厂（zhizhichang）" in text  # full-width brackets around an id


def test_graph_in_chinese_joins_lists_with_the_enumeration_comma() -> None:
    case = load("river-cleanup-cogovernance")
    tables = {str(t.title): t for t in analysis_tables(analyze(case), case, lang="zh")}
    [dual] = [[str(c) for c in col.cells] for col in tables["双重监管"].columns[1:]]
    assert dual == ["衡正第三方评估中心、青石镇人民政府"]
    brokers = [str(c) for c in tables["居间协调方"].columns[1].cells]
    assert brokers[0] == "沿河村民小组与青石造纸厂、绿源环保协会与青石造纸厂"
    kinds = {str(c) for c in tables["权力与中心性"].columns[1].cells}
    assert kinds <= {"政府", "社会组织", "居民群体", "企业", "第三方", "其他"}


def test_graph_in_chinese_says_so_when_a_part_is_empty() -> None:
    case = calm_case()
    text = printed(graph_command_output(case, lang="zh"), width=120)
    assert "冲突关系：无（案例中没有冲突关系）" in text
    assert "争议议题：无" in text
    assert ": " not in text  # full-width colons only


def test_graph_in_english_uses_the_english_names_of_a_translated_case() -> None:
    result = run("graph", HALL, "--lang", "en")
    assert result.exit_code == 0, result.stderr
    assert "The Hepingli community activity hall dispute (community-hall-dispute)" in result.stdout
    assert "Xiyanghong Elderly-care Centre" in result.stdout
    default = run("graph", HALL)  # without --lang: English words, the case's own names
    assert "和平里社区活动大厅使用纠纷 (community-hall-dispute)" in default.stdout
    assert "Contested issues" in default.stdout


def test_graph_refuses_an_unknown_language() -> None:
    case = load("river-cleanup-cogovernance")
    with pytest.raises(ValueError, match="language must be one of en, zh, got 'fr'"):
        graph_command_output(case, lang="fr")


# --- tables that fit -----------------------------------------------------------------------


def printed(parts: object, width: int) -> str:
    """Return renderables as the command line prints them on a console ``width`` wide."""
    assert isinstance(parts, list)
    console = Console(width=width, file=io.StringIO(), record=True)
    for part in parts:
        console.print(part, crop=False)
    return console.export_text()


def assert_fits(text: str, width: int = 80) -> None:
    """No line longer than ``width`` (counted in terminal cells), nothing cut with "…"."""
    from rich.cells import cell_len

    assert "…" not in text
    too_long = [line for line in text.splitlines() if cell_len(line) > width]
    assert too_long == [], "\n".join(too_long)


def assert_numbers_whole(tables: list[Table], text: str) -> None:
    """Every number of every number column is printed on one line, whole.

    A cell made by ``number`` is never wrapped; another (an amount with its unit) may put
    its unit below its number, but no word of it is broken.
    """
    lines = text.splitlines()
    for table in tables:
        for column in table.columns:
            if column.justify != "right":
                continue
            for cell in column.cells:
                whole = isinstance(cell, Text) and cell.no_wrap
                for value in [str(cell)] if whole else str(cell).split():
                    assert any(value in line for line in lines), (table.title, value)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_graph_tables_fit_80_columns(path: Path, lang: str) -> None:
    by_option = run("graph", str(path), "--width", "80", "--lang", lang)
    assert by_option.exit_code == 0, by_option.stderr
    assert_fits(by_option.stdout)
    by_environment = run("graph", str(path), "--lang", lang, columns=80)
    assert by_environment.stdout == by_option.stdout
    case = load(path.stem)
    assert_numbers_whole(analysis_tables(analyze(case), case, lang=lang), by_option.stdout)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_settle_tables_fit_80_columns(path: Path, lang: str) -> None:
    by_option = run("settle", str(path), "--width", "80", "--lang", lang)
    assert by_option.exit_code == 0, by_option.stderr
    assert_fits(by_option.stdout)
    if lang == "en":
        by_environment = run("settle", str(path), columns=80)  # English by default
        assert by_environment.stdout == by_option.stdout
    case = load(path.stem)
    parts = settlement_tables(settle_checked(case), case, lang=lang)
    tables = [p.table for p in parts if isinstance(p, Fitted)]
    assert tables
    assert_numbers_whole(tables, by_option.stdout)


def test_wide_terminals_keep_the_tables_natural() -> None:
    case = load("community-hall-dispute")
    parts = settlement_tables(settle_checked(case), case, lang="en")
    wide = printed(parts, width=250)
    assert "Worst-case exposure" in wide  # a heading on one line when there is room
    narrow = printed(parts, width=80)
    assert "Worst-case exposure" not in narrow
    assert "Worst-case" in narrow
    assert printed(parts, width=250) == wide  # narrowing for one print leaves the table as it was


def test_a_crowded_table_folds_its_text_and_keeps_its_numbers() -> None:
    table = Table(
        text_column("Party"),
        *(number_column(f"Long heading number {k}") for k in range(6)),
        title="Crowded",
    )
    values = ["-1.235e+06", "123,456", "99.9%", "0", "6,000", "2.5e-07"]
    table.add_row("和平里社区居民委员会（hepingli-residents-committee）", *map(number, values))
    table.add_row("Anju Property Services Co., Ltd.", *map(number, values))
    text = printed([Fitted(table)], width=80)
    assert_fits(text)
    assert_numbers_whole([table], text)


def test_the_width_option_is_the_console_width() -> None:
    narrow = run("graph", RIVER, "--width", "60")
    assert_fits(narrow.stdout, width=60)
    wide = run("graph", RIVER, "--width", "200")
    assert max(len(line) for line in wide.stdout.splitlines()) > 80
    assert run("graph", RIVER, "--width", "5").exit_code == 2  # below the least width


# --- help at 80 columns --------------------------------------------------------------------


def flat(text: str) -> str:
    return " ".join(text.split())


def commands() -> dict[str, Any]:
    """Return the app's commands as click commands (typer brings its own click), by name."""
    group = typer.main.get_command(app)
    found: dict[str, Any] = getattr(group, "commands", {})
    assert set(found) >= {"validate", "schema", "settle", "graph"}
    return found


@pytest.mark.parametrize("name", ["validate", "schema", "settle", "graph"])
def test_help_at_80_columns_shows_every_option_in_full(name: str) -> None:
    result = run(name, "--help", columns=80)
    assert result.exit_code == 0
    assert_fits(result.stdout)
    shown = flat(result.stdout)
    sub = commands()[name]
    assert flat(sub.help or "") in shown
    for param in sub.params:
        help_text = getattr(param, "help", None)
        if help_text:
            assert flat(help_text) in shown, help_text
        for option in [*param.opts, *param.secondary_opts]:
            assert option in result.stdout.split(), option


def test_the_command_list_at_80_columns_shows_each_summary_in_full() -> None:
    result = run("--help", columns=80)
    assert result.exit_code == 0
    assert_fits(result.stdout)
    shown = flat(result.stdout)
    for name, sub in commands().items():
        summary = flat((sub.help or "").split("\n\n")[0])
        assert f"{name} {summary}" in shown
