"""The wording registry: one table of phrases per language, the same keys in each.

Every sentence, heading, table title, status, rule and scale name, unit word and list
separator a settlement or a diagnosis is told in lives here, in :mod:`.en` and :mod:`.zh`;
the code that fills them in (:mod:`mediation.rendering.wording`,
:mod:`mediation.rendering.settlement_tables`) holds no words of its own. A language is one
module with a ``PHRASES`` dict; both languages have exactly the same keys and each key the
same placeholders (``tests/test_phrases.py`` checks it).

Keys
----
``<reason code>`` (``floor_binding``, ``issue_split``, …)
    The sentence of a reason. A reason whose sentence depends on how many parties it names
    has ``<code>_one`` and ``<code>_many`` instead (``leximin_level_one``: "Round 1: A
    reaches …"; ``leximin_level_many``: "A and B reach …").
``<code>_<detail>``
    A part of that reason's sentence (``issue_awarded_highest``, ``risk_controller``,
    ``aw_moves_part``, ``claims_level``).
``level_*``
    A level reached: ``level_normalized_one``/``_many`` (a share of the party's possible
    gain: "its"/"their") and ``level_raw`` (points).
``price_<floor|cap|capacity|disagreement|lever_max|lever_min>``, ``price_free``, ``step_*``,
``whom_*``, ``cost_*``
    What a red line costs the others (below).
``<floor|cap|capacity|constraint>_binding_<policy|legal>``, ``bound_source``
    A bound set by policy or the law, named as such with its source in brackets ("The
    legal floor of 30.0% of … for … (…条例 第X条) binds"), never as a party's red line. A
    bound stated in the issue's unit (an amount bound, or any bound of whole units) is
    written in that unit ("at least 96,000 元"), not as a share.
``observers_one``/``_many``, ``observers_no_room_one``/``_many``
    The one line naming the parties with no stake.
``no_room_one``/``_many``, ``funds_one``/``_many``
    The one line naming the parties that take part in the deal (they pay or contribute)
    but can gain nothing from it, and the one naming the funds (accounts, never compared).
``payment_*``, ``contribution_*``, ``lever_*``, ``limit_<max|min>_<basis>``
    A payment or a contribution (case format 1.1): who gives whom (or what) how much, then
    what sets the amount: the bound that binds (``limit_*``: the agreed maximum, what policy
    allows, what the law requires), an extra constraint, a no-deal outcome, the balance of
    two parties' gains. A payment of nothing is one short sentence (``payment_zero``), so
    that a payment the parties discussed is seen to have been weighed. A contribution that
    costs its giver nothing is a *subsidy* (补贴), never a risk or a loss.
``option_*``, ``utility_item``, ``sentence_separator``
    A choice: the option chosen and its cost, then (when each option was settled) what each
    would give each party. ``issue_funded``, ``fund_share``, ``*_set_aside``: a funded
    issue's size, and a fund's share as money set aside, never a party's gain.
``diagnosis_<code>``, ``diagnosis_policy_needed``, ``conflict``, ``conflict_<kind>``,
``alternative``, ``or``, ``concessions``, ``change_<kind>``
    The diagnosis of an infeasible case.
``conflict_basis_<legal|policy>``, ``change_basis_policy`` (each also ``…_unsourced``)
    What a red line that is not a party's own rests on, after the red line or the
    concession: "set by {source} (legal: not negotiable)". A legal bound is never a
    concession.
``constraint_*``, ``sense_*``
    A case's extra constraint: its description when it has one, else its name and bound.
``rule_<name>``, ``status_<status>``, ``scale_<scale>``, ``method_<claims method>``
    Names. A rule a plug-in registers without phrases is called by its registry name.
``possessive``, ``possessive_s``, ``points_one``/``_many``, ``clause_separator``,
``share_item``, ``award_item``, ``aw_points``, ``aw_points_item``
    Words inside sentences. Enumerations are joined by
    :func:`mediation.rendering.numbers.join_list` (``a, b and c``; ``甲、乙和丙``).
``table_<name>``
    The settlement tables' titles, headings and cells (:func:`table_words` strips the
    prefix).
``graph_<name>``
    The graph analysis tables' headings, captions and sentences (:func:`graph_words` strips
    the prefix).

Prices
------
A binding red line is priced by its dual (see :mod:`mediation.reasons`) as what it costs the
others, in their units and the issue's: "A's floor of 40.0% of the hall binds: each
1 小时/周 of that floor costs the worst-off party 0.2 percentage points of its possible gain".
The *step* is a power of ten of the issue's unit, at most a hundredth of its amount (about
a percentage point of it) but at least one unit: 1 小时/周 of 60, 100 元 of 20,000, 10,000 元
of 5,000,000; an issue without a unit or of an amount below 10 is priced per percentage
point of it. For a risk capacity the step is a power of ten of the money unit, at most a
tenth of the capacity (100 元 of 6,000); for a no-deal outcome, one utility point. The
*cost* is in the objective's units: percentage points of the worst-off party's possible gain
(normalized), points of gain (raw), the entitlement-weighted sum (utilitarian), or a
percentage of the product of the gains (Nash). A case's extra constraints are the mediator's
framing and an equality constraint is not a red line anyone can give way on: neither is
priced. No price is said in 分, which reads as money (一分 is one fen).

Count units
-----------
An amount whose unit counts things (:func:`counts_things`) is written as a whole number when
the allocation makes it one (:func:`~mediation.rendering.numbers.format_amount` with
``count=True``). The rule: take the unit's numerator (the part before the first ``/``, so
``个/年`` counts but ``元/人`` does not), without any bracketed note (``岗（全职）``). It counts
things when it is one of :data:`COUNT_UNITS`; when it is Chinese and starts with a classifier
of :data:`COUNT_UNITS` (``个岗位``, ``名社工``, ``人次``); or, in Latin letters, when its last
word is one (``posts``, ``hour slots``, ``staff places``). Hours, money, areas and the like
do not count things: 31.1 小时/周 stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ...errors import RenderError
from . import en, zh

__all__ = [
    "COUNT_UNITS",
    "LANGUAGES",
    "PHRASES",
    "counts_things",
    "graph_words",
    "phrases",
    "rule_name",
    "scale_name",
    "section",
    "status_name",
    "table_words",
]

#: The languages there are phrases for.
LANGUAGES = ("en", "zh")

#: The phrases by language, then key.
PHRASES: dict[str, dict[str, str]] = {"en": en.PHRASES, "zh": zh.PHRASES}

#: Units (and the Chinese classifiers a unit may start with) that count things.
COUNT_UNITS = frozenset(
    {
        # Chinese classifiers and counted nouns
        *"个名人位岗处次场间套台辆张件份项户家所座床期班组支批",
        *("岗位", "人次", "场次", "床位", "工位", "名额", "车位", "摊位", "席位"),
        # English, singular and plural
        *("post", "posts", "person", "persons", "people", "unit", "units", "place", "places"),
        *("seat", "seats", "bed", "beds", "slot", "slots", "session", "sessions", "staff"),
        *("position", "positions", "room", "rooms", "desk", "desks", "item", "items"),
        *("visit", "visits", "event", "events", "household", "households", "vehicle"),
        *("vehicles", "pitch", "pitches", "stall", "stalls", "class", "classes"),
    }
)
#: Single-character Chinese classifiers a counted unit may start with (个岗位, 名社工).
_CLASSIFIERS = frozenset(c for c in COUNT_UNITS if len(c) == 1 and not c.isascii())
_NOTE = re.compile(r"[（(][^）)]*[）)]")


def phrases(lang: str) -> Mapping[str, str]:
    """Return the phrases of a language.

    Parameters
    ----------
    lang : str
        One of :data:`LANGUAGES`.

    Returns
    -------
    Mapping[str, str]
        The phrases by key.

    Raises
    ------
    RenderError
        For a language there are no phrases for (a :class:`ValueError` too).
    """
    if lang not in PHRASES:
        raise RenderError(f"unknown language '{lang}'; choose one of {', '.join(LANGUAGES)}")
    return PHRASES[lang]


def section(lang: str, prefix: str) -> dict[str, str]:
    """Return the words of one part of the output, keyed without ``<prefix>_``.

    ``table`` is the settlement tables', ``graph`` the graph analysis tables'.

    Raises
    ------
    RenderError
        For a language there are no phrases for.
    """
    start = prefix + "_"
    return {k.removeprefix(start): v for k, v in phrases(lang).items() if k.startswith(start)}


def table_words(lang: str) -> dict[str, str]:
    """Return the settlement tables' words of a language (``table_*`` keys)."""
    return section(lang, "table")


