"""Extreme and hostile input (issue 7): every bad document is refused cheaply.

The refusal is a message naming the field or the position, never a traceback.
"""

from __future__ import annotations

import datetime
import json
import math
import pickle
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import LP_RULES, RULES, load
from typer.testing import CliRunner, Result

from mediation import settle
from mediation.case import Format, limits, load_case, parse_case, parse_document, yaml_reader
from mediation.case import parse as case_parse
from mediation.case.limits import (
    MAX_MAGNITUDE,
    MAX_VALUE_SPAN,
    MAX_WEIGHT,
    MIN_MAGNITUDE,
    MIN_WEIGHT,
)
from mediation.cli import app
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
    """Return the command line, which may exit with a code but never with a traceback."""
    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output + result.stderr
    return result


def _doc_problems(text: str, fmt: Format = "yaml") -> list[tuple[str, str]]:
    """Return the (path, message) pairs of the CaseError that loading ``text`` must raise."""
    with pytest.raises(CaseError) as info:
        load_case(text, format=fmt)
    return [(p.path, p.message) for p in info.value.problems]


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
    monkeypatch.setattr(case_parse, "MAX_EXPANDED_TEXT", limit)
    assert parse_case(doc).extensions == {"copies": [shared] * 50}
    doc["extensions"]["copies"].append("y")
    with pytest.raises(CaseError, match=f"more than {limit} characters of text"):
        parse_case(doc)


# --- oversized documents are refused early --------------------------------------------------


def _interests(count: int) -> str:
    return "".join(
        f"  - {{stakeholder: p{k}, issue: hours, value: {k + 1}}}\n" for k in range(count)
    )


def test_yaml_section_over_its_limit_is_refused_before_the_rest_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yaml_reader, "SECTION_LIMITS", {**limits.SECTION_LIMITS, "interests": 3})
    head = MINIMAL_YAML.split("interests:\n")[0] + "interests:\n"
    text = head + _interests(4) + "  - [this is never read\n"
    problems = _doc_problems(text)
    line = head.count("\n") + 4
    assert problems == [
        ("interests", f"more than 3 items, above the limit of 3 (at line {line}, column 5)")
    ]


def test_yaml_terms_over_their_limit_are_refused_as_they_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yaml_reader, "MAX_TERMS", 2)
    term = "{stakeholder: yikang, issue: hours, coef: 1}"
    text = MINIMAL_YAML + (
        "constraints:\n"
        f"  - {{name: a, sense: '<=', rhs: 1, terms: [{term}]}}\n"
        f"  - {{name: b, sense: '<=', rhs: 1, terms: [{term}, {term}, [never read\n"
    )
    ((path, message),) = _doc_problems(text)
    assert path == "constraints"
    assert message.startswith("more than 2 terms in all, above the limit (at line 13, column")


def test_yaml_with_one_interest_too_many_is_refused_at_the_real_limit() -> None:
    head = MINIMAL_YAML.split("interests:\n")[0]
    text = (
        head
        + "interests:\n  - &x {stakeholder: yikang, issue: hours, value: 60}\n"
        + "  - *x\n" * limits.MAX_INTERESTS
    )
    ((path, message),) = _doc_problems(text)
    assert path == "interests"
    assert message.startswith(
        f"more than {limits.MAX_INTERESTS} items, above the limit of {limits.MAX_INTERESTS}"
    )


def test_section_sizes_are_checked_before_the_document_is_walked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(case_parse, "SECTION_LIMITS", {**limits.SECTION_LIMITS, "interests": 1})
    doc = parse_document(MINIMAL_YAML)
    assert isinstance(doc, dict)
    junk: list[object] = []
    for _ in range(limits.MAX_DEPTH + 5):
        junk = [junk]
    doc["extensions"] = {"junk": junk}
    with pytest.raises(CaseError) as info:
        parse_case(doc)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("interests", "2 items, above the limit of 1")
    ]


# --- the YAML reader reads what PyYAML reads ------------------------------------------------


