"""Tests of what ``mediation graph`` prints: tables, the analysis as JSON, the graph exports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import pytest
from conftest import calm_case
from rich.console import Console
from rich.table import Table

from mediation.case import Case, guess_format, load_case, parse_case
from mediation.errors import MediationError, RenderError
from mediation.graph import analyze
from mediation.rendering.graph_tables import analysis_tables, graph_command_output

RIVER = Path(__file__).resolve().parent.parent / "cases" / "river-cleanup-cogovernance.yaml"


def read(path: Path) -> Case:
    return load_case(path.read_bytes(), format=guess_format(path.name))


def tables_of(case: Case) -> dict[str, Table]:
    return {str(t.title): t for t in analysis_tables(analyze(case), case)}


def rows(table: Table) -> list[tuple[str, ...]]:
    """Return the table's cells as text, row by row."""
    columns = [[str(cell) for cell in column.cells] for column in table.columns]
    return list(zip(*columns, strict=True))


def render(*renderables: object) -> str:
    """Return the renderables as text, printed one after the other, as the command does."""
    console = Console(record=True, width=120, file=io.StringIO())
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


def printed(case: Case) -> str:
    """Return what ``mediation graph`` shows for the case, as text without trailing blanks."""
    output = graph_command_output(case)
    assert isinstance(output, list)
    return "\n".join(line.rstrip() for line in render(*output).splitlines())


def river_without_village_council() -> Case:
    """Return the river case without the township's dialogue with the villagers (村民议事会)."""
    case = read(RIVER)
    relations = [
        r
        for r in case.relations
        if (r.source, r.target, r.kind) != ("zhenzhengfu", "cunmin", "dialogue")
    ]
    return case.model_copy(update={"relations": relations})


# --- tables --------------------------------------------------------------------------------


def test_contested_issues_are_shown_by_name_with_their_pressure() -> None:
    contested = rows(tables_of(read(RIVER))["Contested issues"])
    assert [row[0] for row in contested] == [
        "巡河与水质监测义务 (monitoring-duty)",
        "清淤与治理经费 (cleanup-budget)",
        "河滩地使用 (riverbank-land)",
        "突发污染事故风险 (pollution-risk)",
    ]
    assert contested[1][1:5] == ("resource", "3.46", "values", "0.23 / 3.05")
    assert contested[3][5].splitlines() == ["青石造纸厂 50", "青石镇人民政府 30"]


def test_coalitions_and_the_conflicts_between_them() -> None:
    tables = tables_of(read(RIVER))
    assert rows(tables["Coalitions"]) == [
        ("1", "沿河村民小组\n绿源环保协会\n衡正第三方评估中心", "0.81", "清淤与治理经费"),
        ("2", "青石镇人民政府\n青石造纸厂", "0.68", "巡河与水质监测义务\n突发污染事故风险"),
    ]
    assert tables["Coalitions"].caption == "modularity 0.058"
    assert rows(tables["Conflicts"]) == [
        ("青石造纸厂", "沿河村民小组", "0.9", "#2 vs #1"),
        ("青石造纸厂", "绿源环保协会", "0.7", "#2 vs #1"),
    ]


def test_power_lists_every_party_with_its_supervisors_and_centrality() -> None:
    case = read(RIVER)
    power = rows(tables_of(case)["Power and centrality"])
    assert [row[0] for row in power] == [f"{s.name} ({s.id})" for s in case.stakeholders]
    mill = power[3]
    assert mill[1:] == (
        "enterprise",
        "",
        "衡正第三方评估中心\n青石镇人民政府",
        "4",
        "0.056",
        "0.125",
    )
    pagerank = {p.party: p.pagerank for p in analyze(case).power.parties}
    assert power[0][6] == f"{pagerank['zhenzhengfu']:.3f}" == "0.431"


def test_dual_supervision_of_the_paper_mill() -> None:
    tables = tables_of(read(RIVER))
    assert rows(tables["Dual supervision (双重监管)"]) == [
        ("青石造纸厂 (zhizhichang)", "衡正第三方评估中心\n青石镇人民政府")
    ]
    assert rows(tables["Funding dependence"]) == [
        ("绿源环保协会", "青石镇人民政府", "1", "100%"),
        ("衡正第三方评估中心", "青石镇人民政府", "1", "100%"),
    ]


def test_the_township_brokers_both_conflicts_of_the_mill_so_no_channel_is_missing() -> None:
    # The case's notes: the mill has no direct dialogue with the villagers nor with the NGO,
    # and the township, in dialogue with both, can mediate. A common neighbour is a channel.
    tables = tables_of(read(RIVER))
    assert rows(tables["Brokers"]) == [
        ("青石镇人民政府 (zhenzhengfu)", "沿河村民小组 – 青石造纸厂\n绿源环保协会 – 青石造纸厂"),
        ("衡正第三方评估中心 (pinggu)", "绿源环保协会 – 青石造纸厂"),
    ]
    assert rows(tables["Missing dialogue channels"]) == []
    assert (
        "Missing dialogue channels: none — every pair in conflict has a dialogue relation or a "
        "common neighbour" in printed(read(RIVER)).splitlines()
    )


def test_without_the_village_council_the_mill_and_villagers_lack_a_channel() -> None:
    case = river_without_village_council()
    [channel] = analyze(case).missing_dialogue
    broker = case.stakeholder_by_id[channel.suggested_broker or ""]
    path = " → ".join(case.stakeholder_by_id[p].name for p in channel.path)
    [row] = rows(tables_of(case)["Missing dialogue channels"])
    assert row[:4] == ("沿河村民小组 – 青石造纸厂", "0.9", "3", f"{broker.name} ({broker.id})")
    assert row[4] == f"the most central party on a shortest path of non-conflict relations: {path}"
    assert path.startswith("沿河村民小组 → ")
    assert path.endswith(" → 青石造纸厂")
    assert "沿河村民小组 – 青石造纸厂" in printed(case)


