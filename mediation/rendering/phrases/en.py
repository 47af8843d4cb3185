"""The English phrases: every sentence, heading and name a settlement is told in.

See :mod:`mediation.rendering.phrases` for the keys, their placeholders and the conventions
both languages share. Sentences are written to be read aloud to the parties: a party is
"it" (an organisation), several are "they"; leximin's levels are *rounds*.
"""

from __future__ import annotations

__all__ = ["PHRASES"]

PHRASES: dict[str, str] = {
    # --- what the rule reached ----------------------------------------------------------------
    "worst_off_one": "The worst-off party, {parties}, reaches {level}; no allocation lifts it "
    "higher.",
    "worst_off_many": "The worst-off parties, {parties}, reach {level}; no allocation lifts "
    "them all higher.",
    "leximin_level_one": "Round {rank}: {parties} reaches {level}; it cannot gain more without "
    "taking from a party no better off.",
    "leximin_level_many": "Round {rank}: {parties} reach {level}; none of them can gain more "
    "without taking from a party no better off.",
    "level_normalized_one": "{value} of its possible gain",
    "level_normalized_many": "{value} of their possible gain",
    "level_raw": "a gain of {value} {points}",
    "weighted_sum": "The allocation gives the largest entitlement-weighted sum of gains ({value}).",
    "nash_certificate": "This is the Nash bargaining solution, certified within {gap} of the "
    "optimum after {rounds} rounds of cutting planes.",
    "nash_certificate_exact": "This is the Nash bargaining solution, certified optimal after "
    "{rounds} rounds of cutting planes.",
    "nash_gap_not_reached": "The cutting planes stopped {gap} from the optimum, short of the "
    "{target} aimed at: the allocation is feasible but not certified optimal.",
    "nobody_to_compare": "No party can gain from a deal, so there was nothing to balance.",
    # --- what binds, and what it costs the others ---------------------------------------------
    "floor_binding": "{owner} floor of {bound} of {issue} binds{price}.",
    "cap_binding": "{owner} cap of {bound} of {issue} binds{price}.",
    "capacity_binding": "{owner} risk capacity of {bound} is used up{price}.",
    "constraint_binding": "The constraint {constraint} binds.",
    "disagreement_binding": "{party} gets exactly its no-deal outcome ({bound}){price}.",
    "price_floor": ": each {step} of that floor costs {whom} {cost}",
    "price_cap": ": each {step} that the cap holds back costs {whom} {cost}",
    "price_capacity": ": each {step} of capacity it lacks costs {whom} {cost}",
    "price_disagreement": ": each point of that no-deal outcome costs {whom} {cost}",
    "price_free": "; this costs the others nothing at the margin",
    "step_percentage_point": "percentage point",
    "whom_worst_off": "the worst-off party",
    "whom_round": "{parties} (round {rank})",
    "whom_round_unknown": "the parties of round {rank}",
    "whom_all": "the parties together",
    "cost_normalized_one": "{amount} percentage points of its possible gain",
    "cost_normalized_many": "{amount} percentage points of their possible gain",
    "cost_raw": "{amount} {points} of gain",
    "cost_weighted_normalized": "{amount} percentage points of possible gain, weighted by "
    "entitlement",
    "cost_weighted_raw": "{amount} {points} of entitlement-weighted gain",
    "cost_nash": "{amount} of the product of their gains",
    "constraint_described": "“{text}”",
    "constraint_named": "'{name}'",
    "constraint_bounded": "'{name}' ({sense} {bound})",
    "sense_ge": "at least",
    "sense_le": "at most",
    "sense_eq": "exactly",
    # --- who got what and why -----------------------------------------------------------------
    "issue_awarded": "{issue}: all of it to {party}, {why}.",
    "issue_awarded_highest": "who values it relatively most",
    "issue_awarded_balance": "to balance the gains (its relative value is not the highest)",
    "issue_split": "{issue}: shared as {shares}; the balance between these parties runs "
    "through it.",
    "share_item": "{party} {share}",
    "risk_borne": "{issue}: borne by {shares}{control}.",
    "risk_controller": "; {party} is the party best able to control it",
    "risk_not_controller": "; the party best able to control it ({controller}) could not take "
    "more of it",
    "claims_awarded": "{issue}: rationed by the {method} rule, {awards}{level}.",
    "claims_level": " (the common level is {level})",
    "award_item": "{party} {amount}",
    "method_proportional": "proportional",
    "method_constrained_equal_awards": "constrained equal awards",
    "method_constrained_equal_losses": "constrained equal losses",
    "method_talmud": "Talmud (Aumann–Maschler)",
    "aw_winner": "{issue}: first to {party}, who gives it more points ({points}).",
    "aw_points": "{won} against {other}",
    "aw_transfer": "{issue}: {moves} from {party} to {to} (point ratio {ratio}) to equalise "
    "the totals.",
    "aw_moves_whole": "moved whole",
    "aw_moves_part": "partly moved",
    "aw_split": "{issue}: split, {party} keeps {kept} of it.",
    "aw_equitable": "Both parties end with the same points: {points}.",
    "aw_points_item": "{party} {points}",
    "observers_one": "Observer (no stake in any issue): {parties}.",
    "observers_many": "Observers (no stake in any issue): {parties}.",
    "observers_no_room_one": "Observer (no deal can give it more than its no-deal outcome): "
    "{parties}.",
    "observers_no_room_many": "Observers (no deal can give them more than their no-deal "
    "outcome): {parties}.",
    # --- how the run ended --------------------------------------------------------------------
    "not_pareto_optimal": "The red lines or fairness constraints cost efficiency: another "
    "allocation would leave nobody worse off and someone better off.",
    "not_certified_optimal": "The independent optimality check found a better allocation: "
    "this one is feasible but not optimal.",
    "time_limit": "The solver stopped at its time limit ({seconds} s); the allocation is "
    "feasible but may not be the best.",
    "time_limit_unknown": "The solver stopped at its time limit; the allocation is feasible "
    "but may not be the best.",
    "infeasible": "No allocation meets every red line.",
    "no_positive_gain": "Nash bargaining needs every party to gain, but {parties} cannot gain "
    "together with the others; try the {rule} rule.",
    "rule_below_disagreement_one": "The rule leaves {parties} below its no-deal outcome.",
    "rule_below_disagreement_many": "The rule leaves {parties} below their no-deal outcomes.",
    "solver_error": "The solver failed: {message}",
    # --- the diagnosis of an infeasible case --------------------------------------------------
    "diagnosis_red_lines_conflict": "These red lines cannot all hold together.",
    "diagnosis_no_positive_gain": "Nash bargaining needs every party to gain at once.",
    "diagnosis_rule_below_disagreement": "The rule's outcome is below some parties' no-deal "
    "outcomes.",
    "conflict": "Conflict {n}: {members}.",
    "conflict_floor": "{owner} floor of {bound} of {issue}",
    "conflict_cap": "{owner} cap of {bound} of {issue}",
    "conflict_capacity": "{owner} risk capacity of {bound}",
    "conflict_constraint": "the constraint {constraint}",
    "conflict_disagreement": "{owner} no-deal outcome ({bound})",
    "conflict_proportional": "{owner} proportional share ({bound})",
    "conflict_envy": "{owner} envy-freeness towards {other}",
    "conflict_issue_total": "the issue totals",
    "conflict_integrality": "indivisibility",
    "alternative": "  This conflict ends if {change}.",
    "or": " or if ",
    "concessions": "Smallest joint concessions: {changes}.",
    "change_floor": "{party} lowers its floor on {issue} from {current} to {proposed}",
    "change_cap": "{party} raises its cap on {issue} from {current} to {proposed}",
    "change_capacity": "{party} raises its risk capacity from {current} to {proposed}",
    "change_constraint": "the bound of the constraint {constraint} moves from {current} to "
    "{proposed}",
    "change_disagreement": "{party} accepts {proposed} instead of its no-deal outcome {current}",
    "change_proportional": "{party} accepts {proposed} instead of its proportional share {current}",
    "change_envy": "{party} accepts envying {other} by {amount}",
    # --- words inside sentences ---------------------------------------------------------------
    "possessive": "{name}'s",
    "possessive_s": "{name}'",
    "points_one": "point",
    "points_many": "points",
    "clause_separator": "; ",
    # --- names: rules, statuses, scales -------------------------------------------------------
    "rule_leximin": "leximin",
    "rule_maximin": "maximin",
    "rule_nash": "Nash bargaining",
    "rule_kalai_smorodinsky": "Kalai–Smorodinsky",
    "rule_utilitarian": "utilitarian (largest weighted sum)",
    "rule_adjusted_winner": "Adjusted Winner",
    "rule_claims": "claims rule",
    "status_optimal": "optimal",
    "status_feasible": "feasible",
    "status_infeasible": "infeasible",
    "status_error": "error",
    "scale_raw": "raw utility",
    "scale_normalized": "normalized gains",
    # --- the settlement tables ----------------------------------------------------------------
    "table_title": "{title} — rule: {rule} ({scale}), status: {status}",
    "table_allocation": "Allocation",
    "table_issue": "Issue",
    "table_amount": "Amount",
    "table_shares": "Who gets what",
    "table_given": "{party} {share} ({amount})",
    "table_parties": "Parties",
    "table_party": "Party",
    "table_utility": "Utility",
    "table_disagreement": "No deal",
    "table_gain": "Gain",
    "table_normalized": "Of possible gain",
    "table_worst": "Worst-case exposure",
    "table_expected": "Expected loss",
    "table_yes": "yes",
    "table_no": "no",
    "table_unknown": "not checked",
    "table_fair_line": "Fairness: smallest share of possible gain {min}; Gini {gini}; "
    "envy-free {ef} (largest envy {envy}); proportional {prop}; Pareto-optimal {po}",
    "table_reasons": "Why",
    "table_bullet": "•",
    "table_none": "—",
}
