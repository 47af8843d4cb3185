"""Tests of the stakeholder–interest graph and its analyses."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediation.case import (
    RELATION_KINDS,
    STAKEHOLDER_KINDS,
    Case,
    guess_format,
    load_case,
    parse_case,
)
from mediation.errors import GraphError, GraphTypeError, MediationError, UnknownPartyError
from mediation.graph import (
    Broker,
    DualSupervision,
    analyze,
    brokers,
    build_graph,
    coalitions,
    contested_issues,
    missing_dialogue,
    power_structure,
    to_graphml,
    to_node_link,
)

# --- building cases ------------------------------------------------------------------------


def make_case(
    parties: dict[str, str] | list[str],
    *,
    issues: dict[str, str] | None = None,
    interests: list[dict[str, Any]] | None = None,
    relations: list[tuple[str, str, str] | tuple[str, str, str, float]] | None = None,
) -> Case:
    """Return a case from terse specs.

    Parties are given as ``{id: kind}`` (or ids of kind ``other``), issues as ``{id: kind}``,
    relations as ``(source, target, kind[, strength])``.

    Without interests, the first party values every issue (a case needs one per issue).
    """
    kinds = parties if isinstance(parties, dict) else dict.fromkeys(parties, "other")
    issues = issues or {"x": "resource"}
    first = next(iter(kinds))
    interests = interests or [{"stakeholder": first, "issue": i, "value": 1} for i in issues]
    return parse_case(
        {
            "id": "t",
            "title": "测试",
            "stakeholders": [{"id": p, "name": f"名{p}", "kind": k} for p, k in kinds.items()],
            "issues": [
                {"id": i, "name": f"议题{i}", "kind": k, "amount": 100} for i, k in issues.items()
            ],
            "interests": interests,
            "relations": [
                {
                    "source": r[0],
                    "target": r[1],
                    "kind": r[2],
                    "strength": r[3] if len(r) > 3 else 1,
                }
                for r in relations or []
            ],
        }
    )


def values(spec: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Interests from ``{party: {issue: value}}``."""
    return [
        {"stakeholder": p, "issue": i, "value": v}
        for p, row in spec.items()
        for i, v in row.items()
    ]


# --- build_graph ---------------------------------------------------------------------------


def test_build_graph_nodes_edges_and_attributes() -> None:
    case = parse_case(
        {
            "id": "park",
            "title": "公园改造",
            "stakeholders": [
                {"id": "office", "name": "街道办", "kind": "government", "risk_capacity": 50},
                {"id": "ngo", "name": "环保协会", "kind": "social_organization", "size": 12},
            ],
            "issues": [
                {"id": "land", "name": "用地", "kind": "resource", "amount": 10, "unit": "亩"},
                {"id": "overrun", "name": "超支", "kind": "risk", "amount": 30, "probability": 0.2},
            ],
            "interests": [
                {"stakeholder": "ngo", "issue": "land", "value": 2, "min_share": 0.1, "claim": 4},
                {"stakeholder": "office", "issue": "overrun", "value": 1, "control": 0.7},
            ],
            "relations": [
                {"source": "office", "target": "ngo", "kind": "funds", "strength": 0.5},
                {"source": "office", "target": "ngo", "kind": "supervises"},
            ],
        }
    )
    g = build_graph(case)
    assert isinstance(g, nx.MultiDiGraph)
    assert list(g.nodes) == ["office", "ngo", "land", "overrun"]
    assert g.graph == {"case": "park", "title": "公园改造"}
    assert g.nodes["office"] == {
        "type": "stakeholder",
        "name": "街道办",
        "kind": "government",
        "weight": 1.0,
        "disagreement": 0.0,
        "risk_capacity": 50.0,
    }
    assert g.nodes["ngo"]["size"] == 12
    assert "risk_capacity" not in g.nodes["ngo"]
    assert g.nodes["land"] == {
        "type": "issue",
        "name": "用地",
        "kind": "resource",
        "amount": 10.0,
        "unit": "亩",
        "divisible": True,
    }
    assert g.nodes["overrun"]["probability"] == 0.2
    assert g.edges["ngo", "land", "interest"] == {
        "type": "interest",
        "value": 2.0,
        "min_share": 0.1,
        "claim": 4.0,
    }
    assert g.edges["office", "overrun", "interest"]["control"] == 0.7
    assert set(g["office"]["ngo"]) == {"funds", "supervises"}
    assert g.edges["office", "ngo", "funds"] == {
        "type": "relation",
        "kind": "funds",
        "strength": 0.5,
    }
    assert g.number_of_edges() == 4