def graph_words(lang: str) -> dict[str, str]:
    """Return the graph analysis tables' words of a language (``graph_*`` keys)."""
    return section(lang, "graph")


def _name(kind: str, value: str, lang: str) -> str:
    return phrases(lang).get(f"{kind}_{value}", value)


def rule_name(rule: str, lang: str) -> str:
    """Return a rule's name in a language (its registry name when there is no phrase for it)."""
    return _name("rule", rule, lang)


def status_name(status: str, lang: str) -> str:
    """Return a settlement status's name in a language."""
    return _name("status", status, lang)


def scale_name(scale: str, lang: str) -> str:
    """Return a scale's name (``raw``, ``normalized``) in a language."""
    return _name("scale", scale, lang)


def counts_things(unit: str | None) -> bool:
    """Tell whether a unit counts things (see the module's *Count units*).

    Parameters
    ----------
    unit : str or None
        An issue's unit, as the case writes it.

    Returns
    -------
    bool
        ``True`` when an integral amount of it should be written as a whole number.

    Examples
    --------
    >>> [counts_things(u) for u in ("个", "名社工", "posts", "hour slots", "个/年")]
    [True, True, True, True, True]
    >>> [counts_things(u) for u in ("小时/周", "元", "元/人", "平方米", "hours", None)]
    [False, False, False, False, False, False]
    """
    numerator = _NOTE.sub("", (unit or "").split("/")[0]).strip().lower()
    if not numerator:
        return False
    if numerator in COUNT_UNITS:
        return True
    if not numerator[0].isascii():
        return numerator[0] in _CLASSIFIERS
    words = numerator.split()
    return bool(words) and words[-1] in COUNT_UNITS