class _PyYaml(yaml.CSafeLoader):
    """PyYAML's own safe loader with the exponent floats that the case format reads."""


_PyYaml.add_implicit_resolver(
    "tag:yaml.org,2002:float", yaml_reader.EXPONENT_FLOAT, list("-+0123456789")
)

TRICKY_YAML = """\
plain: [60, -3, 0x1F, 0o17, 017, 1_000, 1:30, 2.5, 1e6, -2.5E-3, .5, yes, No, off, ~, null, '']
quoted: ["60", 'yes', "null", "a\\tb", "\\u4e2d"]
block: |
  two
  lines
folded: >
  one
  line
anchors: {a: &a [1, {b: &b two}], again: *a, b: *b}
tagged: [!!str 60, !!int "7", !!float "2", !!bool "true", !!null "", ! 12]
long: "%s"
""" % ("长" * 100)


def test_yaml_reader_agrees_with_pyyaml_on_tricky_scalars() -> None:
    assert yaml_reader.read_yaml(TRICKY_YAML) == yaml.load(TRICKY_YAML, Loader=_PyYaml)


def test_yaml_reader_agrees_with_pyyaml_on_bundled_cases(case_path: Path) -> None:
    text = case_path.read_text(encoding="utf-8")
    assert yaml_reader.read_yaml(text) == yaml.load(text, Loader=_PyYaml)


def test_yaml_aliases_share_their_data_as_in_pyyaml() -> None:
    data = yaml_reader.read_yaml("a: &a [1]\nb: *a\n")
    assert isinstance(data, dict)
    assert data["a"] is data["b"]


@pytest.mark.parametrize(
    ("text", "path", "fragments"),
    [
        ("a: *nowhere\n", "a", ["unknown alias '*nowhere' (line 1, column 4)"]),
        ("a: &a [1, *a]\n", "a[1]", ["'*a' is inside what it refers to (line 1, column 11)"]),
        ("a: &a 1\nb: &a 2\n", "b", ["the anchor '&a' is defined twice (line 2, column 4)"]),
        ("a: !!python/name:os.system x\n", "a", ["the tag !!python/name:os.system is not allowed"]),
        ("a: !!set {x, y}\n", "a", ["the tag !!set is not allowed (line 1, column 4)"]),
        ("a: !!omap [{x: 1}]\n", "a", ["the tag !!omap is not allowed"]),
        ("a: !mine 3\n", "a", ["the tag !mine is not allowed"]),
        ("a: {[1]: x}\n", "a", ["keys must be strings, got a list (line 1, column 5)"]),
        ("a: {b: 1, b: 2}\n", "a", ["repeated key 'b' (line 1, column 11)"]),
    ],
)
def test_yaml_structure_errors_give_the_position(
    text: str, path: str, fragments: list[str]
) -> None:
    ((got_path, message),) = _doc_problems(text)
    assert got_path == path
    for fragment in fragments:
        assert fragment in message, message


def test_yaml_with_two_documents_is_refused() -> None:
    ((path, message),) = _doc_problems(MINIMAL_YAML + "---\n" + MINIMAL_YAML)
    assert path == ""
    assert message.startswith("malformed YAML at line 11, column 1: but found another document")


# --- YAML merge keys -----------------------------------------------------------------------

MERGED_YAML = """\
id: hall
title: 社区活动大厅
extensions:
  party: &party {kind: resident_group, weight: 2, disagreement: -1}
  senior: &senior {kind: social_organization, weight: 3}
stakeholders:
  - {<<: *party, id: dancers, name: 广场舞队}
  - {weight: 5, <<: *party, id: youth, name: 青少年}
  - <<: [*senior, *party]
    id: yikang
    name: 颐康
issues:
  - {id: hours, name: 大厅时段, kind: resource, amount: 40}
interests:
  - &edge {stakeholder: dancers, issue: hours, value: 40}
  - {<<: *edge, stakeholder: youth}
  - {<<: *edge, stakeholder: yikang, value: 60}
"""