def test_analyses_reject_other_inputs() -> None:
    with pytest.raises(TypeError, match="expected a Case or a graph"):
        contested_issues(nx.Graph())


def test_other_inputs_are_refused_with_a_graph_error() -> None:
    with pytest.raises(GraphTypeError, match="got Graph") as info:
        analyze(nx.Graph())
    assert isinstance(info.value, MediationError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("where", "attrs", "message"),
    [
        (("x",), {"amount": "lots"}, "issue node 'x' has amount a string ('lots'), not a number"),
        (("x",), {"amount": 0}, "issue node 'x' needs a positive amount"),
        (("a", "x", "interest"), {"value": None}, "interest edge 'a' → 'x' has value null"),
        (("a", "b", "conflicts"), {"kind": None}, "relation edge 'a' → 'b' needs a kind"),
        (("a", "b", "conflicts"), {"strength": [1]}, "relation edge 'a' → 'b' has strength a list"),
    ],
)
def test_a_graph_not_made_from_a_case_is_refused(
    where: tuple[str, ...], attrs: dict[str, Any], message: str
) -> None:
    graph = build_graph(make_case(["a", "b"], relations=[("a", "b", "conflicts")]))
    target = graph.nodes[where[0]] if len(where) == 1 else graph.edges[where]
    target.update(attrs)
    with pytest.raises(GraphError, match=re.escape(message)) as info:
        analyze(graph)
    assert isinstance(info.value, ValueError)


# --- contested issues ----------------------------------------------------------------------


def test_claim_ratio_of_claims_above_the_amount() -> None:
    case = parse_case(
        {
            "id": "budget",
            "title": "购买服务预算",
            "stakeholders": [
                {"id": "a", "name": "甲", "kind": "social_organization"},
                {"id": "b", "name": "乙", "kind": "social_organization"},
            ],
            "issues": [{"id": "fund", "name": "预算", "kind": "resource", "amount": 250}],
            "interests": [
                {"stakeholder": "a", "issue": "fund", "value": 1, "claim": 300, "min_share": 0.2},
                {"stakeholder": "b", "issue": "fund", "value": 3, "claim": 200, "max_share": 0.7},
            ],
        }
    )
    [contest] = contested_issues(case)
    assert contest.issue == "fund"
    assert contest.kind == "resource"
    assert contest.parties == ("b", "a")  # highest value first
    assert contest.values == (3.0, 1.0)
    assert contest.claim_ratio == pytest.approx(2.0)
    assert contest.floor_sum == pytest.approx(0.2)
    assert contest.cap_sum == pytest.approx(1.7)  # 0.7 + a missing cap of 1
    # shares 3/4 and 1/4: 1 / (9/16 + 1/16) = 1.6
    assert contest.effective_claimants == pytest.approx(1.6)
    assert contest.pressure == pytest.approx(2.0)
    assert contest.pressure_basis == "claims"


def test_contested_needs_two_valuing_parties_and_sorts_by_pressure() -> None:
    case = make_case(
        ["a", "b", "c"],
        issues={"solo": "resource", "pair": "resource", "trio": "risk", "zero": "resource"},
        interests=values(
            {
                "a": {"solo": 5, "pair": 1, "trio": 1, "zero": 2},
                "b": {"pair": 1, "trio": 1, "zero": 0},
                "c": {"trio": 1},
            }
        ),
    )
    found = contested_issues(case)
    assert [c.issue for c in found] == ["trio", "pair"]
    trio, pair = found
    assert trio.effective_claimants == pytest.approx(3.0)
    assert trio.claim_ratio is None
    assert trio.pressure_basis == "values"
    assert trio.kind == "risk"
    assert pair.effective_claimants == pytest.approx(2.0)
    assert pair.parties == ("a", "b")  # equal values: by id


def test_contested_accepts_a_built_graph() -> None:
    case = make_case(["a", "b"], interests=values({"a": {"x": 1}, "b": {"x": 2}}))
    assert contested_issues(build_graph(case)) == contested_issues(case)


# --- coalitions ----------------------------------------------------------------------------

