"""Every command and the service on cases of format 1.1: known answers, clear refusals.

The cases are small enough to settle by hand: a payment that balances two parties' gains, a
fund that keeps a legal floor beside a funded issue, a lift retrofit with a choice, a subsidy,
whole units and an observer.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from service_support import Service
from typer.testing import CliRunner, Result

from mediation import load_case, settle
from mediation.cli import app
from mediation.settlement import Settlement
from mediation.sweep import iter_rows, parse_sweep, plan_sweep, run_sweep
from mediation.validator import validate_settlement

PROBLEM = "application/problem+json"

# Two parties and ten parking spots, worth 100 to a and 40 to b (b may hold at most 8 of
# them, a policy); a may pay b up to 50 元, at 1 point a 元 to each.
#
# By hand: a spot moved from a to b costs a 10 and gives b 4, a 元 paid costs a 1 and gives
# b 1, so leximin gives a every spot and pays b. a's ideal is all of it, 100; b's is
# 4 · 5 + 50 = 70 (five spots and the whole payment leave a at 0, its no-deal outcome).
# Equal fractions of the ideals: (100 − p) / 100 = p / 70, so p = 7000 / 170 ≈ 41.1765 and
# both reach 10 / 17 ≈ 58.82% of their possible gain.
PAY = """\
format_version: "1.1"
id: pay-demo
title: 停车位与补偿
stakeholders:
  - {id: a, name: 甲方住户, kind: resident_group}
  - {id: b, name: 乙方商户, kind: enterprise}
issues:
  - {id: spots, name: 停车位, kind: resource, amount: 10, unit: 个, unit_size: 1}
interests:
  - {stakeholder: a, issue: spots, value: 100}
  - {stakeholder: b, issue: spots, value: 40, max_amount: 8, basis: policy,
     source: 停车管理办法第5条}
payments:
  - {id: rent, payer: a, payee: b, max: 50, unit: 元}
"""

# The estate's public income (100,000 元) and a renovation pool the street office funds with
# up to 40,000 元 of earmarked money (rate 0: a subsidy); the repair fund keeps at least
# 20,000 元 of the income by law; the property company may take at most 30% of it.
#
# By hand: the fund has no utility, so it keeps exactly its floor, and the pool is filled:
# 40,000 元. Ideals: owners 80 + 60 · 40000 / 50000 = 128, company 30 + 30 · 0.8 = 54. The
# company values the income relatively more (100 / 54 vs 100 / 128) than the pool (24 / 54
# vs 48 / 128), so it takes its cap of the income, 30%, and the owners 50%. With t the
# owners' part of the pool in units of 50,000 元: (50 + 60t) / 128 = (30 + 30(0.8 − t)) / 54,
# so t = 4212 / 7080 and the owners receive 29,745.76 元 of the pool, 74.36% of its size.
FUND = """\
format_version: "1.1"
id: fund-demo
title: 公共收益分配
stakeholders:
  - {id: owners, name: 业主, kind: resident_group}
  - {id: pm, name: 物业公司, kind: enterprise}
  - {id: repair, name: 维修基金, kind: fund}
  - {id: street, name: 街道办, kind: government}
issues:
  - {id: income, name: 公共收益, kind: resource, amount: 100000, unit: 元}
  - {id: pool, name: 改造资金池, kind: resource, amount: 50000, unit: 元}
interests:
  - {stakeholder: owners, issue: income, value: 100}
  - {stakeholder: pm, issue: income, value: 100, max_share: 0.3}
  - {stakeholder: repair, issue: income, min_amount: 20000, basis: legal, source: 维修资金管理办法}
  - {stakeholder: owners, issue: pool, value: 60}
  - {stakeholder: pm, issue: pool, value: 30}
contributions:
  - {id: grant, stakeholder: street, to: pool, max: 40000, rate: 0}
"""

LIFT = """\
id: lift-demo
title: 加装电梯
stakeholders:
  - {id: upper, name: 高层住户, kind: resident_group}
  - {id: ground, name: 低层住户, kind: resident_group}
  - {id: street, name: 街道办, kind: government}
  - {id: bureau, name: 区住建局, kind: government}
  - {id: repair, name: 维修基金, kind: fund}
issues:
  - {id: posts, name: 保洁岗位, kind: resource, amount: 3, unit: 个, unit_size: 1}