def test_missing_channels_without_a_path_say_why() -> None:
    case = parse_case(
        {
            "id": "fees",
            "title": "物业费纠纷",
            "stakeholders": [
                {"id": "owners", "name": "业主委员会", "kind": "resident_group"},
                {"id": "firm", "name": "物业公司", "kind": "enterprise"},
                {"id": "eval", "name": "第三方评估", "kind": "third_party"},
                {"id": "shop", "name": "底商", "kind": "enterprise"},
            ],
            "issues": [{"id": "fee", "name": "物业费", "kind": "resource", "amount": 100}],
            "interests": [{"stakeholder": "firm", "issue": "fee", "value": 1}],
            "relations": [
                {"source": "owners", "target": "firm", "kind": "conflicts", "strength": 0.8},
                {"source": "eval", "target": "shop", "kind": "conflicts", "strength": 0.3},
            ],
        }
    )
    assert rows(tables_of(case)["Missing dialogue channels"]) == [
        (
            "物业公司 – 业主委员会",
            "0.8",
            "no path",
            "第三方评估 (eval)",
            "no path between them; a third party in conflict with neither",
        ),
        (
            "第三方评估 – 底商",
            "0.3",
            "no path",
            "—",
            "no party lies between them and no neutral third party exists",
        ),
    ]


def test_empty_parts_say_so() -> None:
    case = calm_case()
    empty = {title: t.caption for title, t in tables_of(case).items() if not rows(t)}
    assert empty == {
        "Contested issues": "none — no issue is valued by two parties",
        "Conflicts": "none — the case states no conflicts relation",
        "Dual supervision (双重监管)": "none — every party answers to at most one supervisor",
        "Funding dependence": "none — the case states no funds relation",
        "Brokers": "none — no party lies between two parties in conflict",
        "Missing dialogue channels": (
            "none — every pair in conflict has a dialogue relation or a common neighbour"
        ),
    }
    lines = printed(case).splitlines()
    assert lines[:2] == ["无争议 (calm)", ""]
    for title, caption in empty.items():
        assert f"{title}: {caption}" in lines
    assert "Coalitions" in lines  # parts with rows stay tables


def test_every_bundled_case_renders_with_whole_names(case_path: Path) -> None:
    case = read(case_path)
    text = printed(case)
    assert text.startswith(f"{case.title} ({case.id})\n\n")
    assert "…" not in text  # nothing cut short
    for s in case.stakeholders:
        assert s.name in text


def test_tables_need_the_analysed_case() -> None:
    river = read(RIVER)
    other = read(RIVER.with_name("community-hall-dispute.yaml"))
    with pytest.raises(ValueError, match="community-hall-dispute"):
        analysis_tables(analyze(other), river)


# --- JSON and exports ----------------------------------------------------------------------


def test_json_is_exactly_the_analysis_data(case_path: Path) -> None:
    case = read(case_path)
    text = graph_command_output(case, fmt="json")
    assert isinstance(text, str)
    data = analyze(case).to_dict()
    assert json.loads(text) == data
    assert text == json.dumps(data, ensure_ascii=False, indent=2)


def test_json_keeps_chinese_readable() -> None:
    text = graph_command_output(river_without_village_council(), fmt="json")
    assert isinstance(text, str)
    assert '"case": "river-cleanup-cogovernance"' in text
    assert "\\u" not in text


def test_graphml_export_parses_with_networkx() -> None:
    case = read(RIVER)
    text = graph_command_output(case, export="graphml")
    assert isinstance(text, str)
    assert "青石造纸厂" in text
    back = nx.parse_graphml(text, edge_key_type=str, force_multigraph=True)
    assert back.nodes["zhizhichang"]["name"] == "青石造纸厂"
    assert back.nodes["cleanup-budget"]["amount"] == 1_200_000
    assert back.edges["zhizhichang", "cunmin", "conflicts"]["strength"] == 0.9
    assert back.number_of_edges() == len(case.interests) + len(case.relations)


def test_node_link_export_parses_with_networkx() -> None:
    case = read(RIVER)
    text = graph_command_output(case, fmt="json", export="node-link")  # the export wins
    assert isinstance(text, str)
    back = nx.node_link_graph(json.loads(text), edges="edges")
    assert back.graph == {"case": case.id, "title": "清溪河综合治理共商共治方案"}
    assert {n: back.nodes[n]["name"] for n in back} == {
        **{s.id: s.name for s in case.stakeholders},
        **{i.id: i.name for i in case.issues},
    }
    assert back.number_of_edges() == len(case.interests) + len(case.relations)


def test_output_is_returned_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    case = read(RIVER)
    for fmt, export in [("table", None), ("json", None), ("table", "graphml")]:
        graph_command_output(case, fmt=fmt, export=export)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("fmt", "export", "message"),
    [("yaml", None, "format must be one of table, json, got 'yaml'"), ("table", "gexf", "gexf")],
)
def test_unknown_format_or_export_is_refused(fmt: str, export: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        graph_command_output(read(RIVER), fmt=fmt, export=export)


def test_refused_formats_and_cases_are_render_errors() -> None:
    river = read(RIVER)
    with pytest.raises(RenderError, match="export must be one of node-link, graphml, got 'gexf'"):
        graph_command_output(river, export="gexf")
    with pytest.raises(RenderError, match="not of case 'river") as info:
        analysis_tables(analyze(read(RIVER.with_name("community-hall-dispute.yaml"))), river)
    assert isinstance(info.value, MediationError)
    assert isinstance(info.value, ValueError)