TWO_PAIRS = values(
    {"a": {"land": 3, "fund": 1}, "b": {"land": 6, "fund": 2}, "c": {"risk": 2}, "d": {"risk": 5}}
)
TWO_PAIRS_ISSUES = {"land": "resource", "fund": "resource", "risk": "risk"}


def test_two_pairs_of_aligned_parties_make_two_coalitions() -> None:
    case = make_case(
        ["a", "b", "c", "d"],
        issues=TWO_PAIRS_ISSUES,
        interests=TWO_PAIRS,
        relations=[("b", "d", "conflicts", 0.4)],
    )
    result = coalitions(case)
    assert [c.members for c in result.coalitions] == [("a", "b"), ("c", "d")]
    assert [c.cohesion for c in result.coalitions] == pytest.approx([1.0, 1.0])
    assert [c.shared_issues for c in result.coalitions] == [("fund", "land"), ("risk",)]
    [conflict] = result.conflicts
    assert (conflict.source, conflict.target, conflict.strength) == ("b", "d", 0.4)
    assert (conflict.source_coalition, conflict.target_coalition) == (0, 1)
    assert conflict.internal is False
    assert result.coalition_of("d") == 1
    # two disjoint edges of equal weight: Q = 2 * (1/2 - (1/2)**2) = 0.5
    assert result.modularity == pytest.approx(0.5)


def test_cohesion_is_the_mean_pairwise_cosine() -> None:
    case = make_case(
        ["a", "b", "c"],
        issues={"x": "resource", "y": "resource"},
        interests=values({"a": {"x": 1}, "b": {"x": 1, "y": 1}, "c": {"x": 1, "y": 1}}),
    )
    [coalition] = coalitions(case).coalitions
    assert coalition.members == ("a", "b", "c")
    # cos(a, b) = cos(a, c) = 1/sqrt(2), cos(b, c) = 1
    assert coalition.cohesion == pytest.approx((2 / 2**0.5 + 1) / 3)
    assert coalition.shared_issues == ("x",)


def test_a_party_without_interests_or_ties_stands_alone() -> None:
    case = make_case(["a", "b", "c", "d", "e"], issues=TWO_PAIRS_ISSUES, interests=TWO_PAIRS)
    result = coalitions(case)
    assert [c.members for c in result.coalitions] == [("a", "b"), ("c", "d"), ("e",)]
    assert result.coalitions[2].cohesion == 1.0
    assert result.coalitions[2].shared_issues == ()


def test_cooperation_pulls_a_party_into_a_coalition() -> None:
    case = make_case(
        ["a", "b", "c", "d", "e"],
        issues=TWO_PAIRS_ISSUES,
        interests=TWO_PAIRS,
        relations=[("e", "c", "cooperates"), ("d", "e", "represents", 0.8)],
    )
    members = [c.members for c in coalitions(case).coalitions]
    assert members == [("c", "d", "e"), ("a", "b")]


def test_a_full_conflict_cancels_the_affinity_of_aligned_parties() -> None:
    interests = values({"a": {"x": 1}, "b": {"x": 1}})
    calm = coalitions(make_case(["a", "b"], interests=interests))
    assert [c.members for c in calm.coalitions] == [("a", "b")]
    split = coalitions(
        make_case(["a", "b"], interests=interests, relations=[("a", "b", "conflicts")])
    )
    assert [c.members for c in split.coalitions] == [("a",), ("b",)]
    assert split.modularity == 0.0
    half = coalitions(
        make_case(["a", "b"], interests=interests, relations=[("b", "a", "conflicts", 0.5)])
    )
    assert [c.members for c in half.coalitions] == [("a", "b")]
    assert half.conflicts[0].internal is True


def test_coalitions_reject_bad_options() -> None:
    case = make_case(["a", "b"])
    with pytest.raises(ValueError, match="resolution"):
        coalitions(case, resolution=0)
    with pytest.raises(ValueError, match="neighbours"):
        coalitions(case, neighbours=0)


def test_bad_options_and_unknown_parties_are_graph_errors() -> None:
    case = make_case(["a", "b"])
    with pytest.raises(GraphError, match="resolution must be positive, got -1"):
        coalitions(case, resolution=-1)
    with pytest.raises(GraphError, match="neighbours must be at least 1, got 0"):
        coalitions(case, neighbours=0)
    with pytest.raises(UnknownPartyError) as info:
        coalitions(case).coalition_of("z")
    assert isinstance(info.value, KeyError)  # a failed lookup, as before
    assert str(info.value) == "'z' is not a party of the case"


