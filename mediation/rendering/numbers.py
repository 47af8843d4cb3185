"""Numbers for people: the one place where every output turns a number into text.

Tables in the terminal and sentences in English and Chinese format numbers, amounts,
percentages, shares and lists with the functions here, so a number reads the same wherever it
appears. The functions are pure: no rich, no I/O, nothing printed.

Conventions
-----------
Everywhere
    *No scientific notation*, for any finite number: ``1e20`` is written out in digits.
    *Rounding* takes halves away from zero, applied to the number's shortest decimal form (its
    ``repr``, which is what the case file says): ``2.675`` rounds to ``2.68``, although its
    binary value lies just below. *Zero*: a number whose magnitude is below :data:`ZERO`
    (1e-9) is written ``0``. *Sign*: a negative number keeps its sign, written as the ASCII
    hyphen-minus ``-`` in both languages (not U+2212: the text stays searchable, copyable
    and parseable, and Chinese financial text uses it too); ``-0`` never appears, and a number
    that rounds to zero loses its sign. *Bad input* (a number that is not finite, an unknown
    language, ``digits`` below 1, ...) is a :class:`~mediation.errors.RenderError`, which is a
    :class:`ValueError` too.
English numbers (:func:`format_number`, ``digits`` = 3 by default)
    * ``|x| >= 1000``: the whole number, rounded to an integer, with a comma every three
      digits: ``468,000``, ``468,123`` (never ``468,000``: a whole part is never rounded away),
      ``1,234,567``.
    * ``1 <= |x| < 1000``: ``digits`` significant digits, trailing zeros dropped, but never
      fewer than the whole part: ``12.5``, ``3``, ``999``, ``3.14``.
    * ``|x| < 1``: ``digits`` significant digits as a plain decimal: ``0.125``, ``0.00042``.
    * The rounded number decides the form: ``999.96`` is ``1,000``. For ``|x| >= 1`` the
      number shown is within ``max(0.5, 0.5 * 10**(1 - digits) * |x|)`` of ``x``.
Chinese numbers (``lang="zh"``)
    * Below 1万 (after rounding): as in English, without separators: ``9333``, ``12.5``.
    * From 1万 on, in 万; from 1亿 on, in 亿; from 1万亿 on, in 万亿 -- the unit that keeps the
      rounded quotient below 10000 (``99,999,999`` is ``1亿``, not ``10000万``). The quotient
      has ``digits + 1`` significant digits (4 by default: a 万 already hides four places),
      at most two decimals, never fewer than its whole part, trailing zeros dropped:
      ``1万`` (10,000), ``1.2万`` (12,000), ``1.23万`` (12,345), ``46.8万`` (468,000),
      ``46.81万`` (468,123), ``123.5万`` (1,234,567), ``9877万`` (98,765,432), ``1.5亿``.
      With the default ``digits`` the number shown is within 0.5% of ``x`` (within 0.05% once
      the quotient reaches 10). Beyond 10000万亿 (1e16) the quotient is a whole number of 万亿
      without separators.
Amounts (:func:`format_amount`)
    English puts a space between number and unit: ``468,000 元/年``, ``6 hours``. Chinese
    writes a unit that starts with a CJK (East Asian wide or fullwidth) character right after
    the number, and any other unit after a space: ``46.8万元/年``, ``8万元``, ``6 hours``. No
    unit (``None`` or blank): the number alone. A *count* (the unit counts things: posts, 个,
    hour slots) within :data:`COUNT_TOLERANCE` (1e-6, relative; absolute below 1) of an
    integer is that integer, whatever ``digits``: ``6 个``, never ``6.001``; a count further
    from an integer is an ordinary number. An amount of an issue shared in *whole units*
    (its ``unit_size``) within the same tolerance of a whole number of units is that many
    units (``4 个``, never ``3.9999999 个``), and a count when the unit size is a whole number.
Percentages (:func:`format_percent`)
    A share (a fraction of 1) as a percentage with exactly ``decimals`` decimals (1 by
    default), trailing zeros kept so that columns align, no separators, no space before ``%``
    in either language: ``50.0%``, ``33.3%``. Dust (below) is ``0%``, *nothing*, unlike
    ``0.0%``, a real share below the display's resolution. Never ``-0.0%``.
Shares of one issue (:func:`display_shares`)
    Rounded for display with the largest-remainder (Hamilton) method when the shares sum to 1
    within :data:`SUM_TOLERANCE` (1e-6): the displayed percentages then add up to exactly 100
    at the given decimals, and each is less than one display unit from its share of the
    non-dust total (so within one unit plus 1e-4 percentage points of ``100 * share``). Ties
    go to the larger remainder, then to the key that comes first in the mapping. Shares that
    do not sum to 1 (an issue not fully allocated, or over-allocated) are rounded each on its
    own, as :func:`format_percent` rounds, and add up to what they add up to. Dust is exactly
    ``0``. To write a displayed value ``v``, call ``format_percent(v / 100)``.
Dust (:data:`DUST`, :func:`is_dust`, :func:`is_dust_amount`)
    A share whose magnitude is below 1e-6 of its issue is solver noise (LP solvers work to
    feasibility tolerances around 1e-7): 500 times below what a percentage with one decimal
    can show, and still below the resolution of three decimals. It is shown as ``0``, and
    callers leave it out of sentences.
Lists (:func:`join_list`)
    English: ``a``, ``a and b``, ``a, b and c`` (no Oxford comma, as in the wording tables).
    Chinese: ``甲``, ``甲和乙``, ``甲、乙和丙`` (the enumeration comma 、 and 和). No items: ``""``.

Examples
--------
>>> format_number(468000), format_number(468000, lang="zh")
('468,000', '46.8万')
>>> format_amount(80000, "元", lang="zh"), format_percent(1 / 3)
('8万元', '33.3%')
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from ..errors import RenderError

__all__ = [
    "COUNT_TOLERANCE",
    "DUST",
    "SUM_TOLERANCE",
    "ZERO",
    "display_shares",
    "format_amount",
    "format_number",
    "format_percent",
    "is_dust",
    "is_dust_amount",
    "join_list",
]

#: A share of an issue below this magnitude is solver noise, shown as 0 and left unsaid.
DUST = 1e-6
#: A number whose magnitude is below this is written ``0``.
ZERO = 1e-9
#: A count this close to an integer (relative; absolute below 1) is that integer.
COUNT_TOLERANCE = 1e-6
#: Shares summing to 1 within this are one whole issue, rounded to add up to exactly 100%.
SUM_TOLERANCE = 1e-6

_LANGUAGES = ("en", "zh")
#: The Chinese units for large numbers, smallest first: (power of ten, name).
_ZH_UNITS = ((4, "万"), (8, "亿"), (12, "万亿"))
_TEN_THOUSAND = Decimal(10_000)
#: Decimal digits of working precision: more than any float's whole part has (< 10**309).
_PRECISION = 400


def _check_language(lang: str) -> None:
    if lang not in _LANGUAGES:
        raise RenderError(f"unknown language '{lang}'; choose one of {', '.join(_LANGUAGES)}")


def _check_finite(value: float) -> None:
    if not math.isfinite(value):
        raise RenderError(f"cannot write {value!r} for a person: numbers must be finite")


def _decimal(value: float) -> Decimal:
    # the shortest decimal that reads back as the float: what the case file said
    return Decimal(repr(float(value)))


def _round(magnitude: Decimal, decimals: int) -> Decimal:
    with localcontext() as context:
        context.prec = _PRECISION
        return magnitude.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _significant(magnitude: Decimal, digits: int) -> int:
    # the decimals that show `digits` significant digits, never rounding the whole part away
    return max(0, digits - 1 - magnitude.adjusted())


def _text(rounded: Decimal, grouping: bool) -> str:
    text = format(rounded, ",f" if grouping else "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(magnitude: Decimal, digits: int) -> Decimal:
    decimals = 0 if magnitude >= 1000 else _significant(magnitude, digits)
    return _round(magnitude, decimals)


def _in_unit(magnitude: Decimal, power: int, digits: int) -> Decimal:
    # the rounded quotient in a unit of 10**power: digits + 1 significant, at most 2 decimals
    with localcontext() as context:
        context.prec = _PRECISION
        quotient = magnitude.scaleb(-power)
    return _round(quotient, min(2, _significant(quotient, digits + 1)))


def _chinese(magnitude: Decimal, digits: int) -> str:
    rounded = _plain(magnitude, digits)
    if rounded < _TEN_THOUSAND:
        return _text(rounded, grouping=False)
    for power, name in _ZH_UNITS[:-1]:
        rounded = _in_unit(magnitude, power, digits)
        if rounded < _TEN_THOUSAND:
            return _text(rounded, grouping=False) + name
    power, name = _ZH_UNITS[-1]  # the largest unit takes any quotient
    return _text(_in_unit(magnitude, power, digits), grouping=False) + name


def format_number(value: float, *, lang: str = "en", digits: int = 3) -> str:
    """Write a number the way a person reads it aloud.

    Parameters
    ----------
    value : float
        The number; finite.
    lang : str
        ``"en"`` (thousands separators) or ``"zh"`` (万, 亿 and 万亿 from 1万 on).
    digits : int
        Significant digits of a number below 1000 (English) or of a quotient of 万, 亿 or
        万亿 less one (Chinese); at least 1. A whole part is never rounded away.

    Returns
    -------
    str
        Plain digits, never scientific notation, following the module's conventions.

    Raises
    ------
    RenderError
        For a number that is not finite, an unknown language or ``digits`` below 1.

    Examples
    --------
    >>> format_number(468123), format_number(12.5), format_number(0.00042)
    ('468,123', '12.5', '0.00042')
    >>> format_number(1234567, lang="zh"), format_number(-150000000, lang="zh")
    ('123.5万', '-1.5亿')
    >>> format_number(-1e-12), format_number(1e20)
    ('0', '100,000,000,000,000,000,000')
    """
    _check_language(lang)
    _check_finite(value)
    if digits < 1:
        raise RenderError(f"digits must be at least 1, not {digits}")
    if abs(value) < ZERO:
        return "0"
    magnitude = abs(_decimal(value))
    if lang == "zh":
        text = _chinese(magnitude, digits)
    else:
        text = _text(_plain(magnitude, digits), grouping=True)
    return f"-{text}" if value < 0 else text


def _whole_count(value: float) -> float:
    nearest = round(value)
    if abs(value - nearest) <= COUNT_TOLERANCE * max(1.0, abs(nearest)):
        return float(nearest)
    return value


def _is_wide(character: str) -> bool:
    return unicodedata.east_asian_width(character) in ("W", "F")


def format_amount(
    value: float,
    unit: str | None,
    *,
    lang: str = "en",
    count: bool = False,
    digits: int = 3,
    unit_size: float | None = None,
) -> str:
    """Write a number with its unit.

    Parameters
    ----------
    value : float
        The amount; finite.
    unit : str or None
        The unit (``"元/年"``, ``"hours"``); ``None`` or blank for none.
    lang : str
        ``"en"`` or ``"zh"``.
    count : bool
        Whether the unit counts things (posts, 个, hour slots): an amount within
        :data:`COUNT_TOLERANCE` of an integer is then that integer.
    digits : int
        As for :func:`format_number`.
    unit_size : float or None
        The unit size of an issue shared in whole units: an amount within
        :data:`COUNT_TOLERANCE` of a whole number of them is that many units, and a count
        when the unit size is a whole number.

    Returns
    -------
    str
        The number as :func:`format_number` writes it, then the unit: after a space, except
        in Chinese for a unit that starts with a CJK character.

    Raises
    ------
    RenderError
        For an amount that is not finite, an unknown language or ``digits`` below 1.

    Examples
    --------
    >>> format_amount(468000, "元/年"), format_amount(468000, "元/年", lang="zh")
    ('468,000 元/年', '46.8万元/年')
    >>> format_amount(6.0000004, "个", lang="zh", count=True), format_amount(6, "hours", lang="zh")
    ('6个', '6 hours')
    >>> format_amount(3.9999999, "posts", unit_size=1), format_amount(2.4999999, "h", unit_size=0.5)
    ('4 posts', '2.5 h')
    """
    _check_language(lang)
    _check_finite(value)
    if unit_size is not None and unit_size > 0:
        units = _whole_count(value / unit_size)
        if units.is_integer():
            value = units * unit_size
            count = count or float(unit_size).is_integer()
    number = format_number(_whole_count(value) if count else value, lang=lang, digits=digits)
    unit = (unit or "").strip()
    if not unit:
        return number
    if lang == "zh" and _is_wide(unit[0]):
        return number + unit
    return f"{number} {unit}"


def is_dust(share: float) -> bool:
    """Tell whether a share of an issue is solver noise (its magnitude below :data:`DUST`).

    Parameters
    ----------
    share : float
        A fraction of one issue.

    Returns
    -------
    bool
        ``True`` for dust: shown as 0 and left out of sentences.

    Examples
    --------
    >>> is_dust(3e-9), is_dust(-3e-9), is_dust(0.0005041)
    (True, True, False)
    """
    return abs(share) < DUST


def is_dust_amount(amount: float, issue_amount: float) -> bool:
    """Tell whether an amount of an issue is solver noise.

    Parameters
    ----------
    amount : float
        What one party gets (or bears) of the issue, in the issue's unit.
    issue_amount : float
        The issue's whole amount, in the same unit.

    Returns
    -------
    bool
        ``True`` when the amount is below :data:`DUST` of the issue's amount, or below
        :data:`ZERO` (so any amount of an issue of zero is dust only if it is zero to print).

    Examples
    --------
    >>> is_dust_amount(0.0005041, 80000), is_dust_amount(1, 80000)
    (True, False)
    """
    return abs(amount) < max(DUST * abs(issue_amount), ZERO)


def format_percent(share: float, *, decimals: int = 1) -> str:
    """Write a share (a fraction of 1) as a percentage.

    Parameters
    ----------
    share : float
        The fraction; finite. To write a value ``v`` of :func:`display_shares`, pass
        ``v / 100`` with the same ``decimals``.
    decimals : int
        Decimals shown, trailing zeros kept; at least 0.

    Returns
    -------
    str
        ``"50.0%"``; ``"0%"`` for dust; never a negative zero.

    Raises
    ------
    RenderError
        For a share that is not finite or ``decimals`` below 0.

    Examples
    --------
    >>> format_percent(0.5), format_percent(2 / 3), format_percent(-1e-9)
    ('50.0%', '66.7%', '0%')
    >>> format_percent(0.0002), format_percent(0.25, decimals=0)
    ('0.0%', '25%')
    """
    _check_finite(share)
    if decimals < 0:
        raise RenderError(f"decimals must be at least 0, not {decimals}")
    if is_dust(share):
        return "0%"
    with localcontext() as context:
        context.prec = _PRECISION
        percent = _round(abs(_decimal(share)) * 100, decimals)
    text = format(percent, "f")
    return f"-{text}%" if share < 0 and percent else f"{text}%"


def _hamilton(quotas: dict[str, Fraction], seats: int) -> dict[str, int]:
    # largest remainders: floors first, then one more unit each to the largest remainders
    whole = sum(quotas.values(), Fraction(0))
    exact = {key: quota * seats / whole for key, quota in quotas.items()}
    units = {key: math.floor(value) for key, value in exact.items()}
    left = seats - sum(units.values())
    keys = list(exact)
    order = sorted(range(len(keys)), key=lambda i: (units[keys[i]] - exact[keys[i]], i))
    for i in order[:left]:
        units[keys[i]] += 1
    return units


def display_shares(shares: Mapping[str, float], *, decimals: int = 1) -> dict[str, float]:
    """Round the shares of one issue to percentages for display.

    Parameters
    ----------
    shares : Mapping[str, float]
        Fractions of one issue by party (or any key), possibly with solver noise; dust may be
        slightly negative.
    decimals : int
        Decimals of the percentages; at least 0.

    Returns
    -------
    dict[str, float]
        The percentages by key, in the mapping's order. Each is the float nearest to a
        multiple of ``10**-decimals``; when the shares sum to 1 within
        :data:`SUM_TOLERANCE`, those multiples add up to exactly 100 (add them as integers,
        ``round(v * 10**decimals)``, or with :func:`math.fsum` and :func:`round`). Dust is
        exactly ``0.0``.

    Raises
    ------
    RenderError
        For a share that is not finite or negative beyond dust, or ``decimals`` below 0.

    Examples
    --------
    >>> display_shares({"a": 0.3333333, "b": 0.6666668})
    {'a': 33.3, 'b': 66.7}
    >>> display_shares({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3, "d": 2e-9}, decimals=0)
    {'a': 34.0, 'b': 33.0, 'c': 33.0, 'd': 0.0}
    >>> display_shares({"a": 0.5, "b": 0.25})
    {'a': 50.0, 'b': 25.0}
    """
    if decimals < 0:
        raise RenderError(f"decimals must be at least 0, not {decimals}")
    for key, share in shares.items():
        _check_finite(share)
        if share < 0 and not is_dust(share):
            raise RenderError(f"the share of '{key}' is negative: {share!r}")
    scale = 10**decimals
    live = {key: Fraction(_decimal(s)) for key, s in shares.items() if not is_dust(s)}
    if live and abs(math.fsum(shares.values()) - 1) <= SUM_TOLERANCE:
        units = _hamilton(live, 100 * scale)
    else:
        # half away from zero, on the share's shortest decimal, like format_percent
        units = {key: math.floor(s * 100 * scale + Fraction(1, 2)) for key, s in live.items()}
    return {key: units.get(key, 0) / scale for key in shares}


def join_list(items: Sequence[str], *, lang: str) -> str:
    """Join words into an enumeration.

    Parameters
    ----------
    items : Sequence[str]
        The words (names), in order; not a single string.
    lang : str
        ``"en"`` (``a, b and c``, no Oxford comma) or ``"zh"`` (``甲、乙和丙``).

    Returns
    -------
    str
        The enumeration; ``""`` for no items.

    Raises
    ------
    RenderError
        For an unknown language, or a string in place of a sequence of strings.

    Examples
    --------
    >>> join_list(["a", "b", "c"], lang="en"), join_list(["甲", "乙", "丙"], lang="zh")
    ('a, b and c', '甲、乙和丙')
    >>> join_list(["a", "b"], lang="en"), join_list(["甲", "乙"], lang="zh")
    ('a and b', '甲和乙')
    >>> join_list(["物业公司", "和平里居委会"], lang="zh")
    '物业公司以及和平里居委会'
    """
    _check_language(lang)
    if isinstance(items, str):
        raise RenderError("join_list takes a sequence of strings, not a string")
    separator, conjunction = ("、", "和") if lang == "zh" else (", ", " and ")
    words = list(items)
    if lang == "zh" and len(words) > 1 and words[-1].startswith("和"):
        conjunction = "以及"  # "甲和和平里…" stumbles when read aloud
    if len(words) <= 2:
        return conjunction.join(words)
    return separator.join(words[:-1]) + conjunction + words[-1]