def test_yaml_merge_keys_bring_in_keys_that_explicit_keys_override() -> None:
    case = load_case(MERGED_YAML)
    dancers, youth, yikang = case.stakeholders
    assert (dancers.kind, dancers.weight, dancers.disagreement) == ("resident_group", 2, -1)
    assert youth.weight == 5, "an explicit key wins over a merged one, before or after '<<'"
    assert (yikang.kind, yikang.weight) == ("social_organization", 3), "earlier mappings win"
    assert yikang.disagreement == -1, "keys only the later mapping has still come in"
    assert [(x.stakeholder, x.value) for x in case.interests] == [
        ("dancers", 40),
        ("youth", 40),
        ("yikang", 60),
    ]


def test_yaml_merge_of_one_mapping_means_what_it_means_to_pyyaml() -> None:
    # Not with a list of mappings: PyYAML 6 lets the *later* mapping win when the keys are
    # distinct string objects (its check compares key ids), against the YAML 1.1 spec
    # (https://yaml.org/type/merge.html: "keys in mapping nodes earlier in the sequence
    # override keys specified in later mapping nodes"), which the reader follows.
    single = MERGED_YAML.replace("<<: [*senior, *party]", "<<: *senior")
    assert yaml_reader.read_yaml(single) == yaml.load(single, Loader=_PyYaml)


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("a: &a {x: 1}\nb: {<<: *a, y: 1, y: 2}\n", "b", "repeated key 'y' (line 2, column 19)"),
        ("a: &a {x: 1}\nb: {<<: *a, <<: *a}\n", "b", "repeated key '<<' (line 2, column 13)"),
        ("a: {<<: 3}\n", "a.<<", "'<<' needs a mapping or a list of mappings, got a number (3)"),
        ("a: &a {x: 1}\nb: {<<: [*a, 2]}\n", "b.<<", "needs a mapping or a list of mappings"),
        ("a: <<\n", "a", "'<<' is YAML's merge key and can only be a key (line 1, column 4)"),
        ("a: [<<]\n", "a[0]", "can only be a key"),
    ],
)
def test_yaml_merge_key_errors_give_the_position(text: str, path: str, fragment: str) -> None:
    ((got_path, message),) = _doc_problems(text)
    assert (got_path, fragment in message) == (path, True), message


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert yaml_reader.read_yaml('a: {"<<": 1}\n') == {"a": {"<<": 1}}


# --- numbers and tags that cannot be read: the message says where and what is allowed ------

BIG = "9" * 5_001
TOO_LONG = "an integer of 5001 digits is too long to read; numbers may have at most 4300 digits"


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ('!!int "abc"', ["!!int 'abc' is not an integer (line 9, column 48)", "drop the tag"]),
        ('!!float "x"', ["!!float 'x' is not a number (line 9, column 48)"]),
        ('!!bool "maybe"', ["!!bool 'maybe' is not a boolean (true or false)"]),
        ('!!timestamp "x"', ["!!timestamp 'x' is not a date or time (YYYY-MM-DD"]),
        ('!!binary "abc"', ["!!binary 'abc' is not base64 text"]),
        ("2025-13-45", ["'2025-13-45' is not a date or time", "quote it to make it a string"]),
        (BIG, ["an integer of 5001 digits is too long to read (line 9, column 48)", "4300"]),
        (f"-{BIG}", ["an integer of 5001 digits is too long to read"]),
        ("!!python/object:os.system x", ["the tag !!python/object:os.system is not allowed"]),
        (".nan", ["must be a finite number"]),
        ("-.inf", ["must be a finite number"]),
        ("1e999", ["must be a finite number"]),
    ],
)
def test_unreadable_yaml_scalar_names_its_field_and_position(
    value: str, fragments: list[str]
) -> None:
    ((path, message),) = _doc_problems(MINIMAL_YAML.replace("value: 60", f"value: {value}"))
    assert path == "interests[0].value"
    for fragment in fragments:
        assert fragment in message, message