def test_fewer_neighbours_keep_clear_coalitions() -> None:
    case = make_case(["a", "b", "c", "d"], issues=TWO_PAIRS_ISSUES, interests=TWO_PAIRS)
    assert coalitions(case, neighbours=1) == coalitions(case)


# --- power ---------------------------------------------------------------------------------


def dual_case() -> Case:
    return make_case(
        {
            "bureau": "government",
            "office": "government",
            "ngo": "social_organization",
            "co": "enterprise",
        },
        relations=[
            ("bureau", "ngo", "supervises"),
            ("office", "ngo", "supervises", 0.5),
            ("office", "ngo", "funds", 0.6),
            ("co", "ngo", "funds", 0.2),
            ("bureau", "office", "supervises"),
        ],
    )


def test_dual_supervision_and_dependencies() -> None:
    power = power_structure(dual_case())
    assert power.dual_supervision == (DualSupervision("ngo", ("bureau", "office")),)
    assert [(d.party, d.funder, d.strength) for d in power.dependencies] == [
        ("ngo", "office", 0.6),
        ("ngo", "co", 0.2),
    ]
    assert [d.share for d in power.dependencies] == pytest.approx([0.75, 0.25])
    by_party = {p.party: p for p in power.parties}
    assert [p.party for p in power.parties] == ["bureau", "office", "ngo", "co"]
    ngo = by_party["ngo"]
    assert (ngo.funders, ngo.supervisors, ngo.funded, ngo.supervised) == (
        ("co", "office"),
        ("bureau", "office"),
        (),
        (),
    )
    assert by_party["office"].supervisors == ("bureau",)
    assert by_party["bureau"].supervised == ("ngo", "office")
    assert by_party["ngo"].degree == 3
    assert by_party["co"].degree == 1
    assert [(x.source, x.target) for x in power.funding] == [("co", "ngo"), ("office", "ngo")]
    assert len(power.supervision) == 3


def test_pagerank_follows_dependence_to_the_top() -> None:
    power = power_structure(dual_case())
    rank = {p.party: p.pagerank for p in power.parties}
    assert sum(rank.values()) == pytest.approx(1.0)
    # bureau supervises both the office and the organisation: everyone depends on it.
    assert max(rank, key=rank.__getitem__) == "bureau"
    assert rank["ngo"] < rank["co"] < rank["office"]


def test_pagerank_adds_the_strengths_of_parallel_relations() -> None:
    # ngo depends on office by 0.6 + 0.5 and on co by 0.2: as by 0.55 and 0.1 through one
    # relation each, since only the proportions of a party's dependence count.
    parties = {"office": "government", "ngo": "social_organization", "co": "enterprise"}
    parallel = make_case(
        parties,
        relations=[
            ("office", "ngo", "funds", 0.6),
            ("office", "ngo", "supervises", 0.5),
            ("co", "ngo", "funds", 0.2),
        ],
    )
    single = make_case(
        parties, relations=[("office", "ngo", "supervises", 0.55), ("co", "ngo", "funds", 0.1)]
    )
    got = {p.party: p.pagerank for p in power_structure(parallel).parties}
    expected = {p.party: p.pagerank for p in power_structure(single).parties}
    assert got == pytest.approx(expected, abs=1e-9)
    assert got["office"] > got["co"] > got["ngo"]


def test_betweenness_of_a_chain() -> None:
    case = make_case(["a", "b", "c"], relations=[("a", "b", "cooperates"), ("c", "b", "conflicts")])
    bw = {p.party: p.betweenness for p in power_structure(case).parties}
    assert bw == {"a": 0.0, "b": 1.0, "c": 0.0}


# --- brokers and missing dialogue ----------------------------------------------------------


def test_common_cooperating_neighbour_is_a_broker_and_no_channel_is_missing() -> None:
    case = make_case(
        ["a", "b", "m", "z"],
        relations=[
            ("a", "b", "conflicts"),
            ("m", "a", "cooperates"),
            ("b", "m", "cooperates"),
            ("z", "a", "funds"),
        ],
    )
    assert brokers(case) == [Broker("m", (("a", "b"),))]
    assert missing_dialogue(case) == []


