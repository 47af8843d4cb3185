"""The case format: bundled cases load and round-trip, bad documents are reported in full."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL_YAML
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from mediation.case import (
    Case,
    Format,
    case_json_schema,
    dump_case,
    guess_format,
    load_case,
    parse_case,
    parse_document,
)
from mediation.case.limits import (
    MAX_DEPTH,
    MAX_MAGNITUDE,
    MAX_NODES,
    MAX_STAKEHOLDERS,
    MIN_MAGNITUDE,
)
from mediation.cli import app
from mediation.errors import CaseError, MediationError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "mediation" / "case" / "schema" / "case.schema.json"

Doc = dict[str, Any]


def _minimal() -> Doc:
    """Return a small valid case that tests break one way each.

    It has two parties, a resource and a risk.
    """
    return {
        "id": "hall",
        "title": "社区活动大厅",
        "stakeholders": [
            {"id": "yikang", "name": "颐康养老服务中心", "kind": "social_organization"},
            {"id": "dancers", "name": "广场舞队", "kind": "resident_group"},
        ],
        "issues": [
            {
                "id": "hours",
                "name": "大厅时段",
                "kind": "resource",
                "amount": 40,
                "unit": "小时/周",
            },
            {
                "id": "noise",
                "name": "噪声投诉风险",
                "kind": "risk",
                "amount": 5000,
                "probability": 0.3,
            },
        ],
        "interests": [
            {"stakeholder": "yikang", "issue": "hours", "value": 60},
            {"stakeholder": "dancers", "issue": "hours", "value": 40},
            {"stakeholder": "dancers", "issue": "noise", "value": 10},
        ],
    }


def _problems(data: object) -> list[tuple[str, str]]:
    """Return the (path, message) pairs of the CaseError that ``parse_case(data)`` must raise."""
    with pytest.raises(CaseError) as info:
        parse_case(data)
    return [(p.path, p.message) for p in info.value.problems]


def _doc_problems(text: str | bytes, fmt: Format = "yaml") -> list[tuple[str, str]]:
    with pytest.raises(CaseError) as info:
        load_case(text, format=fmt)
    return [(p.path, p.message) for p in info.value.problems]


# --- bundled cases -------------------------------------------------------------------------


def test_bundled_case_loads(case_path: Path) -> None:
    case = load_case(case_path.read_bytes(), format=guess_format(case_path.name))
    assert case.id == case_path.stem, "a bundled case's id is its file name"
    assert 2 <= len(case.stakeholders) <= 6
    assert case.interests


def test_bundled_case_is_bilingual(case_path: Path) -> None:
    case = load_case(case_path.read_bytes(), format=guess_format(case_path.name))
    assert case.translations["en"].title
    assert case.translations["en"].description
    for party in case.stakeholders:
        assert party.translations["en"].name, party.id
        assert party.label("en") != party.name, party.id
    for issue in case.issues:
        assert issue.translations["en"].name, issue.id
        assert issue.description, issue.id


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_preserves_case_exactly(case_path: Path, fmt: Format) -> None:
    case = load_case(case_path.read_bytes(), format=guess_format(case_path.name))
    text = dump_case(case, format=fmt)
    again = load_case(text, format=fmt)
    assert again == case
    assert again.model_dump() == case.model_dump()
    assert case.title in text, "Chinese must be written as is, not escaped"
    assert case.stakeholders[0].name in text


def test_round_trip_yaml_to_json_to_yaml(case_path: Path) -> None:
    case = load_case(case_path.read_bytes())
    via_json = load_case(dump_case(case, format="json"), format="json")
    back = load_case(dump_case(via_json, format="yaml"), format="yaml")
    assert back == case


@given(
    text=st.text(min_size=1, max_size=60),
    amount=st.floats(min_value=MIN_MAGNITUDE, max_value=MAX_MAGNITUDE),
    disagreement=st.just(0.0)
    | st.floats(min_value=MIN_MAGNITUDE, max_value=MAX_MAGNITUDE)
    | st.floats(min_value=-MAX_MAGNITUDE, max_value=-MIN_MAGNITUDE),
)
def test_round_trip_of_any_text_and_number(text: str, amount: float, disagreement: float) -> None:
    data = _minimal()
    data["title"] = data["stakeholders"][0]["name"] = text
    data["description"] = data["issues"][0]["description"] = text + "\n" + text
    data["issues"][0]["unit"] = text[:40]
    data["issues"][0]["amount"] = amount
    data["stakeholders"][0]["disagreement"] = disagreement
    case = parse_case(data)
    formats: tuple[Format, ...] = ("yaml", "json")
    for fmt in formats:
        assert load_case(dump_case(case, format=fmt), format=fmt) == case


def test_round_trip_keeps_extensions_and_translations() -> None:
    data = _minimal()
    data["extensions"] = {"来源": "《协同治理》", "nested": {"list": [1, 2.5, None, True, "三"]}}
    data["stakeholders"][0]["translations"] = {
        "en": {"name": "Yikang Care"},
        "zh-Hant": {"name": "頤康"},
    }
    data["interests"][0]["extensions"] = {"备注": "红线"}
    case = parse_case(data)
    formats: tuple[Format, ...] = ("yaml", "json")
    for fmt in formats:
        again = load_case(dump_case(case, format=fmt), format=fmt)
        assert again == case
        assert again.extensions is not None
        assert again.extensions["nested"] == {"list": [1, 2.5, None, True, "三"]}
        assert again.stakeholders[0].label("zh-Hant") == "頤康"


# --- invalid documents: one problem each, with its path ------------------------------------


def _set(path: str, value: object) -> Callable[[Doc], None]:
    """Return a mutation setting ``value`` at a dotted path such as ``interests.0.value``."""

    def mutate(doc: Doc) -> None:
        *head, last = path.split(".")
        node: Any = doc
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _append(section: str, item: Doc) -> Callable[[Doc], None]:
    """Return a mutation appending ``item`` to a top-level list, created when missing."""

    def mutate(doc: Doc) -> None:
        doc.setdefault(section, []).append(item)

    return mutate


def _all(*mutations: Callable[[Doc], None]) -> Callable[[Doc], None]:
    """Several mutations applied in turn."""

    def mutate(doc: Doc) -> None:
        for one in mutations:
            one(doc)

    return mutate


INVALID: list[tuple[str, Callable[[Doc], None], str, list[str]]] = [
    (
        "unknown-stakeholder-did-you-mean",
        _set("interests.0.stakeholder", "yikan"),
        "interests[0].stakeholder",
        ["unknown stakeholder 'yikan'", "did you mean 'yikang'?"],
    ),
    (
        "unknown-issue",
        _set("interests.1.issue", "nothing-like-it"),
        "interests[1].issue",
        ["unknown issue 'nothing-like-it'"],
    ),
    (
        "duplicate-stakeholder-id",
        _append("stakeholders", {"id": "yikang", "name": "另一个", "kind": "other"}),
        "stakeholders[2].id",
        ["duplicate id 'yikang'", "also stakeholders[0]"],
    ),
    (
        "issue-id-reuses-party-id",
        _set("issues.1.id", "dancers"),
        "issues[1].id",
        ["'dancers' is already a stakeholder id"],
    ),
    (
        "duplicate-interest",
        _append("interests", {"stakeholder": "yikang", "issue": "hours", "value": 5}),
        "interests[3]",
        ["duplicate interest of 'yikang' in 'hours'", "also interests[0]"],
    ),
    (
        "floor-above-cap",
        _all(_set("interests.0.min_share", 0.7), _set("interests.0.max_share", 0.4)),
        "interests[0].min_share",
        ["0.7 is above max_share 0.4"],
    ),
    (
        "floors-sum-above-1",
        _all(_set("interests.0.min_share", 0.7), _set("interests.1.min_share", 0.5)),
        "issues[0]",
        ["floors (min_share) on 'hours' sum to 1.2 > 1", "yikang 0.7", "dancers 0.5"],
    ),
    (
        "true-is-not-a-number",
        _set("interests.0.value", True),
        "interests[0].value",
        ["must be a number, got a boolean (true)"],
    ),
    (
        "string-is-not-a-number",
        _set("issues.0.amount", "40"),
        "issues[0].amount",
        ["must be a number, got a string ('40')"],
    ),
    (
        "nan",
        _set("interests.1.value", float("nan")),
        "interests[1].value",
        ["finite number"],
    ),
    (
        "amount-not-positive",
        _set("issues.0.amount", 0),
        "issues[0].amount",
        ["must be greater than 0"],
    ),
    (
        "share-above-1",
        _set("interests.0.max_share", 1.5),
        "interests[0].max_share",
        ["must be at most 1"],
    ),
    (
        "unknown-key-lists-allowed",
        _set("stakeholders.0.capacity", 100),
        "stakeholders[0]",
        ["unknown key 'capacity'", "allowed: id, name, kind,", "risk_capacity", "'extensions'"],
    ),
    (
        "unknown-key-in-translation",
        _set("stakeholders.0.translations", {"en": {"name": "Yikang", "title": "x"}}),
        "stakeholders[0].translations.en",
        ["unknown key 'title'", "allowed: name, description"],
    ),
    (
        "bad-language-code",
        _set("translations", {"English": {"title": "Hall"}}),
        "translations",
        ["'English' is not a language code", "'en'"],
    ),
    ("empty-stakeholders", _set("stakeholders", []), "stakeholders", ["at least 2 item"]),
    (
        "one-stakeholder",
        _all(
            _set("stakeholders", [{"id": "yikang", "name": "颐康", "kind": "social_organization"}]),
            _set("interests", [{"stakeholder": "yikang", "issue": "hours", "value": 60}]),
        ),
        "stakeholders",
        ["at least 2 item"],
    ),
    (
        "wrong-relation-kind",
        _append("relations", {"source": "yikang", "target": "dancers", "kind": "hates"}),
        "relations[0].kind",
        ["must be one of", "'conflicts'"],
    ),
    (
        "self-relation",
        _append("relations", {"source": "dancers", "target": "dancers", "kind": "dialogue"}),
        "relations[0]",
        ["two different parties", "'dancers' twice"],
    ),
    (
        "duplicate-relation",
        _set("relations", [{"source": "yikang", "target": "dancers", "kind": "funds"}] * 2),
        "relations[1]",
        ["duplicate 'funds' relation", "also relations[0]"],
    ),
    (
        "term-on-missing-edge",
        _append(
            "constraints",
            {
                "name": "cap",
                "terms": [{"stakeholder": "yikang", "issue": "noise", "coef": 1}],
                "sense": "<=",
                "rhs": 0.5,
            },
        ),
        "constraints[0].terms[0]",
        ["'yikang' has no interest in 'noise'"],
    ),
    (
        "claim-on-risk",
        _set("interests.2.claim", 100),
        "interests[2].claim",
        ["applies to resources only", "'noise' is a risk"],
    ),
    (
        "control-on-resource",
        _set("interests.0.control", 0.5),
        "interests[0].control",
        ["applies to risks only", "'hours' is a resource"],
    ),
    (
        "probability-on-resource",
        _set("issues.0.probability", 0.5),
        "issues[0].probability",
        ["applies to risks only"],
    ),
    (
        "issue-nobody-wants",
        _append("issues", {"id": "storage", "name": "储物间", "kind": "resource", "amount": 12}),
        "issues[2]",
        ["no stakeholder has an interest in 'storage'"],
    ),
    (
        "size-not-an-integer",
        _set("stakeholders.1.size", 60.5),
        "stakeholders[1].size",
        ["must be an integer"],
    ),
    (
        "name-not-a-string",
        _set("stakeholders.1.name", 2025),
        "stakeholders[1].name",
        ["must be a string, got a number (2025)"],
    ),
    (
        "id-not-a-slug",
        _set("issues.0.id", "hall hours"),
        "issues[0].id",
        ["must be an identifier"],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "fragments"),
    [pytest.param(m, p, f, id=name) for name, m, p, f in INVALID],
)
def test_invalid_document_names_the_path(
    mutate: Callable[[Doc], None], path: str, fragments: list[str]
) -> None:
    doc = _minimal()
    mutate(doc)
    problems = _problems(doc)
    messages = [m for p, m in problems if p == path]
    assert messages, f"no problem at {path!r}; got {problems}"
    for fragment in fragments:
        assert any(fragment in m for m in messages), f"{fragment!r} not in {messages}"


def test_case_error_is_a_value_error_listing_every_problem() -> None:
    doc = _minimal()
    doc["interests"][0]["stakeholder"] = "yikan"
    with pytest.raises(CaseError) as info:
        parse_case(doc)
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, MediationError)
    assert "1 problem in the case" in str(error)
    assert "interests[0].stakeholder: unknown stakeholder 'yikan'" in str(error)


def test_all_problems_are_reported_at_once_in_document_order() -> None:
    doc = _minimal()
    doc["title"] = ""
    doc["stakeholders"][1]["kind"] = "ngo"
    doc["issues"][0]["amount"] = -1
    doc["interests"][0]["stakeholder"] = "yikan"
    doc["interests"][2]["value"] = True
    doc["interests"].append({"stakeholder": "dancers", "issue": "hours", "value": 1})
    doc["relations"] = [{"source": "dancers", "target": "dancers", "kind": "dialogue"}]
    doc["policy"] = {"rule": "fairest"}
    doc["colour"] = "red"
    paths = [p for p, _ in _problems(doc)]
    assert paths == [
        "title",
        "stakeholders[1].kind",
        "issues[0].amount",
        "interests[0].stakeholder",
        "interests[2].value",
        "interests[3]",
        "relations[0]",
        "policy.rule",
        "",
    ]


def test_problems_in_valid_parts_are_found_next_to_invalid_ones() -> None:
    doc = _minimal()
    doc["stakeholders"][1]["weight"] = 0
    duplicate = {"stakeholder": "yikang", "issue": "hours", "value": 1}
    doc["interests"].append(duplicate)
    problems = _problems(doc)
    assert [p for p, _ in problems] == ["stakeholders[1].weight", "interests[3]"]
    assert not any("unknown stakeholder 'dancers'" in m for _, m in problems), (
        "a party whose own record is invalid is not also unknown"
    )


def test_extensions_are_accepted_everywhere_they_are_documented() -> None:
    doc = _minimal()
    anything = {"来源": "调研", "ids": [1, 2, {"deep": None}], "ok": True}
    doc["extensions"] = anything
    doc["stakeholders"][0]["extensions"] = anything
    doc["issues"][0]["extensions"] = anything
    doc["interests"][0]["extensions"] = anything
    doc["relations"] = [
        {"source": "yikang", "target": "dancers", "kind": "cooperates", "extensions": anything}
    ]
    case = parse_case(doc)
    assert case.extensions == anything
    assert case.relations[0].extensions == anything


def test_valid_minimal_case_and_defaults() -> None:
    case = parse_case(_minimal())
    assert isinstance(case, Case)
    party = case.stakeholder_by_id["dancers"]
    assert (party.weight, party.disagreement, party.risk_capacity) == (1.0, 0.0, None)
    assert case.issue_by_id["hours"].divisible is True
    assert case.issue_by_id["hours"].likelihood == 1.0
    assert case.issue_by_id["noise"].likelihood == pytest.approx(0.3)
    assert (case.policy.rule, case.policy.scale, case.policy.individually_rational) == (
        "leximin",
        "normalized",
        True,
    )


# --- invalid documents: text that cannot be read --------------------------------------------


def test_minimal_yaml_loads() -> None:
    assert load_case(MINIMAL_YAML).stakeholders[1].name == "广场舞队"


@pytest.mark.parametrize(
    ("replace", "by", "path"),
    [
        ("amount: 40", "amount: .inf", "issues[0].amount"),
        ("amount: 40", "amount: -.inf", "issues[0].amount"),
        ("value: 60", "value: .nan", "interests[0].value"),
    ],
)
def test_yaml_nan_and_infinity_are_rejected_with_their_path(
    replace: str, by: str, path: str
) -> None:
    problems = _doc_problems(MINIMAL_YAML.replace(replace, by))
    assert problems == [(path, "must be a finite number (NaN and infinities are not allowed)")]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_is_rejected(constant: str) -> None:
    data = json.loads(dump_case(load_case(MINIMAL_YAML), format="json"))
    text = json.dumps(data).replace('"value": 60.0', f'"value": {constant}')
    assert constant in text
    problems = _doc_problems(text, "json")
    assert problems == [
        ("interests[0].value", f"{constant} is not allowed in a case: numbers must be finite")
    ]


def test_yaml_true_is_not_a_number() -> None:
    problems = _doc_problems(MINIMAL_YAML.replace("value: 60", "value: yes"))
    assert problems == [("interests[0].value", "must be a number, got a boolean (true)")]


def test_malformed_yaml_gives_the_line() -> None:
    text = MINIMAL_YAML.replace(
        "  - {id: hours, name: 大厅时段,", "  - {id: hours, name: [大厅时段,"
    )
    ((path, message),) = _doc_problems(text)
    assert path == ""
    assert message.startswith("malformed YAML at line 7,"), message


def test_malformed_json_gives_the_line() -> None:
    ((path, message),) = _doc_problems('{\n  "id": "hall",\n  "title": "大厅",,\n}', "json")
    assert path == ""
    assert message.startswith("malformed JSON at line 3, column"), message


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("- a\n- b\n", "a list"),
        ("42\n", "a number (42)"),
        ("社区活动大厅\n", "a string ('社区活动大厅')"),
        ("", "null"),
    ],
)
def test_document_must_be_a_mapping(text: str, what: str) -> None:
    ((path, message),) = _doc_problems(text)
    assert path == ""
    assert message == f"a case must be a mapping of keys to values, got {what}"


def test_keys_must_be_strings() -> None:
    ((_, message),) = _doc_problems(MINIMAL_YAML + "1: one\n")
    assert message.startswith("keys must be strings, got a number (1) (line 11, column 1)")


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_deeply_nested_junk_is_rejected(fmt: Format) -> None:
    text = "[" * 10_000 + "]" * 10_000
    ((path, message),) = _doc_problems(text, fmt)
    assert path == ""
    assert "nest" in message, message


def test_nesting_beyond_max_depth_is_rejected_even_when_the_parser_accepts_it() -> None:
    junk: Any = "x"
    for _ in range(MAX_DEPTH + 5):
        junk = [junk]
    doc = _minimal()
    doc["extensions"] = {"junk": junk}
    assert _problems(doc) == [("", f"the document is nested deeper than {MAX_DEPTH} levels")]


def test_yaml_alias_bomb_is_rejected_quickly() -> None:
    lines = ['lol: &a0 ["哈哈哈哈哈哈哈哈"]']
    for k in range(1, 10):
        refs = ", ".join([f"*a{k - 1}"] * 10)
        lines.append(f"a{k}: &a{k} [{refs}]")  # 10**9 leaves once expanded
    started = time.perf_counter()
    ((path, message),) = _doc_problems("\n".join(lines) + "\n")
    elapsed = time.perf_counter() - started
    assert (path, message) == ("", f"the document expands to more than {MAX_NODES} values")
    assert elapsed < 1, f"an alias bomb took {elapsed:.1f} s to reject"


def test_non_utf8_bytes_are_rejected() -> None:
    text = MINIMAL_YAML.encode("utf-8").replace("广场舞队".encode(), "广场舞队".encode("gbk"))
    ((path, message),) = _doc_problems(text)
    assert path == ""
    assert message.startswith("the document is not UTF-8 text (byte "), message


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        (MINIMAL_YAML.replace("value: 60}", "value: 60, value: 6}"), "yaml"),
        ('{"id": "hall", "id": "hall2", "title": "大厅"}', "json"),
    ],
)
def test_duplicate_keys_are_rejected(text: str, fmt: Format) -> None:
    problems = _doc_problems(text, fmt)
    assert any("repeated key" in message for _, message in problems), problems


def test_utf8_bom_is_accepted() -> None:
    assert load_case(b"\xef\xbb\xbf" + MINIMAL_YAML.encode()).title == "社区活动大厅"


def test_parse_document_leaves_validation_to_parse_case() -> None:
    assert parse_document('{"id": "x"}', format="json") == {"id": "x"}


# --- sizes ---------------------------------------------------------------------------------


def _complete_case(parties: int, issues: int) -> Doc:
    """``parties`` × ``issues`` with every interest edge present, half the issues risks."""
    return {
        "id": "big",
        "title": "大规模案例",
        "stakeholders": [
            {"id": f"p{s}", "name": f"参与方{s}", "kind": "other"} for s in range(parties)
        ],
        "issues": [
            {
                "id": f"i{i}",
                "name": f"议题{i}",
                "kind": "risk" if i % 2 else "resource",
                "amount": 100,
            }
            for i in range(issues)
        ],
        "interests": [
            {"stakeholder": f"p{s}", "issue": f"i{i}", "value": (s * 7 + i) % 10}
            for s in range(parties)
            for i in range(issues)
        ],
    }


def test_too_many_stakeholders_are_rejected_before_validation() -> None:
    doc = _minimal()
    doc["stakeholders"] = [
        {"id": f"p{k}", "name": f"参与方{k}", "kind": "other"} for k in range(MAX_STAKEHOLDERS + 1)
    ]
    doc["issues"][0]["amount"] = "not even checked"
    assert _problems(doc) == [
        ("stakeholders", f"{MAX_STAKEHOLDERS + 1} items, above the limit of {MAX_STAKEHOLDERS}")
    ]


def test_thousand_parties_by_two_hundred_issues_fully_connected_is_accepted() -> None:
    doc = _complete_case(1_000, 200)
    case = parse_case(doc)
    assert len(case.interests) == 200_000
    assert len(case.interests_by_issue["i199"]) == 1_000


def test_size_limit_is_exact() -> None:
    doc = _minimal()
    extra = [{"id": f"p{k}", "name": "方", "kind": "other"} for k in range(MAX_STAKEHOLDERS - 2)]
    doc["stakeholders"] = doc["stakeholders"] + extra
    assert len(parse_case(doc).stakeholders) == MAX_STAKEHOLDERS


# --- the JSON Schema -----------------------------------------------------------------------


def test_committed_schema_matches_the_model() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == case_json_schema(), (
        "mediation/case/schema/case.schema.json is out of date; regenerate it with "
        "`mediation schema > mediation/case/schema/case.schema.json`"
    )


# --- the command line ----------------------------------------------------------------------

runner = CliRunner()

INVALID_YAML = MINIMAL_YAML.replace("stakeholder: dancers", "stakeholder: dancer")


def test_cli_validate_accepts_a_bundled_case(case_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(case_path)])
    assert result.exit_code == 0, result.output
    assert f"valid case '{case_path.stem}'" in result.stdout


def test_cli_validate_rejects_an_invalid_case(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(INVALID_YAML, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "interests[1].stakeholder: unknown stakeholder 'dancer'; did you mean 'dancers'?" in (
        result.stderr
    )
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_validate_reads_json_by_extension_and_stdin(tmp_path: Path) -> None:
    case = load_case(MINIMAL_YAML)
    path = tmp_path / "case.json"
    path.write_text(dump_case(case, format="json"), encoding="utf-8")
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    piped = runner.invoke(app, ["validate", "-"], input=MINIMAL_YAML.encode())
    assert piped.exit_code == 0, piped.output


def test_cli_validate_missing_file_is_an_input_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nowhere.yaml")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_cli_schema_prints_the_schema_as_json() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == case_json_schema()


def test_installed_script_reports_problems_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("mediation")
    if not script.exists():
        pytest.skip("the mediation console script is not installed next to this Python")
    path = tmp_path / "坏案例.yaml"
    path.write_text(INVALID_YAML, encoding="utf-8")
    done = subprocess.run(
        [str(script), "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "interests[1].stakeholder" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