interests:
  - {stakeholder: upper, issue: posts, value: 30}
  - {stakeholder: ground, issue: posts, value: 30, min_amount: 1, basis: legal, source: 某条例第3条}
  - {stakeholder: repair, issue: posts}
payments:
  - {id: comp, payer: upper, payee: ground, max: 60000, unit: 元,
     payer_rate: 0.001, payee_rate: 0.001}
contributions:
  - {id: sub, stakeholder: street, to: scheme, max: 200000, rate: 0}
  - {id: up-pay, stakeholder: upper, to: scheme, max: 800000, rate: 0.001}
choices:
  - id: scheme
    name: 方案
    unit: 元
    options:
      - {id: a, name: A, cost: 820000, values: {upper: 900, ground: -100}}
      - {id: b, name: B, cost: 680000, values: {upper: 700, ground: -20}}
"""

# a is kept at 70 points or more, but pays b at least 40 元: 100 − 40 = 60 < 70
PAY_FLOOR = PAY.replace("max: 50, unit: 元", "max: 50, min: 40, unit: 元").replace(
    "kind: resident_group}", "kind: resident_group, disagreement: 70}"
)

BROKEN = LIFT.replace("payer: upper,", "payer: uper,").replace(
    "to: scheme, max: 800000", "to: shceme, max: 800000"
)


def run(*args: str, stdin: str | None = None) -> Result:
    """Return the command line's result; it may exit with a code but never with a traceback."""
    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output + result.stderr
    return result


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def refused(result: Result, *phrases: str) -> None:
    """Exit 2, nothing on standard output, every phrase on standard error."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def json_of(result: Result, exit_code: int = 0) -> Any:
    assert result.exit_code == exit_code, result.output + result.stderr
    return json.loads(result.stdout)


# --- validate -------------------------------------------------------------------------------


def test_validate_counts_what_a_1_1_case_holds_and_who_is_never_compared() -> None:
    result = run("validate", "-", stdin=LIFT)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "-: valid case 'lift-demo' (5 stakeholders, 1 issue, 3 interests, 0 relations; "
        "1 payment, 2 contributions, 1 choice; never compared: fund repair; observer bureau)\n"
    )


def test_validate_refuses_a_bad_1_1_case_with_every_path() -> None:
    refused(
        run("validate", "-", stdin=BROKEN),
        "2 problems in the case",
        "payments[0].payer: unknown stakeholder 'uper'; did you mean 'upper'?",
        "contributions[1].to: unknown resource issue or choice 'shceme'; did you mean 'scheme'?",
    )
    data = json_of(run("validate", "-", "--format", "json", stdin=BROKEN), exit_code=2)
    assert data["valid"] is False
    assert [(p["path"], p["code"]) for p in data["problems"]] == [
        ("payments[0].payer", "unknown_stakeholder"),
        ("contributions[1].to", "unknown_target"),
    ]


# --- settle ---------------------------------------------------------------------------------


def test_settle_pays_what_balances_the_gains() -> None:
    data = json_of(run("settle", "-", "--format", "json", stdin=PAY))
    assert data["status"] == "optimal"
    assert data["shares"]["spots"] == pytest.approx({"a": 1.0, "b": 0.0}, abs=1e-9)
    paid = data["payments"]["rent"]
    assert (paid["payer"], paid["payee"], paid["unit"]) == ("a", "b", "元")
    assert paid["amount"] == pytest.approx(7000 / 170, rel=1e-5)
    for party in ("a", "b"):
        assert data["parties"][party]["normalized_gain"] == pytest.approx(10 / 17, rel=1e-5)
    assert data["parties"]["b"]["ideal"] == pytest.approx(70)
    case = load_case(PAY)
    assert not validate_settlement(case, Settlement.model_validate(data))


def test_settle_keeps_a_funds_floor_and_fills_a_funded_issue() -> None:
    data = json_of(run("settle", "-", "--format", "json", stdin=FUND))
    assert data["status"] == "optimal"
    assert data["funds"] == ["repair"]
    assert data["observers"] == []
    assert sorted(data["parties"]) == ["owners", "pm", "street"]  # not the fund
    assert data["amounts"]["income"] == pytest.approx(
        {"owners": 50000, "pm": 30000, "repair": 20000}, rel=1e-6
    )
    assert data["sizes"] == pytest.approx({"pool": 40000})
    given = data["contributions"]["grant"]
    assert (given["stakeholder"], given["to"], given["unit"]) == ("street", "pool", "元")
    assert given["amount"] == pytest.approx(40000)
    owners_pool = 50000 * 4212 / 7080  # 29,745.76 元
    assert data["amounts"]["pool"]["owners"] == pytest.approx(owners_pool, rel=1e-5)
    assert data["shares"]["pool"]["owners"] == pytest.approx(owners_pool / 40000, rel=1e-5)
    assert data["parties"]["owners"]["normalized_gain"] == pytest.approx(
        (50 + 60 * 4212 / 7080) / 128, rel=1e-5
    )


def test_settle_lists_observers_and_funds_once_and_reports_the_choice() -> None:
    data = json_of(run("settle", "-", "--format", "json", stdin=LIFT))
    assert data["observers"] == ["bureau"]
    assert data["funds"] == ["repair"]
    assert "bureau" not in data["parties"]
    assert "repair" not in data["parties"]
    made = data["choices"]["scheme"]
    assert made["chosen"] in ("a", "b")
    assert set(made["alternatives"]) == {"a", "b"}
    cost = {"a": 820000, "b": 680000}[made["chosen"]]
    assert made["cost"] == pytest.approx(cost)
    # the chosen option's cost is met exactly by the contributions to it
    given = sum(c["amount"] for c in data["contributions"].values() if c["to"] == "scheme")
    assert given == pytest.approx(cost)


def test_settle_in_chinese_names_the_payment_in_its_sentences() -> None:
    table = run("settle", "-", "--lang", "zh", "--width", "120", stdin=PAY)
    assert table.exit_code == 0, table.stderr
    assert "甲方住户" in table.stdout
    assert "乙方商户" in table.stdout
    data = json_of(run("settle", "-", "--lang", "zh", "--format", "json", stdin=PAY))
    assert data["explanation"]["lang"] == "zh"
    assert any("甲方住户" in s and "乙方商户" in s for s in data["explanation"]["sentences"])


@pytest.mark.parametrize("rule", ["adjusted_winner", "claims", "risk_sharing"])
def test_settle_with_a_rule_that_cannot_take_levers_is_refused(rule: str) -> None:
    refused(run("settle", "-", "--rule", rule, stdin=LIFT), "problem", "payments:", rule)


def test_settle_refuses_a_bad_1_1_case() -> None:
    refused(run("settle", "-", stdin=BROKEN), "payments[0].payer: unknown stakeholder 'uper'")


# --- compare, graph, schema -----------------------------------------------------------------


def test_compare_leaves_funds_and_observers_out_of_every_rule() -> None:
    data = json_of(run("compare", "-", "--format", "json", stdin=LIFT))
    settled = [o for o in data["outcomes"] if o["status"] == "optimal"]
    assert {o["rule"] for o in settled} >= {"leximin", "maximin", "nash", "utilitarian"}
    for outcome in settled:
        assert set(outcome["parties"]) == {"upper", "ground", "street"}
    table = run("compare", "-", "--width", "160", stdin=LIFT)
    assert table.exit_code == 0, table.stderr
    assert "risk_sharing" in table.stdout or "Risk sharing" in table.stdout


def test_graph_analyses_a_1_1_case() -> None:
    data = json_of(run("graph", "-", "--format", "json", stdin=LIFT))
    assert data["case"] == "lift-demo"
    assert run("graph", "-", "--width", "120", stdin=LIFT).exit_code == 0


def test_schema_describes_the_1_1_case_and_the_1_3_settlement() -> None:
    case = json_of(run("schema"))
    for key in ("format_version", "payments", "contributions", "choices"):
        assert key in case["properties"]
    assert case["$defs"]["Payment"]["required"] == ["id", "payer", "payee", "max"]
    assert case["$defs"]["Choice"]["properties"]["options"]["maxItems"] == 50
    settlement = json_of(run("schema", "--settlement"))
    for key in ("funds", "observers", "payments", "contributions", "sizes", "choices"):
        assert key in settlement["properties"]


# --- evaluate -------------------------------------------------------------------------------


def test_evaluate_refuses_a_levered_case_before_asking_for_pins() -> None:
    refused(
        run("evaluate", "-", stdin=LIFT),
        "mediation evaluate pins shares only, and cannot take this case yet",
        "payments: mediation evaluate does not take payments yet",
        "contributions: ",
        "choices: ",
        "issues[0].unit_size: mediation evaluate does not take whole units yet ('posts')",
    )
    data = json_of(run("evaluate", "-", "--format", "json", stdin=FUND), exit_code=2)
    assert data["error"]["kind"] == "policy_error"
    assert [(p["path"], p["code"]) for p in data["error"]["problems"]] == [
        ("contributions", "tool_feature")
    ]


def test_evaluate_takes_amount_bounds() -> None:
    amounts = """\