def test_brokers_lie_on_every_shortest_path_and_only_there() -> None:
    # a - m1 - b and a - m2 - b are shortest; a - u - w - b is longer.
    case = make_case(
        ["a", "b", "m1", "m2", "u", "w", "c"],
        relations=[
            ("a", "b", "conflicts"),
            ("c", "a", "conflicts"),
            ("a", "m1", "dialogue"),
            ("m1", "b", "funds"),
            ("a", "m2", "represents"),
            ("m2", "b", "supervises"),
            ("a", "u", "cooperates"),
            ("u", "w", "cooperates"),
            ("w", "b", "cooperates"),
            ("c", "m1", "cooperates"),
        ],
    )
    assert brokers(case) == [
        Broker("m1", (("a", "b"), ("a", "c"))),
        Broker("m2", (("a", "b"),)),
    ]


def test_conflict_without_any_path_suggests_the_third_party() -> None:
    case = make_case(
        {"owners": "resident_group", "firm": "enterprise", "eval": "third_party"},
        relations=[("owners", "firm", "conflicts", 0.8)],
    )
    [channel] = missing_dialogue(case)
    assert channel.parties == ("firm", "owners")
    assert channel.strength == 0.8
    assert channel.distance is None
    assert (channel.suggested_broker, channel.reason, channel.path) == ("eval", "third_party", ())
    assert brokers(case) == []


def test_a_third_party_in_conflict_is_not_suggested() -> None:
    case = make_case(
        {"owners": "resident_group", "firm": "enterprise", "eval": "third_party"},
        relations=[("owners", "firm", "conflicts"), ("eval", "firm", "conflicts", 0.3)],
    )
    found = missing_dialogue(case)
    # strongest conflict first; eval is a party to one conflict and at odds with firm in both
    assert [(m.parties, m.strength, m.suggested_broker, m.reason) for m in found] == [
        (("firm", "owners"), 1.0, None, "no_candidate"),
        (("eval", "firm"), 0.3, None, "no_candidate"),
    ]


def test_dialogue_is_a_channel() -> None:
    case = make_case(["a", "b"], relations=[("a", "b", "conflicts"), ("b", "a", "dialogue")])
    assert missing_dialogue(case) == []


def test_direct_cooperation_is_not_dialogue() -> None:
    case = make_case(["a", "b"], relations=[("a", "b", "conflicts"), ("b", "a", "cooperates")])
    [channel] = missing_dialogue(case)
    assert (channel.distance, channel.suggested_broker, channel.reason) == (1, None, "no_candidate")


def test_far_apart_parties_get_the_most_central_intermediate() -> None:
    # a - u - w - b: no common neighbour; w is made more central by two more ties.
    case = make_case(
        ["a", "b", "u", "w", "p", "q"],
        relations=[
            ("a", "b", "conflicts"),
            ("a", "u", "cooperates"),
            ("u", "w", "cooperates"),
            ("w", "b", "cooperates"),
            ("w", "p", "funds"),
            ("q", "w", "supervises"),
        ],
    )
    [channel] = missing_dialogue(case)
    assert channel.distance == 3
    assert (channel.suggested_broker, channel.reason) == ("w", "shortest_path")
    assert channel.path == ("a", "u", "w", "b")


def test_an_intermediate_in_conflict_with_either_side_is_not_suggested() -> None:
    # a - u - w - b, but w is itself in conflict with b: u is the only honest broker
    case = make_case(
        ["a", "b", "u", "w"],
        relations=[
            ("a", "b", "conflicts"),
            ("a", "u", "cooperates"),
            ("u", "w", "cooperates"),
            ("w", "b", "cooperates"),
            ("w", "b", "conflicts", 0.2),
        ],
    )
    channel = next(m for m in missing_dialogue(case) if m.parties == ("a", "b"))
    assert (channel.suggested_broker, channel.reason) == ("u", "shortest_path")


# --- analyze and export --------------------------------------------------------------------