def _minimal_json(value: str) -> str:
    data = parse_document(MINIMAL_YAML)
    return json.dumps(data).replace('"value": 60', f'"value": {value}')


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NaN", "NaN is not allowed in a case: numbers must be finite"),
        ("Infinity", "Infinity is not allowed in a case: numbers must be finite"),
        ("-Infinity", "-Infinity is not allowed in a case: numbers must be finite"),
        (
            BIG,
            "an integer of 5001 digits is too long to read; numbers may have at most 4300 digits",
        ),
        (
            f"-{BIG}",
            "an integer of 5001 digits is too long to read; numbers may have at most 4300 digits",
        ),
        ("1e999", "must be a finite number (NaN and infinities are not allowed)"),
        ("-1e999", "must be a finite number (NaN and infinities are not allowed)"),
    ],
)
def test_unreadable_json_number_names_its_field(value: str, message: str) -> None:
    assert _doc_problems(_minimal_json(value), "json") == [("interests[0].value", message)]


def test_json_repeated_key_names_its_mapping() -> None:
    text = _minimal_json('60, "value": 6')
    assert _doc_problems(text, "json") == [
        ("interests[0]", "repeated key 'value'; a key may appear once in a mapping")
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (MINIMAL_YAML.replace("value: 60", 'value: !!timestamp "x"'), "case.yaml"),
        (MINIMAL_YAML.replace("value: 60", f"value: {BIG}"), "case.yaml"),
        (_minimal_json(BIG), "case.json"),
        (_minimal_json("NaN"), "case.json"),
    ],
)
def test_cli_refuses_unreadable_numbers_without_traceback(
    tmp_path: Path, text: str, name: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    refused(run("validate", str(path)), "interests[0].value: ")


# --- extensions hold JSON data; text is valid Unicode ---------------------------------------

#: Where ``extensions`` may go, as a path to a mapping of the minimal case.
EXTENDED = ["", "stakeholders.0", "issues.0", "interests.1", "relations.0"]

NOT_JSON: list[tuple[object, str, str]] = [
    (b"\x89PNG", "", "binary data (YAML !!binary) is not allowed"),
    ("ok\ud800", "", "holds a lone surrogate (\\ud800-\\udfff without its pair) at character 3"),
    (datetime.date(2025, 1, 1), "", "a date or time (2025-01-01) is not allowed"),
    (datetime.datetime(2025, 1, 1, 8, 30), "", "a date or time (2025-01-01T08:30:00)"),
    ({"a", "b"}, "", "a set is not allowed"),
    ((1, 2), "", "a tuple is not allowed"),
    (float("nan"), "", "nan is not allowed"),
    (float("inf"), "", "inf is not allowed"),
    (10**5000, "", "an integer of more than 4300 digits is not allowed"),
    ([1, {"deep": [b"x"]}], "[1].deep[0]", "binary data"),
    ({1: "one"}, "", "keys must be strings, got a number (1)"),
    ({"k\udc80": 1}, "", "a key holds a lone surrogate"),
    (object(), "", "a object is not allowed"),
]


def _extended(where: str, value: object) -> dict[str, Any]:
    doc = parse_document(MINIMAL_YAML)
    assert isinstance(doc, dict)
    doc["relations"] = [{"source": "yikang", "target": "dancers", "kind": "dialogue"}]
    node: object = doc
    for part in filter(None, where.split(".")):
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    node["extensions"] = {"mine": value}  # type: ignore[index]
    return doc


@pytest.mark.parametrize("where", EXTENDED, ids=lambda w: w or "case")
@pytest.mark.parametrize(
    ("value", "subpath", "fragment"), NOT_JSON, ids=[f[2][:24] for f in NOT_JSON]
)
def test_extensions_must_be_json_data(
    where: str, value: object, subpath: str, fragment: str
) -> None:
    with pytest.raises(CaseError) as info:
        parse_case(_extended(where, value))
    head = where.replace(".", "[", 1) + "]" if where else ""
    path = (f"{head}." if head else "") + "extensions.mine" + subpath
    ((got_path, message),) = [(p.path, p.message) for p in info.value.problems]
    assert got_path == path
    assert fragment in message, message
    str(info.value).encode("utf-8")  # the message itself is valid Unicode


def test_json_data_of_every_kind_is_accepted_in_extensions() -> None:
    anything = {"s": "社区 ✓", "n": [0, -1, 2.5, 1e300, 10**4000], "b": [True, False], "z": None}
    case = parse_case(_extended("stakeholders.0", anything))
    assert case.stakeholders[0].extensions == {"mine": anything}


@pytest.mark.parametrize(
    ("text", "fmt", "path", "fragment"),
    [
        (
            MINIMAL_YAML + "extensions: {photo: !!binary aGVsbG8=}\n",
            "yaml",
            "extensions.photo",
            "binary data",
        ),
        (
            MINIMAL_YAML.replace("value: 60}", "value: 60, extensions: {day: 2025-01-01}}"),
            "yaml",
            "interests[0].extensions.day",
            "a date or time (2025-01-01)",
        ),
        (
            _minimal_json('60, "extensions": {"x": ["\\ud800"]}'),
            "json",
            "interests[0].extensions.x[0]",
            "lone surrogate",
        ),
        (
            _minimal_json('60, "extensions": {"x": 1e999}'),
            "json",
            "interests[0].extensions.x",
            "inf",
        ),
    ],
)
@pytest.mark.parametrize("command", ["validate", "settle"])
def test_cli_refuses_extensions_that_are_not_json(
    tmp_path: Path, command: str, text: str, fmt: str, path: str, fragment: str
) -> None:
    file = tmp_path / f"case.{fmt}"
    file.write_text(text, encoding="utf-8", errors="surrogatepass")
    refused(run(command, str(file)), f"{path}: ", fragment)


@pytest.mark.parametrize(
    "path",
    [
        "title",
        "description",
        "stakeholders.0.name",
        "stakeholders.0.id",
        "stakeholders.0.description",
        "issues.0.unit",
        "interests.0.note",
        "relations.0.description",
        "stakeholders.0.translations.en.name",
    ],
)
def test_lone_surrogate_in_any_text_field_is_named(path: str) -> None:
    doc = _extended("", "x")
    *head, last = path.split(".")
    node: object = doc
    for part in head:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            assert isinstance(node, dict)
            node = node.setdefault(part, {})
    assert isinstance(node, dict)
    node[last] = "名\ud800"
    text = json.dumps(doc)  # JSON writes it as the escape "\ud800", which json.loads reads back
    assert "\\ud800" in text
    problems = _doc_problems(text, "json")
    expected = path.replace(".0.", "[0].").replace(".0", "[0]")
    messages = [m for p, m in problems if p == expected]
    assert messages, problems
    assert "lone surrogate (\\ud800-\\udfff without its pair) at character 2" in messages[0]


@pytest.mark.parametrize("where", ["translations", "extensions", ""])
def test_lone_surrogate_in_a_key_is_named_and_escaped(where: str) -> None:
    doc = _extended("", "x")
    if where:
        doc[where] = {"\ud800": {"title": "x"}}
    else:
        doc["\ud800"] = 1
    with pytest.raises(CaseError) as info:
        parse_case(doc)
    (problem,) = info.value.problems
    assert problem.path == where
    assert "lone surrogate" in problem.message or "unknown key" in problem.message
    str(info.value).encode("utf-8")


def test_lone_surrogate_in_yaml_text_given_as_str_is_refused_with_its_position() -> None:
    ((path, message),) = _doc_problems(MINIMAL_YAML.replace("广场舞队", "广场\ud800"))
    assert path == ""
    assert "lone surrogate" in message
    assert "at line 5, column 27" in message


# --- numeric ranges --------------------------------------------------------------------------


def _ranged() -> dict[str, Any]:
    """Return the minimal case with every ranged number present.

    Those are a risk capacity, a claim and a constraint.
    """
    doc = _extended("", "x")
    doc["stakeholders"][0]["risk_capacity"] = 10
    doc["interests"][0]["claim"] = 30
    doc["constraints"] = [
        {
            "name": "cap",
            "terms": [{"stakeholder": "yikang", "issue": "hours", "coef": 1}],
            "sense": "<=",
            "rhs": 0.9,
        }
    ]
    return doc


TINY = math.nextafter(MIN_MAGNITUDE, 0)
BEYOND = math.nextafter(MAX_MAGNITUDE, math.inf)

#: (path to the number, a few values at the edges that load, values just beyond, fragment)
RANGES: list[tuple[str, list[float], list[float], list[str]]] = [
    (
        "stakeholders.0.weight",
        [MIN_WEIGHT, MAX_WEIGHT],
        [math.nextafter(MIN_WEIGHT, 0), 5e-324, 0.0],
        ["must be at least 1e-6"],
    ),
    ("stakeholders.0.weight", [], [math.nextafter(MAX_WEIGHT, math.inf)], ["must be at most 1e6"]),
    ("interests.0.value", [0.0, MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY], ["must be 0 or at least"]),
    ("interests.0.value", [], [BEYOND, 1e15], ["must be at most 1e12"]),
    ("interests.0.claim", [0.0, MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY], ["must be 0 or at least"]),
    ("interests.0.claim", [], [BEYOND], ["must be at most 1e12"]),
    ("issues.0.amount", [MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY], ["must be at least 1e-9, got"]),
    ("issues.0.amount", [], [BEYOND], ["must be at most 1e12"]),
    (
        "stakeholders.0.risk_capacity",
        [0.0, MIN_MAGNITUDE, MAX_MAGNITUDE],
        [TINY],
        ["must be 0 or at least 1e-9 in absolute value"],
    ),
    ("stakeholders.0.risk_capacity", [], [BEYOND], ["must be at most 1e12"]),
    (
        "stakeholders.1.disagreement",
        [0.0, MIN_MAGNITUDE, -MIN_MAGNITUDE, MAX_MAGNITUDE, -MAX_MAGNITUDE],
        [TINY, -TINY],
        ["must be 0 or at least 1e-9 in absolute value"],
    ),
    ("stakeholders.1.disagreement", [], [BEYOND], ["must be at most 1e12"]),
    ("stakeholders.1.disagreement", [], [-BEYOND], ["must be at least -1e12"]),
    (
        "constraints.0.terms.0.coef",
        [0.0, MIN_MAGNITUDE, -MAX_MAGNITUDE],
        [TINY, -TINY],
        ["must be 0 or at least"],
    ),
    ("constraints.0.terms.0.coef", [], [-BEYOND], ["must be at least -1e12"]),
    ("constraints.0.rhs", [0.0, -MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY], ["must be 0 or at least"]),
    ("constraints.0.rhs", [], [BEYOND], ["must be at most 1e12"]),
]


def _at(doc: dict[str, Any], path: str, value: float) -> None:
    *head, last = path.split(".")
    node: Any = doc
    for part in head:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value


@pytest.mark.parametrize(
    ("path", "edges", "beyond", "fragments"),
    RANGES,
    ids=[f"{r[0].split('.')[-1]}-{r[3][0][8:16]}" for r in RANGES],
)
def test_numbers_load_at_the_edge_of_their_range_and_not_beyond(
    path: str, edges: list[float], beyond: list[float], fragments: list[str]
) -> None:
    for value in edges:
        doc = _ranged()
        _at(doc, path, value)
        parse_case(doc)  # accepted
    field = re.sub(r"\.(\d+)", r"[\1]", path)
    for value in beyond:
        doc = _ranged()
        _at(doc, path, value)
        with pytest.raises(CaseError) as info:
            parse_case(doc)
        problems = [(p.path, p.message) for p in info.value.problems]
        assert [p for p, _ in problems] == [field], problems
        for fragment in fragments:
            assert fragment in problems[0][1], problems


def test_a_partys_values_may_span_ten_orders_of_magnitude_and_no_more() -> None:
    doc = _ranged()
    doc["issues"] += [
        {"id": "storage", "name": "储物间", "kind": "resource", "amount": 1},
        {"id": "stage", "name": "舞台", "kind": "resource", "amount": 1},
    ]
    doc["interests"] += [
        {"stakeholder": "dancers", "issue": "storage", "value": MAX_MAGNITUDE},
        {"stakeholder": "dancers", "issue": "stage", "value": 0.0},  # a zero does not count
    ]
    doc["interests"][1]["value"] = MAX_MAGNITUDE / MAX_VALUE_SPAN
    parse_case(doc)  # 100 and 1e12: exactly the span
    doc["interests"][1]["value"] = math.nextafter(MAX_MAGNITUDE / MAX_VALUE_SPAN, 0)
    with pytest.raises(CaseError) as info:
        parse_case(doc)
    ((path, message),) = [(p.path, p.message) for p in info.value.problems]
    assert path == "interests[1].value"
    for fragment in (
        "'dancers' values 'hours' at 100 (interests[1])",
        "and 'storage' at 1e+12 (interests[2])",
        "may differ by a factor of at most 1e10",
        "write 0 if it does not matter to them",
    ):
        assert fragment in message, message


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("value: 60}", "value: 1e15}", "interests[0].value"),
        (
            "kind: resident_group}",
            "kind: resident_group, weight: 5e-324}",
            "stakeholders[1].weight",
        ),
    ],
)
def test_cli_settle_refuses_numbers_out_of_range(old: str, new: str, path: str) -> None:
    refused(run("settle", "-", stdin=MINIMAL_YAML.replace(old, new).encode()), f"{path}: must be")


