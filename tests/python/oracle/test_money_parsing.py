"""Decimal strings become exact integers of token units, or are refused with the reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.errors import AmountError
from intake.money import UINT128_MAX, format_amount, parse_amount, rescale


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [
        ("1234.5", 6, 1_234_500_000),
        ("0.000001", 6, 1),
        ("0", 6, 0),
        ("0.0", 6, 0),
        ("000123.4500", 4, 1_234_500),
        ("1.50", 1, 15),  # a trailing zero beyond the decimals is exact, so accepted
        ("1.500000000", 1, 15),
        ("42", 0, 42),
        ("42.000", 0, 42),
        (str(UINT128_MAX), 0, UINT128_MAX),
        ("0.1", 18, 10**17),
    ],
)
def test_parse_amount_is_exact(text: str, decimals: int, units: int) -> None:
    assert parse_amount(text, decimals) == units


@pytest.mark.parametrize(
    ("text", "decimals", "reason"),
    [
        ("0.0000001", 6, "has 7 decimals; at most 6 allowed"),
        ("0.00000010", 6, "has 7 decimals; at most 6 allowed"),
        ("1.5", 0, "has 1 decimal; at most 0 allowed"),
        ("", 6, "is empty"),
        ("-1", 6, "is negative"),
        ("-0.5", 6, "is negative"),
        ("--1", 6, "is not a decimal number"),
        ("1e6", 6, "is not a decimal number"),
        ("1_000", 6, "is not a decimal number"),
        ("1.2.3", 6, "is not a decimal number"),
        ("NaN", 6, "is not a decimal number"),
        ("\u0663", 6, "is not a decimal number"),  # ARABIC-INDIC DIGIT THREE: int() reads it
        (str(UINT128_MAX + 1), 0, "exceeds uint128 when scaled to 0 decimals"),
        (
            "340282366920938463463.374607431768211456",
            18,
            "exceeds uint128 when scaled to 18 decimals",
        ),
        ("1" * 5000, 6, "exceeds uint128 when scaled to 6 decimals"),  # beyond int()'s digit limit
    ],
)
def test_parse_amount_refuses_with_the_reason(text: str, decimals: int, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, decimals)

    assert caught.value.reason == reason
    assert caught.value.text == text


def test_rescale_down_is_exact_or_refused() -> None:
    assert rescale(1_234_500_000_000_000_000_000, 18, 6) == 1_234_500_000
    with pytest.raises(AmountError) as caught:
        rescale(100_000_000_000, 18, 6)  # 0.0000001

    assert (caught.value.text, caught.value.reason) == (
        "0.0000001",
        "has 7 decimals; at most 6 allowed",
    )


def test_rescale_up_checks_uint128() -> None:
    assert rescale(15, 1, 6) == 1_500_000
    with pytest.raises(AmountError, match="exceeds uint128 when scaled to 18 decimals"):
        rescale(UINT128_MAX, 0, 18)


@pytest.mark.parametrize(
    ("units", "decimals", "text"),
    [(1_234_500_000, 6, "1234.5"), (1, 6, "0.000001"), (0, 6, "0"), (5, 0, "5"), (-15, 1, "-1.5")],
)
def test_format_amount(units: int, decimals: int, text: str) -> None:
    assert format_amount(units, decimals) == text


@given(st.integers(min_value=0, max_value=UINT128_MAX), st.integers(min_value=0, max_value=30))
def test_format_then_parse_round_trips(units: int, decimals: int) -> None:
    assert parse_amount(format_amount(units, decimals), decimals) == units
