"""Numbers for people: worked examples of each convention and properties of the formatting."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mediation.errors import RenderError
from mediation.rendering.numbers import (
    DUST,
    display_shares,
    format_amount,
    format_number,
    format_percent,
    is_dust,
    is_dust_amount,
    join_list,
)

# --- worked examples ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "english", "chinese"),
    [
        (468000, "468,000", "46.8万"),
        (468123, "468,123", "46.81万"),
        (1234567, "1,234,567", "123.5万"),
        (98765432, "98,765,432", "9877万"),
        (150000000, "150,000,000", "1.5亿"),
        (1.2e12, "1,200,000,000,000", "1.2万亿"),
        (80000, "80,000", "8万"),
        (12000, "12,000", "1.2万"),
        (12345, "12,345", "1.23万"),
        (10000, "10,000", "1万"),
        (9333, "9,333", "9333"),
        (1234.5, "1,235", "1235"),
        (1000, "1,000", "1000"),
        (999, "999", "999"),
        (12.5, "12.5", "12.5"),
        (3.0, "3", "3"),
        (3.14159, "3.14", "3.14"),
        (2.675, "2.68", "2.68"),  # halves away from zero, on the number as written
        (0.125, "0.125", "0.125"),
        (0.00042, "0.00042", "0.00042"),
        (0.0005041, "0.000504", "0.000504"),
        (0.5, "0.5", "0.5"),
        (1e-9, "0.000000001", "0.000000001"),
        (9.99e-10, "0", "0"),
        (0.0, "0", "0"),
        (-0.0, "0", "0"),
        (-1e-12, "0", "0"),
        (-468000, "-468,000", "-46.8万"),
        (-0.25, "-0.25", "-0.25"),
    ],
)
def test_format_number_examples(value: float, english: str, chinese: str) -> None:
    assert format_number(value) == english
    assert format_number(value, lang="en") == english
    assert format_number(value, lang="zh") == chinese


@pytest.mark.parametrize(
    ("value", "english", "chinese"),
    [
        (999.96, "1,000", "1000"),  # the rounded number decides the form
        (0.99951, "1", "1"),
        (9999.7, "10,000", "1万"),
        (99995, "99,995", "10万"),
        (99999999, "99,999,999", "1亿"),
        (999999999999.9, "1,000,000,000,000", "1万亿"),
    ],
)
def test_rounding_carries_into_the_next_form(value: float, english: str, chinese: str) -> None:
    assert format_number(value) == english
    assert format_number(value, lang="zh") == chinese


def test_format_number_digits() -> None:
    assert format_number(3.14159, digits=5) == "3.1416"
    assert format_number(123.456, digits=2) == "123"  # the whole part is never rounded away
    assert format_number(0.123456, digits=1) == "0.1"
    assert format_number(468123, digits=1) == "468,123"
    assert format_number(468123, lang="zh", digits=5) == "46.81万"  # at most two decimals
    assert format_number(1234567, lang="zh", digits=2) == "123万"


def test_large_numbers_are_written_out() -> None:
    assert format_number(1e20) == "100,000,000,000,000,000,000"
    assert format_number(1.2345e16, lang="zh") == "12345万亿"
    assert "e" not in format_number(1.7e308) + format_number(1.7e308, lang="zh")


def test_bad_input_is_refused() -> None:
    assert issubclass(RenderError, ValueError)
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(RenderError, match="finite"):
            format_number(bad)
        with pytest.raises(RenderError, match="finite"):
            format_percent(bad)
        with pytest.raises(RenderError, match="finite"):
            display_shares({"a": bad})
    with pytest.raises(RenderError, match="digits"):
        format_number(1.0, digits=0)
    with pytest.raises(RenderError, match="decimals"):
        format_percent(0.5, decimals=-1)
    with pytest.raises(RenderError, match="unknown language"):
        format_number(1.0, lang="fr")
    with pytest.raises(RenderError, match="unknown language"):
        format_amount(1.0, "元", lang="fr")
    with pytest.raises(RenderError, match="unknown language"):
        join_list(["a"], lang="fr")
    with pytest.raises(RenderError, match="sequence"):
        join_list("abc", lang="en")


@pytest.mark.parametrize(
    ("value", "unit", "lang", "expected"),
    [
        (468000, "元/年", "en", "468,000 元/年"),
        (468000, "元/年", "zh", "46.8万元/年"),
        (80000, "元", "en", "80,000 元"),
        (80000, "元", "zh", "8万元"),
        (9333, "元", "zh", "9333元"),
        (6, "hours", "en", "6 hours"),
        (6, "hours", "zh", "6 hours"),
        (6, "个", "en", "6 个"),
        (6, "个", "zh", "6个"),
        (2.5, None, "en", "2.5"),
        (2.5, "  ", "zh", "2.5"),
        (-0.0, "元", "zh", "0元"),
    ],
)
def test_format_amount_examples(value: float, unit: str | None, lang: str, expected: str) -> None:
    assert format_amount(value, unit, lang=lang) == expected


def test_counts_are_whole() -> None:
    assert format_amount(6.001, "posts", count=True) == "6 posts"
    assert format_amount(6.001, "个", lang="zh", count=True) == "6个"
    # within 1e-6 of an integer a count is that integer, whatever the digits
    assert format_amount(5.9999999, "posts", count=True, digits=9) == "6 posts"
    assert format_amount(5.9999999, "posts", digits=9) == "5.9999999 posts"
    assert format_amount(1234567.0000001, "个", lang="zh", count=True) == "123.5万个"
    assert format_amount(-2e-8, "posts", count=True) == "0 posts"
    # further from an integer, a count is an ordinary number
    assert format_amount(6.5, "posts", count=True) == "6.5 posts"
    assert format_amount(6.001, "posts", count=True, digits=4) == "6.001 posts"


@pytest.mark.parametrize(
    ("share", "decimals", "expected"),
    [
        (0.5, 1, "50.0%"),
        (1 / 3, 1, "33.3%"),
        (2 / 3, 1, "66.7%"),
        (1.0, 1, "100.0%"),
        (0.0, 1, "0%"),
        (-0.0, 1, "0%"),
        (3e-9, 1, "0%"),  # dust: nothing at all
        (-3e-9, 1, "0%"),
        (0.0002, 1, "0.0%"),  # a real share below the display's resolution
        (-0.0002, 1, "0.0%"),
        (0.0005, 1, "0.1%"),
        (-0.05, 1, "-5.0%"),
        (0.25, 0, "25%"),
        (0.12345, 2, "12.35%"),
    ],
)
def test_format_percent_examples(share: float, decimals: int, expected: str) -> None:
    assert format_percent(share, decimals=decimals) == expected


def test_display_shares_examples() -> None:
    assert display_shares({"a": 0.3333333, "b": 0.6666668}) == {"a": 33.3, "b": 66.7}
    thirds = display_shares({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert thirds == {"a": 33.4, "b": 33.3, "c": 33.3}  # the tie goes to the first key
    assert display_shares({"c": 1 / 3, "b": 1 / 3, "a": 1 / 3}) == {"c": 33.4, "b": 33.3, "a": 33.3}
    # the larger remainder first: 16.66 and 83.34 at no decimals
    assert display_shares({"x": 0.1666, "y": 0.8334}, decimals=0) == {"x": 17.0, "y": 83.0}
    # dust is exactly zero and does not take a unit
    shown = display_shares({"a": 0.5, "b": 0.5 - 3e-9, "c": 3e-9, "d": -1e-10})
    assert shown == {"a": 50.0, "b": 50.0, "c": 0.0, "d": 0.0}
    assert math.copysign(1, shown["d"]) == 1
    # not one whole issue: each rounded on its own
    assert display_shares({"a": 0.5, "b": 0.25}) == {"a": 50.0, "b": 25.0}
    assert display_shares({"a": 1 / 3, "b": 1 / 3}) == {"a": 33.3, "b": 33.3}
    assert display_shares({"a": 0.0, "b": 1e-9}) == {"a": 0.0, "b": 0.0}
    assert display_shares({}) == {}
    with pytest.raises(RenderError, match="negative"):
        display_shares({"a": 1.1, "b": -0.1})


def test_dust() -> None:
    assert DUST == 1e-6
    assert is_dust(0.0)
    assert is_dust(5e-7)
    assert is_dust(-5e-7)
    assert not is_dust(1e-6)
    assert not is_dust(0.0005041)  # a share of 0.05%: small but shown (0.1%)
    assert is_dust_amount(0.0005041, 80000)  # 0.0005041 元 of 80,000 元: noise
    assert not is_dust_amount(1, 80000)
    assert is_dust_amount(0.0, 0.0)
    assert not is_dust_amount(0.001, 0.0)


def test_join_list_examples() -> None:
    assert join_list([], lang="en") == ""
    assert join_list(["a"], lang="en") == "a"
    assert join_list(["a", "b"], lang="en") == "a and b"
    assert join_list(["a", "b", "c"], lang="en") == "a, b and c"
    assert join_list(("a", "b", "c", "d"), lang="en") == "a, b, c and d"
    assert join_list([], lang="zh") == ""
    assert join_list(["甲"], lang="zh") == "甲"
    assert join_list(["甲", "乙"], lang="zh") == "甲和乙"
    assert join_list(["甲", "乙", "丙"], lang="zh") == "甲、乙和丙"


# --- properties ---------------------------------------------------------------------------------

LANGS = st.sampled_from(["en", "zh"])
#: magnitudes from 1e-9 to 1e12, either sign, and anything finite in [-1e15, 1e15]
readable = st.one_of(
    st.floats(min_value=-9, max_value=12).flatmap(lambda e: st.sampled_from([10**e, -(10**e)])),
    st.floats(min_value=-1e15, max_value=1e15),
    st.floats(allow_nan=False, allow_infinity=False),
)
NEGATIVE_ZERO = re.compile(r"-0(\.0*)?(?![.\d])")


def no_notation(text: str) -> bool:
    lower = text.lower()
    return "e" not in lower and "inf" not in lower and "nan" not in lower


@given(readable, LANGS, st.integers(1, 6), st.booleans())
def test_no_scientific_notation(value: float, lang: str, digits: int, count: bool) -> None:
    number = format_number(value, lang=lang, digits=digits)
    assert no_notation(number)
    assert not NEGATIVE_ZERO.search(number)
    assert no_notation(format_amount(value, "元/年", lang=lang, count=count, digits=digits))
    assert no_notation(format_amount(value, "posts", lang=lang, count=count, digits=digits))
    if abs(value) <= 1e12:
        percent = format_percent(value, decimals=digits - 1)
        assert no_notation(percent)
        assert not NEGATIVE_ZERO.search(percent)


@given(st.floats(min_value=-1.0, max_value=1.0), st.integers(0, 4))
def test_percent_never_negative_zero(share: float, decimals: int) -> None:
    text = format_percent(share, decimals=decimals)
    assert text.endswith("%")
    assert not NEGATIVE_ZERO.search(text)
    if text.startswith("-"):
        assert float(text[:-1]) < 0
    if is_dust(share):
        assert text == "0%"
    else:
        assert abs(float(text[:-1]) - 100 * share) <= 0.5 * 10**-decimals + 1e-9


@st.composite
def splits(draw: st.DrawFn) -> dict[str, float]:
    """Draw a split of 1 into 1-12 parts, with solver noise and dust parts."""
    weights = draw(st.lists(st.integers(1, 1000), min_size=1, max_size=12))
    total = sum(weights)
    noise = st.floats(min_value=-1e-9, max_value=1e-9)
    parts = [w / total + draw(noise) for w in weights]
    dust = draw(st.lists(st.floats(min_value=-1e-9, max_value=5e-8), max_size=6))
    values = [max(p, 0.0) for p in parts] + dust
    order = draw(st.permutations(range(len(values))))
    return {f"p{i}": values[i] for i in order}


@given(splits(), st.integers(0, 3))
def test_display_shares_add_up_to_100(shares: dict[str, float], decimals: int) -> None:
    assume(abs(math.fsum(shares.values()) - 1) <= 1e-6)
    shown = display_shares(shares, decimals=decimals)
    assert list(shown) == list(shares)
    scale = 10**decimals
    units = {key: round(value * scale) for key, value in shown.items()}
    assert sum(units.values()) == 100 * scale
    assert round(math.fsum(shown.values()), decimals) == 100
    for key, share in shares.items():
        assert shown[key] == units[key] / scale  # a display value, exactly
        assert abs(shown[key] - 100 * share) <= 1 / scale + 1e-4
        if is_dust(share):
            assert shown[key] == 0.0
            assert math.copysign(1, shown[key]) == 1


@given(st.floats(min_value=1, max_value=1e15), st.integers(1, 6), st.booleans())
def test_english_reads_back(value: float, digits: int, negative: bool) -> None:
    signed = -value if negative else value
    shown = float(format_number(signed, digits=digits).replace(",", ""))
    assert math.copysign(1, shown) == math.copysign(1, signed)
    bound = max(0.5, 0.5 * 10 ** (1 - digits) * value)
    assert abs(shown - signed) <= bound * (1 + 1e-9)
    if value >= 1000:
        assert shown == int(shown)
        assert abs(shown - signed) <= 0.5 * (1 + 1e-9)


ZH_UNITS = {"万亿": 1e12, "亿": 1e8, "万": 1e4}


@given(st.floats(min_value=1, max_value=1e15))
def test_chinese_reads_back(value: float) -> None:
    text = format_number(value, lang="zh")
    assert "," not in text
    scale = next((s for unit, s in ZH_UNITS.items() if text.endswith(unit)), 1.0)
    number = float(text.rstrip("万亿"))
    assert number < 10_000
    assert "." not in text or len(text.rstrip("万亿").split(".")[1]) <= 2
    shown = number * scale
    if scale == 1.0:
        assert abs(shown - value) <= max(0.5, 0.005 * value)
    else:
        assert abs(shown - value) <= 0.005 * value