def test_analyze_bundles_every_analysis_as_json_data() -> None:
    case = make_case(
        {
            "a": "government",
            "b": "social_organization",
            "c": "social_organization",
            "t": "third_party",
        },
        issues={"x": "resource"},
        interests=values({"b": {"x": 1}, "c": {"x": 1}}),
        relations=[("b", "c", "conflicts"), ("a", "b", "supervises"), ("t", "b", "supervises")],
    )
    result = analyze(case)
    assert result.case == "t"
    assert result.contested == tuple(contested_issues(case))
    assert result.coalitions == coalitions(case)
    assert result.power == power_structure(case)
    assert result.brokers == tuple(brokers(case))
    assert result.missing_dialogue == tuple(missing_dialogue(case))
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"case", "contested", "coalitions", "power", "brokers", "missing_dialogue"}
    assert data["power"]["dual_supervision"] == [{"party": "b", "supervisors": ["a", "t"]}]
    assert data["missing_dialogue"][0]["suggested_broker"] == "t"
    assert data["contested"][0]["parties"] == ["b", "c"]


def chinese_case() -> Case:
    return parse_case(
        {
            "id": "hall",
            "title": "社区活动中心",
            "stakeholders": [
                {"id": "office", "name": "街道办事处", "kind": "government", "risk_capacity": 10},
                {"id": "ngo", "name": "“夕阳红”养老服务中心", "kind": "social_organization"},
            ],
            "issues": [
                {
                    "id": "hall",
                    "name": "活动大厅",
                    "kind": "resource",
                    "amount": 40,
                    "unit": "小时",
                },
                {
                    "id": "injury",
                    "name": "意外伤害",
                    "kind": "risk",
                    "amount": 5,
                    "probability": 0.1,
                },
            ],
            "interests": [
                {"stakeholder": "ngo", "issue": "hall", "value": 2, "claim": 30},
                {"stakeholder": "office", "issue": "injury", "value": 1, "control": 0.4},
            ],
            "relations": [{"source": "office", "target": "ngo", "kind": "funds", "strength": 0.5}],
        }
    )


def assert_same_graph(back: nx.MultiDiGraph, g: nx.MultiDiGraph) -> None:
    assert dict(back.nodes(data=True)) == dict(g.nodes(data=True))
    assert sorted(back.edges(keys=True, data=True)) == sorted(g.edges(keys=True, data=True))
    # the GraphML reader adds the (empty) default attributes of nodes and edges
    extra = {"node_default", "edge_default"}
    assert {k: v for k, v in back.graph.items() if k not in extra} == g.graph


@pytest.mark.parametrize("ascii_only", [False, True])
def test_node_link_round_trips_through_json(ascii_only: bool) -> None:
    g = build_graph(chinese_case())
    text = json.dumps(to_node_link(g), ensure_ascii=ascii_only)
    assert ("街道办事处" in text) is not ascii_only
    back = nx.node_link_graph(json.loads(text), directed=True, multigraph=True, edges="edges")
    assert_same_graph(back, g)
    assert back.nodes["ngo"]["name"] == "“夕阳红”养老服务中心"


def test_graphml_round_trips_chinese_names() -> None:
    g = build_graph(chinese_case())
    text = to_graphml(g)
    assert "活动大厅" in text
    back = nx.parse_graphml(text, edge_key_type=str, force_multigraph=True)
    assert_same_graph(back, g)


def test_graphml_drops_none_attributes() -> None:
    g = build_graph(chinese_case())
    g.nodes["ngo"]["size"] = None
    g.edges["office", "ngo", "funds"]["note"] = None
    g.graph["description"] = None
    back = nx.parse_graphml(to_graphml(g), edge_key_type=str, force_multigraph=True)
    assert "size" not in back.nodes["ngo"]
    assert "note" not in back.edges["office", "ngo", "funds"]
    assert "description" not in back.graph
    assert back.nodes["ngo"]["name"] == "“夕阳红”养老服务中心"


def test_every_bundled_case_analyses_to_json(case_path: Path) -> None:
    case = load_case(case_path.read_bytes(), format=guess_format(case_path.name))
    data = analyze(case).to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    members = [p for c in data["coalitions"]["coalitions"] for p in c["members"]]
    assert sorted(members) == sorted(s.id for s in case.stakeholders)
    back = nx.parse_graphml(to_graphml(build_graph(case)), edge_key_type=str, force_multigraph=True)
    assert {n: back.nodes[n]["name"] for n in back} == {
        **{s.id: s.name for s in case.stakeholders},
        **{i.id: i.name for i in case.issues},
    }