format_version: "1.1"
id: amt
title: 用地
stakeholders:
  - {id: a, name: A, kind: other}
  - {id: b, name: B, kind: other}
issues:
  - {id: land, name: 用地, kind: resource, amount: 100, unit: 平方米}
interests:
  - {stakeholder: a, issue: land, value: 10, min_amount: 40, basis: policy}
  - {stakeholder: b, issue: land, value: 10, max_amount: 70}
"""
    # free: a's share x in [0.4, 1], b's ideal is 6 of 10 (70 m² is capped at 60 by a's floor);
    # leximin: x = (1 − x)·10/6, x = 0.625. Pinned at a 0.5: a 5 of 10, b 5 of 6
    data = json_of(run("evaluate", "-", "--pin", "land.a=0.5", "--format", "json", stdin=amounts))
    assert data["free"]["shares"]["land"]["a"] == pytest.approx(0.625, rel=1e-6)
    assert data["pinned"]["shares"]["land"] == pytest.approx({"a": 0.5, "b": 0.5})


# --- sweep ----------------------------------------------------------------------------------


def _sweep(*parameters: str) -> str:
    """Return a sweep file (YAML) varying ``parameters``, each a flow mapping."""
    return 'sweep_version: "1.0"\nseed: 1\nparameters:\n' + "".join(
        f"  - {p}\n" for p in parameters
    )


SWEEP_A = """\
sweep_version: "1.0"
seed: 1
parameters:
  - path: interests.a.spots.value
    grid: [60, 100, 150]