def test_a_diagnosis_proposes_only_values_that_load() -> None:
    # 9 - 8.999999999999998: the concession used to propose a disagreement of 1.8e-15, which
    # is below MIN_MAGNITUDE and so no valid input
    doc: dict[str, Any] = {
        "id": "t",
        "title": "t",
        "stakeholders": [
            {"id": f"p{k}", "name": f"P{k}", "kind": "other", "disagreement": d}
            for k, d in enumerate([1.0, 0, 0, 0, 9.0])
        ],
        "issues": [{"id": "i0", "name": "I0", "kind": "resource", "amount": 1.0}],
        "interests": [
            {"stakeholder": s, "issue": "i0", "value": v}
            for s, v in [("p4", 33.0), ("p0", 1.0), ("p1", 0.0), ("p2", 0.0), ("p3", 0.0)]
        ],
    }
    result = settle(parse_case(doc), rule="leximin")
    assert result.diagnosis is not None
    (concession,) = result.diagnosis.concessions
    assert concession.kind == "disagreement"
    assert concession.proposed == 0.0 or abs(concession.proposed) >= MIN_MAGNITUDE
    party = int(str(concession.stakeholder)[1:])
    doc["stakeholders"][party]["disagreement"] = concession.proposed
    assert settle(parse_case(doc), rule="leximin").status == "optimal"


# --- pickling --------------------------------------------------------------------------------

#: A bundled case that suits each rule.
CASE_OF_RULE = {
    **dict.fromkeys(LP_RULES, "community-hall-dispute"),
    "adjusted_winner": "two-party-adjusted-winner",
    "claims": "budget-claims-rationing",
}


@pytest.mark.parametrize("rule", RULES)
def test_case_and_settlement_pickle_before_and_after_settling(rule: str) -> None:
    case = load(CASE_OF_RULE[rule])
    assert pickle.loads(pickle.dumps(case)) == case
    result = settle(case, rule=rule)
    assert result.status == "optimal", result.reasons
    again = pickle.loads(pickle.dumps(case))  # the digest and the indexes are cached now
    assert again == case
    assert pickle.loads(pickle.dumps(result)) == result
    assert settle(again, rule=rule).provenance.input_sha256 == result.provenance.input_sha256