# --- properties ----------------------------------------------------------------------------


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(2, 7))
    kinds = [k for k in STAKEHOLDER_KINDS if k != "fund"]  # a fund is an account, not a party
    parties = {f"p{k}": draw(st.sampled_from(kinds)) for k in range(n)}
    m = draw(st.integers(1, 3))
    issues = {f"i{k}": draw(st.sampled_from(["resource", "risk"])) for k in range(m)}
    value = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])
    interests = []
    for issue in issues:
        holders = draw(st.sets(st.sampled_from(list(parties)), min_size=1))
        interests += [
            {"stakeholder": p, "issue": issue, "value": draw(value)} for p in sorted(holders)
        ]
    pairs = [(a, b) for a, b in itertools.permutations(parties, 2)]
    relations = draw(
        st.lists(
            st.tuples(
                st.sampled_from(pairs),
                st.sampled_from(RELATION_KINDS),
                st.sampled_from([0.25, 0.5, 1.0]),
            ),
            max_size=14,
            unique_by=lambda r: (r[0], r[1]),
        )
    )
    return make_case(
        parties,
        issues=issues,
        interests=interests,
        relations=[(a, b, kind, s) for (a, b), kind, s in relations],
    )


def non_conflict_ties(case: Case) -> nx.Graph:
    ties = nx.Graph()
    ties.add_nodes_from(s.id for s in case.stakeholders)
    ties.add_edges_from((r.source, r.target) for r in case.relations if r.kind != "conflicts")
    return ties


def conflict_pairs(case: Case) -> set[tuple[str, str]]:
    return {
        (min(r.source, r.target), max(r.source, r.target))
        for r in case.relations
        if r.kind == "conflicts"
    }


@given(cases())
def test_brokers_are_exactly_the_intermediates_of_shortest_paths(case: Case) -> None:
    ties = non_conflict_ties(case)
    expected: dict[str, set[tuple[str, str]]] = {}
    for a, b in conflict_pairs(case):
        if nx.has_path(ties, a, b):
            for path in nx.all_shortest_paths(ties, a, b):
                for v in path[1:-1]:
                    expected.setdefault(v, set()).add((a, b))
    found = brokers(case)
    assert {b.party: set(b.pairs) for b in found} == expected
    counts = [(-len(b.pairs), b.party) for b in found]
    assert counts == sorted(counts)


@given(cases())
def test_missing_channels_have_no_dialogue_and_no_common_neighbour(case: Case) -> None:
    ties = non_conflict_ties(case)
    dialogue = {
        (min(r.source, r.target), max(r.source, r.target))
        for r in case.relations
        if r.kind == "dialogue"
    }
    lacking = {
        (a, b)
        for a, b in conflict_pairs(case)
        if (a, b) not in dialogue and not set(ties[a]) & set(ties[b])
    }
    found = missing_dialogue(case)
    assert {m.parties for m in found} == lacking
    for m in found:
        assert m.suggested_broker not in m.parties
        if m.reason == "shortest_path":
            assert len(m.path) == (m.distance or 0) + 1
            assert nx.is_path(ties, list(m.path))
            assert (m.path[0], m.path[-1]) == m.parties
            assert m.suggested_broker in m.path
        elif m.reason == "third_party":
            assert m.suggested_broker is not None
            assert case.stakeholder_by_id[m.suggested_broker].kind == "third_party"
        else:
            assert m.suggested_broker is None


@given(cases())
def test_contested_issues_are_those_with_two_valuing_parties(case: Case) -> None:
    valuing = {
        issue.id: {x.stakeholder for x in case.interests_by_issue[issue.id] if x.value > 0}
        for issue in case.issues
    }
    found = contested_issues(case)
    assert {c.issue for c in found} == {i for i, ps in valuing.items() if len(ps) >= 2}
    for c in found:
        assert set(c.parties) == valuing[c.issue]
        assert 1.0 <= c.effective_claimants <= len(c.parties) + 1e-9
        assert list(c.values) == sorted(c.values, reverse=True)
    pressures = [c.pressure for c in found]
    assert pressures == sorted(pressures, reverse=True)


@given(cases())
def test_coalitions_partition_the_parties_deterministically(case: Case) -> None:
    result = coalitions(case)
    members = [p for c in result.coalitions for p in c.members]
    assert sorted(members) == sorted(s.id for s in case.stakeholders)
    assert len(members) == len(set(members))
    for c in result.coalitions:
        assert -1e-9 <= c.cohesion <= 1.0 + 1e-9
    assert coalitions(build_graph(case)) == result
    conflicts = [r for r in case.relations if r.kind == "conflicts"]
    assert len(result.conflicts) == len(conflicts)