"""


def test_a_sweep_of_a_levered_case_writes_each_scenarios_payment(tmp_path: Path) -> None:
    case_file = write(tmp_path, "pay.yaml", PAY)
    sweep_file = write(tmp_path, "pay.sweep.yaml", SWEEP_A)
    rows_file = tmp_path / "rows.jsonl"
    result = run("sweep", case_file, sweep_file, "-o", str(rows_file), "--serial")
    assert result.exit_code == 0, result.stderr
    header, *rows = (json.loads(line) for line in rows_file.read_text("utf-8").splitlines())
    assert "payment.rent" in header["mediation_sweep"]["columns"]
    assert [r["status"] for r in rows] == ["optimal"] * 3
    for row, value in zip(rows, (60, 100, 150), strict=True):
        scenario = load_case(
            PAY.replace("issue: spots, value: 100", f"issue: spots, value: {value}")
        )
        expected = settle(scenario)
        assert row["payment.rent"] == pytest.approx(expected.payments["rent"].amount, rel=1e-6)
        assert row["gain.b"] == pytest.approx(expected.parties["b"].gain, rel=1e-6)
    assert rows[1]["payment.rent"] == pytest.approx(7000 / 170, rel=1e-5)  # the base case


def test_a_sweep_gives_funds_and_observers_no_figures_and_names_the_chosen_option(
    tmp_path: Path,
) -> None:
    sweep = _sweep("{path: stakeholders.ground.disagreement, grid: [-50, 0]}")
    case = load_case(LIFT)
    plan = plan_sweep(case, parse_sweep(yaml.safe_load(sweep)))
    assert plan.parties == ("upper", "ground", "street")
    assert plan.column_types["chosen.scheme"] is str
    rows = list(iter_rows(plan))
    assert all(r["chosen.scheme"] in ("a", "b") for r in rows)
    assert not [
        c for c in rows[0] if c.endswith((".bureau", ".repair")) and not c.startswith("share.")
    ]
    summary = run_sweep(plan)
    assert sorted(summary.parties) == ["ground", "street", "upper"]
    table = run(
        "sweep", write(tmp_path, "lift.yaml", LIFT), write(tmp_path, "s.yaml", sweep), "--serial"
    )
    assert table.exit_code == 0, table.stderr


def test_a_sweep_asking_for_the_robust_split_of_a_levered_case_is_refused_before_solving(
    tmp_path: Path,
) -> None:
    case_file = write(tmp_path, "lift.yaml", LIFT)
    parameter = "{path: stakeholders.ground.disagreement, grid: [-50, 0]}"
    sweep = write(tmp_path, "robust.sweep.yaml", "robust: true\n" + _sweep(parameter))
    refused(
        run("sweep", case_file, sweep, "--serial"),
        "4 problems in the sweep",
        "robust: the robust split does not take payments yet: set robust: false",
        "robust: the robust split does not take whole units yet ('posts')",
    )
    assert run("sweep", case_file, sweep, "--serial", "--no-robust").exit_code == 0
    plain = write(tmp_path, "pay.sweep.yaml", SWEEP_A)
    refused(
        run("sweep", write(tmp_path, "pay.yaml", PAY), plain, "--robust", "--serial"), "robust:"
    )


@pytest.mark.parametrize(
    ("parameter", "path", "words"),
    [
        ("{path: stakeholders.repair.weight, grid: [2]}", "parameters[0].path",
         "'repair' is a fund, an account: it is never compared, so it has no weight to vary"),
        ("{path: interests.repair.posts.value, grid: [1]}", "parameters[0].path",
         "'repair' is a fund, an account with no utility: it has no value to vary"),
        ("{path: stakeholders.bureau.disagreement, grid: [5]}", "parameters[0].path",
         "'bureau' is an observer, with no stake: it is never compared"),
        ("{path: issues.posts.amount, grid: [3, 4.5]}", "parameters[0].grid[1]",
         "the amount 4.5 is 4.5 units of 1 (the unit_size of 'posts'), not a whole number"),
        ("{path: issues.posts.amount, distribution: {kind: uniform, low: 2, high: 5}}",
         "parameters[0].distribution",
         "'posts' is divided in whole units: vary it with a grid or a choice"),
        ("{path: pins.posts.ground, grid: [0.5]}", "parameters[0].grid[0]",
         "the pin 0.5 is 1.5 of the 3 units of 'posts', not a whole number: pin a multiple of 1/3"),
    ],
    ids=["fund-weight", "fund-value", "observer", "units-of-an-amount", "amount-drawn", "pin"],
)  # fmt: skip
def test_a_sweep_of_what_a_1_1_case_cannot_vary_is_refused_with_its_path(
    tmp_path: Path, parameter: str, path: str, words: str
) -> None:
    sweep = _sweep(parameter)
    result = run("sweep", write(tmp_path, "lift.yaml", LIFT), write(tmp_path, "s.yaml", sweep))
    refused(result, "1 problem in the sweep", f"{path}: {words}")


def test_a_sweep_whose_pins_are_whole_units_settles(tmp_path: Path) -> None:
    sweep = _sweep("{path: pins.posts.ground, grid: [0.3333333333333333, 1]}")
    plan = plan_sweep(load_case(LIFT), parse_sweep(yaml.safe_load(sweep)))
    rows = list(iter_rows(plan))
    assert [r["status"] for r in rows] == ["optimal", "optimal"]
    assert [r["share.posts.ground"] for r in rows] == pytest.approx([1 / 3, 1])


def test_a_sweep_blames_a_payments_floor_by_its_path(tmp_path: Path) -> None:
    sweep = _sweep("{path: stakeholders.b.disagreement, grid: [0, 1]}")
    data = json_of(
        run(
            "sweep",
            write(tmp_path, "floor.yaml", PAY_FLOOR),
            write(tmp_path, "s.yaml", sweep),
            "--format",
            "json",
            "--serial",
        )
    )
    summary = data["summary"]
    assert summary["statuses"] == {"infeasible": 2}
    blamed = {(b["path"], b["kind"]) for b in summary["blamed"]}
    assert blamed == {
        ("payments.rent.min", "payment_floor"),
        ("stakeholders.a.disagreement", "disagreement"),
    }
    for lang, words in (
        ("en", "the least 甲方住户 pays 乙方商户 (rent)"),
        ("zh", "甲方住户向乙方商户支付的下限"),
    ):
        table = run(
            "sweep",
            str(tmp_path / "floor.yaml"),
            str(tmp_path / "s.yaml"),
            "--serial",
            "--lang",
            lang,
            "--width",
            "120",
        )
        assert table.exit_code == 0, table.stderr
        assert words in table.stdout


# --- the service ----------------------------------------------------------------------------


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:mediation:problem:{slug}"
    assert "Traceback" not in response.text
    return body


def _json(text: str) -> bytes:
    return json.dumps(yaml.safe_load(text), ensure_ascii=False).encode()


def test_the_service_settles_a_1_1_case_as_the_library_does(service: Service) -> None:
    response = service.client.post("/v1/settle", content=_json(FUND), headers=service.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    expected = settle(load_case(FUND)).model_dump(mode="json")
    for key in ("status", "funds", "observers"):
        assert body[key] == expected[key]
    for party, figures in expected["parties"].items():
        assert body["parties"][party]["utility"] == pytest.approx(figures["utility"])
    assert sorted(body["parties"]) == sorted(expected["parties"])
    assert body["sizes"] == pytest.approx({"pool": 40000})
    assert body["contributions"]["grant"]["amount"] == pytest.approx(40000)
    assert not validate_settlement(load_case(FUND), Settlement.model_validate(body))
    response = service.client.post("/v1/settle", content=_json(PAY), headers=service.headers())
    assert response.json()["payments"]["rent"]["amount"] == pytest.approx(7000 / 170, rel=1e-5)


def test_the_service_answers_a_bad_1_1_case_with_a_problem(service: Service) -> None:
    document = yaml.safe_load(BROKEN)
    document["format_version"] = 1.1
    document["choices"][0]["options"][0]["values"] = {"a b": 1}
    body = _problem(
        service.client.post("/v1/settle", json=document, headers=service.auth()),
        422,
        "invalid-case",
    )
    # the ids that the parts that did validate name are checked too
    assert [(e["path"], e["code"]) for e in body["errors"]] == [
        ("payments[0].payer", "unknown_stakeholder"),
        ("contributions[1].to", "unknown_target"),
        ("choices[0].options[0].values", "string_pattern_mismatch"),
        ("format_version", "literal_error"),
    ]
    assert "'a b' is not a stakeholder id" in body["errors"][2]["message"]
    assert 'write "1.1" in quotes' in body["errors"][3]["message"]
    body = _problem(
        service.client.post("/v1/settle", content=_json(BROKEN), headers=service.headers()),
        422,
        "invalid-case",
    )
    assert [e["path"] for e in body["errors"]] == ["payments[0].payer", "contributions[1].to"]


def test_the_service_refuses_what_cannot_take_levers_with_a_problem(service: Service) -> None:
    body = _problem(
        service.client.post(
            "/v1/settle?rule=claims", content=_json(LIFT), headers=service.headers()
        ),
        422,
        "invalid-policy",
    )
    assert "payments" in {e["path"] for e in body["errors"]}
    made = service.client.post("/v1/cases", content=_json(LIFT), headers=service.headers())
    assert made.status_code == 201, made.text
    url = f"/v1/cases/{made.json()['id']}/evaluate"
    body = _problem(
        service.client.post(url, json={"pins": {"posts": {"ground": 1}}}, headers=service.auth()),
        422,
        "invalid-policy",
    )
    assert {e["code"] for e in body["errors"]} == {"tool_feature"}
    sweep = yaml.safe_load(_sweep("{path: stakeholders.ground.disagreement, grid: [-50, 0]}"))
    sweep["robust"] = True
    body = _problem(
        service.client.post(
            "/v1/sweeps",
            json={"case": yaml.safe_load(LIFT), "sweep": sweep},
            headers=service.auth(),
        ),
        422,
        "invalid-sweep",
    )
    assert {e["path"] for e in body["errors"]} == {"sweep.robust"}
    assert "set the sweep's robust: false" in body["errors"][0]["message"]


def test_the_service_sweeps_a_levered_case_as_the_library_does(service: Service) -> None:
    sweep = yaml.safe_load(SWEEP_A)
    response = service.client.post(
        "/v1/sweeps", json={"case": yaml.safe_load(PAY), "sweep": sweep}, headers=service.auth()
    )
    assert response.status_code == 202, response.text
    url = response.headers["location"]
    ends = time.monotonic() + 60
    while (state := service.client.get(url, headers=service.auth()).json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < ends, state
        time.sleep(0.05)
    assert state["status"] == "done", state
    plan = plan_sweep(load_case(PAY), parse_sweep(sweep))
    assert state["summary"] == run_sweep(plan).model_dump(mode="json")
    page = service.client.get(url + "/results?limit=10", headers=service.auth()).json()
    assert [r["payment.rent"] for r in page["items"]] == pytest.approx(
        [r["payment.rent"] for r in iter_rows(plan)]
    )
