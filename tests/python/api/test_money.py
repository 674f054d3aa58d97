"""The payee split mirrors RoyaltyMath.partOf: exact in sum, never decreasing as the total grows."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from api.money import entitlements, format_units, parts_between


@st.composite
def shares(draw: st.DrawFn) -> list[int]:
    count = draw(st.integers(1, 12))
    cuts = sorted(draw(st.lists(st.integers(1, 9_999), min_size=count - 1, max_size=count - 1, unique=True)))
    bounds = [0, *cuts, 10_000]
    return [b - a for a, b in itertools.pairwise(bounds)]


@given(shares(), st.integers(0, 2**128), st.integers(0, 2**64))
def test_parts_add_up_and_never_decrease(split: list[int], total: int, more: int) -> None:
    before = entitlements(total, split)
    after = entitlements(total + more, split)
    assert sum(before) == total and sum(after) == total + more
    assert all(b >= a for a, b in zip(before, after, strict=True))
    assert sum(parts_between(total, total + more, split)) == more


def test_two_payees_first_half_rounds_down() -> None:
    assert entitlements(88_888_888, [6000, 4000]) == [53_333_332, 35_555_556]
    assert entitlements(10, [3333, 3333, 3334]) == [3, 3, 4]


def test_units_are_rendered_with_the_token_decimals() -> None:
    assert format_units(37_525_000, 6) == "37.525"
    assert format_units(30_000_000, 6) == "30.00"
    assert format_units(1_234_567_891_000, 6) == "1,234,567.891"
    assert format_units(5, 0) == "5"


def test_year_split_of_a_period_whose_returns_make_a_year_negative() -> None:
    from api.queries.statements import year_split

    # all years positive: in proportion, the remainder to the first year (100 x 2/3 = 66, 100 - 66 = 34)
    assert [year_split(100, {0: 1, 1: 2}, 0, y) for y in (0, 1)] == [34, 66]
    # year 0 earned 300, year 1's returns took back 100: the 200 charged belongs to year 0
    assert [year_split(200, {0: 300, 1: -100}, 0, y) for y in (0, 1)] == [200, 0]
    # year 0 +300, year 1 -500: royalty 0, and the 200 carried comes from year 1 (weights: the negatives)
    assert [year_split(200, {0: -300, 1: 500}, 0, y) for y in (0, 1)] == [0, 200]


@given(st.integers(0, 10**30), st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=4))
def test_year_split_is_exact_in_sum(amount: int, royalties: list[int]) -> None:
    from api.queries.statements import year_split

    weights = dict(enumerate(royalties))
    parts = [year_split(amount, weights, 0, y) for y in weights]
    assert sum(parts) == amount and all(p >= 0 for p in parts)
