"""Settlements in words: the wording tables (en, zh) and :func:`render`, which fills them in.

All wording lives in :data:`PHRASES`, one table per language; the functions here only pick a
phrase by reason code and fill it in. Nothing is printed.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..case import Case
from ..errors import RenderError
from ..settlement import Concession, Conflict, Reason, Settlement

__all__ = ["LANGUAGES", "PHRASES", "render", "render_diagnosis"]

LANGUAGES = ("en", "zh")

#: Sentences by language and reason code. Placeholders: ``{party}``, ``{issue}``, ``{parties}``
#: (names), numbers pre-formatted as strings (``{share}``, ``{level}``, ``{price}``, …).
PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "worst_off": "The worst-off ({parties}) reach {level}; no allocation lifts them higher.",
        "leximin_level": "Level {rank}: {parties} reach {level} and cannot rise further "
        "without lowering someone worse off.",
        "leximin_level_one": "Level {rank}: {parties} reaches {level} and cannot rise further "
        "without lowering someone worse off.",
        "weighted_sum": "The allocation maximises the entitlement-weighted sum of gains ({value}).",
        "nash_certificate": "The Nash bargaining solution, certified within {gap} of the optimum "
        "after {rounds} rounds of cuts.",
        "nobody_to_compare": "No party can gain from a deal, so there was nothing to balance.",
        "no_positive_gain": "Nash's rule needs every party to gain, but {parties} cannot gain "
        "together with the others; try the leximin rule.",
        "floor_binding": "{party}'s floor of {bound} of {issue} binds{price}.",
        "cap_binding": "{party}'s cap of {bound} of {issue} binds{price}.",
        "capacity_binding": "{party}'s risk capacity of {bound} is used up{price}.",
        "constraint_binding": "The constraint '{constraint}' ({sense} {bound}) binds{price}.",
        "disagreement_binding": "{party} gets exactly its no-deal outcome ({bound}){price}.",
        "issue_awarded": "{issue} goes entirely to {party}, {why}.",
        "issue_awarded_highest": "who values it relatively most",
        "issue_awarded_balance": "to balance the gains (its relative value is not the highest)",
        "issue_split": "{issue} is split ({shares}): the balance between these parties runs "
        "through it.",
        "risk_borne": "{issue} is borne by {shares}{control}.",
        "risk_controller": "; {party} is the party best able to control it",
        "risk_not_controller": "; the party best able to control it ({controller}) could not take "
        "more of it",
        "no_room": "{party} cannot gain from any deal: its best possible outcome ({ideal}) "
        "does not exceed its no-deal outcome ({disagreement}).",
        "not_pareto_optimal": "The red lines or fairness constraints cost efficiency: another "
        "allocation would leave nobody worse off and someone better off.",
        "time_limit": "The solver stopped at its time limit ({seconds} s); the allocation is "
        "feasible but may not be the best.",
        "infeasible": "No allocation meets every red line.",
        "nash_gap_not_reached": "The cutting planes stopped {gap} from the optimum, short of "
        "the {target} aimed at: the allocation is feasible but not certified optimal.",
        "solver_error": "The solver failed: {message}",
        "not_certified_optimal": "The independent optimality check found a better allocation: "
        "this one is feasible but not optimal.",
        "rule_below_disagreement": "The rule leaves {parties} below their no-deal outcome.",
        "aw_winner": "{issue} first goes to {party}, who gives it more points ({points}).",
        "aw_transfer": "{issue} {moves} from {party} to {to} (point ratio {ratio}) to equalise "
        "the totals.",
        "aw_moves_whole": "moves",
        "aw_moves_part": "is partly moved",
        "aw_split": "{issue} is split: {party} keeps {kept} of it.",
        "aw_equitable": "Both parties end with the same points: {points}.",
        "claims_awarded": "{issue} is rationed by the {method} rule: {awards}.",
        "claims_level": " (the common level is {level})",
        "price": "; each percentage point given way would raise {objective} by {amount}",
        "price_money": "; each additional {unit} of capacity would raise {objective} by {amount}",
        "unit_points": " percentage points",
        "unit_money": "units",
        "price_points": "; each point less would raise {objective} by {amount}",
        "price_free": "; it costs the others nothing at the margin",
        "objective_min_gain": "the worst-off party's gain",
        "objective_level_gain": "the gain of the parties at leximin level {level}",
        "objective_min_normalized_gain": "the worst-off party's share of its possible gain",
        "objective_weighted_sum": "the weighted sum of gains",
        "objective_nash_welfare": "the Nash welfare (sum of log gains)",
        "level_normalized": "{value} of their possible gain",
        "level_raw": "a gain of {value} points",
        "and": " and ",
        "method_proportional": "proportional",
        "method_constrained_equal_awards": "constrained equal awards",
        "method_constrained_equal_losses": "constrained equal losses",
        "method_talmud": "Talmud (Aumann–Maschler)",
        "diagnosis_red_lines_conflict": "These red lines cannot all hold together.",
        "diagnosis_no_positive_gain": "Nash's rule needs every party to gain at once.",
        "diagnosis_rule_below_disagreement": "The rule's outcome is below some parties' no-deal "
        "outcomes.",
        "conflict": "Conflict {n}: {members}.",
        "conflict_floor": "{party}'s floor of {bound} of {issue}",
        "conflict_cap": "{party}'s cap of {bound} of {issue}",
        "conflict_capacity": "{party}'s risk capacity of {bound}",
        "conflict_constraint": "the constraint '{constraint}' ({bound})",
        "conflict_disagreement": "{party}'s no-deal outcome ({bound})",
        "conflict_proportional": "{party}'s proportional share ({bound})",
        "conflict_envy": "{party}'s envy-freeness towards {other}",
        "conflict_issue_total": "the issue totals",
        "conflict_integrality": "indivisibility",
        "alternative": "  This conflict ends if {change}.",
        "or": " or if ",
        "concessions": "Smallest joint concessions: {changes}.",
        "change_floor": "{party} lowers its floor on {issue} from {current} to {proposed}",
        "change_cap": "{party} raises its cap on {issue} from {current} to {proposed}",
        "change_capacity": "{party} raises its risk capacity from {current} to {proposed}",
        "change_constraint": "the constraint '{constraint}' moves from {current} to {proposed}",
        "change_disagreement": "{party} accepts {proposed} instead of its no-deal outcome "
        "{current}",
        "change_proportional": "{party} accepts {proposed} instead of its proportional share "
        "{current}",
        "change_envy": "{party} accepts envying {other} by {amount}",
    },
    "zh": {
        "worst_off": "处境最差的一方（{parties}）达到{level}；任何方案都无法让其更高。",
        "leximin_level": "第{rank}层：{parties}达到{level}，若再提高就必须降低处境更差者。",
        "leximin_level_one": "第{rank}层：{parties}达到{level}，若再提高就必须降低处境更差者。",
        "weighted_sum": "该方案使按权重加总的收益最大（{value}）。",
        "nash_certificate": "这是纳什谈判解，经{rounds}轮切割平面验证，与最优值相差不超过{gap}。",
        "nobody_to_compare": "没有任何一方能从协议中获益，因此无需平衡。",
        "no_positive_gain": "纳什规则要求每一方都有所得，但{parties}无法与其他方同时获益；"
        "建议改用字典序最大最小（leximin）规则。",
        "floor_binding": "{party}对{issue}的底线（至少{bound}）起约束作用{price}。",
        "cap_binding": "{party}对{issue}的上限（至多{bound}）起约束作用{price}。",
        "capacity_binding": "{party}的风险承受能力（{bound}）已用尽{price}。",
        "constraint_binding": "约束“{constraint}”（{sense} {bound}）起约束作用{price}。",
        "disagreement_binding": "{party}恰好得到其无协议时的结果（{bound}）{price}。",
        "issue_awarded": "{issue}全部归{party}，{why}。",
        "issue_awarded_highest": "因为其相对估值最高",
        "issue_awarded_balance": "以平衡各方收益（其相对估值并非最高）",
        "issue_split": "{issue}被分割（{shares}）：各方收益的平衡点落在此项上。",
        "risk_borne": "{issue}由{shares}承担{control}。",
        "risk_controller": "；{party}最有能力控制该风险",
        "risk_not_controller": "；最有能力控制该风险的{controller}已无法再多承担",
        "no_room": "{party}无法从任何协议中获益：其最好结果（{ideal}）不高于无协议结果"
        "（{disagreement}）。",
        "not_pareto_optimal": "红线或公平约束以效率为代价：另有方案可使无人受损且有人获益。",
        "time_limit": "求解器在时限（{seconds}秒）处停止；方案可行，但未必最优。",
        "infeasible": "没有任何方案能同时满足所有红线。",
        "nash_gap_not_reached": "切割平面在距最优值{gap}处停止，未达到目标{target}："
        "方案可行，但未经最优性验证。",
        "solver_error": "求解器出错：{message}",
        "not_certified_optimal": "独立的最优性校验找到了更优的方案：本方案可行，但并非最优。",
        "rule_below_disagreement": "该规则使{parties}低于其无协议结果。",
        "aw_winner": "{issue}先归{party}，因其给分更高（{points}）。",
        "aw_transfer": "{issue}{moves}从{party}转给{to}（分值比{ratio}），以使双方总分相等。",
        "aw_moves_whole": "整体",
        "aw_moves_part": "部分",
        "aw_split": "{issue}被分割：{party}保留{kept}。",
        "aw_equitable": "双方最终分数相同：{points}。",
        "claims_awarded": "{issue}按{method}规则分配：{awards}。",
        "claims_level": "（共同水平为{level}）",
        "price": "；每让步一个百分点，可使{objective}提高{amount}",
        "price_money": "；承受能力每增加{unit}，可使{objective}提高{amount}",
        "unit_points": "个百分点",
        "unit_money": "单位",
        "price_points": "；每降低一分，可使{objective}提高{amount}",
        "price_free": "；在边际上不影响其他各方",
        "objective_min_gain": "处境最差一方的收益",
        "objective_level_gain": "第{level}层各方的收益",
        "objective_min_normalized_gain": "处境最差一方获得的可能收益比例",
        "objective_weighted_sum": "加权收益总和",
        "objective_nash_welfare": "纳什福利（收益对数之和）",
        "level_normalized": "其可能收益的{value}",
        "level_raw": "{value}分的收益",
        "and": "和",
        "method_proportional": "按比例",
        "method_constrained_equal_awards": "受约束平均分配",
        "method_constrained_equal_losses": "受约束平均损失",
        "method_talmud": "塔木德（奥曼-马施勒）",
        "diagnosis_red_lines_conflict": "这些红线无法同时成立。",
        "diagnosis_no_positive_gain": "纳什规则要求各方同时获益。",
        "diagnosis_rule_below_disagreement": "规则结果低于部分当事方的无协议结果。",
        "conflict": "冲突{n}：{members}。",
        "conflict_floor": "{party}对{issue}的底线（{bound}）",
        "conflict_cap": "{party}对{issue}的上限（{bound}）",
        "conflict_capacity": "{party}的风险承受能力（{bound}）",
        "conflict_constraint": "约束“{constraint}”（{bound}）",
        "conflict_disagreement": "{party}的无协议结果（{bound}）",
        "conflict_proportional": "{party}的比例份额（{bound}）",
        "conflict_envy": "{party}对{other}的无嫉妒要求",
        "conflict_issue_total": "各议题的总量",
        "conflict_integrality": "不可分割性",
        "alternative": "  只要{change}，此冲突即可化解。",
        "or": "，或",
        "concessions": "最小的共同让步：{changes}。",
        "change_floor": "{party}将对{issue}的底线从{current}降至{proposed}",
        "change_cap": "{party}将对{issue}的上限从{current}提高到{proposed}",
        "change_capacity": "{party}将风险承受能力从{current}提高到{proposed}",
        "change_constraint": "约束“{constraint}”从{current}调整为{proposed}",
        "change_disagreement": "{party}接受{proposed}而非其无协议结果{current}",
        "change_proportional": "{party}接受{proposed}而非其比例份额{current}",
        "change_envy": "{party}接受对{other}的嫉妒差额{amount}",
    },
}


def _percent(value: float) -> str:
    # + 0.0 turns the -0.0 that solver noise below zero rounds to into 0.0
    return f"{round(100 * value, 1) + 0.0:.1f}%"


def _number(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1e5 else f"{value:,.0f}"


class _Namer:
    """Party and issue names in a language (from the case's translations when given)."""

    def __init__(self, case: Case | None, lang: str) -> None:
        self.case, self.lang = case, lang

    def party(self, pid: str | None) -> str:
        if pid is None:
            return ""
        if self.case is not None and pid in self.case.stakeholder_by_id:
            return self.case.stakeholder_by_id[pid].label(self.lang)
        return pid

    def issue(self, iid: str | None) -> str:
        if iid is None:
            return ""
        if self.case is not None and iid in self.case.issue_by_id:
            return self.case.issue_by_id[iid].label(self.lang)
        return iid

    def unit(self, iid: str | None) -> str:
        if self.case is not None and iid in self.case.issue_by_id:
            return self.case.issue_by_id[iid].unit
        return ""


def render(settlement: Settlement, *, lang: str = "en", case: Case | None = None) -> list[str]:
    """Return the settlement's reasons (and diagnosis, if any) as sentences in ``lang``.

    Pass ``case`` to use the parties' and issues' names (translated when the case has a
    translation for ``lang``) instead of their ids.

    Raises
    ------
    RenderError
        For a language other than those in :data:`LANGUAGES` (a :class:`ValueError` too).

    Examples
    --------
    >>> from mediation.case import load_case
    >>> from mediation import settle
    >>> case = load_case('''
    ... id: demo
    ... title: 示例
    ... stakeholders:
    ...   - {id: a, name: 街道办, kind: government, translations: {en: {name: Street office}}}
    ...   - {id: b, name: 社工站, kind: social_organization}
    ... issues: [{id: hall, name: 大厅, kind: resource, amount: 40, unit: hours}]
    ... interests:
    ...   - {stakeholder: a, issue: hall, value: 1, min_share: 0.6}
    ...   - {stakeholder: b, issue: hall, value: 1}
    ... ''')
    >>> for line in render(settle(case), lang="zh", case=case)[:2]:
    ...     print(line)
    第1层：街道办和社工站达到其可能收益的71.4%，若再提高就必须降低处境更差者。
    大厅被分割（街道办 71.4%，社工站 28.6%）：各方收益的平衡点落在此项上。
    """
    words = _phrases(lang)
    names = _Namer(case, lang)
    lines = [_sentence(reason, settlement, words, names) for reason in settlement.reasons]
    lines = [line for line in lines if line]
    if settlement.diagnosis is not None:
        lines += render_diagnosis(settlement, lang=lang, case=case)
    return lines


def _phrases(lang: str) -> dict[str, str]:
    """Return the phrases of ``lang``.

    Raise a :class:`RenderError` naming the languages there are when ``lang`` has none.
    """
    if lang not in PHRASES:
        raise RenderError(f"unknown language '{lang}'; choose one of {', '.join(LANGUAGES)}")
    return PHRASES[lang]


def _join(words: Mapping[str, str], items: list[str]) -> str:
    sep = "，" if words is PHRASES["zh"] else ", "
    if len(items) <= 2:
        return words["and"].join(items)
    return sep.join(items[:-1]) + words["and"] + items[-1]


def _shares(words: Mapping[str, str], names: _Namer, shares: Mapping[str, float]) -> str:
    sep = "，" if words is PHRASES["zh"] else ", "
    return sep.join(f"{names.party(p)} {_percent(s)}" for p, s in shares.items())


def _price(reason: Reason, settlement: Settlement, words: Mapping[str, str], names: _Namer) -> str:
    extra = reason.model_extra or {}
    objective = extra.get("objective")
    if reason.dual is None or objective is None:
        return ""
    if reason.dual <= 1e-12:
        return words["price_free"]
    what = words.get(f"objective_{objective}", objective)
    if extra.get("level", 1) > 1:
        what = words["objective_level_gain"].format(level=extra["level"])
    normalized = settlement.scale == "normalized" and objective in (
        "min_gain",
        "min_normalized_gain",
    )
    points = words["unit_points"]
    if reason.code in ("floor_binding", "cap_binding"):
        # a dual per whole share, per percentage point: divided by 100, and for a normalized
        # objective (a fraction) multiplied by 100 to be in percentage points too
        amount = f"{reason.dual:.3g}{points}" if normalized else f"{reason.dual / 100:.3g}"
        return words["price"].format(objective=what, amount=amount)
    rate = 100 * reason.dual if normalized else reason.dual
    suffix = points if normalized else ""
    if reason.code == "capacity_binding":
        unit = extra.get("unit") or words["unit_money"]
        step = 1.0
        while rate * step < 0.01 and step < 1e9:  # quote the price per 10, 100, 1,000 … units
            step *= 10
        per = f"{step:,.0f} {unit}"
        return words["price_money"].format(
            unit=per, objective=what, amount=f"{rate * step:.3g}{suffix}"
        )
    return words["price_points"].format(objective=what, amount=f"{rate:.3g}{suffix}")


def _level(value: float, settlement: Settlement, words: Mapping[str, str]) -> str:
    if settlement.scale == "normalized":
        return words["level_normalized"].format(value=_percent(value))
    return words["level_raw"].format(value=_number(value))


def _sentence(
    reason: Reason, settlement: Settlement, words: Mapping[str, str], names: _Namer
) -> str:
    extra = dict(reason.model_extra or {})
    code = reason.code
    party = names.party(reason.stakeholder)
    issue = names.issue(reason.issue)
    parties = _join(words, [names.party(p) for p in extra.get("parties", [])])
    price = _price(reason, settlement, words, names)
    if code in ("worst_off", "leximin_level"):
        one = code == "leximin_level" and len(extra.get("parties", [])) == 1
        return words[f"{code}_one" if one else code].format(
            parties=parties,
            level=_level(extra["level"], settlement, words),
            rank=extra.get("rank", 1),
        )
    if code == "weighted_sum":
        return words[code].format(value=_number(extra["value"]))
    if code == "nash_certificate":
        return words[code].format(gap=f"{extra['gap']:.1e}", rounds=extra["rounds"])
    if code == "nash_gap_not_reached":
        return words[code].format(gap=f"{extra['gap']:.1e}", target=f"{extra['target']:.0e}")
    if code in ("floor_binding", "cap_binding"):
        return words[code].format(
            party=party, issue=issue, bound=_percent(extra["bound"]), price=price
        )
    if code == "capacity_binding":
        bound = f"{_number(extra['bound'])} {extra.get('unit', '')}".strip()
        return words[code].format(party=party, bound=bound, price=price)
    if code == "constraint_binding":
        return words[code].format(
            constraint=reason.constraint,
            sense=extra["sense"],
            bound=_number(extra["bound"]),
            price=price,
        )
    if code == "disagreement_binding":
        return words[code].format(party=party, bound=_number(extra["bound"]), price=price)
    if code == "issue_awarded":
        why = words["issue_awarded_highest" if extra.get("highest") else "issue_awarded_balance"]
        return words[code].format(issue=issue, party=party, why=why)
    if code == "issue_split":
        return words[code].format(issue=issue, shares=_shares(words, names, extra["shares"]))
    if code == "risk_borne":
        control = ""
        if "to_controller" in extra:
            controls = extra["control"]
            best = max(controls, key=lambda p: controls[p])
            control = (
                words["risk_controller"].format(party=party)
                if extra["to_controller"]
                else words["risk_not_controller"].format(controller=names.party(best))
            )
        return words[code].format(
            issue=issue, shares=_shares(words, names, extra["shares"]), control=control
        )
    if code == "no_room":
        return words[code].format(
            party=party, ideal=_number(extra["ideal"]), disagreement=_number(extra["disagreement"])
        )
    if code == "time_limit":
        return words[code].format(seconds=_number(extra["seconds"]))
    if code == "solver_error":
        return words[code].format(message=extra.get("message", ""))
    if code in ("no_positive_gain", "rule_below_disagreement"):
        return words[code].format(parties=parties)
    if code == "aw_winner":
        points = " : ".join(_number(v) for v in extra["points"].values())
        return words[code].format(issue=issue, party=party, points=points)
    if code == "aw_transfer":
        moves = words["aw_moves_part" if extra.get("partial") else "aw_moves_whole"]
        return words[code].format(
            issue=issue,
            moves=moves,
            party=party,
            to=names.party(extra["to"]),
            ratio=f"{extra['ratio']:.3g}",
        )
    if code == "aw_split":
        return words[code].format(issue=issue, party=party, kept=_percent(extra["kept"]))
    if code == "aw_equitable":
        points = _join(
            words, [f"{names.party(p)} {_number(v)}" for p, v in extra["points"].items()]
        )
        return words[code].format(points=points)
    if code == "claims_awarded":
        unit = names.unit(reason.issue)
        awards = _join(
            words,
            [f"{names.party(p)} {_number(v)} {unit}".strip() for p, v in extra["awards"].items()],
        )
        text = words[code].format(
            issue=issue, method=words[f"method_{extra['method']}"], awards=awards
        )
        if "level" in extra:
            text = (
                text[:-1] + words["claims_level"].format(level=_number(extra["level"])) + text[-1]
            )
        return text
    if code in words:
        return words[code]
    return code  # an unknown code is shown as is rather than dropped


def render_diagnosis(
    settlement: Settlement, *, lang: str = "en", case: Case | None = None
) -> list[str]:
    """Return the diagnosis of an infeasible settlement as sentences (empty when there is none).

    Raises
    ------
    RenderError
        For a language other than those in :data:`LANGUAGES` (a :class:`ValueError` too).
    """
    words = _phrases(lang)
    diagnosis = settlement.diagnosis
    if diagnosis is None:
        return []
    names = _Namer(case, lang)
    lines = [words.get(f"diagnosis_{diagnosis.code}", diagnosis.code)]
    for n, conflict in enumerate(diagnosis.conflicts, start=1):
        members = _join(words, [_conflict(c, words, names) for c in conflict.constraints])
        lines.append(words["conflict"].format(n=n, members=members))
        if conflict.alternatives:
            changes = words["or"].join(_change(c, words, names) for c in conflict.alternatives)
            lines.append(words["alternative"].format(change=changes))
    if diagnosis.concessions:
        sep = "；" if lang == "zh" else "; "
        changes = sep.join(_change(c, words, names) for c in diagnosis.concessions)
        lines.append(words["concessions"].format(changes=changes))
    return lines


def _bound(kind: str, value: float | None) -> str:
    if value is None:
        return ""
    return _percent(value) if kind in ("floor", "cap") else _number(value)


def _conflict(c: Conflict, words: Mapping[str, str], names: _Namer) -> str:
    other = names.party((c.constraint or "").removeprefix("envy:")) if c.kind == "envy" else ""
    return words[f"conflict_{c.kind}"].format(
        party=names.party(c.stakeholder),
        issue=names.issue(c.issue),
        constraint=c.constraint,
        bound=_bound(c.kind, c.bound) + _unit(c.unit),
        other=other,
    )


def _unit(unit: str | None) -> str:
    """Return a money or other unit to append to a number.

    Shares and points speak for themselves: they get none.
    """
    return f" {unit}" if unit and unit not in ("share", "points") else ""


def _change(c: Concession, words: Mapping[str, str], names: _Namer) -> str:
    other = names.party((c.constraint or "").removeprefix("envy:")) if c.kind == "envy" else ""
    unit = _unit(c.unit)
    return words[f"change_{c.kind}"].format(
        party=names.party(c.stakeholder),
        issue=names.issue(c.issue),
        constraint=c.constraint,
        current=_bound(c.kind, c.current) + unit,
        proposed=_bound(c.kind, c.proposed) + unit,
        other=other,
        amount=_number(abs(c.change)),
    )
